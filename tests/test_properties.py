"""Invariants over random small scenarios (hypothesis): no task is ever lost, handovers are bounded,
indices stay in [0, 1]."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover_abm.catalogue import load_catalogue
from handover_abm.config import ROUTING_POLICIES, scenario_from_dict
from handover_abm.model import HandoverModel
from handover_abm.simulate import simulate

ROLES = [r for r in load_catalogue().roles if r not in ("gp_partner", "salaried_gp")]
ORGS = ["practice", "pcn", "community_trust", "mental_health_trust", "social_care", "community_pharmacy"]


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    gp_tasks = draw(st.one_of(st.none(), st.just(["assessment", "minor_illness", "prescribing"])))
    team = [
        {
            "role": "gp_partner",
            "count": draw(st.integers(1, 3)),
            "fte": draw(st.sampled_from([0.3, 0.6, 1.0])),
            "tasks": gp_tasks,
        }
    ]
    for role in draw(st.lists(st.sampled_from(ROLES), max_size=5, unique=True)):
        team.append(
            {
                "role": role,
                "count": draw(st.integers(0, 3)),
                "fte": draw(st.sampled_from([0.2, 0.5, 1.0])),
                "organisation": draw(st.sampled_from(ORGS)),
                "colocated": draw(st.booleans()),
            }
        )
    return {
        "days": draw(st.integers(5, 30)),
        "population": {"size": draw(st.integers(200, 1500)), "practices": draw(st.integers(1, 3))},
        "team": team,
        "routing": {
            "policy": draw(st.sampled_from(ROUTING_POLICIES)),
            "same_session_continuation": draw(st.booleans()),
        },
        "work": {"abandon_after_days": draw(st.integers(1, 20))},
        "handover": {
            "p_detect": draw(st.floats(0, 1)),
            "base_loss_probability": draw(st.floats(0.01, 0.9)),
            "rework_delay_days": draw(st.integers(0, 3)),
        },
        "supervision": {
            "protected_minutes_per_day": draw(st.floats(1, 60)),
            "escalation_share": draw(st.floats(0, 1)),
        },
        "turnover": {"rate_multiplier": draw(st.sampled_from([0.0, 1.0, 30.0]))},
        "interventions": {"shared_record": draw(st.booleans()), "colocate_all": draw(st.booleans())},
    }


SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow])  # examples: tests/conftest.py


@SETTINGS
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_every_task_is_done_waiting_or_dropped(data: dict, seed: int) -> None:
    model = HandoverModel(scenario_from_dict(data), rng=seed)
    model.run()
    frame = model.datacollector.model_vars
    created = np.cumsum(frame["tasks_created"])
    completed = np.cumsum(frame["tasks_completed"])
    dropped = np.cumsum(frame["tasks_dropped"])
    waiting = np.asarray(frame["tasks_waiting"])
    assert np.array_equal(created, completed + waiting + dropped)
    in_queues = sum(len(c.queue) for c in model.clinicians)
    in_calendar = sum(len(v) for v in model.calendar.values())
    assert model.waiting == in_queues + in_calendar
    t = model.totals
    assert t["ep_handovers"] <= t["ep_tasks"] - t["episodes_completed"] + t["ep_escalations"]
    assert all(c.backlog_minutes >= -1e-6 for c in model.clinicians)
    assert all(p.open_episodes >= 0 for p in model.patients)


@SETTINGS
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_indices_and_rates_stay_in_range(data: dict, seed: int) -> None:
    s = simulate(scenario_from_dict(data), seed).summary
    for key in (
        "upc_mean",
        "coc_mean",
        "secon_mean",
        "fragmentation_index",
        "utilisation_mean",
        "miscommunication_rate",
    ):
        assert math.isnan(s[key]) or 0.0 <= s[key] <= 1.0 + 1e-12, (key, s[key])
    for key, value in s.items():
        assert math.isnan(value) or value >= 0, key
