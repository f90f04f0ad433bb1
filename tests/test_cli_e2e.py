"""End-to-end CLI: run, compare, validate, output contract, determinism, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

CLI = str(Path(sys.executable).parent / "handover-abm")
SMALL = {
    "name": "small",
    "days": 10,
    "population": {"size": 1500, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
        {"role": "mental_health_practitioner", "count": 1, "organisation": "mental_health_trust"},
    ],
}
SUMMARY_COLUMNS = [
    "config",
    "replicate",
    "seed",
    "episodes_completed",
    "tasks_completed",
    "handovers_per_episode",
    "miscommunications_per_episode",
    "miscommunication_rate",
    "rework_tasks_per_episode",
    "harm_risk_per_1000_episodes",
    "acsc_admissions_per_1000_patients",
    "failure_demand_per_episode",
    "supervisor_load_index",
    "supervisor_interruptions_per_day",
    "supervisor_overload_days",
    "upc_mean",
    "coc_mean",
    "secon_mean",
    "same_day_share",
    "over_14_days_share",
    "over_21_days_share",
    "over_28_days_share",
    "days_to_appointment_median",
    "unmet_demand_per_1000_patients",
    "gp_contact_share",
    "nurse_contact_share",
    "preferred_clinician_share",
    "upc_gp_mean",
    "contacts_per_patient_year",
    "wait_days_mean",
    "episode_days_mean",
    "backlog_end",
    "utilisation_mean",
    "cost_per_episode",
    "fragmentation_index",
]
CONTACT_COLUMNS = [
    "patient",
    "age_band",
    "n_ltc",
    "practice",
    "episode",
    "task_type",
    "urgency",
    "day_requested",
    "date_requested",
    "day_seen",
    "date_seen",
    "post",
    "person",
    "role",
    "staff_group",
    "preferred_post",
    "with_preferred",
]
DAILY_COLUMNS = [
    "day",
    "episodes_arrived",
    "tasks_created",
    "tasks_completed",
    "tasks_waiting",
    "handovers",
    "miscommunications",
    "supervisor_load_index",
]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True)


def _config(tmp: Path, filename: str = "small.yaml", **changes: object) -> Path:
    path = tmp / filename
    path.write_text(yaml.safe_dump({**SMALL, **changes}, sort_keys=False), encoding="utf-8")
    return path


def test_run_writes_the_output_contract(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = cli(
        "run",
        str(_config(tmp_path)),
        "--out",
        str(out),
        "--replicates",
        "2",
        "--seed",
        "5",
        "--log-events",
        "--workers",
        "1",
    )
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS
    assert len(summary) == 2 and summary["seed"].nunique() == 2
    daily = pd.read_parquet(out / "daily.parquet")
    assert set(DAILY_COLUMNS) <= set(daily.columns) and len(daily) == 20
    contacts = pd.read_parquet(out / "contacts.parquet")
    assert list(contacts.columns[2:]) == CONTACT_COLUMNS
    assert set(contacts["staff_group"]) <= {"gp", "nurse", "other"} and len(contacts) > 0
    assert (contacts["day_seen"] >= contacts["day_requested"]).all()
    assert (pd.to_datetime(contacts["date_seen"]) >= pd.to_datetime(contacts["date_requested"])).all()
    waits = pd.read_csv(out / "waits.csv")
    per_run = waits.groupby(["config", "replicate"])["contacts"].sum()
    assert per_run.tolist() == contacts.groupby(["config", "replicate"]).size().tolist()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["configs"][0]["sha256"]) == 64
    assert manifest["configs"][0]["resolved"]["handover"]["base_loss_probability"] == 0.1
    assert manifest["seeds"] == summary["seed"].tolist() and manifest["root_seed"] == 5
    assert {"handover_abm", "mesa", "python"} <= set(manifest["versions"]) and manifest["wall_time_s"] > 0
    events = pd.read_parquet(out / "events.parquet")
    assert len(events) == daily["handovers"].sum() > 0
    assert {
        "day",
        "episode",
        "patient",
        "from_post",
        "to_post",
        "from_role",
        "to_role",
        "from_org",
        "to_org",
        "tie_strength",
        "loss_probability",
        "information_lost",
        "outcome",
    } <= set(events.columns)
    assert set(events["outcome"]) <= {"none", "rework", "hidden"}
    assert (events["outcome"] != "none").sum() == events["information_lost"].sum()
    assert not list(out.glob(".*"))  # no temporary files left behind
    staff = pd.read_parquet(out / "staff.parquet")
    assert len(staff) == 2 * 5
    assert set(json.loads((out / "network.json").read_text())) == {"small"}


def test_same_seed_gives_byte_identical_summary_serial_or_parallel(tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    outs = []
    for k, workers in enumerate(["1", "1", "2"]):
        out = tmp_path / f"o{k}"
        assert cli("run", cfg, "--out", str(out), "--replicates", "3", "--workers", workers).returncode == 0
        outs.append((out / "summary.csv").read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_compare_prints_paired_table(tmp_path: Path) -> None:
    a = _config(tmp_path, "a.yaml", name="alpha")
    b = _config(tmp_path, "b.yaml", name="beta", routing={"policy": "continuity_first"})
    out = tmp_path / "cmp"
    res = cli("compare", str(a), str(b), "--out", str(out), "--replicates", "3", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert "alpha" in res.stdout and "beta" in res.stdout and "annual staff cost" in res.stdout
    comp = pd.read_csv(out / "comparison.csv")
    assert {"config", "metric", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high"} <= set(
        comp
    )
    assert (comp[comp["config"] == "alpha"]["diff"].fillna(0) == 0).all()
    seeds = pd.read_csv(out / "summary.csv").groupby("config")["seed"].apply(list)
    assert seeds["alpha"] == seeds["beta"]  # common random numbers


def test_set_overrides_and_validate(tmp_path: Path) -> None:
    cfg = str(_config(tmp_path))
    out = tmp_path / "o"
    res = cli(
        "run",
        cfg,
        "--out",
        str(out),
        "--set",
        "routing.policy=continuity_first",
        "--set",
        "team.0.count=3",
        "--days",
        "4",
    )
    assert res.returncode == 0, res.stderr
    resolved = json.loads((out / "manifest.json").read_text())["configs"][0]["resolved"]
    assert resolved["routing"]["policy"] == "continuity_first" and resolved["team"][0]["count"] == 3
    assert resolved["days"] == 4
    res = cli("validate", cfg)
    assert res.returncode == 0 and "base_loss_probability" in res.stdout and "valid" in res.stdout


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"populaton": {"size": 10}}, ["populaton", "allowed keys"]),
        ({"days": "many"}, ["days", "integer"]),
        ({"team": [{"role": "gp_partner", "count": -2}]}, ["team[0].count", "greater than or equal to 0"]),
        ({"team": [{"role": "gp_partner", "fte": -0.5}]}, ["team[0].fte"]),
        ({"team": [{"role": "gp_partnr"}]}, ["gp_partnr", "allowed roles"]),
        (
            {"team": [{"role": "practice_nurse", "tasks": ["home_visit"]}, {"role": "gp_partner"}]},
            ["home_visit", "allowed task types"],
        ),
    ],
)
def test_bad_config_exits_2_naming_file_and_key_and_writes_nothing(
    tmp_path: Path, changes: dict, needles: list[str]
) -> None:
    cfg = _config(tmp_path, "bad.yaml", **changes)
    out = tmp_path / "out"
    for command in (["run", str(cfg), "--out", str(out)], ["validate", str(cfg)]):
        res = cli(*command)
        assert res.returncode == 2, res.stdout
        assert "bad.yaml" in res.stderr and "Traceback" not in res.stderr
        for needle in needles:
            assert needle in res.stderr, (needle, res.stderr)
        assert res.stderr.strip().count("\n") == 0  # one paragraph
    assert not out.exists()


def test_missing_file_and_bad_override_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = cli("run", str(tmp_path / "nope.yaml"), "--out", str(out))
    assert res.returncode == 2 and "nope.yaml" in res.stderr and "not found" in res.stderr
    res = cli("run", str(_config(tmp_path)), "--out", str(out), "--set", "routing.polcy=x")
    assert res.returncode == 2 and "routing.polcy" in res.stderr
    res = cli("compare", str(_config(tmp_path)), str(tmp_path / "gone.yaml"), "--out", str(out))
    assert res.returncode == 2 and "gone.yaml" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["sweep", "spec.yaml", "--bogus"], "No such option: --bogus"),
        (["run"], "Missing argument"),
        (["run", "x.yaml", "--replicates", "many"], "Invalid value for '--replicates'"),
    ],
)
def test_usage_errors_exit_2_with_a_message_not_a_traceback(args: list[str], needle: str) -> None:
    res = cli(*args)
    assert res.returncode == 2
    assert needle in res.stderr and "Traceback" not in res.stderr


def test_role_figures_can_be_set_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = cli(
        "run", str(_config(tmp_path)), "--out", str(out), "--set", "roles.physician_associate.hourly_cost=60"
    )
    assert res.returncode == 0, res.stderr
    resolved = json.loads((out / "manifest.json").read_text())["configs"][0]["resolved"]
    assert resolved["roles"]["physician_associate"]["hourly_cost"] == 60


def test_help_shows_no_type_beside_flags() -> None:
    """A flag takes no value, so the help must not print one ("--version <bool>" did in Typer 0.29)."""
    from typer.main import get_command
    from typer.testing import CliRunner

    from handover_abm.cli import app

    runner = CliRunner()
    commands = [[], *[[name] for name in get_command(app).commands]]
    for command in commands:
        result = runner.invoke(app, [*command, "--help"], terminal_width=100)
        assert result.exit_code == 0, (command, result.output)
        assert "--help" in result.output
        assert "<bool>" not in result.output and "BOOLEAN" not in result.output, (command, result.output)
