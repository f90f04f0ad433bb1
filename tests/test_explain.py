"""`explain`: exact Shapley attribution of B - A to mechanism groups under common random numbers."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from handover_abm.config import ConfigError, load_scenario, scenario_from_dict
from handover_abm.explain import (
    SUPERVISED_POSTS,
    TEAM_FTE,
    Group,
    explain,
    load_groups,
    pair_of,
    run_point,
    shapley,
)
from handover_abm.glossary import MECHANISM_GROUPS, RESIDUAL_GROUP
from handover_abm.metrics import HEADLINE

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "handover-abm")
BASE: dict[str, Any] = {"days": 20, "population": {"size": 400, "practices": 1}}
A = {  # 3.8 FTE, as B: the same capacity, so the pair differs in role mix but not in clinical minutes
    **BASE,
    "name": "a",
    "team": [{"role": "gp_partner", "count": 2, "fte": 1.4}, {"role": "practice_nurse", "count": 1}],
}
B = {
    **BASE,
    "name": "b",
    "team": [
        {"role": "gp_partner", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
        {"role": "practice_nurse", "count": 1, "fte": 0.8},
    ],
    "roles": {"gp_partner": {"hourly_cost": 90.0}},
}
SEEDS = [11, 12]


def _sums_match(ex: Any) -> float:
    """Largest gap, over replicates and metrics, between the sum of contributions and B - A, where
    every contribution is defined (at the tests' tiny sizes a coalition can have no patient with
    two GP contacts, so its GP continuity, and the Shapley values that use it, are undefined)."""
    defined = ex.replicates.groupby(["metric", "replicate"])["contribution"].apply(lambda x: x.notna().all())
    summed = ex.replicates.groupby(["metric", "replicate"])["contribution"].sum()[defined]
    total = ex.totals.set_index(["metric", "replicate"])["total"]
    assert defined.mean() > 0.9, defined[~defined]
    gap = (summed - total.loc[summed.index]).abs()
    assert gap.isna().sum() == total.loc[summed.index].isna().sum()  # NaN only where B - A is NaN
    return float(gap.max())


@pytest.fixture(scope="module")
def pair_run() -> Any:
    a, b = scenario_from_dict(A), scenario_from_dict(B)
    return a, b, explain(a, b, seeds=SEEDS, backend="serial")


def test_shapley_of_a_known_game() -> None:
    # v(S) = 3 [x in S] + 5 [y in S] + 4 [x and y in S]: the interaction is split equally
    v = np.array([0.0, 3.0, 5.0, 12.0])
    phi = shapley(v)
    assert phi.tolist() == [5.0, 7.0]
    rng = np.random.default_rng(3)
    w = rng.normal(size=(16, 2, 3))
    assert np.allclose(shapley(w).sum(axis=0), w[-1] - w[0])


def test_contributions_sum_to_the_difference_per_replicate(pair_run: Any) -> None:
    _, _, ex = pair_run
    assert set(ex.keys) >= {"team_mix", "pay", "employer", "supervision_needs"}
    assert "capacity" not in ex.keys  # both teams have 3.8 FTE
    assert _sums_match(ex) < 1e-9
    assert not ex.residual
    frame = ex.to_frame()
    assert set(frame["metric"]) == set(HEADLINE)
    cost = frame[(frame["metric"] == "cost_per_episode") & (frame["group"] == "pay")]
    assert cost["contribution"].iloc[0] != 0  # B pays its GP partner less: pay matters to cost
    untouched = frame[frame["keys"] == 0]
    assert (untouched["contribution"] == 0).all()  # a group with nothing to switch contributes 0
    # a coalition that keeps A's team makes B's extra roles' figures irrelevant: those coalitions
    # differ only in the GP partner's pay (2 configs); A and B themselves are among the coalitions
    assert ex.configs == 2 ** (len(ex.keys) - 1) + 2


def test_every_group_switched_to_a_reproduces_a_exactly(pair_run: Any) -> None:
    a, b, ex = pair_run
    pair = pair_of(a, b, load_groups())
    warm = ex.warmup_days
    for seed in SEEDS:
        assert run_point(pair.config(set()), seed, warm) == run_point(a.model_dump(mode="json"), seed, warm)
        everything = pair.config(set(pair.switched))
        assert run_point(everything, seed, warm) == run_point(b.model_dump(mode="json"), seed, warm)
    # and the two ends of the coalition table are A's and B's own runs
    ends = ex.coalitions[ex.coalitions["coalition"].isin([0, 2 ** len(ex.keys) - 1])]
    assert np.allclose(
        ends.sort_values(["coalition", "replicate"])[list(HEADLINE)].to_numpy(),
        ex.summary.sort_values(["config", "replicate"])[list(HEADLINE)].to_numpy(),
        equal_nan=True,
    )


def test_a_single_differing_group_takes_the_whole_difference() -> None:
    a = scenario_from_dict({**B, "name": "a"})
    b = scenario_from_dict({**B, "name": "b", "routing": {"policy": "first_available"}})
    ex = explain(a, b, seeds=SEEDS, backend="serial")
    assert list(ex.keys) == ["booking"] and ex.keys["booking"] == ["routing.policy"]
    assert ex.configs == 2
    got = ex.replicates[ex.replicates["group"] == "booking"].set_index(["metric", "replicate"])[
        "contribution"
    ]
    total = ex.totals.set_index(["metric", "replicate"])["total"]
    assert np.allclose(got, total.loc[got.index], equal_nan=True)
    assert (total.abs() > 0).any()  # the booking rule does change something
    others = ex.replicates[ex.replicates["group"] != "booking"]["contribution"]
    assert (others.fillna(0) == 0).all()


def test_a_head_count_change_is_split_into_capacity_role_mix_and_supervision_needs() -> None:
    """One more GP partner and one more physician associate: the team's clinical minutes, its role
    mix at the same minutes and the supervision the added associate asks for are separate groups,
    and their contributions still add up to B - A exactly in every replicate."""
    team = [
        {"role": "gp_partner", "count": 2},
        {"role": "practice_nurse", "count": 1},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ]
    more = [{**team[0], "count": 3}, team[1], {**team[2], "count": 2}]
    a = scenario_from_dict({**BASE, "name": "a", "team": team})
    b = scenario_from_dict({**BASE, "name": "b", "team": more})
    pair = pair_of(a, b, load_groups())
    assert pair.keys == {
        "capacity": [TEAM_FTE],
        "team_mix": ["team.gp_partner.count", "team.physician_associate.count"],
        "supervision_needs": [f"roles.physician_associate.supervision.{SUPERVISED_POSTS}"],
    }

    def team_of(config: dict[str, Any]) -> dict[str, tuple[int, float]]:
        return {e["role"]: (e["count"], round(e["fte"], 9)) for e in config["team"]}

    def needs(config: dict[str, Any]) -> dict[str, float]:
        return config["roles"].get("physician_associate", {}).get("supervision", {})

    # B's 6 FTE on A's 4 posts (1.5 FTE each); B's 6 posts on A's 4 FTE (2/3 FTE each)
    roles = ["gp_partner", "practice_nurse", "physician_associate"]
    assert team_of(pair.config({"capacity"})) == dict(zip(roles, [(2, 1.5), (1, 1.5), (1, 1.5)], strict=True))
    third = round(4 / 6, 9)
    assert team_of(pair.config({"team_mix"})) == dict(
        zip(roles, [(3, third), (1, third), (2, third)], strict=True)
    )
    # with A's needs, B's two associates ask for the supervision of A's one in all; with B's, A's one for two
    halved = {"debrief_minutes_per_week": 30.0, "query_rate": 0.075, "review_minutes": 2.5}
    assert needs(pair.config({"team_mix", "capacity"})) == halved
    assert needs(pair.config({"supervision_needs"})) == {k: 4 * v for k, v in halved.items()}
    assert needs(pair.config(set(pair.switched))) == {}  # B's own: the catalogue's figures
    assert pair.config(set())["team"] == a.model_dump(mode="json")["team"]
    ex = explain(a, b, seeds=SEEDS, backend="serial")
    assert _sums_match(ex) < 1e-9
    moved = ex.replicates[ex.replicates["contribution"].abs() > 1e-12]
    assert set(moved["group"]) == {"capacity", "team_mix", "supervision_needs"}
    load = moved[moved["metric"] == "supervisor_load_index"]
    assert "supervision_needs" in set(load["group"])  # the added associate's supervision shows apart


def test_a_case_mix_override_is_switched_with_population_and_demand() -> None:
    a = scenario_from_dict({**B, "name": "a"})
    b = scenario_from_dict({**B, "name": "b", "episodes": {"blood_test": {"weight": 0.3}}})
    pair = pair_of(a, b, load_groups())
    assert pair.keys == {"population": ["episodes.blood_test.weight"]}
    assert pair.config(set())["episodes"] == {}  # every weight at A's: the catalogue's
    assert pair.config({"population"})["episodes"] == {"blood_test": {"weight": 0.3}}
    assert scenario_from_dict(pair.config({"population"})).catalogue() == b.catalogue()


def test_keys_in_no_group_are_named_residual_and_stay_at_b() -> None:
    a = scenario_from_dict({**B, "name": "a"})
    b = scenario_from_dict(
        {
            **B,
            "name": "b",
            "routing": {"policy": "first_available"},
            "roles": {"gp_partner": {"hourly_cost": 50}},
        }
    )
    only_pay = [Group("pay", ("roles.*.hourly_cost",))]
    ex = explain(a, b, seeds=SEEDS, groups=only_pay, backend="serial")
    assert ex.residual == ["routing.policy"]
    assert _sums_match(ex) < 1e-9
    frame = ex.to_frame()
    residual = frame[frame["group"] == RESIDUAL_GROUP]
    assert residual["group_label"].iloc[0] == "Structure that cannot be switched"
    assert residual["keys"].iloc[0] == 1
    assert (residual["contribution"].abs() > 0).any()


def test_group_patterns_and_first_match() -> None:
    groups = load_groups()
    assert all(g.name in MECHANISM_GROUPS for g in groups)
    by = {g.name: g for g in groups}
    assert by["team_mix"].matches("team.paramedic.count")
    assert not by["team_mix"].matches("team.paramedic.organisation")
    assert by["capacity"].matches(TEAM_FTE) and not by["team_mix"].matches(TEAM_FTE)
    assert by["supervision_needs"].matches(f"roles.paramedic.supervision.{SUPERVISED_POSTS}")
    assert by["speed"].matches("roles.paramedic.scope.diagnosis.time")
    assert not by["speed"].matches("roles.paramedic.scope.diagnosis.edge")
    first = next(g for g in groups if g.matches("handover.or_different_employer"))
    assert first.name == "employer"  # listed before the handover.* prefix
    assert next(g for g in groups if g.matches("handover.p_detect")).name == "handover_other"


@pytest.mark.parametrize(
    ("x", "y"), list(itertools.combinations(["default", "generalist", "fragmented", "mixed"], 2))
)
def test_shipped_configs_differ_only_in_grouped_keys(x: str, y: str) -> None:
    a, b = load_scenario(ROOT / "configs" / f"{x}.yaml"), load_scenario(ROOT / "configs" / f"{y}.yaml")
    pair = pair_of(a, b, load_groups())
    assert pair.residual == []
    assert "team_mix" in pair.keys
    assert "capacity" not in pair.keys  # all at 64.8 FTE (to 0.0015 FTE, within FTE_TOLERANCE)


def test_a_groups_file_with_an_unlabelled_group_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text(yaml.safe_dump({"groups": {"mystery": {"keys": ["handover.*"]}}}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mystery.*glossary"):
        load_groups(path)
    merged = {"boundaries": {"label": "Organisation boundaries", "keys": ["team.*.organisation"]}}
    path.write_text(yaml.safe_dump({"groups": merged}), encoding="utf-8")
    (group,) = load_groups(path)
    assert group.label == "Organisation boundaries" and group.matches("team.paramedic.organisation")


def test_cli_end_to_end(tmp_path: Path) -> None:
    for name, data in (("a", A), ("b", B)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    args = [CLI, "explain", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--out", str(out)]
    fast = ["--seeds", "11,12", "--backend", "serial", "--metrics", "supervisor_load_index"]
    done = subprocess.run([*args, *fast], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("explain.csv", "explain_replicates.csv", "coalitions.csv", "summary.csv", "manifest.json"):
        assert (out / name).is_file()
    assert (out / "figures" / "explain_supervisor_load_index.png").is_file()
    svg = (out / "figures" / "explain_supervisor_load_index.svg").read_text(encoding="utf-8")
    assert "Supervision needs" in svg  # labels stay text in the SVG
    frame = pd.read_csv(out / "explain.csv")
    assert {"metric", "group", "contribution", "lo", "hi", "total", "a_mean", "b_mean"} <= set(frame.columns)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "explain" and manifest["residual_keys"] == []
    assert "team.physician_associate.count" in manifest["groups"]["team_mix"]["keys"]
    assert "Supervisor load" in done.stdout
    again = subprocess.run([*args, *fast], capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr  # results are not overwritten


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(["--metrics", "nonsense"], "--metrics"), (["--warmup-days", "30"], "--warmup-days")],
)
def test_cli_bad_input_exits_2_with_one_paragraph(tmp_path: Path, extra: list[str], needle: str) -> None:
    for name, data in (("a", A), ("b", B)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    args = [CLI, "explain", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), "--out", str(out), *extra]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 2
    assert needle in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_cli_missing_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(A), encoding="utf-8")
    done = subprocess.run(
        [CLI, "explain", str(tmp_path / "a.yaml"), str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "nope.yaml" in done.stderr and "Traceback" not in done.stderr


def test_docs_list_every_group() -> None:
    text = (ROOT / "docs" / "explain.md").read_text(encoding="utf-8")
    for g in [*(x.name for x in load_groups()), RESIDUAL_GROUP]:
        assert f"| `{g}` | {MECHANISM_GROUPS[g]} |" in text, g


def test_failed_runs_are_a_clear_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import handover_abm.explain as explain_module
    from handover_abm.errors import RunsFailed

    def broken(data: dict, seed: int, warmup: int) -> dict:
        raise ValueError("a run broke")

    monkeypatch.setattr(explain_module, "run_point", broken)
    a = scenario_from_dict({**B, "name": "a"})
    b = scenario_from_dict({**B, "name": "b", "routing": {"policy": "first_available"}})
    with pytest.raises(RunsFailed, match=r"explain runs failed.*a run broke.*--workers 1"):
        explain(a, b, seeds=SEEDS, backend="serial")
