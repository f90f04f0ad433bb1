"""The dashboard's pure functions, without a browser (tests/test_dashboard.py drives the page): a
post of any role added with its usual employer, the team saved as a config file the command line
accepts and the dashboard reloads to the same team, warnings for a doubtful team, the root seed's
bounds, what makes results out of date, and the results as CSV and as a chart."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from handover_abm.cli import app as cli
from handover_abm.config import ConfigError, scenario_from_dict
from handover_abm.experiment import Replicates, load_configs
from handover_abm.glossary import BOARD, display_name, label, task_label
from handover_abm.limits import MAX_SEED, check_seed
from handover_abm.metrics import TABLE_METRICS
from handover_abm.plots import OKABE_ITO
from handover_abm.stats import comparison_table
from tests.conftest import CONFIGS

pytest.importorskip("solara", reason="the dashboard extra is not installed")
from handover_abm import app  # needs the dashboard extra

TEAM: dict[str, Any] = {
    "name": "small",
    "description": "a small team",
    "days": 40,
    "population": {"size": 1500, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ],
    "routing": {"policy": "continuity_first"},
}


def with_team(*entries: dict[str, Any]) -> dict[str, Any]:
    """TEAM with its team replaced."""
    return {**TEAM, "team": list(entries)}


def test_a_post_of_any_role_is_added_with_its_usual_employer() -> None:
    """One whole-time post (the schema's default FTE), employed as in every shipped config."""
    for path in sorted(CONFIGS.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text())["team"]:
            assert app.default_employer(entry["role"]) == entry.get("organisation", "practice"), path
    added = app.with_post(TEAM, "mental_health_practitioner")
    assert added["team"][:-1] == TEAM["team"] and len(TEAM["team"]) == 3  # a copy, the original kept
    assert added["team"][-1] == {
        "role": "mental_health_practitioner",
        "count": 1,
        "fte": 1.0,
        "organisation": "mental_health_trust",
    }
    assert app.with_post(TEAM, "healthcare_assistant")["team"][-1]["organisation"] == "practice"
    assert app.with_post(TEAM, "paramedic")["team"][-1]["organisation"] == "pcn"
    scenario = scenario_from_dict(app.with_post(added, "paramedic"))
    assert [e.role for e in scenario.team][-2:] == ["mental_health_practitioner", "paramedic"]


def test_a_saved_team_validates_and_reloads_to_the_same_team(tmp_path: Path) -> None:
    """The file `handover-abm validate` accepts, and loaded back it is the team as edited under a
    name that tells it from the config it started from."""
    edited = app.edited(app.with_post(TEAM, "paramedic"), ["team", 0, "count"], 3)
    name, text = app.team_file(edited, edited=True)
    assert name == "small_edited.yaml" and text.startswith("# A team saved from the handover-abm dashboard")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0 and f"{path}: valid" in result.output, result.output
    reloaded = app.config_data(path.read_bytes(), name, own=True)
    assert reloaded == {**edited, "name": "small_edited"}
    assert scenario_from_dict(reloaded) == scenario_from_dict({**edited, "name": "small_edited"})
    assert app.team_file(reloaded, edited=True)[0] == name  # edited again: not small_edited_edited
    assert app.team_file(TEAM, edited=False)[0] == "small.yaml"
    assert app.team_file({**TEAM, "name": "my team / v2"}, edited=False)[0] == "my_team_v2.yaml"


def test_a_team_with_no_gp_or_without_its_supervisors_is_warned_of_not_refused() -> None:
    """No GP: the team runs, warned that GP continuity cannot be measured and which GP work no one
    does; a role whose own supervisors are missing is named with who supervises it instead."""
    assert app.team_warnings(scenario_from_dict(yaml.safe_load((CONFIGS / "default.yaml").read_text()))) == []
    assert app.team_warnings(scenario_from_dict(TEAM)) == []
    no_gp = with_team(
        {"role": "gp_partner", "count": 0},
        {"role": "advanced_nurse_practitioner", "count": 2},
        {"role": "practice_nurse", "count": 1},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
        {"role": "mental_health_practitioner", "count": 1, "organisation": "mental_health_trust"},
    )
    first, *rest = app.team_warnings(scenario_from_dict(no_gp))
    assert first.startswith("No GP in this team") and label("upc_gp_mean") in first
    assert task_label("gp_review") in first and "these tasks are dropped" in first
    needs = "needs a supervisor who is a GP partner or Salaried GP; none in this team supervises"
    to_anp = "so the runs give its supervision to Advanced nurse practitioner instead."
    assert rest == [  # not the nurse (supervised by an ANP) nor the trust's practitioner (by the trust)
        f"Advanced nurse practitioner {needs}, {to_anp}",
        f"Physician associate {needs}, {to_anp}",
    ]
    alone = app.team_warnings(scenario_from_dict(with_team({"role": "advanced_nurse_practitioner"})))
    assert alone[1].endswith("so its posts have no supervisor in the runs.")
    gp_no_time = with_team({"role": "salaried_gp", "count": 2, "fte": 0}, {"role": "practice_nurse"})
    assert app.team_warnings(scenario_from_dict(gp_no_time))[0].startswith("No GP in this team")
    # a team the model cannot run (no supervisor at all) is refused, as before
    app.team_data.value = with_team({"role": "physician_associate", "organisation": "pcn"})
    scenario, problem = app.current_scenario()
    assert scenario is None and "no supervisor" in problem


def test_the_root_seed_is_bounded_as_the_command_lines() -> None:
    """0 to 2^63 - 1, refused outside with the command line's message."""
    assert app.seed_problem(0) == app.seed_problem(MAX_SEED) == ""
    for bad in (-1, MAX_SEED + 1):
        with pytest.raises(ConfigError) as refused:
            check_seed(bad, "Root seed")
        assert app.seed_problem(bad) == str(refused.value) and "allowed 0 to" in str(refused.value)


def test_results_are_out_of_date_when_any_input_changes() -> None:
    """Every input that changes the runs is named when it differs from the results' own."""
    ran = app.Inputs(TEAM, {"name": "other"}, 5, 205, 80, 0)
    assert app.changed(ran, app.Inputs(dict(TEAM), {"name": "other"}, 5, 205, 80, 0)) == []
    edits = {
        "team": app.edited(TEAM, ["team", 1, "fte"], 0.5),
        "comparison": {"name": "another"},
        "replicates": 6,
        "measured_days": 100,
        "warmup_days": 40,
        "seed": 1,
    }
    for field, value in edits.items():
        now = app.Inputs(**{**ran.__dict__, field: value})
        assert app.changed(ran, now) == [app.INPUT_WORDS[field]]
    assert app.changed(ran, app.Inputs(TEAM, {"name": "other"}, 3, 205, 80, 7)) == ["replicates", "root seed"]


@pytest.fixture
def result() -> app.YearResult:
    """A comparison of made-up replicates: this team sees more patients the same day, costs more
    and has no GP continuity to measure (no GP contacts)."""
    other, mine = load_configs([{**TEAM, "name": "theirs"}, {**TEAM, "name": "mine"}])
    rng = np.random.default_rng(3)
    rows = []
    for config, shift in (("theirs", 0.0), ("mine", 1.0)):
        for r in range(4):
            row = {"config": config, "replicate": r}
            for m in TABLE_METRICS:
                row[m] = 0.3 + 0.05 * rng.random() if "share" in m or "_mean" in m else 5 + rng.random()
            row["same_day_share"] = 0.4 + 0.2 * shift + 0.01 * r
            row["annual_staff_cost"] = 500_000 + 100_000 * shift
            row["upc_gp_mean"] = math.nan if shift else 0.6
            rows.append(row)
    table = comparison_table(pd.DataFrame(rows), TABLE_METRICS)
    inputs = app.Inputs(TEAM, TEAM, 4, 20, 20, 0)
    return app.YearResult(inputs, Replicates([other, mine], [1, 2, 3, 4], 20, []), table)


def test_the_results_table_downloads_as_the_command_lines_csv_with_verdicts(result: app.YearResult) -> None:
    """comparison.csv's columns and rows, and this team's verdict on each outcome."""
    rows = list(csv.DictReader(app.results_csv(result).decode().splitlines()))
    assert list(rows[0]) == [*result.table.columns, "verdict"]
    assert len(rows) == 2 * len(TABLE_METRICS)
    assert {r["verdict"] for r in rows if r["config"] == "theirs"} == {""}
    mine = {r["metric"]: r for r in rows if r["config"] == "mine"}
    assert mine["same_day_share"]["verdict"] == "better" and mine["annual_staff_cost"]["verdict"] == "worse"
    assert float(mine["annual_staff_cost"]["diff"]) == 100_000


def test_the_chart_shows_each_board_outcomes_paired_difference(result: app.YearResult) -> None:
    """One row per board outcome, in the board's order, named from the glossary, with the verdict
    in words beside it and the point at the paired difference; none where it cannot be measured."""
    rows = app.board_calls(result)
    assert [c.metric for c in rows] == [m for names in BOARD.values() for m in names]
    fig = app.differences_figure(rows)
    assert len(fig.axes) == len(rows)
    for ax, c in zip(fig.axes, rows, strict=True):
        name, verdict = (t.get_text() for t in ax.texts)
        assert name.replace("\n", " ") == display_name(c.metric) and verdict == c.verdict
        points = [line.get_xdata()[0] for line in ax.lines if line.get_marker() == "o"]
        assert points == ([] if math.isnan(c.diff) else [pytest.approx(c.diff)]), c.metric
        lo, hi = ax.get_xlim()
        assert lo == -hi and (math.isnan(c.diff) or abs(c.diff) < hi)  # zero in the middle
    by = dict(zip([c.metric for c in rows], fig.axes, strict=True))
    assert by["same_day_share"].texts[1].get_color() == OKABE_ITO[2]  # better
    assert by["annual_staff_cost"].texts[1].get_color() == OKABE_ITO[5]  # worse
    assert math.isnan(next(c for c in rows if c.metric == "upc_gp_mean").diff)
