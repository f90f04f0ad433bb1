"""The calendar: working days, weekends and English bank holidays.

The model steps one working day at a time; every wait it reports is also given in calendar days,
which is what patients and NHS data count. Bank holidays follow the Banking and Financial Dealings
Act 1971 rules for England and Wales (substitute days when a holiday falls on a weekend) plus the
one-off changes proclaimed since 2020 (GOV.UK "UK bank holidays").
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import numpy as np

# One-off proclamations: (added, removed) per year.
_ONE_OFF: dict[int, tuple[tuple[date, ...], tuple[date, ...]]] = {
    2020: ((date(2020, 5, 8),), (date(2020, 5, 4),)),  # VE day moved the early May holiday
    2022: ((date(2022, 6, 2), date(2022, 6, 3), date(2022, 9, 19)), (date(2022, 5, 30),)),
    2023: ((date(2023, 5, 8),), ()),  # coronation
}


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    return d - timedelta(days=d.weekday())


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """English bank holidays of one year."""
    easter = easter_sunday(year)
    days = {
        easter - timedelta(days=2),
        easter + timedelta(days=1),
        _first_monday(year, 5),
        _last_monday(year, 5),
        _last_monday(year, 8),
    }
    new_year = date(year, 1, 1)
    days.add(new_year + timedelta(days={5: 2, 6: 1}.get(new_year.weekday(), 0)))
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday
        days |= {christmas + timedelta(days=2), boxing + timedelta(days=2)}
    elif christmas.weekday() == 6:  # Sunday: Boxing Day on Monday, Christmas on Tuesday
        days |= {boxing, christmas + timedelta(days=2)}
    elif christmas.weekday() == 4:  # Friday: Boxing Day on Monday
        days |= {christmas, boxing + timedelta(days=2)}
    else:
        days |= {christmas, boxing}
    added, removed = _ONE_OFF.get(year, ((), ()))
    return frozenset((days | set(added)) - set(removed))


def is_working_day(d: date) -> bool:
    """Monday to Friday and not a bank holiday."""
    return d.weekday() < 5 and d not in bank_holidays(d.year)


class Calendar:
    """Working day index -> date, weekday and calendar-day ordinal, from a start date.

    Working day 1 (the model's first step) is the first working day on or after `start`; index 0
    is the working day before it. Days 0..n are laid out (the run plus the booking horizon);
    `ordinal[d]` counts calendar days, so a wait in calendar days is
    `ordinal[seen] - ordinal[requested]`.
    """

    def __init__(self, start: date, n: int) -> None:
        before = start - timedelta(days=1)
        while not is_working_day(before):
            before -= timedelta(days=1)
        dates: list[date] = [before]
        d = start
        while len(dates) < n + 1:
            if is_working_day(d):
                dates.append(d)
            d += timedelta(days=1)
        self.dates = dates
        self.ordinal = np.array([x.toordinal() for x in dates], dtype=np.int64)
        self.weekday = np.array([x.weekday() for x in dates], dtype=np.int64)
        self.ordinal_list: list[int] = self.ordinal.tolist()

    def __len__(self) -> int:
        return len(self.dates)

    def calendar_days(self, day_from: int, day_to: int) -> int:
        """Calendar days between two working-day indices."""
        return self.ordinal_list[day_to] - self.ordinal_list[day_from]

    def week_index(self) -> np.ndarray:
        """Monday-based week number of each working day, counted from the first week (for leave)."""
        monday = self.ordinal - self.weekday
        return (monday - monday[0]) // 7
