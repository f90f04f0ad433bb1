"""Invariants over random small scenarios (hypothesis, derandomized: the same examples every run): no
task is ever lost, no day is overbooked, nobody is seen before they asked, handovers are bounded,
indices stay in [0, 1]."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handover_abm.catalogue import load_catalogue
from handover_abm.config import ROUTING_POLICIES, scenario_from_dict
from handover_abm.metrics import SIGNED_METRICS
from handover_abm.model import CONTACT_COLUMNS, HandoverModel
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
        "work": {
            "abandon_after_days": draw(st.integers(1, 20)),
            "non_appointment_share": draw(st.sampled_from([0.0, 0.17, 0.5])),
        },
        "access": {
            "horizon_days": draw(st.integers(1, 30)),
            "on_the_day_share": draw(st.sampled_from([0.0, 0.4, 1.0])),
            "urgent_share": draw(st.floats(0, 1)),
            "follow_up_prebooked_share": draw(st.floats(0, 1)),
            "planned_lead_days": draw(st.sampled_from([0.0, 5.0, 18.0])),
            "max_attempts": draw(st.integers(1, 4)),
        },
        "calendar": {"start_date": draw(st.dates(date(2020, 1, 1), date(2027, 12, 31))).isoformat()},
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


def _held(model: HandoverModel) -> int:
    """Tasks the model holds after a day: without a slot, booked from tomorrow on, or due later."""
    today = model.steps
    unbooked = sum(len(c.unbooked) for c in model.clinicians)
    booked = sum(len(model.booked(day)) for day in range(today + 1, model.book.n_days))
    return unbooked + booked + model.due_count()


@SETTINGS
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_every_task_is_done_waiting_or_dropped(data: dict, seed: int) -> None:
    model = HandoverModel(scenario_from_dict(data), rng=seed, log_events=True)
    book = model.book
    while model.running:
        model.step()
        today = model.steps
        assert model.waiting == _held(model)
        assert not model.booked(today)  # today's book is closed and empty
        # nothing is booked beyond the horizon of a day that has been
        assert all(not model.booked(day) for day in range(book.last_day(today) + 1, book.n_days))
        # no day is overbooked: a booking needs the minutes it takes
        assert book.pre.min() >= -1e-6 and book.otd.min() >= -1e-6
    frame = model.datacollector.model_vars
    created = np.cumsum(frame["tasks_created"])
    completed = np.cumsum(frame["tasks_completed"])
    dropped = np.cumsum(frame["tasks_dropped"])
    waiting = np.asarray(frame["tasks_waiting"])
    assert np.array_equal(created, completed + waiting + dropped)
    t = model.totals
    assert t["ep_handovers"] <= t["ep_tasks"] - t["episodes_completed"] + t["ep_escalations"]
    assert all(c.unbooked_minutes >= -1e-6 for c in model.clinicians)
    assert all(p.open_episodes >= 0 for p in model.patients)
    day_requested, day_seen = CONTACT_COLUMNS.index("day_requested"), CONTACT_COLUMNS.index("day_seen")
    assert all(row[day_seen] >= row[day_requested] for row in model.contact_log)
    assert len(model.contact_log) == t["contacts"] == sum(model.waits.values())


@SETTINGS
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_indices_and_rates_stay_in_range(data: dict, seed: int) -> None:
    s = simulate(scenario_from_dict(data), seed).summary
    if not math.isnan(s["same_day_share"]):  # some contacts happened
        assert s["over_28_days_share"] <= s["over_14_days_share"] <= 1 - s["same_day_share"] + 1e-12
    for key in (
        "upc_mean",
        "coc_mean",
        "secon_mean",
        "fragmentation_index",
        "utilisation_mean",
        "miscommunication_rate",
        "same_day_share",
        "over_14_days_share",
        "over_28_days_share",
        "gp_contact_share",
        "nurse_contact_share",
        "preferred_clinician_share",
        "upc_gp_mean",
        "upc_gp_chance_mean",
    ):
        assert math.isnan(s[key]) or 0.0 <= s[key] <= 1.0 + 1e-12, (key, s[key])
    for key, value in s.items():
        assert key in SIGNED_METRICS or math.isnan(value) or value >= 0, key
