"""Working patterns and leave: who is in on each working day, and for how many minutes.

A post's FTE is worked as whole sessions (half days) on particular weekdays: a whole-time week is
five days of two sessions, so 0.6 FTE is three days and 0.7 FTE three and a half, on weekdays
drawn once per post. Leave is taken per staff group in blocks of `leave.block_days` consecutive
weekdays (whole weeks from a Monday when a multiple of five), the remainder and study leave as
single days, placed at random in each 52-week leave year; a block removes the working days of the
post it covers, so part-time leave is pro rata.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from handover_abm.config import Leave
from handover_abm.dates import Calendar

SESSIONS_PER_FTE_WEEK = 10  # five days of two sessions (morning and afternoon)
WEEKDAYS = 5  # Monday to Friday: the working week of a whole-time post
LEAVE_YEAR_WEEKS = 52  # assumption: leave years of 52 whole weeks from the run's first week


def weekly_sessions(fte: float, rng: np.random.Generator) -> np.ndarray:
    """Sessions worked on each weekday (0, 1 or 2), Monday first, for a post of this FTE."""
    sessions = min(SESSIONS_PER_FTE_WEEK, max(0, round(fte * SESSIONS_PER_FTE_WEEK)))
    if fte > 0 and sessions == 0:
        sessions = 1
    full, half = divmod(sessions, 2)
    days = rng.permutation(WEEKDAYS)[: full + half]
    pattern = np.zeros(WEEKDAYS, dtype=np.int64)
    pattern[days[:full]] = 2
    pattern[days[full:]] = 1
    return pattern


def leave_blocks(n_blocks: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """Weekday slots of a leave year (5 a week, Monday first) covered by `n_blocks` blocks of `block`
    consecutive weekdays, placed uniformly at random without overlapping, sorted.

    A block of whole weeks starts on a Monday (`block` = 5 draws the weeks alone, as leave always
    has, so the default is unchanged); any other block starts on any weekday and may run over a
    weekend, so every weekday is equally likely to be covered and a part-time post's leave is pro
    rata whichever days it works (up to the leave year's first and last few days).
    """
    unit = WEEKDAYS if block % WEEKDAYS == 0 else 1
    length = block // unit
    free = np.sort(
        rng.choice(LEAVE_YEAR_WEEKS * WEEKDAYS // unit - n_blocks * (length - 1), n_blocks, replace=False)
    )
    starts = (free + np.arange(n_blocks) * (length - 1)) * unit
    return (starts[:, None] + np.arange(block)).ravel()


def leave_mask(
    pattern: np.ndarray, group_leave: tuple[float, float], block: int, cal: Calendar, rng: np.random.Generator
) -> np.ndarray:
    """Boolean per working day: the post-holder is on leave (only working days of the post count).

    Each 52-week leave year has `annual // block` blocks (leave_blocks) and `annual % block + study`
    single days pro rata to the share of weekdays the post works, taken on worked days not already
    in a block. A bank holiday inside a block on a day the post works costs no leave (it is a day
    off anyway), so it is taken as one more single day, as staff do; so are block days that fall
    before the calendar's first day (the first week is often partial). So a whole-time post is away
    annual + study working days every year at every block length; a part-time post is exact in
    expectation (a fractional day is taken with that probability, and a block that is not whole
    weeks covers more or fewer of its days by chance; capacity needs the mean).
    """
    annual, study = group_leave
    n = len(cal)
    mask = np.zeros(n, dtype=bool)
    week = cal.week_index()
    works = pattern[cal.weekday] > 0
    blocks = int(annual // block)
    single = annual - blocks * block + study
    share_worked = float((pattern > 0).sum()) / WEEKDAYS
    first_monday = int(cal.ordinal[0] - cal.weekday[0])
    for year_start in range(0, int(week[-1]) + 1, LEAVE_YEAR_WEEKS):
        in_year = (week >= year_start) & (week < year_start + LEAVE_YEAR_WEEKS)
        slots = leave_blocks(blocks, block, rng)
        covered = np.zeros(LEAVE_YEAR_WEEKS * WEEKDAYS, dtype=bool)
        covered[slots] = True
        days = np.flatnonzero(in_year)
        mask[days] = covered[(week[days] - year_start) * WEEKDAYS + cal.weekday[days]]
        # block weekdays the post works that are not working days up to the calendar's end (bank
        # holidays, and the days of the first week before the calendar starts) cost no leave
        dates = first_monday + 7 * (year_start + slots // WEEKDAYS) + slots % WEEKDAYS
        off = (dates <= cal.ordinal[-1]) & ~np.isin(dates, cal.ordinal) & (pattern[slots % WEEKDAYS] > 0)
        worked = np.flatnonzero(works & in_year & ~mask)
        expected = single * share_worked + int(off.sum())
        k = int(expected) + int(rng.random() < expected - int(expected))
        if worked.size and k:
            mask[rng.choice(worked, size=min(k, worked.size), replace=False)] = True
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
