"""Working patterns and leave: who is in on each working day, and for how many minutes.

A post's FTE is worked as whole sessions (half days) on particular weekdays: a whole-time week is
five days of two sessions, so 0.6 FTE is three days and 0.7 FTE three and a half, on weekdays
drawn once per post. Leave is taken per staff group in blocks of `leave.block_days` weekdays
(whole weeks), the remainder and study leave as single days, placed at random in each 52-week
leave year; a week off removes that week's working days of the post, so part-time leave is pro rata.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from handover_abm.config import Leave
from handover_abm.dates import Calendar

SESSIONS_PER_FTE_WEEK = 10  # five days of two sessions (morning and afternoon)


def weekly_sessions(fte: float, rng: np.random.Generator) -> np.ndarray:
    """Sessions worked on each weekday (0, 1 or 2), Monday first, for a post of this FTE."""
    sessions = min(SESSIONS_PER_FTE_WEEK, max(0, round(fte * SESSIONS_PER_FTE_WEEK)))
    if fte > 0 and sessions == 0:
        sessions = 1
    full, half = divmod(sessions, 2)
    days = rng.permutation(5)[: full + half]
    pattern = np.zeros(5, dtype=np.int64)
    pattern[days[:full]] = 2
    pattern[days[full:]] = 1
    return pattern


def leave_mask(
    pattern: np.ndarray, group_leave: tuple[float, float], block: int, cal: Calendar, rng: np.random.Generator
) -> np.ndarray:
    """Boolean per working day: the post-holder is on leave (only working days of the post count)."""
    annual, study = group_leave
    n = len(cal)
    mask = np.zeros(n, dtype=bool)
    week = cal.week_index()
    works = pattern[cal.weekday] > 0
    blocks = int(annual // block)
    single = annual - blocks * block + study
    share_worked = float((pattern > 0).sum()) / 5.0
    for year_start in range(0, int(week[-1]) + 1, 52):
        weeks = np.arange(year_start, year_start + 52)
        for w in rng.choice(weeks, size=min(blocks, weeks.size), replace=False):
            mask |= week == w
        in_year = np.flatnonzero(works & (week >= year_start) & (week < year_start + 52))
        expected = single * share_worked
        k = int(expected) + int(rng.random() < expected - int(expected))
        if in_year.size and k:
            mask[rng.choice(in_year, size=min(k, in_year.size), replace=False)] = True
    return mask & works


def capacity_table(
    fte: Sequence[float],
    groups: Sequence[str],
    minutes_per_fte_day: float,
    leave: Leave,
    cal: Calendar,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Clinical minutes of each post on each working day (posts x days), and the weekly patterns.

    A session lasts fte * 5 * minutes_per_fte_day / sessions minutes, so each post's weekly minutes
    equal its FTE's (the session count is rounded, the minutes are not).
    """
    n_posts, n_days = len(fte), len(cal)
    minutes = np.zeros((n_posts, n_days))
    patterns = np.zeros((n_posts, 5), dtype=np.int64)
    for post, (f, group) in enumerate(zip(fte, groups, strict=True)):
        pattern = weekly_sessions(f, rng)
        patterns[post] = pattern
        sessions = int(pattern.sum())
        if sessions == 0:
            continue
        per_session = f * 5 * minutes_per_fte_day / sessions
        away = leave_mask(pattern, leave.days_for(group), leave.block_days, cal, rng)
        minutes[post] = np.where(away, 0.0, pattern[cal.weekday] * per_session)
    return minutes, patterns
