"""The appointment book: each clinician's bookable minutes per working day, and who is booked.

A post's working minutes on a day (rota.py) are split into time without slots (results,
prescriptions, letters: `work.non_appointment_share`), protected supervision time (supervisors)
and appointments. Appointment minutes are split again into on-the-day minutes, released on the
morning of the day for that day's requests, and pre-bookable minutes, open up to the booking
horizon. An appointment is a slot as long as the task takes that role (task minutes x the role's
time multiplier), so a day cannot be overbooked: a booking needs that many minutes left.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from handover_abm.state import inline_kernel, kernel

MIN_SLOT = 5.0  # minutes: a day with less pre-bookable time left than this is full for everyone


@inline_kernel
def earliest(pre, otd, first_pre, post, need, start, end, today):
    """The first day in [start, end] with `need` minutes free for `post`, or -1."""
    if start > end:
        return -1
    if start == today and pre[post, today] + otd[post, today] >= need:
        return today
    d = max(start, today + 1, first_pre[post])
    while d <= end:
        if pre[post, d] >= need:
            return d
        d += 1
    return -1


@kernel
def days_to_free(pre, first_pre, post, today):
    """Working days from today to `post`'s first pre-bookable slot (how full the book is)."""
    d = max(first_pre[post], today)
    last = pre.shape[1] - 1
    while d < last and pre[post, d] < MIN_SLOT:
        d += 1
    return d - today


@inline_kernel
def take(pre, otd, first_pre, post, day, today, need, urgent):
    """Take `need` minutes of `post`'s book on `day` (on-the-day time first for urgent requests).

    Keeps `first_pre[post]` a lower bound of the first future day with a slot of MIN_SLOT: the
    pre-bookable minutes of a future day only ever fall.
    """
    if day == today:
        if urgent:
            t = min(otd[post, day], need)
            otd[post, day] -= t
            pre[post, day] -= need - t
        else:
            t = min(pre[post, day], need)
            pre[post, day] -= t
            otd[post, day] -= need - t
    else:
        pre[post, day] -= need
        d, last = max(first_pre[post], today + 1), pre.shape[1] - 1
        while d < last and pre[post, d] < MIN_SLOT:  # amortised O(1): the pointer only moves forward
            d += 1
        first_pre[post] = d


@inline_kernel
def unused(pre, otd, post, day):
    """Appointment minutes nobody booked on `day` (they become time for work without a slot)."""
    left = otd[post, day] + pre[post, day]
    otd[post, day] = 0.0
    pre[post, day] = 0.0
    return max(0.0, left)


class AppointmentBook:
    """On-the-day and pre-bookable minutes left, per post and working day (arrays the kernels share)."""

    def __init__(self, appointment_minutes: np.ndarray, on_the_day_share: float, horizon: int) -> None:
        self.horizon = horizon
        self.n_days = appointment_minutes.shape[1]
        self.otd = np.ascontiguousarray(appointment_minutes * on_the_day_share, dtype=np.float64)
        self.pre = np.ascontiguousarray(appointment_minutes * (1.0 - on_the_day_share), dtype=np.float64)
        self.first_pre = np.zeros(appointment_minutes.shape[0], dtype=np.int64)
        for post in range(len(self.first_pre)):
            self.first_pre[post] = days_to_free(self.pre, self.first_pre, post, 0)
        # who is booked, per day, when the book is used on its own (`book`); the model's kernels
        # keep their day lists in the state instead (HandoverModel.booked)
        self.appointments: list[list[tuple[int, Any]]] = [[] for _ in range(self.n_days)]

    def last_day(self, today: int) -> int:
        """The last day open for booking today."""
        return min(self.n_days - 1, today + self.horizon)

    def room(self, post: int, day: int, today: int) -> float:
        """Minutes a new booking can take on `day`: on-the-day minutes count only today."""
        pre = float(self.pre[post, day])
        return pre + float(self.otd[post, day]) if day == today else pre

    def earliest(self, post: int, need: float, start: int, end: int, today: int) -> int:
        """The first day in [start, end] with `need` minutes free for this post, or -1."""
        return int(earliest(self.pre, self.otd, self.first_pre, post, need, start, end, today))

    def days_to_free(self, post: int, today: int) -> int:
        """Working days from today to this post's first pre-bookable slot."""
        return int(days_to_free(self.pre, self.first_pre, post, today))

    def book(self, post: int, day: int, today: int, need: float, urgent: bool, item: Any) -> None:
        """Take `need` minutes of `post`'s book on `day` and list `item` as booked with `post`."""
        take(self.pre, self.otd, self.first_pre, post, day, today, need, urgent)
        self.appointments[day].append((post, item))

    def unused(self, post: int, day: int) -> float:
        """Appointment minutes nobody booked on `day` (they are zeroed)."""
        return float(unused(self.pre, self.otd, post, day))
