"""Supervision demand and its allocation to supervisors.

A supervisee's task raises an ad-hoc query with probability
    min(1, query_rate * (1 + edge_query_factor * edge))
where edge in [0, 1] is how close the task is to the edge of the role's scope. A share
`escalation_share` of queries become escalations: the supervisor must see the case (a task in the
supervisor's queue and a handover each way). Roles with case_review need a sign-off of every task
(review_minutes of supervisor time; the sign-off itself can lose information). Scheduled debriefs
take debrief_minutes_per_week x interval/5 from both sides every `debrief_interval_days`.
Supervision minutes count first against the supervisor's protected time; what exceeds it comes
out of the supervisor's clinical time the same day, and the day counts as overloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handover_abm.agents import Clinician, Supervisor
from handover_abm.config import Supervision as SupervisionParams
from handover_abm.streams import Stream


def assign_supervisors(clinicians: Sequence[Clinician]) -> list[int]:
    """Give each post that needs supervision a supervisor (deterministic, balanced).

    Practice staff go to a supervisor of their own practice when there is one; everyone goes to
    the candidate with the fewest supervisees so far (lowest post number on ties).
    """
    supervisors = [c for c in clinicians if isinstance(c, Supervisor)]
    counts = {s.post: 0 for s in supervisors}
    out = [-1] * len(clinicians)
    for c in clinicians:
        if isinstance(c, Supervisor) or not c.role.supervision.required:
            continue
        local = [s for s in supervisors if c.practice >= 0 and s.practice == c.practice]
        pool = local or supervisors
        chosen = min(pool, key=lambda s: (counts[s.post], s.post))
        counts[chosen.post] += 1
        out[c.post] = chosen.post
    return out


def query_probability(query_rate: float, edge: float, edge_query_factor: float) -> float:
    """Chance that one task raises an ad-hoc query to the supervisor."""
    return min(1.0, query_rate * (1.0 + edge_query_factor * edge))


@dataclass(frozen=True, slots=True)
class SupervisionDemand:
    """What one finished task asks of the supervisor."""

    query: bool
    escalate: bool
    review_minutes: float


def demand_for_task(
    clinician: Clinician, edge: float, params: SupervisionParams, stream: Stream
) -> SupervisionDemand:
    """Draw the supervision a finished task generates (queries, escalation, per-case review)."""
    sup = clinician.role.supervision
    query = stream.uniform() < query_probability(sup.query_rate, edge, params.edge_query_factor)
    escalate = query and stream.uniform() < params.escalation_share
    review = sup.review_minutes if sup.case_review else 0.0
    return SupervisionDemand(query=query, escalate=escalate, review_minutes=review)
