"""Supervision demand and its allocation to supervisors.

A supervisee's task raises an ad-hoc query with probability
    min(1, query_rate * (1 + edge_query_factor * edge))
where edge in [0, 1] is how close the task is to the edge of the role's scope. A share
`escalation_share` of queries become escalations: the supervisor must see the case (a task in the
supervisor's queue and a handover each way). Roles with case_review need a sign-off of every task
(review_minutes of supervisor time; the sign-off itself can lose information). Scheduled debriefs
take debrief_minutes_per_week x interval/5 from both sides every `debrief_interval_days`.
Supervision minutes count first against the supervisor's protected time (kept out of the
appointment book); what exceeds it is owed from the supervisor's time for work without a slot on
their next working day (results and prescriptions wait), and the day counts as overloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from handover_abm.agents import Clinician, Supervisor
from handover_abm.episodes import Episode, Task, TaskKind

if TYPE_CHECKING:
    from handover_abm.model import HandoverModel


def assign_supervisors(clinicians: Sequence[Clinician]) -> list[int]:
    """Give each post that needs supervision a supervisor (deterministic, balanced).

    Practice staff go to a supervisor of their own practice when there is one, others to one of
    their own network; everyone goes to the candidate with the fewest supervisees so far (lowest post
    number on ties).
    """
    supervisors = [c for c in clinicians if isinstance(c, Supervisor)]
    counts = {s.post: 0 for s in supervisors}
    out = [-1] * len(clinicians)
    for c in clinicians:
        if isinstance(c, Supervisor) or not c.role.supervision.required:
            continue
        local = [s for s in supervisors if c.practice >= 0 and s.practice == c.practice]
        network = [s for s in supervisors if s.pcn == c.pcn]
        pool = local or network or supervisors
        chosen = min(pool, key=lambda s: (counts[s.post], s.post))
        counts[chosen.post] += 1
        out[c.post] = chosen.post
    return out


def query_probability(query_rate: float, edge: float, edge_query_factor: float) -> float:
    """Chance that one task raises an ad-hoc query to the supervisor."""
    return min(1.0, query_rate * (1.0 + edge_query_factor * edge))


class SupervisionMechanism:
    """Supervision as it happens: debriefs, queries, sign-offs, escalations and the load they make."""

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.supervision
        self.stream = model.streams["supervision"]
        self._query_p: dict[tuple[int, str], float] = {}  # (post, task type) -> query probability

    def debriefs(self) -> None:
        """Scheduled supervision (a recurring Mesa event): minutes from both sides, ties grow."""
        model = self.model
        scale = self.params.debrief_interval_days / 5.0
        for c in model.clinicians:
            minutes = c.role.supervision.debrief_minutes_per_week * scale
            if c.supervisor >= 0 and minutes > 0:
                c.debrief_minutes_pending += minutes
                model.clinicians[c.supervisor].debrief_minutes_pending += minutes
                model.network.strengthen(c.post, c.supervisor)
                model.totals["debrief_minutes"] += minutes

    def after_task(self, c: Clinician, task: Task, ep: Episode, day: int) -> bool:
        """Queries, per-case review and escalation of a finished task. True when it was escalated."""
        params, model = self.params, self.model
        sup = cast(Supervisor, model.clinicians[c.supervisor])
        key = (c.post, task.type)
        p = self._query_p.get(key)
        if p is None:
            p = self._query_p[key] = query_probability(
                c.role.supervision.query_rate, c.scope[task.type][1], params.edge_query_factor
            )
        query = self.stream.uniform() < p
        escalate = query and self.stream.uniform() < params.escalation_share
        needs = c.role.supervision
        if query:
            if sup.supervision_minutes_today >= sup.protected_minutes:
                ep.delay += params.overload_answer_delay_days
            sup.supervision_minutes_today += params.query_minutes
            sup.interruptions_today += 1
            model.network.strengthen(c.post, sup.post)
            model.totals["queries"] += 1
        if needs.case_review and needs.review_minutes:
            sup.supervision_minutes_today += needs.review_minutes
            model.totals["signoffs"] += 1
            model.network.strengthen(c.post, sup.post)
            handovers = model.handovers
            p = handovers.loss_model.probability(
                params.signoff_base_loss_probability, handovers.factors(ep, c, sup)
            )
            if self.stream.uniform() < p:
                model.totals["signoff_losses"] += 1
                handovers.lose(ep, c.post, task, day, blocking=False)
        if escalate:
            ep.escalations += 1
            model.today["escalations"] += 1
            escalation = Task(ep, model.escalation_type, TaskKind.ESCALATION, day)
            escalation.urgent = True
            model.create(escalation, day, day, pinned=sup.post)
            return True
        return False

    def end_day(self) -> None:
        """Record each supervisor's load; minutes beyond protected time are owed from tomorrow."""
        model, today = self.model, self.model.today
        for s in model.supervisors:
            s.debt += max(0.0, s.supervision_minutes_today - s.protected_minutes)
        sups = [s for s in model.supervisors if s.working_today]  # load is counted on days worked
        if not sups:
            return
        loads = [s.load_index() for s in sups]
        for s, load in zip(sups, loads, strict=True):
            s.load_index_sum += load
            s.overload_days += load > 1.0
            s.interruptions_total += s.interruptions_today
            s.days_observed += 1
        n = len(sups)
        today["supervisor_load_index"] = sum(loads) / n
        today["supervisor_interruptions"] = sum(s.interruptions_today for s in sups) / n
        today["supervisors_overloaded"] = sum(load > 1.0 for load in loads)
        today["supervisor_open_cases"] = sum(s.open_cases for s in sups) / n
