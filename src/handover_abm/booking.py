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
from dataclasses import dataclass
from typing import ClassVar

from handover_abm.agents import Clinician, Patient
from handover_abm.book import AppointmentBook
from handover_abm.episodes import Episode

Eligible = dict[int, float]  # post -> time multiplier for the task type


@dataclass(slots=True)
class Request:
    """A contact to book: for whom, what, from which day, how long they will wait for their choice."""

    episode: Episode
    patient: Patient
    eligible: Eligible
    minutes: float  # reference (GP) minutes of the task
    today: int
    start: int
    urgent: bool
    willingness: int  # working days a patient will wait for the clinician they want


class BookingRule:
    """First available: the earliest slot with anyone in scope."""

    name: ClassVar[str] = "first_available"
    prefers_named: ClassVar[bool] = False

    def __init__(self, book: AppointmentBook, clinicians: Sequence[Clinician]) -> None:
        self.book = book
        self.clinicians = clinicians
        self.jitter: list[float] = [0.0] * len(clinicians)

    def set_tiebreak(self, jitter: Sequence[float]) -> None:
        """Today's tiny per-post offsets that break ties between equally free clinicians."""
        self.jitter = list(jitter)

    def earliest(
        self, eligible: Eligible, minutes: float, start: int, end: int, today: int
    ) -> tuple[int, int]:
        """(post, day) of the earliest slot with anyone in `eligible`, or (-1, -1).

        The hot path of booking: one pass over the eligible posts reading the book's rows directly.
        """
        book, jit = self.book, self.jitter
        pre, otd, first = book.pre, book.otd, book.first_pre
        best, best_day, best_room = -1, end + 1, -1.0
        from_today = start == today
        begin = today + 1 if from_today else start  # the first future day to look at
        for post, mult in eligible.items():
            need = minutes * mult
            row = pre[post]
            if from_today:
                room = row[today] + otd[post][today]
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
            while d <= last and row[d] < need:
                d += 1
            if d > last:
                continue
            room = row[d] + jit[post]
            if d < best_day or room > best_room:
                best, best_day, best_room = post, d, room
        return (best, best_day) if best >= 0 else (-1, -1)

    def within(self, post: int, req: Request, days: int) -> tuple[int, int]:
        """(post, day) if `post` has a slot within `days` of the request's start, else (-1, -1)."""
        end = min(self.book.last_day(req.today), req.start + days)
        d = self.book.earliest(post, req.minutes * req.eligible[post], req.start, end, req.today)
        return (post, d) if d >= 0 else (-1, -1)

    def wanted(self, req: Request) -> list[int]:
        """Clinicians this rule tries first, in order, before the earliest with anyone."""
        return []

    def choose(self, req: Request) -> tuple[int, int]:
        """(post, day) for the request, or (-1, -1) when nobody has a slot within the horizon."""
        today = req.today
        end = today if req.urgent else min(self.book.n_days - 1, today + self.book.horizon)
        for post in self.wanted(req):
            if post in req.eligible:
                got = self.within(post, req, 0 if req.urgent else req.willingness)
                if got[0] >= 0:
                    return got
        return self.earliest(req.eligible, req.minutes, req.start, end, req.today)

    def choose_unbooked(self, episode: Episode, eligible: Eligible) -> int:
        """The post that does a task without a slot: least such work waiting, in days."""
        cl, jit = self.clinicians, self.jitter
        best, best_days = -1, float("inf")
        for p in eligible:
            c = cl[p]  # inline of Clinician.unbooked_days (hot path)
            days = (c.unbooked_minutes + c.debt) / c.unbooked_per_day if c.unbooked_per_day > 0 else 1e9
            days += jit[p]
            if days < best_days:
                best, best_days = p, days
        return best


class PreferredWithin(BookingRule):
    """The preferred named clinician within the patient's willingness to wait, else the earliest."""

    name = "preferred_within"
    prefers_named = True

    def wanted(self, req: Request) -> list[int]:
        """The named clinician of a patient who prefers them."""
        return [req.patient.usual_post] if req.patient.prefers else []


class PersonalList(PreferredWithin):
    """Every patient is on a named GP's list and books into it first (personal-list practices)."""

    name = "personal_list"


class ContinuityFirst(BookingRule):
    """The episode's last clinician, then the preferred named clinician, else the earliest."""

    name = "continuity_first"
    prefers_named = True

    def wanted(self, req: Request) -> list[int]:
        """Last clinician of the episode, then the named clinician of a patient who prefers them."""
        out = [req.episode.last_post] if req.episode.last_post >= 0 else []
        return out + ([req.patient.usual_post] if req.patient.prefers else [])

    def choose_unbooked(self, episode: Episode, eligible: Eligible) -> int:
        """The episode's last clinician when in scope."""
        if episode.last_post in eligible:
            return episode.last_post
        return super().choose_unbooked(episode, eligible)


class SpecialistFirst(BookingRule):
    """The earliest slot among the quickest roles for the task; anyone when none has a slot."""

    name = "specialist_first"

    def choose(self, req: Request) -> tuple[int, int]:
        """Earliest among the posts with the smallest time multiplier, then anyone."""
        best = min(req.eligible.values())
        fastest = {p: m for p, m in req.eligible.items() if m <= best + 1e-9}
        end = self.book.last_day(req.today) if not req.urgent else req.today
        got = self.earliest(fastest, req.minutes, req.start, end, req.today)
        return got if got[0] >= 0 else self.earliest(req.eligible, req.minutes, req.start, end, req.today)

    def choose_unbooked(self, episode: Episode, eligible: Eligible) -> int:
        """The least-loaded among the quickest roles."""
        best = min(eligible.values())
        return super().choose_unbooked(episode, {p: m for p, m in eligible.items() if m <= best + 1e-9})


RULES: dict[str, type[BookingRule]] = {
    cls.name: cls for cls in (BookingRule, PreferredWithin, PersonalList, ContinuityFirst, SpecialistFirst)
}


def make_rule(name: str, book: AppointmentBook, clinicians: Sequence[Clinician]) -> BookingRule:
    """Build the booking rule named in the config (`routing.policy`)."""
    return RULES[name](book, clinicians)
