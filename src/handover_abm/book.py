"""The appointment book: each clinician's bookable minutes per working day, and who is booked.

A post's working minutes on a day (rota.py) are split into time without slots (results,
prescriptions, letters: `work.non_appointment_share`), protected supervision time (supervisors)
and appointments. Appointment minutes are split again into on-the-day minutes, released on the
morning of the day for that day's requests, and pre-bookable minutes, open up to the booking
horizon. An appointment is a slot as long as the task takes that role (task minutes x the role's
time multiplier), so a day cannot be overbooked: a booking needs that many minutes left.
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

MIN_SLOT = 5.0  # minutes: a day with less pre-bookable time left than this is full for everyone


class AppointmentBook:
    """On-the-day and pre-bookable minutes left, per post and working day, and the day lists."""

    def __init__(self, appointment_minutes: np.ndarray, on_the_day_share: float, horizon: int) -> None:
        self.horizon = horizon
        self.n_days = appointment_minutes.shape[1]
        # one contiguous row of doubles per post (array.array): a scan of a row reads neighbouring
        # memory, where a list's floats end up scattered over the heap as bookings replace them
        self.otd: list[array[float]] = [array("d", row) for row in appointment_minutes * on_the_day_share]
        self.pre: list[array[float]] = [
            array("d", row) for row in appointment_minutes * (1.0 - on_the_day_share)
        ]
        self.first_pre = [0] * appointment_minutes.shape[0]
        for post in range(len(self.first_pre)):
            self.first_pre[post] = self.days_to_free(post, 0)
        self.appointments: list[list[tuple[int, Any]]] = [[] for _ in range(self.n_days)]

    def last_day(self, today: int) -> int:
        """The last day open for booking today."""
        return min(self.n_days - 1, today + self.horizon)

    def room(self, post: int, day: int, today: int) -> float:
        """Minutes a new booking can take on `day`: on-the-day minutes count only today."""
        pre = self.pre[post][day]
        return pre + self.otd[post][day] if day == today else pre

    def earliest(self, post: int, need: float, start: int, end: int, today: int) -> int:
        """The first day in [start, end] with `need` minutes free for this post, or -1."""
        if start > end:
            return -1
        if start == today and self.pre[post][today] + self.otd[post][today] >= need:
            return today
        pre = self.pre[post]
        d = max(start, today + 1, self.first_pre[post])
        while d <= end:
            if pre[d] >= need:
                return d
            d += 1
        return -1

    def days_to_free(self, post: int, today: int) -> int:
        """Working days from today to this post's first pre-bookable slot (how full the book is)."""
        d = max(self.first_pre[post], today)
        pre, last = self.pre[post], self.n_days - 1
        while d < last and pre[d] < MIN_SLOT:
            d += 1
        return d - today

    def book(self, post: int, day: int, today: int, need: float, urgent: bool, item: Any) -> None:
        """Take `need` minutes of `post`'s book on `day` (on-the-day time first for urgent requests).

        Keeps `first_pre[post]` a lower bound of the first future day with a slot of MIN_SLOT: the
        pre-bookable minutes of a future day only ever fall.
        """
        if day == today:
            otd, pre = self.otd[post], self.pre[post]
            first, second = (otd, pre) if urgent else (pre, otd)
            take = min(first[day], need)
            first[day] -= take
            second[day] -= need - take
        else:
            pre = self.pre[post]
            pre[day] -= need
            d, last = max(self.first_pre[post], today + 1), self.n_days - 1
            while d < last and pre[d] < MIN_SLOT:  # amortised O(1): the pointer only moves forward
                d += 1
            self.first_pre[post] = d
        self.appointments[day].append((post, item))

    def unused(self, post: int, day: int) -> float:
        """Appointment minutes nobody booked on `day` (they become time for work without a slot)."""
        left = self.otd[post][day] + self.pre[post][day]
        self.otd[post][day] = self.pre[post][day] = 0.0
        return max(0.0, left)
