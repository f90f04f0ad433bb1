"""Figures ready for a paper, on small synthetic sweep tables (no model runs): a yes/no parameter is
drawn as categories, legends lie outside the axes, titles inside the canvas; the sweep report's
table of numbers and its warning on few replicates."""

from __future__ import annotations

import itertools
from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from handover_abm import plots, report
from handover_abm.api import SweepResult
from handover_abm.glossary import display_name, interval
from handover_abm.stats import sweep_table
from tests.conftest import small_scenario

MINUTES, SUPERVISES = "supervision.protected_minutes_per_day", "team.salaried_gp.supervises"
METRICS = ["handovers_per_episode", "supervisor_load_index", "same_day_share"]


def _runs(levels: dict[str, list[object]], replicates: int = 2) -> pd.DataFrame:
    """sweep.parquet rows of a grid over `levels`: random metrics, replicate r on seed r."""
    rng = np.random.default_rng(0)
    rows = []
    for point, values in enumerate(itertools.product(*levels.values())):
        for r in range(replicates):
            metrics = {m: rng.uniform(0.2, 0.8) for m in sorted({*METRICS, *plots.KEY_METRICS})}
            values_of = dict(zip(levels, values, strict=True))
            rows.append({"point": point, "replicate": r, "seed": r, **values_of, "status": "ok", **metrics})
    return pd.DataFrame(rows)


GRID = {MINUTES: [15, 45, 90], SUPERVISES: [True, False]}


def _drawn(fig: Figure) -> Figure:
    """The figure after it is saved: a plain save (no cropping to what was drawn), at the figure's
    dpi so that the extents of its texts, kept from that drawing, are in the figure's pixels."""
    fig.savefig(BytesIO(), format="png", dpi=fig.dpi)
    return fig


def _used(fig: Figure) -> list[plt.Axes]:
    return [ax for ax in fig.axes if ax.axison]


def _connecting_lines(ax: plt.Axes) -> list[Line2D]:
    """Lines drawn through more than one value (a reference line such as y = 0 is flat)."""
    return [
        line
        for line in ax.get_lines()
        if line.get_linestyle() not in ("None", "", " ") and len(set(np.asarray(line.get_ydata()))) > 1
    ]


def _assert_laid_out(fig: Figure) -> None:
    """The suptitle inside the canvas; every legend outside every axes' area."""
    canvas = fig.bbox
    assert fig.get_suptitle(), "no suptitle"
    title = fig._suptitle.get_window_extent()
    assert canvas.x0 <= title.x0 and title.x1 <= canvas.x1 and canvas.y0 <= title.y0 and title.y1 <= canvas.y1
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    for legend in legends:
        box = legend.get_window_extent()
        assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1 and canvas.y0 <= box.y0 and box.y1 <= canvas.y1
        for ax in _used(fig):
            assert not box.overlaps(ax.bbox), f"the legend covers the axes of {ax.get_title()!r}"


def test_a_switch_is_drawn_as_categories_and_a_number_as_lines() -> None:
    runs = _runs(GRID)
    switch = _drawn(plots.sweep_figure(runs, SUPERVISES, list(GRID), METRICS))
    for ax in _used(switch):
        assert [t.get_text() for t in ax.get_xticklabels()] == ["yes", "no"]  # the spec's order
        assert _connecting_lines(ax) == []
        assert len(ax.collections) == 3  # one set of whiskers per protected-time level, no bands
    assert "Salaried GP supervises = yes" in switch.get_suptitle().replace("\n", " ")
    _assert_laid_out(switch)
    number = _drawn(plots.sweep_figure(runs, MINUTES, list(GRID), METRICS))
    assert all(len(_connecting_lines(ax)) == 2 for ax in _used(number))  # one line per yes/no level
    _assert_laid_out(number)
    labels = [t.get_text() for t in number.legends[0].get_texts()]
    assert labels == ["Salaried GP supervises: yes", "Salaried GP supervises: no"]
    plt.close("all")


def test_the_notebook_sweep_plot_draws_a_switch_as_categories() -> None:
    runs = _runs({SUPERVISES: [False, True], MINUTES: [15, 45]})
    result = SweepResult("q", [SUPERVISES, MINUTES], runs, [])
    fig = _drawn(result.plot(METRICS))
    for ax in _used(fig):
        assert [t.get_text() for t in ax.get_xticklabels()] == ["no", "yes"]
        assert _connecting_lines(ax) == []
    _assert_laid_out(fig)
    plt.close(fig)


def test_long_titles_and_parameter_names_stay_inside_the_canvas(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    saved: list[Figure] = []
    monkeypatch.setattr(plots, "_save", lambda fig, folder, name: saved.append(fig) or [])
    long = ["access.urgent_share", "routing.navigation_max_edge", "leave.block_days"]  # long labels
    indices = pd.DataFrame(
        [
            {
                "method": "sobol",
                "metric": m,
                "parameter": p,
                "S1": 0.2,
                "S1_conf": 0.05,
                "ST": 0.3,
                "ST_conf": 0.1,
            }
            for m, p in itertools.product(METRICS, long)
        ]
    )
    plots.sensitivity_bars(indices, tmp_path, METRICS)
    (fig,) = saved
    _drawn(fig)
    assert {t.get_text() for t in fig.axes[0].get_yticklabels()} == {"1", "2", "3"}  # names in the key
    key = [t.get_text().replace("\n", " ") for t in fig.legends[0].get_texts()]
    assert key[:2] == ["total (ST)", "first order (S1)"] and key[4].startswith("3: Leave: leave is taken")
    _assert_laid_out(fig)
    plt.close(fig)


def test_the_sweep_report_has_the_numbers_and_warns_of_few_replicates(tmp_path: Path) -> None:
    runs = _runs(GRID)
    runs.to_parquet(tmp_path / "sweep.parquet")
    manifest = {
        "command": "sweep",
        "spec": {
            "parameters": {p: {"values": v} for p, v in GRID.items()},
            "replicates": 2,
            "design": "grid",
        },
        "runs": len(runs),
        "design_points": [{}] * 6,
        "warmup_days": 20,
    }
    page = "".join(report._sweep_parts(tmp_path, manifest, [small_scenario(days=100)], []))
    assert "Only 2 replicates: intervals are wide and unstable" in page
    assert "measured period" not in page  # 80 measured days: long enough
    assert "<h2>The numbers</h2>" in page
    for metric in plots.KEY_METRICS:
        assert f"<h3>{display_name(metric)}</h3>" in page
    frame = sweep_table(runs, list(GRID), ["handovers_per_episode"])
    last = frame.iloc[-1]  # 90 minutes, no: its mean and interval, in the glossary's format
    assert interval("handovers_per_episode", last["mean"], last["lo"], last["hi"]) in page
    assert "<td>90</td><td>no</td><td>2</td>" in page and "reference" in page
    assert "Protected supervision time (minutes a day)" in page and SUPERVISES not in page
