"""Treatment-room work (nurse- and HCA-only episodes) is in the catalogue and navigated away from GPs."""

from __future__ import annotations

from handover_abm.catalogue import load_catalogue
from handover_abm.config import Routing

TREATMENT_ROOM = {
    "nurse_treatment": "nurse_procedure",
    "blood_test": "phlebotomy",
    "health_check": "health_check",
}


def test_treatment_room_episodes_are_planned_and_start_with_one_nurse_or_hca_contact() -> None:
    cat = load_catalogue()
    for episode, task in TREATMENT_ROOM.items():
        ep = cat.episode_types[episode]
        assert ep.planned and ep.weight > 0
        assert ep.tasks[0] == task and cat.task_types[task].contact


def test_care_navigation_books_treatment_room_work_with_nurses_and_hcas_before_gps() -> None:
    roles = load_catalogue().roles
    limit = Routing().navigation_max_edge
    for task in TREATMENT_ROOM.values():
        assert roles["gp_partner"].scope[task].edge > limit
        assert roles["salaried_gp"].scope[task].edge > limit
        assert roles["healthcare_assistant"].scope[task].edge <= limit
        assert roles["practice_nurse"].scope[task].edge <= limit
