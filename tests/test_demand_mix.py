"""Treatment-room work (nurse- and HCA-only episodes) is in the catalogue and navigated away from GPs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handover_abm.catalogue import load_catalogue
from handover_abm.config import ConfigError, EpisodeOverride, Routing
from handover_abm.glossary import CASE_MIX_FIELDS, parameter_label
from handover_abm.model import CONTACT_COLUMNS, HandoverModel
from tests.conftest import small_scenario

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


def _procedures(**changes: object) -> int:
    """Treatment-room procedures (a task only nurse_treatment episodes contain) in a small run."""
    model = HandoverModel(small_scenario(days=20, **changes), rng=3, log_events=True)
    model.run()
    task = CONTACT_COLUMNS.index("task_type")
    return sum(row[task] == "nurse_procedure" for row in model.contact_log)


def test_a_config_sets_the_case_mix_of_its_scenario() -> None:
    assert _procedures() > 0
    assert _procedures(episodes={"nurse_treatment": {"weight": 0.0, "weight_per_ltc": 0.0}}) == 0
    scenario = small_scenario(episodes={"blood_test": {"weight": 0.5}})
    blood = scenario.catalogue().episode_types["blood_test"]
    assert (
        blood.weight == 0.5
        and blood.weight_per_ltc == load_catalogue().episode_types["blood_test"].weight_per_ltc
    )
    assert parameter_label("episodes.blood_test.weight") == "Case mix, blood test: base weight"
    assert set(CASE_MIX_FIELDS) == set(EpisodeOverride.model_fields)  # every weight has a label


def test_a_case_mix_override_of_an_unknown_type_or_with_no_weight_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown episode type 'flu'; allowed episode types: minor_illness"):
        small_scenario(episodes={"flu": {"weight": 1.0}})
    nothing = {name: {"weight": 0.0} for name in load_catalogue().episode_types}
    with pytest.raises(ConfigError, match="every episode type's weight is 0"):
        small_scenario(episodes=nothing)


def test_every_case_mix_weight_is_varied_by_a_shipped_sensitivity_spec() -> None:
    varied = set()
    for spec in (Path(__file__).resolve().parents[1] / "experiments").glob("sensitivity_*.yaml"):
        varied |= set((yaml.safe_load(spec.read_text(encoding="utf-8")) or {}).get("parameters", {}))
    for name, ep in load_catalogue().episode_types.items():
        for field in ("weight", "weight_per_ltc", "weight_social_need"):
            if getattr(ep, field) > 0:
                assert f"episodes.{name}.{field}" in varied, (name, field)


# ------------------------------------------------------------------ work programmes

PROGRAMMES = [name for name, ep in load_catalogue().episode_types.items() if ep.programme]


def test_the_work_roles_are_employed_for_is_in_the_catalogue_as_programmes() -> None:
    """Structured medication reviews, medicines after discharge, care-home rounds, care plans and
    health coaching arrive at their own sourced rate, within its range, and each is navigated to
    the role employed for it before a GP."""
    cat = load_catalogue()
    assert len(PROGRAMMES) >= 5
    limit = Routing().navigation_max_edge
    core = {
        "structured_medication_review": "clinical_pharmacist",
        "medicines_reconciliation": "pharmacy_technician",
        "care_plan": "care_coordinator",
        "health_coaching": "health_and_wellbeing_coach",
    }
    for name in PROGRAMMES:
        ep = cat.episode_types[name]
        assert ep.planned and ep.rate_source and ep.rate_range[0] <= ep.rate_per_1000 <= ep.rate_range[1]
        assert ep.weight == ep.weight_per_ltc == ep.weight_social_need == 0
    for task, role in core.items():
        assert cat.roles[role].scope[task].edge <= limit
        assert cat.roles["gp_partner"].scope[task].edge > limit or task == "health_coaching"


def test_programme_episodes_arrive_at_their_rate_on_the_patients_they_reach() -> None:
    """Over 400 working days of a 20,000-patient population the count of each programme's episodes
    is within 4 Poisson standard deviations of rate x patients x years, and every one falls on a
    patient it reaches."""
    from handover_abm.demand import reached

    scenario = small_scenario(population={"size": 20_000, "practices": 2})
    model = HandoverModel(scenario, rng=8)
    counts = {name: 0 for name in PROGRAMMES}
    names = list(model.catalogue.episode_types)
    days = 400
    for _ in range(days):
        arrivals = model.demand.draw_day()
        for patient, kind in zip(arrivals.patients.tolist(), arrivals.kinds.tolist(), strict=True):
            name = names[kind]
            if name in counts:
                counts[name] += 1
                ep = model.catalogue.episode_types[name]
                assert patient in set(reached(model.population, ep.eligible).tolist())
    for name, n in counts.items():
        ep = model.catalogue.episode_types[name]
        expected = ep.rate_per_1000 * 20 * days / scenario.working_days_per_year
        assert abs(n - expected) < 4 * expected**0.5, (name, n, expected)


def test_a_programme_takes_a_rate_and_a_request_takes_weights() -> None:
    with pytest.raises(
        ConfigError, match="work programme that arrives at its own rate: set its rate_per_1000"
    ):
        small_scenario(episodes={"care_home_round": {"weight": 0.1}})
    with pytest.raises(
        ConfigError, match="arrives in the mix of requests: set its weights, not rate_per_1000"
    ):
        small_scenario(episodes={"minor_illness": {"rate_per_1000": 10}})
    none = small_scenario(episodes={name: {"rate_per_1000": 0} for name in PROGRAMMES})
    assert not any(ep.programme for ep in none.catalogue().episode_types.values())


def test_every_programme_rate_is_varied_by_the_case_mix_spec() -> None:
    spec = Path(__file__).resolve().parents[1] / "experiments" / "sensitivity_case_mix.yaml"
    varied = yaml.safe_load(spec.read_text(encoding="utf-8"))["parameters"]
    for name in PROGRAMMES:
        rng = load_catalogue().episode_types[name].rate_range
        assert varied[f"episodes.{name}.rate_per_1000"] == {"range": list(rng)}
