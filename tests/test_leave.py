"""Leave as configured at every block length (issue 31): blocks of `leave.block_days` consecutive
weekdays, and days off a year equal to annual + study pro rata to the weekdays a post works
(rota.leave_mask): a bank holiday inside a block is given back as a single day, and single days
fall on worked days outside the blocks. Exact every year for a whole-time post; in expectation for
a part-time one, E = (annual + study) * share of weekdays worked.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover_abm.dates import Calendar
from handover_abm.rota import LEAVE_YEAR_WEEKS, WEEKDAYS, leave_blocks, leave_mask

SLOTS = LEAVE_YEAR_WEEKS * WEEKDAYS  # weekdays of a leave year
DRAWS = 200  # leave masks averaged per case: the standard error of the mean is under 0.1 day
# Blocks that are not whole weeks are placed at random without overlapping, so a leave year's first
# and last few weekdays are covered a little less often than the rest: measured (20,000 placements
# a case, up to 40 days of leave) a weekday position's days a year move by at most 0.08 and one
# slot's cover by at most 0.14, so a bank holiday at the year's edge moves the mean by less than that.
EDGE_DAYS = 0.25


def _expected_days(annual: float, study: float, share: float) -> float:
    """Mean days off a leave year: the entitlement pro rata (module docstring)."""
    return (annual + study) * share


def _days_off(
    pattern: np.ndarray, leave: tuple[float, float], block: int, cal: Calendar, year: np.ndarray, seed: int
) -> np.ndarray:
    """Days off in the leave year `year` (a boolean per working day) in DRAWS seeded draws."""
    rng = np.random.default_rng(seed)
    return np.array([leave_mask(pattern, leave, block, cal, rng)[year].sum() for _ in range(DRAWS)])


def _second_leave_year(cal: Calendar) -> np.ndarray:
    """Working days of weeks 52-103 (the first leave year starts in the week before the run's)."""
    weeks = cal.week_index()
    assert weeks[-1] >= 2 * LEAVE_YEAR_WEEKS, "the calendar must hold the whole leave year"
    return (weeks >= LEAVE_YEAR_WEEKS) & (weeks < 2 * LEAVE_YEAR_WEEKS)


def _every_weekday(start: date, n: int) -> Calendar:
    """A calendar of every weekday from Monday `start` (no bank holidays), so blocks show whole."""
    cal = Calendar(start, n)
    days = [start + timedelta(days=i) for i in range(2 * n)]
    cal.dates = [d for d in days if d.weekday() < WEEKDAYS][: n + 1]
    cal.ordinal = np.array([d.toordinal() for d in cal.dates], dtype=np.int64)
    cal.weekday = np.array([d.weekday() for d in cal.dates], dtype=np.int64)
    cal.ordinal_list = cal.ordinal.tolist()
    return cal


@pytest.mark.parametrize("block", range(1, 11))
def test_a_whole_time_gp_takes_30_plus_5_days_at_every_block_length(block: int) -> None:
    """The published example: 30 annual + 5 study days, exactly 35 working days off every leave
    year at every block length, though the leave year from 24 March 2025 has 8 bank holidays (a
    block over one gives the day back) and the first leave year starts before the run."""
    cal = Calendar(date(2024, 4, 1), 2 * 260)
    year = _second_leave_year(cal)
    assert int(year.sum()) == 252
    weeks = cal.week_index()
    taken = _days_off(np.full(WEEKDAYS, 2), (30.0, 5.0), block, cal, year, seed=block)
    first = _days_off(np.full(WEEKDAYS, 2), (30.0, 5.0), block, cal, weeks < LEAVE_YEAR_WEEKS, seed=block)
    assert np.all(taken == 35) and np.all(first == 35)


@settings(suppress_health_check=[HealthCheck.too_slow])  # examples: tests/conftest.py
@given(
    block=st.integers(1, 10),
    weekdays=st.sets(st.integers(0, WEEKDAYS - 1), min_size=1),
    annual=st.integers(0, 80).map(lambda halves: halves / 2),
    study=st.integers(0, 20).map(lambda halves: halves / 2),
    start=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_leave_days_a_year_are_the_entitlement_pro_rata(
    block: int, weekdays: set[int], annual: float, study: float, start: date
) -> None:
    """Any block length, any weekdays worked, any start: the mean days off a leave year are the
    expected ones within four standard errors plus the edge allowance (EDGE_DAYS)."""
    pattern = np.zeros(WEEKDAYS, dtype=np.int64)
    pattern[sorted(weekdays)] = 1
    cal = Calendar(start, 2 * 260 + 20)
    year = _second_leave_year(cal)
    worked = int((year & (pattern[cal.weekday] > 0)).sum())
    taken = _days_off(pattern, (annual, study), block, cal, year, seed=block)
    expected = min(_expected_days(annual, study, len(weekdays) / WEEKDAYS), worked)
    tolerance = 4 * taken.std(ddof=1) / math.sqrt(DRAWS) + EDGE_DAYS
    assert taken.mean() == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("block", range(1, 11))
def test_blocks_are_consecutive_weekdays_that_never_overlap(block: int) -> None:
    rng = np.random.default_rng(block)
    for n_blocks in (0, 1, 40 // block, 100 // block):
        for _ in range(50):
            slots = leave_blocks(n_blocks, block, rng)
            assert slots.size == n_blocks * block and np.unique(slots).size == slots.size
            assert slots.min(initial=0) >= 0 and slots.max(initial=0) < SLOTS
            runs = slots.reshape(n_blocks, block)  # sorted and disjoint: one block a row
            assert np.all(np.diff(runs, axis=1) == 1)
            if block % WEEKDAYS == 0:  # whole weeks start on a Monday
                assert np.all(runs[:, 0] % WEEKDAYS == 0)


@pytest.mark.parametrize("block", range(1, 11))
def test_blocks_are_consecutive_working_days_of_the_post(block: int) -> None:
    """Without bank holidays or single days, a leave year's days off are exactly its blocks: runs of
    consecutive working days (adjacent blocks join), annual days for a whole-time post, and for a
    part-time post whole-week blocks take exactly its days worked in those weeks."""
    cal = _every_weekday(date(2024, 4, 1), 2 * SLOTS)
    weeks = cal.week_index()
    annual = float(30 - 30 % block)
    rng = np.random.default_rng(block)
    for _ in range(20):
        mask = leave_mask(np.full(WEEKDAYS, 2), (annual, 0.0), block, cal, rng)
        for y in range(2):
            days = np.flatnonzero(mask & (weeks // LEAVE_YEAR_WEEKS == y))
            assert days.size == annual
            edges = np.flatnonzero(np.diff(days) > 1)
            lengths = np.diff(np.concatenate(([0], edges + 1, [days.size])))
            assert np.all(lengths % block == 0), lengths
            if block % WEEKDAYS == 0:
                assert np.all(cal.weekday[days[np.concatenate(([0], edges + 1))]] == 0)
        part_time = np.array([2, 0, 1, 2, 0])
        mask = leave_mask(part_time, (annual, 0.0), block, cal, rng)
        if block % WEEKDAYS == 0:
            assert mask[weeks < LEAVE_YEAR_WEEKS].sum() == annual * 3 / WEEKDAYS
        assert not np.any(mask & (part_time[cal.weekday] == 0))
