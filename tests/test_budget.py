"""`compare --equalise cost|fte`: teams scaled to the first config's budget, proportions kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from handover_abm.budget import equalise, scaled_to
from handover_abm.config import ConfigError, load_scenario, scenario_from_dict
from handover_abm.team import annual_cost, total_fte

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "handover-abm")


def _shares(s: object) -> list[float]:
    fte = [e.count * e.fte for e in s.team]  # type: ignore[attr-defined]
    return [x / sum(fte) for x in fte]


@pytest.mark.parametrize("by", ["cost", "fte"])
def test_shipped_teams_scaled_to_the_first_keep_their_proportions(by: str) -> None:
    names = ["default", "generalist", "fragmented", "mixed"]
    scenarios = [load_scenario(ROOT / "configs" / f"{n}.yaml") for n in names]
    scaled, steps = equalise(scenarios, by)
    measure = annual_cost if by == "cost" else total_fte
    target = measure(scenarios[0])
    for before, after, step in zip(scenarios, scaled, steps, strict=True):
        assert measure(after) == pytest.approx(target, rel=1e-12)
        assert _shares(after) == pytest.approx(_shares(before), rel=1e-12)
        assert all(isinstance(e.count, int) for e in after.team)
        assert step.after == pytest.approx(target, rel=1e-12)
    assert steps[0].factor == 1.0 and scaled[0] == scenarios[0]
    if by == "cost":  # the fragmented team is cheaper per FTE, so it gets more FTE for the money
        assert total_fte(scaled[2]) > total_fte(scenarios[2])


def test_posts_are_added_rather_than_passing_the_fte_limit() -> None:
    s = scenario_from_dict({"name": "x", "team": [{"role": "gp_partner", "count": 2, "fte": 1.0}]})
    big = scaled_to(s, 2.6)
    assert [(e.count, e.fte) for e in big.team] == [(6, pytest.approx(5.2 / 6))]


def test_unknown_basis_is_refused() -> None:
    s = load_scenario(ROOT / "configs" / "generalist.yaml")
    with pytest.raises(ConfigError, match="--equalise"):
        equalise([s, s], "money")


def test_compare_equalise_says_so_in_table_and_manifest(tmp_path: Path) -> None:
    small = {"days": 8, "population": {"size": 300, "practices": 1}}
    a = {**small, "name": "a", "team": [{"role": "gp_partner", "count": 2}]}
    b = {
        **small,
        "name": "b",
        "team": [{"role": "salaried_gp", "count": 1}, {"role": "practice_nurse", "count": 1}],
    }
    for name, data in (("a", a), ("b", b)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            CLI,
            "compare",
            str(tmp_path / "a.yaml"),
            str(tmp_path / "b.yaml"),
            "--out",
            str(out),
            "--replicates",
            "1",
            "--workers",
            "1",
            "--equalise",
            "cost",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "Equal budgets" in done.stdout and "b x" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["equalise"]["by"] == "cost"
    resolved = [c["resolved"] for c in manifest["configs"]]
    costs = [annual_cost(scenario_from_dict(r)) for r in resolved]
    assert costs[1] == pytest.approx(costs[0], rel=1e-12)
