"""Did not attend: a booked appointment is missed with a chance by how far ahead it was booked
(access.dna_*), its time goes back to the day, and the patient is booked again."""

from __future__ import annotations

from collections import Counter

import pytest

from handover_abm.config import scenario_from_dict
from handover_abm.model import HandoverModel
from handover_abm.simulate import simulate

NO_DNA = {"dna_same_day": 0.0, "dna_next_day": 0.0, "dna_2_to_7_days": 0.0, "dna_8_days_or_more": 0.0}


def _light(**access: float) -> dict:
    """One practice with capacity to spare: nearly every appointment is booked the same day."""
    return {
        "name": "light",
        "days": 160,
        "population": {"size": 2000, "practices": 1},
        "team": [{"role": "gp_partner", "count": 3, "fte": 1.0}, {"role": "practice_nurse", "count": 2}],
        "access": {
            "routine_choice_days": 0.0,
            "planned_lead_days": 0.0,
            "follow_up_prebooked_share": 0.0,
            **access,
        },
    }


def test_the_share_missed_is_the_chance_for_same_day_bookings() -> None:
    """With every appointment booked the same day and a 20% chance of missing it, about 20% of
    booked appointments are missed (binomial: within 4 standard deviations), and every missed
    one is booked again, so the contacts still happen."""
    none = simulate(_light(**NO_DNA), seed=3, warmup_days=40).summary
    p = 0.2
    some = simulate(_light(**{**NO_DNA, "dna_same_day": p}), seed=3, warmup_days=40).summary
    assert none["dna_share"] == 0.0
    contacts = some["contacts_per_patient_year"] * 2000 * 120 / 252
    booked = contacts / (1 - some["dna_share"])
    sd = (p * (1 - p) / booked) ** 0.5
    same_day = some["same_day_share"]
    assert same_day > 0.8  # the light practice books nearly everything today
    expected = p * same_day  # later bookings (a rebooked one, a follow-up) never miss here
    assert abs(some["dna_share"] - expected) < 4 * sd + 0.02
    assert some["contacts_per_patient_year"] == pytest.approx(none["contacts_per_patient_year"], rel=0.05)


def test_a_missed_appointment_is_booked_again_and_no_task_is_lost() -> None:
    """Conservation holds every day with missed appointments, and each missed one is seen later:
    the wait of a rebooked contact counts from its new booking."""
    model = HandoverModel(scenario_from_dict(_light(**{**NO_DNA, "dna_same_day": 0.3})), rng=5)
    model.run()
    t = model.totals
    assert t["missed_appointments"] > 100
    waiting = model.datacollector.model_vars["tasks_waiting"][-1]
    assert t["tasks_created"] - t["tasks_completed"] - t["tasks_dropped"] == waiting
    assert Counter(model.waits)[0] > 0.5 * sum(model.waits.values())
