"""SALib wiring checked on functions with known indices; the pilot that flags parameters a design never
exercises, and the marks it leaves on the indices, the manifest and the report."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from handover_abm.folders import verified_manifest
from handover_abm.report import _indices_html
from handover_abm.sensitivity import (
    NO_EFFECT,
    Flag,
    Pilot,
    analyse,
    notes_for,
    plan,
    problem_for,
    run_pilot,
    run_sensitivity,
    sample_unit,
    unexercised,
)


def _ishigami(unit: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * unit  # map [0, 1] to [-pi, pi]
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_recovers_ishigami_indices() -> None:
    """Analytic values (Ishigami & Homma 1990; Saltelli et al. 2008).

    S1 = .314, .442, 0 and ST = .558, .442, .244.
    """
    problem = problem_for(["x1", "x2", "x3"])
    x = sample_unit("sobol", problem, 2048, seed=1)
    table = analyse("sobol", problem, x, _ishigami(x), seed=1)
    assert np.allclose(table["S1"], [0.314, 0.442, 0.0], atol=0.05)
    assert np.allclose(table["ST"], [0.558, 0.442, 0.244], atol=0.05)
    assert (table["ST_conf"] > 0).all()


def test_morris_ranks_a_linear_function() -> None:
    """y = 10 a + 3 b + 0 c: mu* is proportional to the coefficients (exact for a linear function)."""
    problem = problem_for(["a", "b", "c"])
    x = sample_unit("morris", problem, 20, seed=2)
    y = 10 * x[:, 0] + 3 * x[:, 1]
    table = analyse("morris", problem, x, y, seed=2).set_index("parameter")
    assert np.allclose(table.loc[["a", "b", "c"], "mu_star"], [10, 3, 0], atol=1e-9)
    assert np.allclose(table["sigma"], 0, atol=1e-9)


# ---------------------------------------------------------------- parameters the design never exercises

BASE = {
    "name": "tiny",
    "days": 20,
    "population": {"size": 400, "practices": 1},
    "team": [
        {"role": "gp_partner", "count": 2},
        {"role": "practice_nurse", "count": 1, "tasks": ["nurse_procedure", "phlebotomy"]},
    ],
}
IDLE_ROLE = "roles.physician_associate.salary"  # no physician associate post
IDLE_TASK = "roles.practice_nurse.scope.chronic_disease_review.time"  # outside the nurse's tasks
BUSY = "roles.gp_partner.scope.assessment.time"  # GPs assess every new problem


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spec")
    (folder / "base.yaml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    data = {
        "name": "tiny",
        "base": "base.yaml",
        "parameters": {
            IDLE_ROLE: {"range": [40000, 60000]},
            IDLE_TASK: {"range": [0.8, 1.2]},
            BUSY: {"range": [0.8, 1.5]},
        },
        "design": "lhs",
        "samples": 2,
        "seed": 5,
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder / "spec.yaml"


def test_the_pilot_flags_a_role_without_posts_and_a_task_a_role_never_got(spec: Path) -> None:
    sweep, _, _ = plan(spec, "morris")
    pilot = run_pilot(sweep)
    assert pilot.days == {"tiny": 20}  # the design's 20 days, fewer than PILOT_DAYS
    assert pilot.most_work == {IDLE_TASK: 0.8, BUSY: 0.8}  # the quickest end of each speed
    assert "assessment" in pilot.tasks["gp_partner"]
    assert pilot.tasks["practice_nurse"] == ["nurse_procedure", "phlebotomy"]
    flags = unexercised(sweep, pilot)
    assert [f.parameter for f in flags] == [IDLE_ROLE, IDLE_TASK]
    assert flags[0].reason == "no physician associate post in any team swept" and not flags[0].by_pilot
    assert flags[1].reason == "no practice nurse got a chronic disease review task" and flags[1].by_pilot
    assert "drop it from the spec" in flags[1].line(pilot) and "20 working days" in flags[1].line(pilot)
    again = run_pilot(sweep)  # seeded: the same pilot every time
    assert {**asdict(again), "wall_s": 0} == {**asdict(pilot), "wall_s": 0}


def test_supervision_and_team_entry_figures_nobody_uses_are_flagged() -> None:
    """Without runs: what a pilot that saw no supervised associate and no reviewed role implies."""
    pilot = Pilot(
        days={"t": 60},
        seed=1,
        posts={"t": {"gp_partner": 2, "physician_associate": 1}},
        tasks={"gp_partner": ["assessment"], "physician_associate": ["assessment"]},
        supervised=[],
        reviewed=["physician_associate"],
        entries={"care_coordinator": 0, "gp_partner": 2},
        most_work={},
        wall_s=0.0,
    )
    sweep = SimpleNamespace(
        spec=SimpleNamespace(
            parameters=dict.fromkeys(
                [
                    "team.care_coordinator.fte",
                    "team.gp_partner.fte",
                    "roles.physician_associate.supervision.query_rate",
                    "roles.gp_partner.supervision.review_minutes",
                    "roles.physician_associate.scope.assessment.time",
                ]
            )
        )
    )
    flags = {f.parameter: f.reason for f in unexercised(sweep, pilot)}  # type: ignore[arg-type]
    assert flags == {
        "team.care_coordinator.fte": "team entry care_coordinator has no posts in any team swept",
        "roles.physician_associate.supervision.query_rate": (
            "no physician associate post has a supervisor (the role needs none, or its employer "
            "supervises it)"
        ),
        "roles.gp_partner.supervision.review_minutes": (
            "GP partner tasks are not signed off case by case (case_review is false in the role catalogue)"
        ),
    }


@pytest.fixture(scope="module")
def analysed(spec: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, list[str]]:
    out = tmp_path_factory.mktemp("sensitivity") / "out"
    heard: list[str] = []

    def on_pilot(pilot: Pilot, flags: list[Flag]) -> None:
        assert not (out / "runs.jsonl").exists()  # told before any run of the design
        heard.extend(f.parameter for f in flags)

    table = run_sensitivity(spec, "morris", out, workers=1, on_pilot=on_pilot)
    return out, table, heard


def test_zero_effect_parameters_are_marked_with_the_pilots_reason(analysed: Any) -> None:
    out, table, heard = analysed
    assert heard == [IDLE_ROLE, IDLE_TASK]
    notes = table.drop_duplicates("parameter").set_index("parameter")["note"]
    assert notes[IDLE_ROLE] == f"{NO_EFFECT}; never exercised: no physician associate post in any team swept"
    assert (
        notes[IDLE_TASK]
        == f"{NO_EFFECT}; never exercised: no practice nurse got a chronic disease review task"
    )
    assert notes[BUSY] == "" and table[table["parameter"] == BUSY]["mu_star"].max() > 0
    manifest = verified_manifest(out)  # indices.csv, with its notes, is the file the manifest vouches for
    assert pd.read_csv(out / "indices.csv")["note"].fillna("").tolist() == table["note"].tolist()
    assert [f["parameter"] for f in manifest["unexercised"]] == [IDLE_ROLE, IDLE_TASK]
    assert manifest["no_effect"] == [IDLE_ROLE, IDLE_TASK] and manifest["pilot"]["days"] == {"tiny": 20}


def test_the_report_marks_zero_effect_parameters(analysed: Any) -> None:
    _, table, _ = analysed
    html = _indices_html(table, "morris", ["gp_partner", "practice_nurse"])
    assert "<th>note</th>" in html
    assert (
        "no effect in this design; never exercised: no practice nurse got a chronic disease review task"
        in html
    )
    assert "<th>note</th>" not in _indices_html(table.drop(columns="note"), "morris", [])  # older folders


def test_notes_say_no_effect_and_part_of_the_design() -> None:
    """Every index exactly 0: no effect (with the pilot's reason if flagged); a flagged parameter that
    moved an outcome was exercised in part of the design only (the pilot runs one point, briefly)."""
    table = pd.DataFrame(
        {
            "metric": ["m", "m", "m", "n", "n", "n"],
            "parameter": ["x", "y", "z"] * 2,
            "mu_star": [0, 0, 0.5, 0, 0.1, 0],
        }
    )
    flags = [Flag("z", "no paramedic got a diagnosis task", "drop it", True)]
    assert notes_for(table, "morris", ["x", "y", "z"], flags) == {
        "x": NO_EFFECT,
        "z": "exercised in part of the design only (in the pilot: no paramedic got a diagnosis task)",
    }
