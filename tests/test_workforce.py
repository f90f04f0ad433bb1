"""The default config is an average English PCN: its team per 10,000 patients matches the national
workforce figures stored in src/handover_abm/data/workforce.yaml within 5%, and the team configs
compared with it share its population and its total FTE (equal-FTE) or its cost (equal-cost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handover_abm.config import load_scenario
from handover_abm.targets import load_workforce
from handover_abm.team import annual_cost, hourly_cost, total_fte

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = load_scenario(ROOT / "configs" / "default.yaml")
WORKFORCE = load_workforce()


def _per_10000(roles: list[str]) -> float:
    fte = sum(e.count * e.fte for e in DEFAULT.team if e.role in roles)
    return fte / DEFAULT.population.size * 10_000


def test_default_is_an_average_pcn_of_practices_of_10000() -> None:
    pop = DEFAULT.population
    assert 47_500 <= pop.size <= 52_500
    assert 9_500 <= pop.size / pop.practices <= 10_500


@pytest.mark.parametrize("group", ["gp", "nurse", "other_practice"])
def test_practice_staff_per_10000_match_the_cited_figures(group: str) -> None:
    figure = WORKFORCE.groups[group]
    assert _per_10000(figure.roles) == pytest.approx(figure.per_10000, rel=0.05), figure.source


def test_hourly_costs_match_pssru_unit_costs_within_5_percent() -> None:
    """Every role of the catalogue has a PSSRU grade (or says why not), and costs within 5% of it."""
    costs, roles = WORKFORCE.unit_costs, DEFAULT.catalogue().roles
    covered = [r for g in costs.grades.values() for r in g.roles]
    assert sorted(covered + list(costs.not_covered)) == sorted(roles)
    for grade in costs.grades.values():
        for role in grade.roles:
            assert hourly_cost(roles[role], DEFAULT) == pytest.approx(grade.per_hour, rel=0.05), role


def test_arrs_mix_per_10000_matches_the_cited_figures_by_role() -> None:
    for role, per in WORKFORCE.arrs_per_10000().items():
        assert _per_10000([role]) == pytest.approx(per, rel=0.05), role
    # the roles modelled hold no more ARRS FTE than published (the rest are roles not modelled)
    arrs = WORKFORCE.groups["arrs"]
    assert _per_10000(arrs.roles) <= arrs.per_10000
    assert _per_10000(arrs.roles) >= 0.8 * arrs.per_10000


def test_group_figures_agree_with_their_numerators() -> None:
    n = WORKFORCE.registered_patients.value
    assert WORKFORCE.groups["gp"].per_10000 == pytest.approx(27_670 / n * 10_000, rel=0.01)
    assert WORKFORCE.groups["arrs"].per_10000 == pytest.approx(24_241 / n * 10_000, rel=0.01)


@pytest.mark.parametrize("name", ["generalist", "fragmented", "mixed"])
def test_team_configs_share_the_population_and_total_fte(name: str) -> None:
    s = load_scenario(ROOT / "configs" / f"{name}.yaml")
    assert s.population == DEFAULT.population
    assert total_fte(s) == pytest.approx(total_fte(DEFAULT), rel=0.005)
    assert "equal FTE" in s.description


@pytest.mark.parametrize("name", ["generalist", "fragmented", "mixed"])
def test_equal_cost_configs_cost_what_the_default_costs(name: str) -> None:
    s = load_scenario(ROOT / "experiments" / "configs" / f"{name}_equal_cost.yaml")
    assert s.population == DEFAULT.population
    assert annual_cost(s) == pytest.approx(annual_cost(DEFAULT), rel=0.005)
    assert "equal cost" in s.description


def test_every_role_of_at_least_one_fte_in_the_default_pcn_is_busy_at_least_half_its_time() -> None:
    """The work each role is employed for is in the demand (data/tasks.yaml, work programmes):
    over a year after the warm-up, every role with at least one FTE in the default PCN works at
    least half its clinical minutes (issue 32; before it, care coordinators were 9% busy and
    pharmacy technicians 4%)."""
    import pandas as pd

    from handover_abm.simulate import simulate

    out = simulate(DEFAULT.model_copy(update={"days": 80 + 252}), seed=0, warmup_days=80)
    staff = pd.DataFrame(out.staff)
    by_role = staff.assign(w=staff["utilisation"] * staff["fte"]).groupby("role")[["w", "fte"]].sum()
    busy = (by_role["w"] / by_role["fte"])[by_role["fte"] >= 1.0]
    assert len(busy) >= 10
    assert busy.min() >= 0.5, busy.round(3).to_dict()
