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

import numpy as np

from handover_abm.agents import Supervisor
from handover_abm.handover import backlog_all
from handover_abm.state import D_TURNOVER

if TYPE_CHECKING:
    from handover_abm.model import HandoverModel


def daily_hazard(
    annual: float | np.ndarray,
    days_per_year: int,
    overload: float | np.ndarray,
    overload_rr: float,
    variety_factor: float | np.ndarray,
) -> float | np.ndarray:
    """Chance that a post-holder leaves on one working day (each post's, or one post's)."""
    return annual / days_per_year * overload_rr**overload * variety_factor


class StaffTurnover:
    """Daily leavers and their replacement; keeps each post's memory of overloaded days."""

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.turnover
        self.stream = model.streams["turnover"]
        n_types = len(model.catalogue.task_types)
        p = self.params
        cl = model.clinicians
        self.variety = np.array([len(c.scope) / n_types for c in cl])
        self.variety_factor = np.array(
            [p.variety_rate_ratio ** (v - p.variety_reference) for v in self.variety]
        )
        self.annual = np.array([c.role.annual_turnover * p.rate_multiplier for c in cl])
        self.supervisor = np.array([isinstance(c, Supervisor) for c in cl], dtype=bool)
        self.retention = math.exp(-math.log(2.0) / p.overload_half_life_days)
        self.overload = np.zeros(len(cl))

    def overloaded(self) -> np.ndarray:
        """Whether each post's last working day was overloaded (work without a slot waiting beyond
        `overload_backlog_days`, or a supervisor's supervision beyond protected time)."""
        posts = self.model.posts
        backlog = backlog_all(posts.p_unbooked_per_day, posts.p_unbooked_minutes, posts.p_debt, posts.p_qlen)
        over_protected = self.supervisor & (posts.p_sup_today > posts.p_protected)
        return (backlog > self.params.overload_backlog_days) | over_protected

    def start_day(self, day: int) -> None:
        """Fold yesterday into each post's overload memory, then draw today's leavers (all posts at
        once: a day costs a few array operations, not a Python loop over the team)."""
        model, p = self.model, self.params
        r = self.retention
        worked = model.posts.p_working  # still yesterday's state: the day that just ended
        self.overload[worked] = r * self.overload[worked] + (1.0 - r) * self.overloaded()[worked]
        if not p.enabled:
            return
        h = daily_hazard(
            self.annual,
            model.config.working_days_per_year,
            self.overload,
            p.overload_rate_ratio,
            self.variety_factor,
        )
        for post in np.flatnonzero(self.stream.take(h.size) < h).tolist():
            self.replace(post, day)

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
