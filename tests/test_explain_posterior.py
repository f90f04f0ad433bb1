"""`explain --posterior`: every coalition of a replicate runs with that replicate's posterior draw."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from handover_abm.config import ConfigError, scenario_from_dict
from handover_abm.explain import explain
from handover_abm.posterior import Posterior, posterior_replicates
from tests.test_explain import A, B, _sums_match


def _posterior(values: dict[str, list[float]]) -> Posterior:
    n = len(next(iter(values.values())))
    return Posterior("test", pd.DataFrame(values), np.full(n, 1.0 / n))


@pytest.fixture(scope="module")
def drawn() -> Any:
    post = _posterior({"demand.rate_multiplier_per_ltc": [0.1, 0.6], "handover.p_detect": [0.3, 0.9]})
    reps = posterior_replicates(post, draws=3, seeds_per_draw=2, seed=4)
    a, b = scenario_from_dict(A), scenario_from_dict(B)
    return reps, explain(a, b, backend="serial", posterior=reps)


def test_contributions_still_add_up_with_draws(drawn: Any) -> None:
    reps, ex = drawn
    assert ex.seeds == [r.seed for r in reps]
    assert ex.draws == [r.draw for r in reps]
    assert _sums_match(ex) < 1e-6


def test_each_replicate_ran_its_draw(drawn: Any) -> None:
    """A's runs under a draw equal plain runs of A with the draw's values set."""
    from handover_abm.explain import run_point
    from handover_abm.posterior import with_draw

    reps, ex = drawn
    a_runs = ex.summary[ex.summary["config"] == "a"].set_index("replicate")
    for r in (0, len(reps) - 1):
        data = with_draw(scenario_from_dict(A).model_dump(mode="json"), reps[r].values, "test")
        alone = run_point(data, reps[r].seed, ex.warmup_days)
        assert a_runs.loc[r, "episodes_completed"] == alone["episodes_completed"]
        assert a_runs.loc[r, "handovers_per_episode"] == pytest.approx(alone["handovers_per_episode"])


def test_intervals_carry_parameter_uncertainty(drawn: Any) -> None:
    """With draws, intervals come from the between-draw and within-draw variance (wider than the
    plain t interval when draws differ)."""
    _, ex = drawn
    frame = ex.to_frame()
    assert frame[["lo", "hi"]].notna().all().all()
    plain = type(ex)(**{**ex.__dict__, "draws": []}).to_frame()
    width, plain_width = frame["hi"] - frame["lo"], plain["hi"] - plain["lo"]
    varies = plain_width > 1e-9
    assert varies.sum() > 10
    assert (width[varies] > plain_width[varies]).mean() > 0.9


def test_a_drawn_key_on_which_the_configs_differ_is_refused() -> None:
    post = _posterior({"roles.gp_partner.hourly_cost": [80.0, 95.0]})
    reps = posterior_replicates(post, draws=2, seeds_per_draw=2, seed=1)
    with pytest.raises(ConfigError, match=r"roles\.gp_partner\.hourly_cost"):
        explain(scenario_from_dict(A), scenario_from_dict(B), backend="serial", posterior=reps)


def test_cli_refuses_seeds_with_a_posterior(tmp_path: Any) -> None:
    import subprocess

    from tests.test_explain import CLI, ROOT

    args = [CLI, "explain", str(ROOT / "configs/generalist.yaml"), str(ROOT / "configs/fragmented.yaml")]
    args += ["--posterior", "default", "--seeds", "1,2", "--out", str(tmp_path / "x")]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 2
    assert "--seeds cannot be combined with --posterior" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()
