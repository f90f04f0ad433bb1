"""Routing policies: which clinician in scope gets a task. One small class each, chosen by name.

Every policy falls back to first-available when it has no preferred clinician in scope, or when
the preferred clinician's queue is longer than `max_backlog_days` (patients are not left waiting
for continuity's sake beyond that).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

from handover_abm.agents import Clinician, Patient
from handover_abm.episodes import Episode

Eligible = dict[int, float]  # post -> time multiplier for the task type


class RoutingPolicy:
    """First available: the clinician in scope whose queue empties soonest (today's booking)."""

    name: ClassVar[str] = "first_available"

    def __init__(self, clinicians: Sequence[Clinician], max_backlog_days: float) -> None:
        self.clinicians = clinicians
        self.max_backlog_days = max_backlog_days
        self.jitter: list[float] = [0.0] * len(clinicians)

    def set_tiebreak(self, jitter: Sequence[float]) -> None:
        """Today's tiny per-post offsets that break ties between equally free clinicians."""
        self.jitter = list(jitter)

    def first_available(self, eligible: Eligible) -> int:
        """The eligible post with the shortest queue in days of its capacity (hot path: a plain loop)."""
        cl, jit = self.clinicians, self.jitter
        best, best_days = -1, float("inf")
        for p in eligible:
            c = cl[p]
            days = c.backlog_minutes / c.base_capacity + jit[p]
            if days < best_days:
                best, best_days = p, days
        return best

    def preferred(self, episode: Episode, patients: Sequence[Patient], eligible: Eligible) -> int:
        """The post this policy would like, or -1 for none (patients are looked up only if needed)."""
        return -1

    def choose(self, episode: Episode, patients: Sequence[Patient], eligible: Eligible) -> int:
        """The post that gets the task."""
        post = self.preferred(episode, patients, eligible)
        if post >= 0 and self.clinicians[post].backlog_days() <= self.max_backlog_days:
            return post
        return self.first_available(eligible)


class ContinuityFirst(RoutingPolicy):
    """Keep the episode with whoever did its last task; else the clinician the patient saw most."""

    name = "continuity_first"

    def __init__(
        self, clinicians: Sequence[Clinician], max_backlog_days: float, person_post: dict[int, int]
    ) -> None:
        super().__init__(clinicians, max_backlog_days)
        self.person_post = person_post

    def preferred(self, episode: Episode, patients: Sequence[Patient], eligible: Eligible) -> int:
        """Last clinician of the episode, then the patient's most-seen clinician, if in scope."""
        if episode.last_post in eligible:
            return episode.last_post
        for person, _ in Counter(patients[episode.patient].history).most_common():
            post = self.person_post.get(person, -1)
            if post in eligible:
                return post
        return -1


class SpecialistFirst(RoutingPolicy):
    """Send each task to the quickest role for it (the specialist), least busy first."""

    name = "specialist_first"

    def preferred(self, episode: Episode, patients: Sequence[Patient], eligible: Eligible) -> int:
        """The least-busy post among those with the smallest time multiplier."""
        best = min(eligible.values())
        fastest = {p: m for p, m in eligible.items() if m <= best + 1e-9}
        return self.first_available(fastest)


class UsualClinicianFirst(RoutingPolicy):
    """Send tasks to the patient's named usual clinician when in scope."""

    name = "usual_clinician_first"

    def preferred(self, episode: Episode, patients: Sequence[Patient], eligible: Eligible) -> int:
        """The patient's usual clinician if in scope."""
        usual = patients[episode.patient].usual_post
        return usual if usual in eligible else -1


POLICIES: dict[str, type[RoutingPolicy]] = {
    cls.name: cls for cls in (RoutingPolicy, ContinuityFirst, SpecialistFirst, UsualClinicianFirst)
}


def make_policy(
    name: str, clinicians: Sequence[Clinician], max_backlog_days: float, person_post: dict[int, int]
) -> RoutingPolicy:
    """Build the routing policy named in the config."""
    if name == ContinuityFirst.name:
        return ContinuityFirst(clinicians, max_backlog_days, person_post)
    return POLICIES[name](clinicians, max_backlog_days)
