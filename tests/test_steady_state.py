"""Steady state of the measured period: the trend of work waiting and the change between halves,
measured on synthetic series, carried by every run's summary, and said in words (terminal, report,
notebook API) for a team that does not keep up with demand, and only for such a team."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import handover_abm as ha
from handover_abm import report
from handover_abm.cli import app
from handover_abm.experiment import DEFAULT_SEED, load_configs, resolve_warmup
from handover_abm.metrics import (
    EXTRA,
    HEADLINE,
    STEADY_STATE_METRICS,
    TABLE_METRICS,
    WORKING_DAYS_PER_MONTH,
    half_change,
    steady_state,
    trend_per_month,
)
from handover_abm.simulate import simulate
from handover_abm.terminal import print_results
from handover_abm.verdict import KEEP_UP_SHARE_PER_MONTH, Backlog, backlogs, keep_up_notes

POP = {"size": 3000, "practices": 1}
# Keeps up: its work waiting settles within the 70 measured days after a 70-day warm-up (work is
# booked up to the 30-day horizon ahead, so a shorter warm-up still sees the book filling).
KEEPS = {
    "name": "keeps_up",
    "days": 140,
    "population": POP,
    "team": [
        {"role": "gp_partner", "count": 2},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
        {"role": "pharmacy_technician", "count": 1, "organisation": "pcn"},
        {"role": "care_coordinator", "count": 1, "organisation": "pcn"},
        {"role": "practice_nurse", "count": 2},
        {"role": "advanced_nurse_practitioner", "count": 2},
    ],
}
# Far too little GP time for the physician associates' per-case reviews: work waiting grows by
# about 15-20% of its level a month, in every seed tried.
BEHIND = {
    "name": "behind",
    "days": 140,
    "population": POP,
    "team": [
        {"role": "gp_partner", "count": 1, "fte": 0.2},
        {"role": "physician_associate", "count": 3, "organisation": "pcn"},
        {"role": "practice_nurse", "count": 1},
    ],
}
STATEMENT = "this team does not keep up with demand; results depend on how long it runs"


# ---------------------------------------------------------------- the measures


def test_a_flat_series_has_no_trend_and_no_change_between_halves() -> None:
    flat = np.full(120, 500.0)
    assert trend_per_month(flat) == pytest.approx(0.0, abs=1e-9)
    assert half_change(flat) == pytest.approx(0.0, abs=1e-9)


def test_a_linear_growth_gives_its_slope_per_month_of_working_days() -> None:
    days = np.arange(100)
    rising = 100 + 3.0 * days  # 3 tasks a working day
    assert trend_per_month(rising) == pytest.approx(3.0 * WORKING_DAYS_PER_MONTH)
    # halves of 50 days: their mean days are 24.5 and 74.5, 50 days apart
    assert half_change(rising) == pytest.approx(150.0)
    assert trend_per_month(rising, days_per_month=1) == pytest.approx(3.0)


def test_noise_about_a_trend_leaves_the_trend() -> None:
    rng = np.random.default_rng(20260101)
    days = np.arange(300)
    noisy = 500 + 2.0 * days + rng.normal(0, 20, days.size)
    # standard error of the slope: 20 / sqrt(sum (t - mean t)^2) = 0.008 a day, 0.17 a month
    assert trend_per_month(noisy) == pytest.approx(2.0 * WORKING_DAYS_PER_MONTH, abs=1.0)
    flat = 500 + rng.normal(0, 20, days.size)
    assert abs(trend_per_month(flat)) < 1.0
    assert abs(half_change(flat)) < 10.0  # standard error of a difference of two means of 150: 2.3


def test_too_short_a_series_has_no_measure() -> None:
    assert math.isnan(trend_per_month([5.0])) and math.isnan(half_change([5.0]))
    assert math.isnan(steady_state([], {}, None, {})["waiting_mean"])


def test_waits_by_half_come_from_the_totals_at_start_middle_and_end() -> None:
    start = {"episodes_completed": 10.0, "ep_wait_days": 20.0}
    midway = {"episodes_completed": 110.0, "ep_wait_days": 220.0}  # 2 days each in the first half
    end = {"episodes_completed": 210.0, "ep_wait_days": 720.0}  # 5 days each in the second
    out = steady_state([1.0, 2.0, 3.0, 4.0], end, midway, start)
    assert out["wait_days_half_change"] == pytest.approx(3.0)
    assert out["waiting_mean"] == pytest.approx(2.5) and out["waiting_half_change"] == pytest.approx(2.0)
    assert math.isnan(steady_state([1.0, 2.0], end, None, start)["wait_days_half_change"])


# ---------------------------------------------------------------- the threshold


def _table(rows: dict[str, tuple[float, float, float, float]]) -> pd.DataFrame:
    """A comparison table holding only growth (mean, low, high) and the mean level of each config."""
    out: list[dict[str, Any]] = []
    for cfg, (growth, low, high, level) in rows.items():
        out.append(
            {
                "config": cfg,
                "metric": "waiting_growth_per_month",
                "mean": growth,
                "ci_low": low,
                "ci_high": high,
            }
        )
        out.append(
            {"config": cfg, "metric": "waiting_mean", "mean": level, "ci_low": level, "ci_high": level}
        )
    return pd.DataFrame(out)


def test_growth_above_the_share_with_its_interval_above_zero_does_not_keep_up() -> None:
    share = KEEP_UP_SHARE_PER_MONTH
    table = _table(
        {
            "fast": (2 * share * 1000, share * 1000, 3 * share * 1000, 1000.0),  # twice the share
            "slow": (0.8 * share * 1000, 0.5 * share * 1000, share * 1000, 1000.0),  # below it
            "unsure": (2 * share * 1000, -5.0, 4 * share * 1000, 1000.0),  # interval spans zero
            "falling": (-50.0, -60.0, -40.0, 1000.0),
        }
    )
    found = backlogs(table)
    assert [b.config for b in found.values() if not b.keeps_up] == ["fast"]
    assert not found["slow"].settled and found["unsure"].settled and found["falling"].settled
    notes = keep_up_notes(table)
    assert len(notes) == 2 and notes[0].startswith("fast: waiting work grows by about 50 tasks a month")
    assert STATEMENT in notes[0] and STATEMENT not in notes[1] and "has not settled" in notes[1]


def test_one_replicate_is_judged_on_its_growth_alone() -> None:
    one = Backlog("one", growth=100.0, low=math.nan, high=math.nan, level=1000.0)
    assert not one.keeps_up and "one replicate, no interval" in (one.note() or "")


# ---------------------------------------------------------------- a run carries them


def test_a_runs_summary_carries_the_steady_state_metrics() -> None:
    out = simulate(load_configs([KEEPS])[0], 1, warmup_days=70)
    s = out.summary
    assert set(s) == set(HEADLINE) | set(EXTRA)
    assert "waiting_growth_per_month" in HEADLINE and set(STEADY_STATE_METRICS) <= set(TABLE_METRICS)
    measured = np.asarray(out.daily["tasks_waiting"][70:])
    assert measured.size == 70
    assert s["waiting_mean"] == pytest.approx(measured.mean())
    assert s["waiting_growth_per_month"] == pytest.approx(trend_per_month(measured))
    assert s["waiting_half_change"] == pytest.approx(half_change(measured))
    assert math.isfinite(s["wait_days_half_change"])
    frame = out.to_frame().set_index("metric")
    assert frame.loc["waiting_growth_per_month", "label"] == "Growth of work waiting"


# ---------------------------------------------------------------- said in words


@pytest.fixture(scope="module")
def result() -> ha.Comparison:
    return ha.compare([KEEPS, BEHIND], replicates=3, workers=1)


def test_the_notebook_api_says_which_team_does_not_keep_up(result: ha.Comparison) -> None:
    behind = [w for w in result.warnings if STATEMENT in w]
    assert len(behind) == 1 and behind[0].startswith("behind: waiting work grows by about ")
    text = repr(result)
    assert "behind does not keep up with demand: waiting work grows by about" in text
    assert "keeps_up does not keep up" not in text and "keeps_up: waiting work grows" not in text
    assert "root seed 0" in text and "70 working days" in text  # what was measured
    frame = result.to_frame([*STEADY_STATE_METRICS, "waiting_growth_per_month"])
    assert set(frame["metric"]) == {*STEADY_STATE_METRICS, "waiting_growth_per_month"}
    growth = frame.set_index(["config", "metric"]).loc[("behind", "waiting_growth_per_month")]
    assert growth["lo"] > 0 and growth["verdict"] == "worse"
    access = result.verdicts()[0].group_note("access")
    assert access.startswith("behind does not keep up with demand") and "keeps_up" not in access


def test_a_team_that_keeps_up_gets_no_statement() -> None:
    other = {
        **KEEPS,
        "name": "generalists",
        "team": [{"role": "gp_partner", "count": 3}, {"role": "practice_nurse", "count": 2}],
    }
    both = ha.compare([KEEPS, other], replicates=3, workers=1)
    assert not any("keep up" in w for w in both.warnings)
    assert "does not keep up" not in repr(both)
    console = Console(record=True, width=100)
    print_results(console, both.table, TABLE_METRICS, True, [])
    assert "does not keep up" not in console.export_text()


def test_terminal_and_report_say_so(
    result: ha.Comparison, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = Console(record=True, width=100)
    print_results(console, result.table, TABLE_METRICS, True, [], measured="Measured: a test period.")
    shown = console.export_text()
    assert shown.startswith("Measured: a test period.")
    assert "warning: behind: waiting work grows by about" in shown and "keeps_up: waiting" not in shown
    paths = []
    for cfg in (KEEPS, BEHIND):
        paths.append(tmp_path / f"{cfg['name']}.yaml")
        paths[-1].write_text(pd.Series(cfg).to_json(), encoding="utf-8")  # JSON is YAML
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["compare", *map(str, paths), "--out", str(out), "--replicates", "3", "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # the terminal wraps lines at 100 columns
    assert "behind: waiting work grows by about" in said and STATEMENT in said
    assert "behind does not keep up with demand: waiting work grows by about" in said  # the verdict
    monkeypatch.setattr(report, "plot_files", lambda *_: [])  # the words, not the figures (test_plots)
    page = report.write_report(out).read_text(encoding="utf-8")
    assert "behind: waiting work grows by about" in page and STATEMENT in page
    assert "behind does not keep up with demand (waiting work grows by about" in page  # access row
    assert "keeps_up: waiting work grows" not in page and "root seed 0" in page


def test_the_dashboard_measures_what_the_command_line_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard's default period is the config's run less the default warm-up, and its seed the
    command line's root seed, so the same team shows the same numbers in both."""
    dash = pytest.importorskip("handover_abm.app", reason="the dashboard extra is not installed")
    start = tmp_path / "keeps_up.yaml"
    start.write_text(pd.Series(KEEPS).to_json(), encoding="utf-8")
    monkeypatch.setenv(dash.CONFIG_ENV, str(start))
    monkeypatch.chdir(tmp_path)
    dash.library.value = {}
    dash.ensure_started()
    assert (dash.warmup_days.value, dash.measured_days.value) == (70, 70)
    assert resolve_warmup(load_configs([KEEPS]), None) == 70
    scenarios, problem = dash.year_scenarios()
    assert problem == "" and all(s.days == KEEPS["days"] for s in scenarios)
    assert dash.seed.value == DEFAULT_SEED == 0
