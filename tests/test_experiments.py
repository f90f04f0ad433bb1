"""Every experiment spec validates (all design points are valid scenarios) and covers MODEL.md's questions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handover_abm.config import positional_team_notes
from handover_abm.sensitivity import plan
from handover_abm.sweep import build_scenario, load_sweep
from tests.conftest import ROOT

# sweep and sensitivity specs; calibrate_*.yaml are calibration specs (tests/test_calibration.py)
SPECS = sorted(p for p in (ROOT / "experiments").glob("*.yaml") if not p.stem.startswith("calibrate_"))


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_experiment_spec_validates(spec: Path) -> None:
    sweep = load_sweep(spec, days=20, replicates=1)
    assert sweep.n_runs >= 2
    assert sweep.spec.description


def test_questions_are_covered() -> None:
    names = {p.stem for p in SPECS}
    for prefix in ("q1_", "q2_", "q3_", "q4_", "q5_"):
        assert any(n.startswith(prefix) for n in names), prefix


def test_sensitivity_spec_builds_salib_designs() -> None:
    spec = ROOT / "experiments" / "sensitivity_assumptions.yaml"
    sweep, unit, problem = plan(spec, "morris")
    d = problem["num_vars"]
    assert unit.shape == (sweep.spec.samples * (d + 1), d)
    assert len(sweep.points) == unit.shape[0]
    sweep, unit, _ = plan(spec, "sobol")
    assert unit.shape == (sweep.spec.samples * (d + 2), d)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_team_entries_are_named_by_role_or_id_and_resolve(spec: Path) -> None:
    """No shipped spec names a team entry by position (positions drift when a config is rebuilt):
    every team key names a role or id that is exactly one entry of every team the spec sweeps."""
    sweep = load_sweep(spec, days=20, replicates=1)
    keys = [*sweep.spec.parameters, *(t.split("=", 1)[0] for t in sweep.spec.set)]
    assert sweep.position_notes() == []
    teams = [sweep.base_data, *sweep.configs.values()]
    for key in (k for k in keys if k.startswith("team.")):
        name = key.split(".")[1]
        assert not name.isdigit(), key
        for data in teams:
            named = [e for e in data["team"] if name in (e.get("id"), e.get("role"))]
            assert len(named) == 1 or any(e.get("id") == name for e in named), (key, data.get("name"))


def test_care_coordinator_experiment_varies_care_coordinators() -> None:
    sweep = load_sweep(ROOT / "experiments" / "q5_care_coordinators.yaml", days=20, replicates=1)
    scenarios = [build_scenario(sweep.data_for(v), sweep.spec.set, v, 20, "q5") for v in sweep.points]
    counts = [sum(e.count for e in s.team if e.role == "care_coordinator") for s in scenarios]
    others = {tuple((e.role, e.count) for e in s.team if e.role != "care_coordinator") for s in scenarios}
    assert counts == [0, 3, 6, 9] and len(others) == 1


def test_a_positional_team_key_says_which_role_it_resolved_to(tmp_path: Path) -> None:
    data = {
        "team": [{"role": "gp_partner"}, {"role": "practice_nurse"}, {"role": "practice_nurse", "id": "pn2"}]
    }
    notes = positional_team_notes(data, ["team.1.count", "team.2.fte", "team.gp_partner.count", "days"], "x")
    assert notes == [
        "x: team.1.count is team entry 1, practice_nurse; give it an id (several entries are "
        "practice_nurse) and write team.<id>.count",
        "x: team.2.fte is team entry 2, practice_nurse; write team.pn2.fte to name it whatever its position",
    ]


def test_set_by_position_prints_the_role_on_the_command_line() -> None:
    cli = str(Path(sys.executable).parent / "handover-abm")
    config = str(ROOT / "configs" / "default.yaml")
    res = subprocess.run(
        [cli, "validate", config, "--set", "team.12.count=9"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "team.12.count is team entry 12, health_and_wellbeing_coach" in res.stderr
    res = subprocess.run(
        [cli, "validate", config, "--set", "team.care_coordinator.count=9"], capture_output=True, text=True
    )
    assert res.returncode == 0 and "note:" not in res.stderr
