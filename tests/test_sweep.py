"""Sweep engine: spec checks, designs, seeding, failure recording, resume after SIGKILL."""

from __future__ import annotations

import importlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from handover_abm.config import ConfigError
from handover_abm.streams import replicate_seeds
from handover_abm.sweep import design_points, load_sweep, run_sweep

CLI = str(Path(sys.executable).parent / "handover-abm")
sweep_mod = importlib.import_module("handover_abm.sweep")  # handover_abm.sweep is the API function

BASE = {
    "name": "tiny",
    "days": 12,
    "population": {"size": 800, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
    ],
}


def _write(tmp: Path, spec: dict, base: dict | None = None) -> Path:
    (tmp / "base.yaml").write_text(yaml.safe_dump(base or BASE), encoding="utf-8")
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _spec(**changes: object) -> dict:
    spec = {
        "name": "t",
        "base": "base.yaml",
        "parameters": {
            "routing.policy": {"values": ["first_available", "continuity_first", "specialist_first"]},
            "handover.or_full_tie": {"range": [0.2, 0.8], "steps": 3},
        },
        "replicates": 3,
        "seed": 11,
    }
    spec.update(changes)
    return spec


def test_grid_design_and_seeds(tmp_path: Path) -> None:
    """2 parameters x 3 values x 3 replicates = 27 runs; replicate r has the same seed everywhere."""
    plan = load_sweep(_write(tmp_path, _spec()))
    assert len(plan.points) == 9 and plan.n_runs == 27
    assert [p["handover.or_full_tie"] for p in plan.points[:3]] == [0.2, 0.5, 0.8]
    seeds = replicate_seeds(11, 3)
    runs = list(plan.runs())
    assert [r[0] for r in runs] == list(range(27))
    assert all(plan.seeds[r[2]] == seeds[r[2]] for r in runs)


def test_lhs_and_sobol_designs_stay_in_range() -> None:
    spec = sweep_mod.SweepSpec(
        base="x.yaml",
        design="lhs",
        samples=20,
        parameters={
            "a": {"range": [1.0, 2.0]},
            "b": {"range": [0, 10], "integer": True},
            "c": {"values": ["x", "y"]},
        },
    )
    for design in ("lhs", "sobol"):
        pts = design_points(spec.model_copy(update={"design": design, "samples": 16}))
        assert len(pts) == 16
        assert all(1.0 <= p["a"] <= 2.0 and isinstance(p["b"], int) and 0 <= p["b"] <= 10 for p in pts)
        assert {p["c"] for p in pts} == {"x", "y"}
    assert design_points(spec) == design_points(spec)  # seeded


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"parameters": {"handover.or_ful_tie": {"values": [0.1]}}}, "handover.or_ful_tie"),
        ({"parameters": {"handover.or_full_tie": {"range": [0.9, 0.1]}}}, "greater than high"),
        ({"replicates": -2}, "replicates"),
        ({"parameters": {"handover.p_detect": {"values": [1.5]}}}, "p_detect"),
        ({"desing": "grid"}, "desing"),
    ],
)
def test_bad_specs_are_refused_before_any_run(tmp_path: Path, change: dict, needle: str) -> None:
    spec_path = _write(tmp_path, _spec(**change))
    out = tmp_path / "out"
    res = subprocess.run([CLI, "sweep", str(spec_path), "--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr and "spec.yaml" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_failed_run_is_recorded_and_resume_retries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load_sweep(_write(tmp_path, _spec(replicates=2)))
    clean = run_sweep(plan, tmp_path / "clean", workers=1).table
    real = sweep_mod.simulate

    def flaky(scenario, seed, **kw):
        if scenario.routing.policy == "specialist_first" and scenario.handover.or_full_tie == 0.5:
            raise RuntimeError("boom")
        return real(scenario, seed, **kw)

    monkeypatch.setattr(sweep_mod, "simulate", flaky)
    out = tmp_path / "flaky"
    first = run_sweep(plan, out, workers=1)
    assert first.failed == 2 and first.ok == plan.n_runs - 2
    failed = first.table[first.table["status"] == "failed"]
    assert failed["error"].str.contains("RuntimeError: boom").all()
    assert failed["seed"].tolist() == replicate_seeds(11, 2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs_failed"] == 2 and manifest["status"] == "failed_runs"

    monkeypatch.setattr(sweep_mod, "simulate", real)
    second = run_sweep(plan, out, workers=1, resume=True)
    assert second.ran == 2 and second.failed == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "sweep.parquet"), pd.read_parquet(tmp_path / "clean" / "sweep.parquet")
    )
    pd.testing.assert_frame_equal(second.table, clean)


def test_existing_sweep_needs_resume_and_same_spec(tmp_path: Path) -> None:
    plan = load_sweep(_write(tmp_path, _spec(replicates=1)))
    run_sweep(plan, tmp_path / "o", workers=1)
    with pytest.raises(ConfigError, match="--resume"):
        run_sweep(plan, tmp_path / "o", workers=1)
    other = load_sweep(_write(tmp_path, _spec(replicates=1, seed=12)))
    with pytest.raises(ConfigError, match="different spec"):
        run_sweep(other, tmp_path / "o", workers=1, resume=True)


def test_sigkill_then_resume_gives_identical_table(tmp_path: Path) -> None:
    """Kill a sweep of 2 parameters x 3 values x 3 replicates mid-way; resume; compare."""
    spec_path = _write(tmp_path, _spec())
    ref = tmp_path / "ref"
    subprocess.run(
        [CLI, "sweep", str(spec_path), "--out", str(ref), "--workers", "2"], check=True, capture_output=True
    )
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [CLI, "sweep", str(spec_path), "--out", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    journal = out / "runs.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= 5:
            break
        time.sleep(0.02)
    import os

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = journal.read_text().count("\n")
    assert 5 <= done_before < 27, "the sweep finished before it could be killed"
    assert not (out / "sweep.parquet").exists()
    res = subprocess.run(
        [CLI, "sweep", str(spec_path), "--out", str(out), "--resume", "--workers", "2"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    a = pd.read_parquet(out / "sweep.parquet")
    b = pd.read_parquet(ref / "sweep.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert a["run_index"].tolist() == list(range(27))
    assert not list(out.glob(".*.tmp"))


def test_one_row_reruns_alone_with_run(tmp_path: Path) -> None:
    spec_path = _write(tmp_path, _spec(replicates=2))
    out = tmp_path / "s"
    subprocess.run(
        [CLI, "sweep", str(spec_path), "--out", str(out), "--workers", "1"], check=True, capture_output=True
    )
    row = pd.read_parquet(out / "sweep.parquet").iloc[7]
    one = tmp_path / "one"
    subprocess.run(
        [
            CLI,
            "run",
            str(tmp_path / "base.yaml"),
            "--out",
            str(one),
            "--seeds",
            str(row["seed"]),
            "--set",
            f"routing.policy={row['routing.policy']}",
            "--set",
            f"handover.or_full_tie={float(row['handover.or_full_tie'])!r}",
        ],
        check=True,
        capture_output=True,
    )
    summary = pd.read_csv(one / "summary.csv").iloc[0]
    for metric in (
        "episodes_completed",
        "handovers_per_episode",
        "miscommunication_rate",
        "coc_mean",
        "cost_per_episode",
        "supervisor_load_index",
    ):
        assert summary[metric] == pytest.approx(row[metric], rel=1e-9, abs=1e-12, nan_ok=True), metric
    assert summary["episodes_completed"] > 0  # both counted after the same default warm-up
