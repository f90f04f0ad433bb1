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


def test_network_staff_are_spread_over_every_network() -> None:
    """An ICB-sized config of several networks gives each network its share of network staff, and a
    co-located network post sits at a practice of its own network (not all in the first network)."""
    from collections import Counter

    from handover_abm.model import HandoverModel

    data = scaled(load_scenario("configs/default.yaml").model_dump(mode="json"), 400_000)
    data["days"] = 2
    m = HandoverModel(scenario_from_dict(data), rng=1)
    per = m.config.population.practices_per_pcn
    n_pcns = -(-m.config.population.practices // per)
    assert n_pcns >= 8
    network = [c for c in m.clinicians if c.practice < 0]
    by_role: dict[str, Counter[int]] = {}
    for c in network:
        by_role.setdefault(c.role_name, Counter())[c.pcn] += 1
    for role, counts in by_role.items():
        spread = [counts.get(p, 0) for p in range(n_pcns)]
        assert max(spread) - min(spread) <= 1, (role, spread)
    for c in network:
        if c.site >= 0:
            assert c.site // per == c.pcn
