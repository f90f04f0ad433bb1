"""The appointment book: on-the-day and pre-bookable minutes, the horizon, no overbooking."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover_abm.book import AppointmentBook


def _book(minutes: float = 100.0, posts: int = 2, days: int = 20, otd: float = 0.4, horizon: int = 5):
    return AppointmentBook(np.full((posts, days), minutes), otd, horizon)


def test_on_the_day_minutes_are_bookable_only_today() -> None:
    book = _book()
    today = 3
    assert book.room(0, today, today) == pytest.approx(100.0)
    assert book.room(0, today + 1, today) == pytest.approx(60.0)  # pre-bookable only
    assert book.earliest(0, 80.0, today, book.last_day(today), today) == today
    assert book.earliest(0, 80.0, today + 1, book.last_day(today), today) == -1  # 60 < 80 on later days
    assert book.earliest(0, 50.0, today + 1, book.last_day(today), today) == today + 1


def test_urgent_requests_use_on_the_day_time_first_and_routine_pre_bookable_first() -> None:
    book = _book()
    book.book(0, 2, 2, 30.0, True, "urgent")
    assert book.otd[0][2] == pytest.approx(10.0) and book.pre[0][2] == pytest.approx(60.0)
    book.book(1, 2, 2, 30.0, False, "routine")
    assert book.otd[1][2] == pytest.approx(40.0) and book.pre[1][2] == pytest.approx(30.0)
    assert book.appointments[2] == [(0, "urgent"), (1, "routine")]


def test_pre_bookable_up_to_the_horizon_and_not_beyond() -> None:
    book = _book(horizon=5)
    today = 2
    assert book.last_day(today) == 7
    for d in range(today + 1, book.last_day(today) + 1):  # fill every pre-bookable slot in the horizon
        book.book(0, d, today, 60.0, False, d)
    assert book.earliest(0, 10.0, today + 1, book.last_day(today), today) == -1
    assert book.pre[0][book.last_day(today) + 1] == pytest.approx(60.0)  # free, but beyond the horizon
    assert book.last_day(book.n_days - 2) == book.n_days - 1  # the horizon stops at the end of the run


def test_unused_returns_what_is_left_and_closes_the_day() -> None:
    book = _book()
    book.book(0, 4, 4, 25.0, True, "a")
    book.book(0, 4, 4, 35.0, False, "b")
    assert book.unused(0, 4) == pytest.approx(40.0)
    assert book.room(0, 4, 4) == 0.0 and book.unused(0, 4) == 0.0
    assert book.earliest(0, 1.0, 4, 4, 4) == -1


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 6), st.floats(1.0, 60.0), st.booleans()), max_size=200
    ),
    otd=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_a_day_is_never_overbooked(requests: list, otd: float) -> None:
    """Book whatever `earliest` offers, day by day: no post's day ever takes more than its minutes."""
    minutes = np.array([[0.0] + [90.0] * 14, [0.0] + [45.0, 0.0] * 7, [0.0] + [200.0] * 14])
    book = AppointmentBook(minutes, otd, horizon=4)
    booked = np.zeros_like(minutes)
    today = 1
    for post, offset, need, urgent in requests:
        if offset == 0 and today < 10:  # the day ends: books close and the next day starts
            for p in range(3):
                left = book.unused(p, today)
                assert left == pytest.approx(minutes[p, today] - booked[p, today], abs=1e-6)
            today += 1
        start = today + offset % 3
        end = today if urgent else book.last_day(today)
        day = book.earliest(post, need, start, end, today)
        if day < 0:
            continue
        assert start <= day <= end
        assert book.room(post, day, today) >= need - 1e-9
        book.book(post, day, today, need, urgent, None)
        booked[post, day] += need
        assert booked[post, day] <= minutes[post, day] + 1e-6
    assert np.all(np.asarray(book.pre) >= -1e-6) and np.all(np.asarray(book.otd) >= -1e-6)
    for p in range(3):  # future on-the-day time is untouched before its day
        for d in range(today + 1, minutes.shape[1]):
            assert book.otd[p][d] == pytest.approx(minutes[p, d] * otd)
