"""Work that depends on who does it: re-consultation with a GP after a task at the edge of scope.

When a clinician finishes a task whose edge of scope is e (0 = core, 1 = edge), the patient needs
to be seen again by a GP with probability

    p = referral.probability_at_edge x e,

so a role working at its core rarely refers back, and a GP never does (a GP's edge only steers care
navigation: treatment-room work sits at a GP's edge so that it is booked with nurses first). The
re-consultation (`referral.task`, a GP-only contact) is put at the front of the episode's remaining
tasks: one more task and usually one more handover. Each is counted as failure demand
(`failure_demand_per_episode`: demand caused by the care not being finished first time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handover_abm.episodes import TaskKind

if TYPE_CHECKING:
    from handover_abm.agents import Clinician
    from handover_abm.episodes import Episode, Task
    from handover_abm.model import HandoverModel


def referral_probability(edge: float, at_edge: float) -> float:
    """Chance that a task at `edge` of the doer's scope needs a GP to see the patient again."""
    return at_edge * edge


class Referrals:
    """Draws referrals back to a GP and queues the re-consultation."""

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.referral
        self.stream = model.streams["referral"]
        self._p: dict[tuple[int, str], float] = {}  # (post, task type) -> referral probability

    def after_task(self, c: Clinician, task: Task, ep: Episode) -> None:
        """A normal task is done: perhaps the patient must see a GP again (before what is left)."""
        if task.kind != TaskKind.NORMAL:
            return
        key = (c.post, task.type)
        p = self._p.get(key)
        if p is None:
            at_edge = 0.0 if task.type == self.params.task or c.is_gp else self.params.probability_at_edge
            p = self._p[key] = referral_probability(c.scope[task.type][1], at_edge)
        if p <= 0.0 or self.stream.uniform() >= p:
            return
        if not self.model.eligible[ep.practice].get(self.params.task):
            return  # no GP in reach: nobody to refer to
        ep.remaining.append(self.params.task)  # next (the list's end is its front)
        self.model.totals["failure_demand"] += 1
