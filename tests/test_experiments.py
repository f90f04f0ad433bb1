"""Every experiment spec validates (all design points are valid scenarios) and covers MODEL.md's questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from handover_abm.sensitivity import plan
from handover_abm.sweep import load_sweep
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
