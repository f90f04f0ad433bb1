"""Booking rules: which clinician and which day a task gets. One small class each, chosen by name.

A contact is booked into the appointment book (book.py): the earliest day from its start (today
for a new request, the due date for a follow-up) within the booking horizon that has a slot long
enough for that clinician. Among clinicians free on the same day the one with the most minutes
left that day is booked (a receptionist filling the emptiest list; tiny daily jitter breaks
ties). Rules differ in whom they try first and how long they wait for them:

- first_available: nobody first;
- preferred_within: the patient's named clinician, when the patient prefers them and they have a
  slot within the patient's willingness to wait (preferences.py);
- personal_list: the same, with every patient on a named GP's list and preferring them;
- continuity_first: the episode's last clinician within the willingness, then as preferred_within;
- specialist_first: the earliest among the quickest roles for the task.

Work without a slot (results, prescriptions, letters) goes to the clinician in scope with the
least such work waiting, in days of their time for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from handover_abm.book import AppointmentBook, earliest
from handover_abm.state import inline_kernel, kernel

POLICIES = ("first_available", "preferred_within", "personal_list", "continuity_first", "specialist_first")
FIRST_AVAILABLE, PREFERRED_WITHIN, PERSONAL_LIST, CONTINUITY_FIRST, SPECIALIST_FIRST = range(5)
ANYONE = 1e300  # a multiplier bound that keeps every eligible post


@dataclass
class Request:
    """A contact to book: who is wanted, who is eligible, from which day, how long they will wait."""

    eligible: dict[int, float]  # post -> time multiplier for the task type
    minutes: float  # reference (GP) minutes of the task
    today: int
    start: int
    urgent: bool = False
    willingness: int = 0  # working days a patient will wait for the clinician they want
    last_post: int = -1  # the episode's last clinician
    usual_post: int = -1  # the patient's named clinician
    prefers: bool = False  # the patient prefers their named clinician


@dataclass
class BookingRule:
    """The booking rule named in the config (`routing.policy`), on a book and the posts' queues.

    The model's kernels call `choose` and `choose_unbooked` directly on its arrays; this class is
    the same rule for a person or a test: one request at a time, on `book`.
    """

    name: str
    book: AppointmentBook | None = None
    jitter: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unbooked_per_day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    unbooked_minutes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    debt: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def code(self) -> int:
        """Index of the rule in POLICIES."""
        return POLICIES.index(self.name)

    @property
    def prefers_named(self) -> bool:
        """Whether the rule tries a patient's named (or last) clinician first."""
        return self.code in (PREFERRED_WITHIN, PERSONAL_LIST, CONTINUITY_FIRST)

    def set_tiebreak(self, jitter: Sequence[float]) -> None:
        """Today's tiny per-post offsets that break ties between equally free clinicians."""
        self.jitter[:] = jitter

    def _eligible(self, eligible: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        return np.fromiter(eligible, np.int64, len(eligible)), np.fromiter(eligible.values(), np.float64)

    def choose(self, req: Request) -> tuple[int, int]:
        """(post, day) for the request, or (-1, -1) when nobody has a slot within the horizon."""
        book = self.book
        assert book is not None
        posts, mults = self._eligible(req.eligible)
        jitter = self.jitter if self.jitter.size else np.zeros(book.pre.shape[0])
        post, day = choose(
            self.code,
            book.horizon,
            book.pre,
            book.otd,
            book.first_pre,
            jitter,
            req.last_post,
            req.usual_post,
            req.prefers,
            posts,
            mults,
            0,
            posts.size,
            req.minutes,
            req.today,
            req.start,
            req.urgent,
            req.willingness,
        )
        return int(post), int(day)

    def choose_unbooked(self, last_post: int, eligible: dict[int, float]) -> int:
        """The post that does a task without a slot."""
        posts, mults = self._eligible(eligible)
        return int(
            choose_unbooked(
                self.code,
                self.jitter,
                self.unbooked_per_day,
                self.unbooked_minutes,
                self.debt,
                last_post,
                posts,
                mults,
                0,
                posts.size,
            )
        )


def make_rule(name: str, book: AppointmentBook | None = None, posts: object | None = None) -> BookingRule:
    """The booking rule named in the config (`routing.policy`); `posts` holds the model's arrays of
    jitter and work without a slot (model.posts), when the rule is the model's."""
    if name not in POLICIES:
        raise ValueError(f"unknown booking rule {name!r}; allowed: {', '.join(POLICIES)}")
    if posts is None:
        return BookingRule(name, book)
    return BookingRule(
        name, book, posts.p_jitter, posts.p_unbooked_per_day, posts.p_unbooked_minutes, posts.p_debt
    )


@kernel
def earliest_any(pre, otd, first, jit, posts, mults, lo, hi, max_mult, minutes, start, end, today):
    """(post, day) of the earliest slot with anyone in posts[lo:hi] (multiplier at most `max_mult`),
    or (-1, -1). Among posts free on the same day, the one with most minutes left (plus jitter)."""
    best, best_day, best_room = -1, end + 1, -1.0
    from_today = start == today
    begin = today + 1 if from_today else start  # the first future day to look at
    for i in range(lo, hi):
        mult = mults[i]
        if mult > max_mult:
            continue
        post = posts[i]
        need = minutes * mult
        if from_today:
            room = pre[post, today] + otd[post, today]
            if room >= need:
                room += jit[post]
                if today < best_day or room > best_room:
                    best, best_day, best_room = post, today, room
                continue
            if best_day == today:  # someone is free today: no later day can win
                continue
        d = first[post]
        if d < begin:
            d = begin
        last = end if end < best_day else best_day
        while d <= last and pre[post, d] < need:
            d += 1
        if d > last:
            continue
        room = pre[post, d] + jit[post]
        if d < best_day or room > best_room:
            best, best_day, best_room = post, d, room
    if best >= 0:
        return best, best_day
    return -1, -1


@inline_kernel
def _fastest(mults, lo, hi):
    best = ANYONE
    for i in range(lo, hi):
        if mults[i] < best:
            best = mults[i]
    return best + 1e-9


@inline_kernel
def _within(horizon, pre, otd, first, posts, mults, lo, hi, post, minutes, today, start, days):
    """(post, day) if `post` is eligible and has a slot within `days` of `start`, else (-1, -1)."""
    for i in range(lo, hi):
        if posts[i] == post:
            end = min(pre.shape[1] - 1, today + horizon, start + days)
            d = earliest(pre, otd, first, post, minutes * mults[i], start, end, today)
            if d >= 0:
                return post, d
            return -1, -1
    return -1, -1


@kernel
def choose(
    policy,
    horizon,
    pre,
    otd,
    first,
    jit,
    last_post,
    usual,
    prefers,
    posts,
    mults,
    lo,
    hi,
    minutes,
    today,
    start,
    urgent,
    willing,
):
    """(post, day) for a contact, or (-1, -1) when nobody in posts[lo:hi] has a slot in the horizon.

    `last_post` is the episode's last clinician, `usual` the patient's named clinician and
    `prefers` whether the patient prefers them; `willing` the working days they will wait.
    """
    end = today if urgent else min(pre.shape[1] - 1, today + horizon)
    if policy == SPECIALIST_FIRST:
        fastest = _fastest(mults, lo, hi)
        got = earliest_any(pre, otd, first, jit, posts, mults, lo, hi, fastest, minutes, start, end, today)
        if got[0] >= 0:
            return got
        return earliest_any(pre, otd, first, jit, posts, mults, lo, hi, ANYONE, minutes, start, end, today)
    wait = 0 if urgent else willing
    if policy == CONTINUITY_FIRST and last_post >= 0:
        got = _within(horizon, pre, otd, first, posts, mults, lo, hi, last_post, minutes, today, start, wait)
        if got[0] >= 0:
            return got
    if policy != FIRST_AVAILABLE and prefers:
        got = _within(horizon, pre, otd, first, posts, mults, lo, hi, usual, minutes, today, start, wait)
        if got[0] >= 0:
            return got
    return earliest_any(pre, otd, first, jit, posts, mults, lo, hi, ANYONE, minutes, start, end, today)


@kernel
def choose_unbooked(policy, jit, per_day, waiting, debt, last_post, posts, mults, lo, hi):
    """The post that does a task without a slot: least such work waiting, in days of its time for
    it (continuity_first: the episode's last clinician when in scope; specialist_first: among the
    quickest roles)."""
    max_mult = ANYONE
    if policy == CONTINUITY_FIRST:
        for i in range(lo, hi):
            if posts[i] == last_post:
                return last_post
    elif policy == SPECIALIST_FIRST:
        max_mult = _fastest(mults, lo, hi)
    best, best_days = -1, np.inf
    for i in range(lo, hi):
        if mults[i] > max_mult:
            continue
        p = posts[i]
        days = (waiting[p] + debt[p]) / per_day[p] if per_day[p] > 0 else 1e9
        days += jit[p]
        if days < best_days:
            best, best_days = p, days
    return best
