"""plot and report on compare and sweep outputs write the figures and a self-contained page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import cli_main

CLI = str(Path(sys.executable).parent / "handover-abm")
TINY = {
    "days": 10,
    "population": {"size": 800, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ],
}


def _cli(*args: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The command in this process (no interpreter start-up per call): it must succeed."""
    code, err = cli_main(*args, capsys=capsys)
    assert code == 0, err


def test_plot_and_report_of_a_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump({"name": "a", **TINY}))
    b.write_text(yaml.safe_dump({"name": "b", **TINY, "routing": {"policy": "continuity_first"}}))
    out = tmp_path / "cmp"
    _cli(
        "compare",
        str(a),
        str(b),
        "--out",
        str(out),
        "--replicates",
        "2",
        "--workers",
        "1",
        "--warmup-days",
        "3",
        capsys=capsys,
    )
    _cli("plot", str(out), capsys=capsys)
    figs = {p.name for p in (out / "figures").iterdir()}
    for stem in ("comparison", "daily", "supervisor_load", "handovers_a", "handovers_b"):
        assert {f"{stem}.png", f"{stem}.svg"} <= figs, stem
    svg = (out / "figures" / "comparison.svg").read_text()
    assert "<text" in svg and "Handovers per episode" in svg  # editable text, human labels
    _cli("report", str(out), capsys=capsys)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 5
    assert "<title>Which team does better? b against a</title>" in page
    verdict = page.index("Verdict")
    assert verdict < page.index("Who hands care to whom") < page.index("Teams")
    assert "b against a:" in page and "a year" in page  # the verdict sentence with the cost
    assert "Only 2 replicates" in page and "Handovers per episode" in page
    assert "handovers_per_episode" not in page and "physician" in page.lower()
    assert "http://" not in page and "https://" not in page  # self-contained


def test_plot_and_report_of_a_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({"name": "base", **TINY}))
    spec = {
        "name": "s",
        "base": "base.yaml",
        "parameters": {
            "supervision.protected_minutes_per_day": {"values": [15, 45]},
            "routing.policy": {"values": ["first_available", "continuity_first"]},
        },
        "replicates": 2,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    out = tmp_path / "sw"
    _cli("sweep", str(tmp_path / "spec.yaml"), "--out", str(out), "--workers", "1", capsys=capsys)
    _cli("plot", str(out), "--metrics", "handovers_per_episode,same_day_share", capsys=capsys)
    assert (out / "figures" / "sweep_supervision_protected_minutes_per_day.png").exists()
    assert (out / "figures" / "sweep_routing_policy.svg").exists()
    svg = (out / "figures" / "sweep_routing_policy.svg").read_text()
    assert "Booking rule" in svg and "paired difference" in svg and "routing.policy" not in svg
    _cli("report", str(out), capsys=capsys)
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "Protected supervision time" in page
    assert "Only 2 replicates" in page and "<h2>The numbers</h2>" in page and "continuity_first" in page


def test_plot_of_an_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    res = subprocess.run([CLI, "plot", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 2 and "no run, compare, sweep" in res.stderr


def test_importing_the_package_leaves_the_users_matplotlib_settings_alone() -> None:
    """The paper style is in force only while the package draws (style.styled): a user's own
    figures keep their settings, and a figure the package draws still gets 300 dpi and spines off."""
    code = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
before = dict(plt.rcParams)
import handover_abm, handover_abm.plots, handover_abm.api, handover_abm.calibration
from handover_abm.style import PAPER_STYLE, styled
assert dict(plt.rcParams) == before, "importing changed rcParams"
seen = styled(lambda: (plt.rcParams["savefig.dpi"], plt.rcParams["axes.spines.top"]))()
assert seen == (300, False), seen
assert dict(plt.rcParams) == before, "drawing left rcParams changed"
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
