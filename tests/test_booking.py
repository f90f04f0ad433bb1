"""Booking rules one by one on a hand-made book, and what booking guarantees in a whole run."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover_abm.book import AppointmentBook
from handover_abm.booking import POLICIES, Request, make_rule
from handover_abm.config import ROUTING_POLICIES
from handover_abm.model import CONTACT_COLUMNS, HandoverModel
from tests.conftest import small_scenario

TODAY = 1


def _book(posts: int = 3, days: int = 40, minutes: float = 100.0, horizon: int = 20) -> AppointmentBook:
    return AppointmentBook(np.full((posts, days), minutes), 0.4, horizon)


def _fill(book: AppointmentBook, post: int, until: int) -> None:
    """Book every minute of `post` from today up to day `until` (inclusive)."""
    for d in range(TODAY, until + 1):
        need = book.room(post, d, TODAY)
        if need > 0:
            book.book(post, d, TODAY, need, False, "filler")


def _request(
    eligible: dict[int, float],
    named: int = -1,
    prefers: bool = False,
    willingness: int = 0,
    urgent: bool = False,
    last_post: int = -1,
    start: int = TODAY,
    minutes: float = 10.0,
) -> Request:
    return Request(eligible, minutes, TODAY, start, urgent, willingness, last_post, named, prefers)


def _rule(name: str, book: AppointmentBook):
    return make_rule(name, book)


def test_every_configured_rule_builds() -> None:
    book = _book()
    assert set(ROUTING_POLICIES) == set(POLICIES)
    for name in ROUTING_POLICIES:
        assert _rule(name, book).name == name


def test_first_available_books_the_earliest_slot_with_anyone() -> None:
    book = _book()
    _fill(book, 0, 6)
    _fill(book, 1, 3)
    _fill(book, 2, 9)
    rule = _rule("first_available", book)
    assert rule.choose(_request({0: 1.0, 1: 1.0, 2: 1.0}, named=2, prefers=True, willingness=30)) == (1, 4)
    # the time multiplier counts: post 1 has 60 pre-bookable minutes on day 4, too few for 10 x 7
    assert rule.choose(_request({0: 1.0, 1: 7.0, 2: 1.0})) == (0, 7)
    # an urgent request is booked today or not at all
    assert rule.choose(_request({0: 1.0, 1: 1.0}, urgent=True)) == (-1, -1)


def test_first_available_picks_the_emptiest_list_on_the_same_day() -> None:
    book = _book()
    book.book(0, TODAY, TODAY, 30.0, False, "x")
    rule = _rule("first_available", book)
    assert rule.choose(_request({0: 1.0, 1: 1.0})) == (1, TODAY)


def test_no_slot_within_the_horizon_is_no_booking() -> None:
    book = _book(horizon=5)
    for post in range(3):
        _fill(book, post, TODAY + 5)
    for name in ROUTING_POLICIES:
        req = _request({0: 1.0, 1: 1.0, 2: 1.0}, named=0, prefers=True, willingness=50, last_post=1)
        assert _rule(name, book).choose(req) == (-1, -1), name


def test_preferred_within_waits_for_the_named_gp_only_as_long_as_the_patient_will() -> None:
    book = _book()
    _fill(book, 2, 5)  # the named GP's first slot is day 6, five working days after today
    rule = _rule("preferred_within", book)
    eligible = {0: 1.0, 1: 1.0, 2: 1.0}
    assert rule.choose(_request(eligible, named=2, prefers=True, willingness=5)) == (2, 6)
    assert rule.choose(_request(eligible, named=2, prefers=True, willingness=4))[1] == TODAY
    assert rule.choose(_request(eligible, named=2, prefers=False, willingness=30))[1] == TODAY
    # urgent: the named GP only if they have a slot today
    assert rule.choose(_request(eligible, named=2, prefers=True, willingness=30, urgent=True))[0] != 2
    assert rule.choose(_request(eligible, named=0, prefers=True, urgent=True)) == (0, TODAY)


def test_continuity_first_uses_the_episodes_last_clinician_then_the_named_gp() -> None:
    book = _book()
    _fill(book, 1, 3)
    _fill(book, 2, 2)
    rule = _rule("continuity_first", book)
    eligible = {0: 1.0, 1: 1.0, 2: 1.0}
    assert rule.choose(_request(eligible, last_post=1, named=2, prefers=True, willingness=5)) == (1, 4)
    # last clinician beyond the willingness: the named GP next
    assert rule.choose(_request(eligible, last_post=1, named=2, prefers=True, willingness=2)) == (2, 3)
    assert rule.choose(_request(eligible, last_post=1, willingness=2)) == (0, TODAY)
    assert rule.choose(_request(eligible)) == (0, TODAY)


def test_specialist_first_books_the_quickest_role_even_when_others_are_earlier() -> None:
    book = _book()
    _fill(book, 2, 4)
    rule = _rule("specialist_first", book)
    assert rule.choose(_request({0: 1.0, 1: 1.2, 2: 0.8})) == (2, 5)
    _fill(book, 2, 30)  # the quickest role has nothing in the horizon: anyone
    assert rule.choose(_request({0: 1.0, 1: 1.2, 2: 0.8}))[0] == 0


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    full_until=st.lists(st.integers(0, 25), min_size=3, max_size=3),
    named=st.integers(0, 2),
    willingness=st.integers(0, 25),
    start_offset=st.integers(0, 5),
    urgent=st.booleans(),
)
def test_personal_list_sees_the_named_gp_whenever_they_have_a_slot_within_the_willingness(
    full_until: list[int], named: int, willingness: int, start_offset: int, urgent: bool
) -> None:
    book = _book(horizon=20)
    for post, until in enumerate(full_until):
        _fill(book, post, until)
    start = TODAY if urgent else TODAY + start_offset
    willing = 0 if urgent else willingness
    req = _request(
        {0: 1.0, 1: 1.0, 2: 1.0}, named=named, prefers=True, willingness=willing, urgent=urgent, start=start
    )
    end = min(book.last_day(TODAY), start + willing)
    free = [d for d in range(start, end + 1) if book.room(named, d, TODAY) >= 10.0]
    post, day = _rule("personal_list", book).choose(req)
    if free:
        assert (post, day) == (named, free[0])
    elif post >= 0:  # otherwise the earliest slot with anyone, never before the start
        assert day >= start and book.room(post, day, TODAY) >= 10.0


# ------------------------------------------------------------------ whole runs


def _rows(model: HandoverModel) -> list[dict[str, Any]]:
    return [dict(zip(CONTACT_COLUMNS, row, strict=True)) for row in model.contact_log]


@pytest.fixture(scope="module")
def logged() -> HandoverModel:
    m = HandoverModel(small_scenario(days=60), rng=5, log_events=True)
    m.run()
    return m


def test_every_contact_is_seen_on_or_after_the_day_it_was_requested(logged: HandoverModel) -> None:
    rows = _rows(logged)
    assert len(rows) == logged.totals["contacts"] > 500
    assert all(r["day_seen"] >= r["day_requested"] for r in rows)
    assert all(r["date_seen"] >= r["date_requested"] for r in rows)
    assert any(r["day_seen"] > r["day_requested"] for r in rows)


def test_waits_are_counted_in_calendar_days(logged: HandoverModel) -> None:
    rows = _rows(logged)
    waits = Counter(
        (date.fromisoformat(r["date_seen"]) - date.fromisoformat(r["date_requested"])).days for r in rows
    )
    assert waits == logged.waits
    cal = logged.calendar
    for r in rows:
        assert date.fromisoformat(r["date_seen"]) == cal.dates[r["day_seen"]]
        assert date.fromisoformat(r["date_seen"]).weekday() < 5
    # some wait spans a weekend: more calendar days than working days
    assert any(
        (date.fromisoformat(r["date_seen"]) - date.fromisoformat(r["date_requested"])).days
        > r["day_seen"] - r["day_requested"]
        for r in rows
    )


def test_contact_log_columns_and_values(logged: HandoverModel) -> None:
    rows = _rows(logged)
    assert {r["staff_group"] for r in rows} <= {"gp", "nurse", "other"}
    assert {r["urgency"] for r in rows} <= {"urgent", "routine"}
    for r in rows:
        c = logged.clinicians[r["post"]]
        assert r["role"] == c.role_name and r["staff_group"] == c.role.contact_group
        p = logged.patients[r["patient"]]
        assert r["preferred_post"] == (p.usual_post if p.prefers else -1)
        assert r["with_preferred"] == (p.prefers and r["post"] == p.usual_post)


def test_personal_list_gives_every_patient_a_named_gp_they_prefer() -> None:
    m = HandoverModel(small_scenario(routing={"policy": "personal_list"}), rng=2)
    assert all(p.usual_post >= 0 and p.prefers for p in m.patients)
    assert all(m.clinicians[p.usual_post].is_gp for p in m.patients)
    assert all(m.clinicians[p.usual_post].practice == p.practice for p in m.patients)
    first = HandoverModel(small_scenario(routing={"policy": "first_available"}), rng=2)
    assert 0 < sum(p.usual_post >= 0 for p in first.patients) < len(first.patients)


def test_personal_list_in_a_run_sees_the_named_gp_far_more_than_first_available() -> None:
    """The rule is the same compiled function in a run as on a hand-made book (the property test
    above checks it against every free day); in a run, a personal list means most contacts are with
    the named GP."""
    from handover_abm.metrics import summarise

    listed = summarise(_run_small("personal_list"))
    first = summarise(_run_small("first_available"))
    assert listed["preferred_clinician_share"] > max(0.6, first["preferred_clinician_share"] + 0.1)


def test_preferences_raise_the_share_seen_by_the_preferred_clinician() -> None:
    from handover_abm.metrics import summarise

    pref = summarise(_run_small("preferred_within"))
    first = summarise(_run_small("first_available"))
    assert pref["preferred_clinician_share"] > first["preferred_clinician_share"] + 0.1


def _run_small(policy: str) -> HandoverModel:
    m = HandoverModel(small_scenario(days=60, routing={"policy": policy}), rng=4)
    m.run()
    return m
