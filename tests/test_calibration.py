"""Calibration: targets and spec schemas, the distance, ABC-SMC and Optuna end to end, resumption.

Everything runs on a 500-patient, one-practice, 20-day config with a test-only targets file whose
metrics the model reports today (upc_gp_mean, contacts_per_patient_year, utilisation_mean).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from handover_abm.backends import open_backend
from handover_abm.calibration import AbcModel, distance, load_calibration, point_seeds, run_calibration
from handover_abm.cli import main
from handover_abm.config import ConfigError
from handover_abm.simulate import simulate
from handover_abm.sweep import build_scenario
from handover_abm.targets import load_targets, target_metrics
from tests.conftest import CONFIGS

pytest.importorskip("pyabc")
pytest.importorskip("optuna")

CLI = str(Path(sys.executable).parent / "handover-abm")
SOURCE = {"publisher": "test", "title": "test", "table": "test"}
TARGETS = {
    "targets": [
        {
            "name": "upc",
            "metric": "upc_gp_mean",
            "value": 0.55,
            "uncertainty": {"sd": 0.05},
            "unit": "ratio",
            "year": 2017,
            "source": SOURCE,
            "definition": "GP UPC, patients with 2+ GP contacts",
            "second_hand": False,
        },
        {
            "name": "contacts",
            "metric": "contacts_per_patient_year",
            "value": 5.5,
            "uncertainty": {"tolerance": 0.5},
            "unit": "contacts/patient/year",
            "year": 2024,
            "source": SOURCE,
            "definition": "contacts per registered patient per year",
            "second_hand": True,
        },
        {
            "name": "not_yet",
            "metric": "same_day_share_not_reported",
            "value": 0.4,
            "uncertainty": {"sd": 0.03},
            "unit": "fraction",
            "year": 2024,
            "source": SOURCE,
            "definition": "a metric the model does not report",
            "second_hand": True,
        },
    ]
}


def _spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "tiny",
        "base": str(CONFIGS / "default.yaml"),
        "set": ["population.size=500", "population.practices=1"],
        "days": 20,
        "parameters": {
            "demand.rate_multiplier_per_ltc": {"low": 0.05, "high": 0.6},
            "demand.extra_follow_up_per_ltc": {"low": 0.0, "high": 0.2},
        },
        "targets": ["upc", "contacts"],
        "targets_file": "targets.yaml",
        "method": "abc",
        "abc": {"population_size": 10, "generations": 2},
        "optuna": {"trials": 6},
        "predictive_draws": 3,
        "seed": 1,
    }
    spec.update(changes)
    return spec


def _write(folder: Path, spec: dict[str, Any], name: str = "spec.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "targets.yaml").write_text(yaml.safe_dump(TARGETS))
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the console entry point in this process; (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["handover-abm", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0), capsys.readouterr().err


# ---------------------------------------------------------------- distance and targets


def test_distance_is_the_sum_of_squared_standardised_deviations() -> None:
    observed = {"a": 1.0, "b": 12.0, "c": 0.5}
    scales = {"a": 0.1, "b": 4.0, "c": 0.25}
    model = {"a": 1.2, "b": 10.0, "c": 0.5}
    # (0.2 / 0.1)^2 + (-2 / 4)^2 + 0 = 4 + 0.25
    assert distance(model, observed, scales) == pytest.approx(4.25)
    assert distance(observed, observed, scales) == 0.0
    assert distance({**model, "c": math.nan}, observed, scales) == math.inf


def test_shipped_targets_are_complete_and_cited() -> None:
    targets = load_targets()
    metrics = {t.metric for t in targets.values()}
    for needed in (
        "contacts_per_patient_year",
        "gp_contact_share",
        "nurse_contact_share",
        "same_day_share",
        "over_14_days_share",
        "over_28_days_share",
        "upc_gp_mean",
    ):
        assert needed in metrics
    for t in targets.values():
        assert t.source.publisher and t.source.table and t.definition
        assert t.uncertainty.scale > 0
    assert targets["upc_gp_older"].value == 0.61 and not targets["upc_gp_older"].second_hand


def test_targets_file_refuses_unknown_keys_and_duplicates(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(TARGETS))
    bad["targets"][0]["colour"] = "red"
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=r"t\.yaml.*unknown key 'targets\[0\]\.colour'"):
        load_targets(path)
    dup = {"targets": [TARGETS["targets"][0], TARGETS["targets"][0]]}
    path.write_text(yaml.safe_dump(dup))
    with pytest.raises(ConfigError, match="repeated: upc"):
        load_targets(path)
    both = json.loads(json.dumps(TARGETS))
    both["targets"][0]["uncertainty"] = {"sd": 0.1, "tolerance": 0.1}
    path.write_text(yaml.safe_dump(both))
    with pytest.raises(ConfigError, match="exactly one of 'sd' or 'tolerance'"):
        load_targets(path)


def test_a_metric_missing_from_a_run_summary_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, _spec())
    targets = load_targets(path.parent / "targets.yaml")
    with pytest.raises(ConfigError, match="'same_day_share_not_reported'"):
        target_metrics({"upc_gp_mean": 0.5}, [targets["not_yet"]])
    assert target_metrics({"upc_gp_mean": 0.5, "x": 1.0}, [targets["upc"]]) == {"upc": 0.5}


def test_particle_seeds_depend_on_root_seed_and_values_only() -> None:
    a = point_seeds(1, {"x": 0.1, "y": 2.0}, 3)
    assert a == point_seeds(1, {"y": 2.0, "x": 0.1}, 3)
    assert len(set(a)) == 3
    assert a != point_seeds(2, {"x": 0.1, "y": 2.0}, 3)
    assert a != point_seeds(1, {"x": 0.1000001, "y": 2.0}, 3)


# ---------------------------------------------------------------- spec errors through the CLI


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"colour": "red"}, ["unknown key 'colour'", "allowed keys here"]),
        ({"targets": ["upc", "nope"]}, ["key 'targets'", "unknown target 'nope'", "allowed targets: upc"]),
        (
            {"parameters": {"handover.no_such_thing": {"low": 0, "high": 1}}},
            ["key 'parameters.handover.no_such_thing'", "unknown parameter path"],
        ),
        (
            {"parameters": {"demand.rate_multiplier_per_ltc": {"low": 0.6, "high": 0.1}}},
            ["parameters.demand.rate_multiplier_per_ltc", "low (0.6) must be less than high (0.1)"],
        ),
        (
            {"parameters": {"handover.base_loss_probability": {"low": 0.1, "high": 1.5}}},
            ["parameters.handover.base_loss_probability' at 1.5", "handover.base_loss_probability"],
        ),
        (
            {
                "parameters": {
                    "demand.rate_multiplier_per_ltc": {"distribution": "normal", "low": 0, "high": 1}
                }
            },
            ["needs 'mean' and 'sd'"],
        ),
        ({"targets": ["upc", "not_yet"]}, ["needs metric 'same_day_share_not_reported'", "reported metrics"]),
        ({"method": "grid"}, ["key 'method'", "'abc' or 'optuna'"]),
        ({"warmup_days": 20}, ["key 'warmup_days' (20)", "shorter than the run (20 working days"]),
    ],
)
def test_bad_specs_exit_2_naming_file_and_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, Any],
    needles: list[str],
) -> None:
    path = _write(tmp_path, _spec(**changes))
    code, err = _cli(monkeypatch, capsys, "calibrate", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith("error: ") and str(path) in err and "Traceback" not in err
    for needle in needles:
        assert needle in err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- ABC-SMC


@pytest.fixture(scope="module")
def abc_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One uninterrupted tiny ABC-SMC calibration (serial): (spec, output folder)."""
    folder = tmp_path_factory.mktemp("abc")
    spec = _write(folder, _spec())
    with open_backend("serial") as backend:
        run_calibration(load_calibration(spec), folder / "out", backend)
    return spec, folder / "out"


def test_abc_writes_posterior_diagnostics_fit_and_figures(abc_run: tuple[Path, Path]) -> None:
    _, out = abc_run
    for name in (
        "abc.db",
        "posterior.parquet",
        "diagnostics.json",
        "target_fit.csv",
        "predictive.parquet",
        "manifest.json",
        "figures/posterior_marginals.png",
        "figures/posterior_pairs.png",
        "figures/target_fit.png",
    ):
        assert (out / name).is_file(), name
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == [
        "demand.rate_multiplier_per_ltc",
        "demand.extra_follow_up_per_ltc",
        "weight",
        "generation",
    ]
    assert len(posterior) == 10 and posterior["weight"].sum() == pytest.approx(1.0)
    assert posterior["demand.rate_multiplier_per_ltc"].between(0.05, 0.6).all()
    diag = json.loads((out / "diagnostics.json").read_text())
    gens = diag["generations"]
    assert [g["generation"] for g in gens] == [0, 1]
    assert gens[1]["epsilon"] < gens[0]["epsilon"]
    for g in gens:
        assert 0 < g["acceptance_rate"] <= 1 and 1 <= g["ess"] <= 10 + 1e-9
    fit = pd.read_csv(out / "target_fit.csv")
    assert list(fit["target"]) == ["upc", "contacts"]
    assert (fit["model_low"] <= fit["model_mean"]).all() and (fit["model_mean"] <= fit["model_high"]).all()
    assert fit["within_tolerance"].dtype == bool and fit["published_in_interval"].dtype == bool
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_abc_resumed_after_a_kill_equals_the_uninterrupted_run(
    abc_run: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, full = abc_run
    out = tmp_path / "out"
    cal = load_calibration(spec)
    with open_backend("serial") as backend:
        run_calibration(cal, out, backend, stop_after=1)  # killed after generation 1 of 2
        assert not (out / "posterior.parquet").exists()
        with pytest.raises(ConfigError, match="already holds a calibration"):
            run_calibration(cal, out, backend)
        run_calibration(cal, out, backend, resume=True)
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "posterior.parquet"), pd.read_parquet(full / "posterior.parquet")
    )
    gens = json.loads((out / "diagnostics.json").read_text())["generations"]
    assert gens == json.loads((full / "diagnostics.json").read_text())["generations"]


def test_resume_refuses_another_spec(abc_run: tuple[Path, Path], tmp_path: Path) -> None:
    _, full = abc_run
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("abc.db", "manifest.json"):
        (copy / name).write_bytes((full / name).read_bytes())
    other = _write(tmp_path, _spec(seed=2))
    with open_backend("serial") as backend, pytest.raises(ConfigError, match="another spec"):
        run_calibration(load_calibration(other), copy, backend, resume=True)


def test_abc_cli_on_two_processes_matches_serial(abc_run: tuple[Path, Path], tmp_path: Path) -> None:
    spec, full = abc_run
    res = subprocess.run(
        [CLI, "calibrate", str(spec), "--out", str(tmp_path / "out"), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "generation 2/2" in res.stderr and "Target fit" in res.stdout
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "out" / "posterior.parquet"), pd.read_parquet(full / "posterior.parquet")
    )


# ---------------------------------------------------------------- Optuna


def test_optuna_point_estimate_resumes_and_writes_outputs(tmp_path: Path) -> None:
    import optuna

    spec = _write(tmp_path, _spec(method="optuna", replicates=2))
    cal = load_calibration(spec)
    out = tmp_path / "out"
    with open_backend("serial") as backend:
        run_calibration(cal, out, backend, stop_after=3)  # killed after 3 of 6 trials
        study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{out / 'optuna.db'}")
        study.ask()  # a trial left running by the kill
        result = run_calibration(cal, out, backend, resume=True)
    states = [t.state.name for t in study.get_trials()]
    assert states.count("COMPLETE") == 6 and states.count("FAIL") == 1
    best = json.loads((out / "best.json").read_text())
    assert set(best["parameters"]) == set(cal.names) and best["distance"] == result.extra["distance"]
    assert len(best["replicate_seeds"]) == 2
    for name in ("target_fit.csv", "best_config.yaml", "trials.parquet", "figures/target_fit.png"):
        assert (out / name).is_file(), name
    fit = pd.read_csv(out / "target_fit.csv")
    assert list(fit["target"]) == ["upc", "contacts"]


def test_shipped_example_spec_is_valid() -> None:
    cal = load_calibration(CONFIGS.parent / "experiments" / "calibrate_default.yaml")
    assert cal.spec.method == "abc" and cal.base_data["population"]["size"] == 10_000
    assert cal.base_data["population"]["practices"] == 1  # one practice of the default PCN
    assert [t.metric for t in cal.targets] == ["contacts_per_patient_year", "over_14_days_share"]
    assert 0 < cal.spec.warmup_days < cal.base_data["days"]  # the book fills before counting starts
    quick = load_calibration(CONFIGS.parent / "experiments" / "calibrate_default_quick.yaml")
    assert quick.names == cal.names and quick.base_data["population"]["size"] == 5_000
    assert [t.name for t in quick.targets] == [t.name for t in cal.targets]


def test_a_point_is_summarised_after_the_spec_warm_up(tmp_path: Path) -> None:
    """The warm-up days run but are not counted: the point's metrics are those of `simulate` with
    the same warm-up, and differ from counting the whole run."""
    cal = load_calibration(_write(tmp_path, _spec(warmup_days=8)))
    values = {"demand.rate_multiplier_per_ltc": 0.3, "demand.extra_follow_up_per_ltc": 0.1}
    model = AbcModel(cal.base_data, tuple(cal.targets), 1, cal.spec.seed, cal.spec.warmup_days)
    got = model(values)
    scenario = build_scenario(cal.base_data, [], values, None, "test")
    seed = point_seeds(cal.spec.seed, values, 1)[0]
    assert got == target_metrics(simulate(scenario, seed, warmup_days=8).summary, cal.targets)
    assert got != target_metrics(simulate(scenario, seed).summary, cal.targets)


def test_resume_refuses_a_truncated_database(
    abc_run: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec, full = abc_run
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("abc.db", "manifest.json"):
        (copy / name).write_bytes((full / name).read_bytes())
    whole = (copy / "abc.db").read_bytes()
    (copy / "abc.db").write_bytes(whole[: len(whole) // 2])  # a full disk or a partial copy
    code, err = _cli(
        monkeypatch, capsys, "calibrate", str(spec), "--out", str(copy), "--resume", "--workers", "1"
    )
    assert code == 2 and "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "abc.db" in last and "damaged" in last
    assert (copy / "abc.db").read_bytes() == whole[: len(whole) // 2]  # left as it was


def test_report_of_a_calibration_folder_is_one_paragraph(
    abc_run: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = abc_run
    code, err = _cli(monkeypatch, capsys, "report", str(out))
    assert code == 2 and err.startswith("error: ") and "nothing to report" in err and "Traceback" not in err
