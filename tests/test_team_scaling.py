"""team.scaled: a config cut to another population keeps its staffing per patient."""

from __future__ import annotations

import pytest

from handover_abm.config import load_scenario, scenario_from_dict
from handover_abm.team import scaled, total_fte


@pytest.mark.parametrize("patients", [4_000, 10_000, 25_000, 120_000])
def test_scaled_default_keeps_fte_per_patient_by_role(patients: int) -> None:
    base = load_scenario("configs/default.yaml")
    data = base.model_dump(mode="json")
    out = scenario_from_dict(scaled(data, patients))
    f = patients / base.population.size
    assert total_fte(out) == pytest.approx(total_fte(base) * f, rel=1e-9)
    for before, after in zip(base.team, out.team, strict=True):
        assert after.role == before.role and after.count >= 1
        assert after.count * after.fte == pytest.approx(before.count * before.fte * f, rel=1e-9)
        assert after.fte <= before.fte + 1e-9  # posts are never made longer than whole-time allows


def test_one_practice_is_not_richer_in_network_staff_than_its_network() -> None:
    """The defect this guards against: rounding posts gave each small network role a whole post."""
    base = load_scenario("configs/default.yaml")
    one = scenario_from_dict(scaled(base.model_dump(mode="json"), 10_000))
    pcn = sum(e.count * e.fte for e in one.team if e.organisation == "pcn")
    full = sum(e.count * e.fte for e in base.team if e.organisation == "pcn")
    assert one.population.practices == 1
    assert pcn == pytest.approx(full / 5, rel=1e-9)
