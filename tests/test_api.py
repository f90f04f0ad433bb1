"""The notebook API: compare/sweep/sensitivity return tidy frames and figures with human labels,
through the same engine as the command line (identical numbers), and the tutorial notebook runs."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import handover_abm as ha
from handover_abm.cli import app
from handover_abm.config import ConfigError
from handover_abm.glossary import METRICS
from handover_abm.verdict import BETTER, SAME, WORSE

ROOT = Path(__file__).resolve().parents[1]
TEAM = {
    "name": "team_a",
    "days": 30,
    "population": {"size": 800, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
    ],
}
OTHER = copy.deepcopy(TEAM) | {"name": "team_b"}
OTHER["team"] = [*OTHER["team"], {"role": "physician_associate", "count": 2, "organisation": "pcn"}]
CONFIG_PATH = re.compile(r"\b[a-z]+\.[a-z0-9_]+")  # e.g. team.7.count, supervision.protected_...


def _code_names(texts: list[str]) -> list[str]:
    """Texts that show a metric's code name or a config path."""
    return [t for t in texts if CONFIG_PATH.search(t) or any(m in t for m in METRICS if "_" in m)]


def _texts(fig: plt.Figure) -> list[str]:
    out = [fig._suptitle.get_text()] if fig._suptitle else []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    return [t for t in out if t]


@pytest.fixture(scope="module")
def result() -> ha.Comparison:
    return ha.compare([TEAM, OTHER], replicates=3, days=30, seed=7, warmup_days=10, workers=1)


def test_compare_to_frame_is_tidy_with_paired_differences(result: ha.Comparison) -> None:
    frame = result.to_frame()
    first = ["config", "metric", "label", "unit", "n", "mean", "lo", "hi", "baseline", "diff"]
    assert list(frame.columns[:10]) == first
    assert set(frame["config"]) == {"team_a", "team_b"} and (frame["n"] == 3).all()
    assert (frame["baseline"] == "team_a").all()
    assert all(frame["label"] == [METRICS[m].label for m in frame["metric"]])
    base = frame[frame["config"] == "team_a"]
    assert (base["diff"].fillna(0) == 0).all() and (base["verdict"] == "").all()
    other = frame[frame["config"] == "team_b"].set_index("metric")
    means = frame.pivot(index="metric", columns="config", values="mean")
    # with every replicate present the mean paired difference is the difference of the means
    assert other["diff"].dropna().to_numpy() == pytest.approx(
        (means["team_b"] - means["team_a"]).loc[other["diff"].dropna().index].to_numpy(), abs=1e-9
    )
    ok = frame.dropna(subset=["lo"])
    assert ((ok["lo"] <= ok["mean"] + 1e-12) & (ok["mean"] <= ok["hi"] + 1e-12)).all()
    assert set(other["verdict"]) <= {BETTER, WORSE, SAME, "higher", "lower"}
    # two more posts cost more, exactly (the cost is set by the team, not by chance)
    assert other.loc["annual_staff_cost", "diff"] > 0
    assert other.loc["annual_staff_cost", "verdict"] == WORSE
    assert "team_b against team_a" in repr(result) and len(repr(result)) < 2000


def test_compare_matches_the_command_line(result: ha.Comparison, tmp_path: Path) -> None:
    """One engine: the CLI's comparison.csv holds the same numbers as the API's table."""
    paths = []
    for cfg in (TEAM, OTHER):
        p = tmp_path / f"{cfg['name']}.yaml"
        p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        paths.append(str(p))
    out = tmp_path / "out"
    args = ["compare", *paths, "--out", str(out), "--replicates", "3", "--seed", "7"]
    res = CliRunner().invoke(app, [*args, "--warmup-days", "10", "--workers", "1"])
    assert res.exit_code == 0, res.output
    cli = pd.read_csv(out / "comparison.csv").set_index(["config", "metric"])
    api = result.table.set_index(["config", "metric"])
    common = cli.index.intersection(api.index)
    assert len(common) == len(api)
    pd.testing.assert_series_equal(cli.loc[common, "mean"], api.loc[common, "mean"], check_exact=False)
    pd.testing.assert_series_equal(cli.loc[common, "diff"], api.loc[common, "diff"], check_exact=False)


def test_compare_is_reproducible_and_refuses_bad_input() -> None:
    a = ha.compare([TEAM], replicates=2, days=20, seed=3, workers=1).to_frame()
    b = ha.compare([TEAM], replicates=2, days=20, seed=3, workers=1).to_frame()
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ConfigError, match="not found"):
        ha.compare([ROOT / "no_such_config.yaml"], replicates=2)
    with pytest.raises(ConfigError, match="warmup"):
        ha.compare([TEAM], replicates=2, days=20, warmup_days=20)


def test_plots_have_human_labels(result: ha.Comparison) -> None:
    fig = result.plot()
    texts = _texts(fig)
    assert "Seen the same day" in texts and "Harm-risk events" in texts
    assert not _code_names(texts), texts
    plt.close(fig)
    with pytest.raises(ValueError, match="unknown metric"):
        result.plot(["no_such_metric"])


def test_comparison_plot_saves_png_and_svg(result: ha.Comparison, tmp_path: Path) -> None:
    """A bar per config in its own colour: the figure saves (it once failed on a list of colours)."""
    from tests.test_script_api import assert_valid_images

    fig = result.plot()
    fig.savefig(tmp_path / "c.png")
    fig.savefig(tmp_path / "c.svg")
    plt.close(fig)
    assert_valid_images(tmp_path / "c.png", tmp_path / "c.svg", "Seen the same day")


def test_outcomes_repr_is_short_and_to_frame_tidy() -> None:
    out = ha.simulate(TEAM, seed=1, warmup_days=5)
    assert len(repr(out)) < 200 and "team_a" in repr(out)
    frame = out.to_frame()
    assert list(frame.columns) == ["config", "seed", "metric", "label", "unit", "value"]
    assert frame.set_index("metric").loc["handovers_per_episode", "label"] == "Handovers per episode"


def _spec(tmp_path: Path, **changes: object) -> Path:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(TEAM), encoding="utf-8")
    spec = {
        "name": "protected_time",
        "base": "base.yaml",
        "days": 20,
        "warmup_days": 5,
        "parameters": {"supervision.protected_minutes_per_day": {"values": [15, 60]}},
        "replicates": 2,
        "seed": 5,
    } | changes
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_sweep_frame_and_plot(tmp_path: Path) -> None:
    res = ha.sweep(_spec(tmp_path), workers=1)
    frame = res.to_frame(["handovers_per_episode", "supervisor_load_index"])
    assert len(frame) == 2 * 2 and set(frame["supervision.protected_minutes_per_day"]) == {15, 60}
    first = frame[frame["point"] == 0]
    assert (first["diff"] == 0).all()
    load = frame[frame["metric"] == "supervisor_load_index"].set_index("point")
    # four times the protected time: the load as a multiple of it cannot rise
    assert load.loc[1, "mean"] <= load.loc[0, "mean"]
    fig = res.plot(["supervisor_load_index"])
    texts = _texts(fig)
    assert "Protected supervision time (minutes a day)" in texts
    assert not _code_names(texts), texts
    fig.savefig(tmp_path / "sweep.svg")  # draws every artist
    plt.close(fig)
    assert "Supervisor load" in (tmp_path / "sweep.svg").read_text(encoding="utf-8")
    assert "points=2" in repr(res)


def test_sensitivity_frame_and_plot(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        parameters={
            "supervision.protected_minutes_per_day": {"range": [15, 60]},
            "handover.or_full_tie": {"range": [0.2, 0.8]},
        },
        samples=2,
        replicates=1,
    )
    res = ha.sensitivity(spec, "morris", workers=1)
    frame = res.to_frame()
    assert {"metric", "label", "parameter", "parameter_label", "mu_star", "sigma"} <= set(frame.columns)
    assert set(frame["parameter"]) == {"supervision.protected_minutes_per_day", "handover.or_full_tie"}
    assert (frame["mu_star"] >= 0).all() and not math.isnan(frame["mu_star"].sum())
    fig = res.plot()
    assert not _code_names(_texts(fig)), _texts(fig)
    fig.savefig(tmp_path / "sensitivity.svg")  # draws every artist
    plt.close(fig)
    assert "Sensitivity (Morris)" in (tmp_path / "sensitivity.svg").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="morris, sobol"):
        ha.sensitivity(spec, "fast")


def test_tutorial_notebook_runs() -> None:
    """docs/tutorial.ipynb executes top to bottom (a small config, a few seconds)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    path = ROOT / "docs" / "tutorial.ipynb"
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "outputs not stripped"
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "against" in text  # the verdict sentences were printed
    (plot,) = [c for c in nb.cells if c.cell_type == "code" and "result.plot(" in c.source]
    assert any("image/png" in o.get("data", {}) for o in plot.outputs), plot.outputs  # drawn


def test_a_rounding_difference_in_fte_or_cost_is_no_verdict() -> None:
    from handover_abm.verdict import call

    assert call("team_fte", 64.8, 64.8005, -0.0005, -0.0005, -0.0005).verdict == SAME
    assert call("team_fte", 64.5, 64.8, -0.3, -0.3, -0.3).verdict == "lower"
    assert call("annual_staff_cost", 1e6, 1e6 + 0.2, -0.2, -0.2, -0.2).verdict == SAME
    assert call("annual_staff_cost", 1e6, 1.1e6, -1e5, -1e5, -1e5).verdict != SAME
