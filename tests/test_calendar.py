"""The calendar (English bank holidays, calendar-day waits) and working patterns with leave."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from handover_abm.config import Leave
from handover_abm.dates import Calendar, bank_holidays, easter_sunday, is_working_day
from handover_abm.rota import capacity_table, leave_mask, weekly_sessions

# GOV.UK "UK bank holidays", England and Wales
GOV_UK = {
    2020: ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"],
    2021: ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"],
    2022: ["01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19", "12-26", "12-27"],
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(GOV_UK))
def test_bank_holidays_match_gov_uk(year: int) -> None:
    expected = {date.fromisoformat(f"{year}-{md}") for md in GOV_UK[year]}
    assert bank_holidays(year) == expected


def test_easter_and_substitute_days() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31) and easter_sunday(2025) == date(2025, 4, 20)
    # Christmas on a Sunday (2022): Boxing Day Monday, substitute Christmas Tuesday 27th
    assert {date(2022, 12, 26), date(2022, 12, 27)} <= bank_holidays(2022)
    # Christmas on a Saturday (2021): Monday 27th and Tuesday 28th
    assert {date(2021, 12, 27), date(2021, 12, 28)} <= bank_holidays(2021)
    assert date(2021, 12, 25) not in bank_holidays(2021)
    # New Year's Day on a Saturday (2022): Monday 3rd
    assert date(2022, 1, 3) in bank_holidays(2022)
    for year in range(2000, 2040):
        assert all(d.weekday() < 5 for d in bank_holidays(year)), year


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    assert is_working_day(date(2024, 4, 2))
    assert not is_working_day(date(2024, 4, 1))  # Easter Monday
    assert not is_working_day(date(2024, 4, 6))  # Saturday
    cal = Calendar(date(2024, 4, 1), 260)
    assert len(cal) == 261
    assert cal.dates[0] == date(2024, 3, 28)  # the working day before the run (Good Friday off)
    assert cal.dates[1] == date(2024, 4, 2)  # first working day on or after the start
    assert all(is_working_day(d) for d in cal.dates)
    assert all(a < b for a, b in zip(cal.dates, cal.dates[1:], strict=False))
    # no working day is skipped between consecutive entries
    for a, b in zip(cal.dates, cal.dates[1:], strict=False):
        gap = [date.fromordinal(o) for o in range(a.toordinal() + 1, b.toordinal())]
        assert not any(is_working_day(d) for d in gap)
    assert cal.weekday.tolist() == [d.weekday() for d in cal.dates]


def test_calendar_day_waits_cross_weekends_and_holidays() -> None:
    cal = Calendar(date(2024, 4, 1), 30)
    index = {d: i for i, d in enumerate(cal.dates)}
    friday, monday = index[date(2024, 4, 5)], index[date(2024, 4, 8)]
    assert monday - friday == 1 and cal.calendar_days(friday, monday) == 3
    assert cal.calendar_days(0, 1) == 5  # Thursday before Good Friday to the Tuesday after Easter
    assert cal.calendar_days(friday, friday) == 0
    first = index[date(2024, 4, 2)]
    assert cal.calendar_days(first, first + 5) == 7  # a working week later is a calendar week
    christmas = Calendar(date(2024, 12, 24), 3)
    assert christmas.dates[1:3] == [date(2024, 12, 24), date(2024, 12, 27)]
    assert christmas.calendar_days(1, 2) == 3


def test_week_index_counts_calendar_weeks() -> None:
    cal = Calendar(date(2024, 4, 1), 40)
    weeks = cal.week_index()
    assert weeks[0] == 0 and np.all(np.diff(weeks) >= 0)
    for i, d in enumerate(cal.dates):
        assert (
            weeks[i] == (d.toordinal() - d.weekday() - cal.dates[0].toordinal() + cal.dates[0].weekday()) // 7
        )


# ------------------------------------------------------------------ working patterns


@pytest.mark.parametrize(
    ("fte", "full_days", "half_days"), [(1.0, 5, 0), (0.6, 3, 0), (0.7, 3, 1), (0.5, 2, 1)]
)
def test_fte_is_worked_as_whole_sessions(fte: float, full_days: int, half_days: int) -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        pattern = weekly_sessions(fte, rng)
        assert pattern.shape == (5,)
        assert int((pattern == 2).sum()) == full_days and int((pattern == 1).sum()) == half_days
        assert int(pattern.sum()) == round(fte * 10)


def _no_leave() -> Leave:
    return Leave(**{f"{g}_{k}_days": 0 for g in ("gp", "nurse", "other") for k in ("annual", "study")})


def test_weekly_minutes_equal_fte_and_days_off_have_none() -> None:
    cal = Calendar(date(2024, 6, 3), 60)  # no bank holiday in June and July 2024
    ftes = [1.0, 0.8, 0.7, 0.6, 0.5, 0.2]
    minutes, patterns = capacity_table(
        ftes, ["gp"] * len(ftes), 360.0, _no_leave(), cal, np.random.default_rng(1)
    )
    weeks = cal.week_index()
    for post, fte in enumerate(ftes):
        days_worked = patterns[post] > 0
        for w in range(1, int(weeks[-1])):  # whole weeks only
            in_week = weeks == w
            assert minutes[post, in_week].sum() == pytest.approx(fte * 5 * 360.0)
            assert int((minutes[post, in_week] > 0).sum()) == int(days_worked.sum())
        assert np.all(minutes[post, ~days_worked[cal.weekday]] == 0)


def test_leave_is_taken_in_whole_weeks() -> None:
    """15 days in blocks of 5: three whole weeks off in the first leave year; any other day off is a
    bank holiday inside a block given back (one per bank holiday the post works in its weeks off)."""
    cal = Calendar(date(2024, 4, 1), 600)
    weeks = cal.week_index()
    rng = np.random.default_rng(7)
    for _ in range(20):
        pattern = weekly_sessions(0.6, rng)
        mask = leave_mask(pattern, (15.0, 0.0), 5, cal, rng)
        works = pattern[cal.weekday] > 0
        assert not np.any(mask & ~works)
        in_year = weeks < 52
        whole = {w for w in set(weeks[mask & in_year].tolist()) if np.all(mask[(weeks == w) & works])}
        assert len(whole) == 3
        given_back = int((mask & in_year & ~np.isin(weeks, list(whole))).sum())
        days_in_whole = int((mask & np.isin(weeks, list(whole))).sum())
        assert days_in_whole + given_back == round(15 * (pattern > 0).sum() / 5)


def test_leave_days_per_year_are_the_entitlement_pro_rata() -> None:
    """Over many posts, days off per 52 weeks = (annual + study) x share of weekdays worked."""
    cal = Calendar(date(2024, 4, 1), 2 * 252)
    weeks = cal.week_index()
    rng = np.random.default_rng(11)
    for fte, annual, study in [(1.0, 30.0, 5.0), (0.6, 29.0, 3.0)]:
        taken = []
        for _ in range(200):
            pattern = weekly_sessions(fte, rng)
            mask = leave_mask(pattern, (annual, study), 5, cal, rng)
            taken.append(mask[weeks < 52].sum())
        share = (pattern > 0).sum() / 5
        expected = (annual + study) * share
        assert expected * 0.98 <= np.mean(taken) <= expected * 1.02, (fte, np.mean(taken), expected)


def test_capacity_table_applies_leave_by_staff_group() -> None:
    cal = Calendar(date(2024, 4, 1), 252)
    leave = Leave(gp_annual_days=30, gp_study_days=0, nurse_annual_days=0, nurse_study_days=0)
    minutes, patterns = capacity_table(
        [1.0, 1.0], ["gp", "nurse"], 360.0, leave, cal, np.random.default_rng(2)
    )
    days_gp = int((minutes[0] == 0).sum())
    assert int((minutes[1] == 0).sum()) == 0  # whole-time nurse, no leave: every working day worked
    assert days_gp == 30  # six weeks, bank holidays in them given back as single days
    assert patterns.sum(axis=1).tolist() == [10, 10]
