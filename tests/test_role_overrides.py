"""`roles:` in a scenario replaces catalogue figures (costs, turnover, supervision, scope) for that
scenario only, so they can be set in a config, with --set, and swept like any other parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handover_abm.catalogue import load_catalogue
from handover_abm.config import ConfigError
from handover_abm.model import HandoverModel
from handover_abm.simulate import simulate
from handover_abm.sweep import load_sweep, run_sweep
from handover_abm.team import annual_cost, hourly_cost
from tests.conftest import small_scenario

CP = "clinical_pharmacist"


def test_no_overrides_means_the_shipped_catalogue() -> None:
    assert small_scenario().catalogue() is load_catalogue()


def test_hourly_cost_override_changes_only_that_roles_cost() -> None:
    base = small_scenario()
    dearer = small_scenario(roles={"clinical_pharmacist": {"hourly_cost": 100.0}})
    role = load_catalogue().roles["clinical_pharmacist"]
    old = hourly_cost(role, base)
    hours = base.costs.hours_per_fte_year
    fte = 0.5  # the small team's pharmacist
    assert annual_cost(dearer) - annual_cost(base) == pytest.approx(fte * hours * (100.0 - old))
    assert load_catalogue().roles["clinical_pharmacist"].hourly_cost is None  # shipped data untouched
    assert dearer.digest() != base.digest()


def test_scope_and_supervision_overrides_reach_the_agents() -> None:
    cfg = small_scenario(
        roles={
            "physician_associate": {
                "scope": {"diagnosis": {"time": 2.5}},
                "supervision": {"query_rate": 0.0},
            }
        }
    )
    model = HandoverModel(cfg, rng=1)
    pa = next(c for c in model.clinicians if c.role_name == "physician_associate")
    shipped = load_catalogue().roles["physician_associate"]
    assert pa.scope["diagnosis"] == (2.5, shipped.scope["diagnosis"].edge)  # edge kept
    assert pa.role.supervision.query_rate == 0.0
    assert pa.role.supervision.debrief_minutes_per_week == shipped.supervision.debrief_minutes_per_week


def test_turnover_override_drives_the_turnover_mechanism() -> None:
    names = ["gp_partner", "practice_nurse", "clinical_pharmacist", "physician_associate", "care_coordinator"]
    never = small_scenario(days=120, roles={n: {"annual_turnover": 0.0} for n in names})
    always = small_scenario(days=120, roles={n: {"annual_turnover": 1.0} for n in names})
    assert simulate(never, 3).summary["staff_turnover"] == 0
    # 6 posts x 120/252 of a year at one leaver per post-year: about 2.9 expected leavers
    assert simulate(always, 3).summary["staff_turnover"] > 0


@pytest.mark.parametrize(
    ("roles", "needles"),
    [
        ({"clinical_pharmacst": {"hourly_cost": 50}}, ["unknown role 'clinical_pharmacst'", "allowed roles"]),
        (
            {"clinical_pharmacist": {"hourly_cst": 50}},
            ["roles.clinical_pharmacist.hourly_cst", "hourly_cost"],
        ),
        (
            {"clinical_pharmacist": {"hourly_cost": -5}},
            ["roles.clinical_pharmacist.hourly_cost", "greater than 0"],
        ),
        (
            {"clinical_pharmacist": {"scope": {"home_visit": {"time": 1}}}},
            ["home_visit", "allowed task types"],
        ),
        ({"clinical_pharmacist": {"label": "x"}}, ["roles.clinical_pharmacist.label", "annual_turnover"]),
        (
            {"clinical_pharmacist": {"supervision": {"query_rate": 2}}},
            ["query_rate", "less than or equal to 1"],
        ),
    ],
)
def test_bad_overrides_are_refused_with_the_key_and_what_is_allowed(roles: dict, needles: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        small_scenario(roles=roles)
    for needle in needles:
        assert needle in str(err.value)


def test_role_figures_can_be_swept(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(small_scenario(days=10).model_dump(mode="json")))
    spec = {
        "name": "costs",
        "base": "base.yaml",
        "replicates": 1,
        "parameters": {"roles.clinical_pharmacist.hourly_cost": {"values": [40.0, 80.0]}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    table = run_sweep(load_sweep(tmp_path / "spec.yaml"), tmp_path / "out", workers=1).table
    cost = table.set_index("roles.clinical_pharmacist.hourly_cost")["annual_staff_cost"]
    assert cost[80.0] > cost[40.0]
    # same seed, same patients: only the cost moved
    assert table["handovers_per_episode"].nunique() == 1


def test_a_misspelt_role_path_in_a_sweep_is_refused(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(small_scenario(days=10).model_dump(mode="json")))
    spec = {
        "name": "costs",
        "base": "base.yaml",
        "parameters": {"roles.clinical_pharmacist.hourly_cots": {"values": [40.0, 80.0]}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(ConfigError, match=r"roles\.clinical_pharmacist\.hourly_cots"):
        load_sweep(tmp_path / "spec.yaml")
