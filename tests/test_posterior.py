"""Parameter uncertainty carried forward: --posterior DIR --draws K on run, compare and sweep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from handover_abm.config import ConfigError, load_scenario
from handover_abm.posterior import (
    draw_parameters,
    load_posterior,
    posterior_jobs,
    posterior_replicates,
    robustness_lines,
)
from handover_abm.stats import posterior_comparison_table, posterior_interval, variance_components

CLI = str(Path(sys.executable).parent / "handover-abm")
PARAM = "demand.rate_multiplier_per_ltc"
SMALL = {
    "name": "small",
    "days": 12,
    "population": {"size": 1200, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ],
}


def _posterior(folder: Path, values: list[float], weights: list[float]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({PARAM: values, "weight": weights, "generation": 3}).to_parquet(folder / "posterior.parquet")
    return folder


def _configs(tmp_path: Path) -> list[Path]:
    a = tmp_path / "a.yaml"
    a.write_text(yaml.safe_dump(SMALL))
    b_data = {**SMALL, "name": "b", "team": [*SMALL["team"], {"role": "practice_nurse", "count": 1}]}
    b = tmp_path / "b.yaml"
    b.write_text(yaml.safe_dump(b_data))
    return [a, b]


def test_weighted_resampling_is_seeded_and_follows_the_weights(tmp_path: Path) -> None:
    post = load_posterior(_posterior(tmp_path / "p", [0.1, 0.2, 0.3], [0.0, 3.0, 1.0]))
    draws = draw_parameters(post, 400, seed=5)
    assert draws == draw_parameters(post, 400, seed=5)
    assert draws != draw_parameters(post, 400, seed=6)
    got = np.array([d[PARAM] for d in draws])
    assert not (got == 0.1).any()  # weight zero is never drawn
    assert 0.65 < (got == 0.2).mean() < 0.85  # expected 0.75


def test_replicates_share_draws_and_seeds_across_configs(tmp_path: Path) -> None:
    post = load_posterior(_posterior(tmp_path / "p", [0.1, 0.4], [1.0, 1.0]))
    reps = posterior_replicates(post, draws=3, seeds_per_draw=2, seed=1)
    assert [(r.replicate, r.draw) for r in reps] == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (5, 2)]
    assert len({r.seed for r in reps}) == 6  # a fresh seed for every run
    scenarios = [load_scenario(p) for p in _configs(tmp_path)]
    jobs = posterior_jobs(scenarios, reps, False, 0)
    a, b = jobs[:6], jobs[6:]
    for ja, jb, r in zip(a, b, reps, strict=True):
        assert ja.seed == jb.seed == r.seed
        assert ja.scenario["demand"]["rate_multiplier_per_ltc"] == r.values[PARAM]
        assert jb.scenario["demand"]["rate_multiplier_per_ltc"] == r.values[PARAM]
    with pytest.raises(ConfigError, match="at least 2 seeds"):
        posterior_replicates(post, draws=3, seeds_per_draw=1, seed=1)


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p, "no posterior.parquet"),
        (lambda p: (p.mkdir(), (p / "posterior.parquet").write_text("not parquet"))[0], "not a readable"),
        (lambda p: _posterior(p, [0.1], [-1.0]), "non-negative"),
        (
            lambda p: (p.mkdir(), pd.DataFrame({PARAM: [0.1]}).to_parquet(p / "posterior.parquet"))[0],
            "'weight' column",
        ),
    ],
)
def test_bad_posterior_is_refused(tmp_path: Path, make, needle: str) -> None:
    folder = tmp_path / "post"
    make(folder)
    with pytest.raises(ConfigError, match=needle):
        load_posterior(folder)


def test_variance_components_recover_known_parts() -> None:
    rng = np.random.default_rng(0)
    k, s = 400, 4
    groups = np.repeat(np.arange(k), s)
    effects = rng.normal(0, 2.0, k)  # parameter sd 2
    values = 10 + effects[groups] + rng.normal(0, 1.0, k * s)  # stochastic sd 1
    mean, var_p, var_s, n_draws = variance_components(values, groups)
    assert n_draws == k
    assert abs(mean - 10) < 0.3
    assert 3.3 < var_p < 4.7
    assert 0.9 < var_s < 1.1
    # no parameter effect: the parameter share of the interval is small
    flat = 10 + rng.normal(0, 1.0, k * s)
    *_, share, _, _ = posterior_interval(flat, groups)
    assert share < 0.3
    _, lo, hi, share, lo_f, hi_f = posterior_interval(values, groups)
    assert share > 0.9 and lo < lo_f < hi_f < hi


def test_robustness_names_fragile_and_robust_differences() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for d in range(10):
        for j in range(3):
            r = d * 3 + j
            noise = rng.normal(0, 0.01, 2)
            # robust: always +1; fragile: +0.2 on average, but its sign flips with the draw
            flip = 1.0 if d % 2 else -0.6
            rows.append({"config": "a", "replicate": r, "draw": d, "upc_mean": 0.5, "wait_days_mean": 5.0})
            rows.append(
                {
                    "config": "b",
                    "replicate": r,
                    "draw": d,
                    "upc_mean": 0.6 + noise[0],
                    "wait_days_mean": 5.2 + flip + noise[1],
                }
            )
    table = posterior_comparison_table(pd.DataFrame(rows), ["upc_mean", "wait_days_mean"])
    b = table[table["config"] == "b"].set_index("metric")
    assert bool(b.loc["upc_mean", "diff_robust"]) and b.loc["upc_mean", "diff_sign_share"] == 1.0
    assert not bool(b.loc["wait_days_mean", "diff_robust"])
    assert b.loc["wait_days_mean", "diff_sign_share"] == 0.5
    assert b.loc["wait_days_mean", "diff_ci_low_fixed"] > 0  # detectable with parameters fixed
    lines = robustness_lines(table)
    assert "keeps its sign" in lines[0] and "continuity" in lines[0].lower()
    assert "NOT robust" in lines[1] and "wait" in lines[1].lower()


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the console entry point in-process (as `handover-abm ARGS`): exit code, stdout, stderr."""
    from handover_abm import cli

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["handover-abm", *args])
        with pytest.raises(SystemExit) as exc:
            cli.main()
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


def test_compare_with_posterior_widens_intervals_and_names_robust_differences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # two particles far apart in the episode rate of every age band: demand differs between draws
    post = tmp_path / "cal"
    post.mkdir()
    bands = {f"population.age_bands.{i}.episode_rate": [1.0, 8.0] for i in range(5)}
    pd.DataFrame({**bands, "weight": [0.5, 0.5]}).to_parquet(post / "posterior.parquet")
    configs = [str(p) for p in _configs(tmp_path)]
    common = ["--days", "12", "--warmup-days", "2", "--workers", "1"]
    args = ["compare", *configs, "--posterior", str(post), "--draws", "3", *common]
    code, out, err = _main([*args, "--out", str(tmp_path / "post")], capsys)
    assert code == 0, err
    assert "keeps its sign across the posterior" in out
    assert "Parameter share" in out
    summary = pd.read_csv(tmp_path / "post" / "summary.csv")
    assert len(summary) == 2 * 3 * 2  # 2 configs x 3 draws x 2 seeds (the default with --posterior)
    pairs = summary.groupby("config")[["replicate", "draw", "seed"]].apply(lambda f: f.to_numpy().tolist())
    assert pairs.iloc[0] == pairs.iloc[1]  # common draws and common random numbers
    draws = pd.read_csv(tmp_path / "post" / "draws.csv")
    assert set(draws["population.age_bands.0.episode_rate"]) == {1.0, 8.0} and len(draws) == 6
    manifest = json.loads((tmp_path / "post" / "manifest.json").read_text())
    assert manifest["posterior"]["draws"] == 3 and manifest["posterior"]["seeds_per_draw"] == 2
    table = pd.read_csv(tmp_path / "post" / "comparison.csv")
    # demand differs between draws: most of the spread of contacts is parameter uncertainty
    row = table[(table["config"] == "small") & (table["metric"] == "contacts_per_patient_year")].iloc[0]
    assert row["param_share"] > 0.5
    assert row["ci_high"] - row["ci_low"] > row["ci_high_fixed"] - row["ci_low_fixed"]
    code, _, _ = _main([*args, "--out", str(tmp_path / "post2")], capsys)
    assert code == 0
    # the report reads the draws, and states what keeps its sign (without --posterior: nothing)
    from handover_abm.report import _comparison, _robustness_html

    report_table = _comparison(summary)
    assert "diff_robust" in report_table.columns
    html = _robustness_html(report_table, manifest)
    assert "Robust to what is unknown?" in html and "keeps its sign across the posterior" in html
    assert "random-effects" in html and _robustness_html(report_table, {}) == ""
    assert (tmp_path / "post2" / "summary.csv").read_bytes() == (
        tmp_path / "post" / "summary.csv"
    ).read_bytes()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--posterior", "nowhere"], "--posterior nowhere"),
        (["--posterior", "default", "--draws", "2", "--days", "6", "--warmup-days", "1"], None),
        (["--posterior", "POST", "--draws", "1"], "--draws"),
        (["--posterior", "POST", "--seeds", "1,2"], "--seeds cannot be combined"),
        (["--posterior", "POST", "--replicates", "1"], "at least 2 seeds"),
        (["--posterior", "BADKEY", "--draws", "2"], "posterior draw cannot be applied"),
    ],
)
def test_posterior_options_default_works_and_bad_ones_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str | None
) -> None:
    post = _posterior(tmp_path / "cal", [0.1], [1.0])
    bad = tmp_path / "badkey"
    bad.mkdir()
    pd.DataFrame({"demand.no_such_key": [0.1], "weight": [1.0]}).to_parquet(bad / "posterior.parquet")
    config = _configs(tmp_path)[0]
    args = [str(post) if a == "POST" else str(bad) if a == "BADKEY" else a for a in extra]
    code, out, err = _main(["run", str(config), "--out", str(tmp_path / "o"), *args], capsys)
    if needle is None:  # the shipped posterior works out of the box
        assert code == 0, err
        assert "Parameter share" in out and "posterior_default" not in err
        return
    assert code == 2, err
    assert "Traceback" not in err and any(needle in line for line in err.splitlines())
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_sweep_with_posterior_uses_the_same_draws_at_every_point(tmp_path: Path) -> None:
    from handover_abm.sweep import load_sweep, run_sweep, with_posterior

    post = load_posterior(_posterior(tmp_path / "cal", [0.05, 0.6], [1.0, 1.0]))
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({**SMALL, "days": 8}))
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "s",
                "base": "base.yaml",
                "parameters": {"handover.base_loss_probability": {"values": [0.05, 0.2]}},
                "replicates": 1,
                "warmup_days": 2,
            }
        )
    )
    plan = load_sweep(spec)
    draws = draw_parameters(post, 3, plan.spec.seed)
    posterior_plan = with_posterior(plan, draws)
    assert posterior_plan.n_runs == 2 * 3
    result = run_sweep(posterior_plan, tmp_path / "out", workers=1)
    table = result.table
    assert result.ok == 6 and list(table["draw"]) == [0, 1, 2, 0, 1, 2]
    by_point = table.groupby("point")["seed"].apply(list)
    assert by_point.iloc[0] == by_point.iloc[1]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["posterior_draws"] == draws
