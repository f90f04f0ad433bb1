"""Staff turnover: post-holders leave and are replaced, more often when overloaded, less with variety.

Each working day, post k's holder leaves with probability

    h_k = annual_turnover(role) x rate_multiplier / working_days_per_year
          x overload_rate_ratio ** o_k
          x variety_rate_ratio ** (v_k - variety_reference)

where o_k in [0, 1] is the exponentially weighted share of the post's recent working days that were
overloaded (half-life `overload_half_life_days`; a day is overloaded when the work without a slot
waiting exceeds `overload_backlog_days` days of the post's time for it, or, for a supervisor,
when supervision ran past protected time), and v_k in [0, 1] is the share of the catalogue's task
types in the post's scope. A leaver is replaced at once by a new person: the post's ties fall back
to the floor (network.py), patients' familiarity with the post goes (it was the person's,
familiarity.py) and supervision needs start again at the new-starter level (supervision.py).
The overload memory of the post starts again at 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from handover_abm.agents import Supervisor
from handover_abm.state import D_TURNOVER

if TYPE_CHECKING:
    from handover_abm.model import HandoverModel


def daily_hazard(
    annual: float, days_per_year: int, overload: float, overload_rr: float, variety_factor: float
) -> float:
    """Chance that a post-holder leaves on one working day."""
    return annual / days_per_year * overload_rr**overload * variety_factor


class StaffTurnover:
    """Daily leavers and their replacement; keeps each post's memory of overloaded days."""

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.turnover
        self.stream = model.streams["turnover"]
        n_types = len(model.catalogue.task_types)
        p = self.params
        self.variety = [len(c.scope) / n_types for c in model.clinicians]
        self.variety_factor = [p.variety_rate_ratio ** (v - p.variety_reference) for v in self.variety]
        self.retention = math.exp(-math.log(2.0) / p.overload_half_life_days)
        self.overload = [0.0] * len(model.clinicians)

    def overloaded(self, post: int) -> bool:
        """Whether the post's last working day was overloaded."""
        c = self.model.clinicians[post]
        if c.unbooked_days() > self.params.overload_backlog_days:
            return True
        return isinstance(c, Supervisor) and c.supervision_minutes_today > c.protected_minutes

    def start_day(self, day: int) -> None:
        """Fold yesterday into each post's overload memory, then draw today's leavers."""
        model, p = self.model, self.params
        r = self.retention
        overload = self.overload
        for c in model.clinicians:
            if c.working_today:  # still yesterday's state: the day that just ended
                overload[c.post] = r * overload[c.post] + (1.0 - r) * self.overloaded(c.post)
        if not p.enabled:
            return
        days = model.config.working_days_per_year
        for c in model.clinicians:
            h = daily_hazard(
                c.role.annual_turnover * p.rate_multiplier,
                days,
                overload[c.post],
                p.overload_rate_ratio,
                self.variety_factor[c.post],
            )
            if self.stream.uniform() < h:
                self.replace(c.post, day)

    def replace(self, post: int, day: int) -> None:
        """The holder of `post` leaves; a new person starts today."""
        model = self.model
        c = model.clinicians[post]
        del model.person_post[c.person]
        c.person = model._new_person()
        model.person_post[c.person] = post
        model.network.reset_post(post)
        model.supervision.new_post_holder(post, day)
        self.overload[post] = 0.0
        model.A.today[D_TURNOVER] += 1
