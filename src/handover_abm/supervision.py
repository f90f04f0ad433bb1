"""Supervision demand and its allocation to supervisors, by profession.

Who supervises whom: the roles a role's catalogue entry names in `supervised_by` (a senior clinical
pharmacist for pharmacists and technicians, an ANP for nurses and HCAs), else a GP; staff employed
outside general practice (trusts) are supervised by their employer, outside the team. Posts are
assigned to balance expected supervision minutes (`expected_weekly_minutes`), not head count.
Needs fall with tenure: a post-holder t working days in needs
    m(t) = 1 + (new_starter_multiplier - 1) * 2^(-t / learning_half_life_days)
times the catalogue's debrief minutes, query probability and review minutes; t restarts at 0
when a new person takes the post.

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
from typing import TYPE_CHECKING

import numpy as np

from handover_abm.agents import Clinician, Supervisor
from handover_abm.handover import lose, transfer_probability
from handover_abm.network import strengthen
from handover_abm.state import (
    EP_DELAY,
    K_QUERIES,
    K_SIGNOFF_LOSSES,
    K_SIGNOFFS,
    S_SUPERVISION,
    State,
    kernel,
    uniform,
)

if TYPE_CHECKING:
    from handover_abm.model import HandoverModel


def expected_weekly_minutes(c: Clinician) -> float:
    """Supervision minutes a post is expected to ask for in a week (established post-holder).

    Scheduled debriefs, plus per task: queries (query_minutes each, rising to the edge of scope)
    and case review; tasks per week from the post's clinical minutes over its mean task length.
    """
    model = c.model
    params, work = model.config.supervision, model.config.work
    needs = c.role.supervision
    types = model.catalogue.task_types
    if not c.scope:
        return needs.debrief_minutes_per_week
    lengths = [types[t].minutes * mult for t, (mult, _) in c.scope.items()]
    queries = [query_probability(needs.query_rate, e, params.edge_query_factor) for _, e in c.scope.values()]
    tasks = c.fte * work.minutes_per_fte_day * 5 / (sum(lengths) / len(lengths))
    review = needs.review_minutes if needs.case_review else 0.0
    per_task = params.query_minutes * sum(queries) / len(queries) + review
    return needs.debrief_minutes_per_week + tasks * per_task


def supervised_outside(c: Clinician) -> bool:
    """Staff employed by a trust or another organisation outside general practice are supervised by
    their own employer (NHS England ARRS guidance), not by the team's supervisors."""
    return c.organisation not in ("practice", "pcn")


def assign_supervisors(clinicians: Sequence[Clinician]) -> list[int]:
    """Give each post that needs supervision a supervisor (deterministic, balanced by minutes).

    Candidates, first tier that has any: the roles the post's role names in `supervised_by` in its
    own practice, then GPs of its practice (practice staff stay within their employer); then those
    roles in its network, then GPs of its network (network staff); then any GP, then any
    supervisor. Posts are placed largest expected supervision minutes first, each with the
    candidate with the fewest expected minutes so far (lowest post number on ties), so four
    physician associates do not land on four GPs while pharmacists land elsewhere.
    """
    supervisors = [c for c in clinicians if isinstance(c, Supervisor)]
    minutes = {s.post: 0.0 for s in supervisors}
    out = [-1] * len(clinicians)
    need = [
        (expected_weekly_minutes(c), c)
        for c in clinicians
        if c.role.supervision.required and not supervised_outside(c)
    ]
    need.sort(key=lambda x: (-x[0], x[1].post))
    for weight, c in need:
        preferred = set(c.role.supervision.supervised_by)
        others = [s for s in supervisors if s.post != c.post]
        local = [s for s in others if c.practice >= 0 and s.practice == c.practice]
        network = [s for s in others if s.pcn == c.pcn]
        tiers = (
            [s for s in local if s.role_name in preferred],
            [s for s in local if s.is_gp],
            [s for s in network if s.role_name in preferred],
            [s for s in network if s.is_gp],
            [s for s in others if s.is_gp],
            others,
        )
        pool = next((t for t in tiers if t), None)
        if pool is None:
            continue
        chosen = min(pool, key=lambda s: (minutes[s.post], s.post))
        minutes[chosen.post] += weight
        out[c.post] = chosen.post
    return out


def learning_multiplier(
    tenure_days: float | np.ndarray, new_starter: float, half_life_days: float
) -> float | np.ndarray:
    """Supervision need of a post-holder `tenure_days` into the post (or of each of several),
    relative to an established one: 1 + (new_starter - 1) x 2^(-tenure / half_life)."""
    return 1.0 + (new_starter - 1.0) * 2.0 ** (-np.maximum(0.0, tenure_days) / half_life_days)


def query_probability(query_rate: float, edge: float, edge_query_factor: float) -> float:
    """Chance that one task raises an ad-hoc query to the supervisor."""
    return min(1.0, query_rate * (1.0 + edge_query_factor * edge))


class SupervisionMechanism:
    """Supervision as it happens: debriefs, queries, sign-offs, escalations and the load they make."""

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.supervision
        # the working day each post's current holder started (learning curve; reset on turnover)
        self.started = np.full(len(model.clinicians), -self.params.initial_tenure_days, dtype=np.int64)
        self._sups = np.array([s.post for s in model.supervisors], dtype=np.int64)
        n = len(model.clinicians)  # each supervisor's record of its days (agents.Supervisor views them)
        self.load_sum = np.zeros(n)
        self.overload_days = np.zeros(n, dtype=np.int64)
        self.interruptions_total = np.zeros(n, dtype=np.int64)
        self.days_observed = np.zeros(n, dtype=np.int64)

    def start_day(self, day: int) -> None:
        """Today's learning-curve multiplier of every post (state.p_need, read per task)."""
        p = self.params
        self.model.posts.p_need[:] = learning_multiplier(
            day - self.started, p.new_starter_multiplier, p.learning_half_life_days
        )

    def need(self, post: int, day: int) -> float:
        """Learning-curve multiplier of the supervision needs of the current holder of `post`."""
        p = self.params
        return float(
            learning_multiplier(day - self.started[post], p.new_starter_multiplier, p.learning_half_life_days)
        )

    def new_post_holder(self, post: int, day: int) -> None:
        """A new person starts in `post`: their supervision needs start high again."""
        self.started[post] = day
        self.model.posts.p_need[post] = self.need(post, day)

    def debriefs(self) -> None:
        """Scheduled supervision (a recurring Mesa event): minutes from both sides, ties grow."""
        model = self.model
        scale = self.params.debrief_interval_days / 5.0
        day = model.steps
        for c in model.clinicians:
            minutes = c.role.supervision.debrief_minutes_per_week * scale
            if minutes > 0:
                minutes *= self.need(c.post, day)
            if c.supervisor >= 0 and minutes > 0:
                c.debrief_minutes_pending += minutes
                model.clinicians[c.supervisor].debrief_minutes_pending += minutes
                model.network.strengthen(c.post, c.supervisor)
                model.py_totals["debrief_minutes"] += minutes

    def end_day(self) -> None:
        """Record each supervisor's load; minutes beyond protected time are owed from tomorrow
        (every supervisor at once, as arrays: the agents view the same numbers)."""
        today, posts, sups = self.model.today, self.model.posts, self._sups
        posts.p_debt[sups] += np.maximum(0.0, posts.p_sup_today[sups] - posts.p_protected[sups])
        sups = sups[posts.p_working[sups]]  # load is counted on days worked
        if not sups.size:
            return
        loads = posts.p_sup_today[sups] / posts.p_protected[sups]
        interruptions = posts.p_interruptions[sups]
        self.load_sum[sups] += loads
        self.overload_days[sups] += loads > 1.0
        self.interruptions_total[sups] += interruptions
        self.days_observed[sups] += 1
        n = sups.size
        today["supervisor_load_index"] = sum(loads.tolist()) / n
        today["supervisor_interruptions"] = int(interruptions.sum()) / n
        today["supervisors_overloaded"] = int((loads > 1.0).sum())
        today["supervisor_open_cases"] = int(posts.p_open_cases[sups].sum()) / n


QUERY, ESCALATE, SIGNOFF_LOSS_NOTICED = 1, 2, 4  # what `after_task` reports (bits)


@kernel
def after_task(S: State, c, ttype, ep, day):
    """Queries, per-case review and escalation of a task post `c` finished (bits of the result:
    ESCALATE when the supervisor must see the case, SIGNOFF_LOSS_NOTICED when a sign-off lost
    information that was noticed and must be done again)."""
    sup = S.p_supervisor[c]
    need = S.p_need[c]
    query = uniform(S, S_SUPERVISION) < S.query_p[c, ttype] * need
    escalate = False
    if query:
        escalate = uniform(S, S_SUPERVISION) < S.escalation_share
    out = 0
    if query:
        if S.p_sup_today[sup] >= S.p_protected[sup]:
            S.E[ep, EP_DELAY] += S.answer_delay
        S.p_sup_today[sup] += S.query_minutes
        S.p_interruptions[sup] += 1
        strengthen(S.nw_floor, S.nw_x, S.nw_s, S.tie_growth, c, sup)
        S.tot[K_QUERIES] += 1
        out |= QUERY
    review = S.review_minutes[c]
    if review:
        S.p_sup_today[sup] += review * need
        S.tot[K_SIGNOFFS] += 1
        strengthen(S.nw_floor, S.nw_x, S.nw_s, S.tie_growth, c, sup)
        p, _ = transfer_probability(S, S.lg_signoff, ep, c, sup, day)
        if uniform(S, S_SUPERVISION) < p:
            S.tot[K_SIGNOFF_LOSSES] += 1
            if lose(S, ep):
                out |= SIGNOFF_LOSS_NOTICED
    if escalate:
        out |= ESCALATE
    return out
