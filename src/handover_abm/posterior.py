"""Parameter uncertainty carried into `run`, `compare` and `sweep` (`--posterior DIR --draws K`).

A calibration (`handover-abm calibrate`, ABC-SMC) leaves a weighted sample of parameter sets in
DIR/posterior.parquet. Here K sets are drawn from it by weighted resampling with a seeded stream
(numpy SeedSequence of the root seed, its own spawn key), and each draw is run with S seeds: K x S
replicates per config. Every config compared sees the same K draws and the same K x S seeds
(common draws and common random numbers), so a paired difference differs only by the config.

The spread of the outcomes is split into a parameter part (between draws) and a stochastic part
(between seeds of one draw) by a one-way random-effects analysis of variance; see
stats.posterior_comparison_table and docs/calibration.md for the intervals built from it.
Any command (e.g. a future `explain`) can call `load_posterior`, `draw_parameters` and
`posterior_replicates` to run its own configs over the same draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from handover_abm.config import ConfigError
from handover_abm.limits import MAX_DRAWS, MAX_REPLICATES, check_count
from handover_abm.streams import replicate_seeds

POSTERIOR_FILE = "posterior.parquet"
SHIPPED = "default"  # `--posterior default`: the small posterior shipped for configs/default.yaml
MIN_SEEDS_PER_DRAW = 2  # the fewest seeds per draw that separate parameter from stochastic variance
_KEY_RESAMPLE = 7  # SeedSequence spawn key of the resampling stream (distinct from calibration's)
_NOT_PARAMETERS = ("weight", "generation")


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of parameter sets (config key path -> value), weights summing to 1."""

    source: str
    values: pd.DataFrame  # one column per parameter key path
    weights: np.ndarray

    @property
    def names(self) -> list[str]:
        """Parameter key paths, as `--set` takes them."""
        return list(self.values.columns)


def _path(location: str | Path) -> Path:
    if str(location) == SHIPPED:
        return Path(str(resources.files("handover_abm") / "data" / "posterior_default.parquet"))
    p = Path(location)
    return p / POSTERIOR_FILE if p.is_dir() else p


def load_posterior(location: str | Path) -> Posterior:
    """Read DIR/posterior.parquet (or a parquet file, or `default`); refuse anything unusable,
    including a calibration folder whose files do not match its manifest."""
    from handover_abm.folders import shown, verified_manifest
    from handover_abm.results import read_parquet

    path = _path(location)
    where = f"--posterior {shown(location)}"
    if path.is_file() and path.parent == Path(location) and (path.parent / "manifest.json").is_file():
        verified_manifest(path.parent)  # the folder of a finished calibration, whole
    if not path.is_file():
        raise ConfigError(
            f"{where}: no {POSTERIOR_FILE} there ({path}); give the --out folder of an ABC "
            f"calibration (handover-abm calibrate SPEC --out DIR with method: abc), its "
            f"{POSTERIOR_FILE}, or 'default' for the posterior shipped with the default config"
        )
    try:
        frame = read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise ConfigError(
            f"{where}: {shown(path)} is not a readable parquet file ({type(exc).__name__})"
        ) from None
    names = [c for c in frame.columns if c not in _NOT_PARAMETERS]
    if "weight" not in frame.columns or not names or frame.empty:
        raise ConfigError(
            f"{where}: {path} must have a 'weight' column, one column per calibrated parameter "
            f"(its key path, e.g. demand.rate_multiplier_per_ltc) and at least one row; it has "
            f"columns {', '.join(map(str, frame.columns)) or '(none)'} and {len(frame)} rows"
        )
    try:
        values = frame[names].astype(float)
        weights = frame["weight"].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {path}: parameter and weight columns must be numbers") from None
    if not np.isfinite(values.to_numpy()).all():
        raise ConfigError(f"{where}: {path}: a parameter value is missing or not finite")
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise ConfigError(f"{where}: {path}: weights must be finite, non-negative and not all zero")
    return Posterior(str(location), values.reset_index(drop=True), weights / weights.sum())


def draw_parameters(posterior: Posterior, draws: int, seed: int) -> list[dict[str, float]]:
    """K parameter sets resampled with probability proportional to weight (seeded, reproducible)."""
    _check_draws(draws)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_KEY_RESAMPLE,)))
    rows = rng.choice(len(posterior.values), size=draws, replace=True, p=posterior.weights)
    return [{k: float(posterior.values.at[int(i), k]) for k in posterior.names} for i in rows]


def _check_draws(draws: int) -> None:
    """Refuse fewer than 2 draws (no interval) or more than MAX_DRAWS, before any is drawn."""
    if not 2 <= draws <= MAX_DRAWS:
        raise ConfigError(f"--draws {draws:,}: allowed 2 (the fewest that form an interval) to {MAX_DRAWS:,}")


def _check_design(draws: int, seeds_per_draw: int) -> int:
    """Runs per config of K draws x S seeds, refused before any is drawn if above MAX_REPLICATES."""
    _check_draws(draws)
    runs = draws * seeds_per_draw
    what = f"--draws {draws:,} x {seeds_per_draw:,} seeds per draw"
    check_count(what, runs, MAX_REPLICATES, "use fewer draws or seeds per draw (--replicates)")
    return runs


def with_draw(data: dict[str, Any], values: dict[str, float], source: str) -> dict[str, Any]:
    """Config data with one draw's values set (checked: a key the config lacks is a ConfigError)."""
    from handover_abm.sweep import build_scenario

    try:
        return build_scenario(data, [], values, None, source).model_dump(mode="json")
    except ConfigError as exc:
        raise ConfigError(
            f"a posterior draw cannot be applied to config {data.get('name')!r}: {exc}"
        ) from None


@dataclass(frozen=True)
class Replicate:
    """Replicate r = d * S + j of every config: posterior draw d, run with seed `seed`."""

    replicate: int
    draw: int
    seed: int
    values: dict[str, float]


def posterior_replicates(posterior: Posterior, draws: int, seeds_per_draw: int, seed: int) -> list[Replicate]:
    """The K x S replicates every config runs: draws and seeds shared across configs."""
    if seeds_per_draw < MIN_SEEDS_PER_DRAW:
        raise ConfigError(
            f"--replicates {seeds_per_draw}: with --posterior each draw needs at least "
            f"{MIN_SEEDS_PER_DRAW} seeds, so parameter and stochastic variance can be told apart"
        )
    _check_design(draws, seeds_per_draw)
    sets = draw_parameters(posterior, draws, seed)
    seeds = replicate_seeds(seed, draws * seeds_per_draw)
    return [
        Replicate(d * seeds_per_draw + j, d, seeds[d * seeds_per_draw + j], sets[d])
        for d in range(draws)
        for j in range(seeds_per_draw)
    ]


def draws_frame(replicates: list[Replicate]) -> pd.DataFrame:
    """One row per replicate: replicate, draw, seed and the draw's parameter values."""
    return pd.DataFrame(
        [{"replicate": r.replicate, "draw": r.draw, "seed": r.seed, **r.values} for r in replicates]
    )


@dataclass(frozen=True)
class PosteriorRequest:
    """`--posterior LOCATION --draws K` as a command received it, checked."""

    location: str
    posterior: Posterior
    draws: int

    @classmethod
    def load(cls, location: str, draws: int) -> PosteriorRequest:
        """Read the posterior now, so a bad folder or file is refused before anything runs."""
        _check_draws(draws)
        return cls(location, load_posterior(location), draws)

    def runs(self, seeds_per_draw: int) -> int:
        """Runs per config: draws x seeds per draw (at most MAX_REPLICATES, refused if more)."""
        return _check_design(self.draws, seeds_per_draw)

    def replicates(self, seeds_per_draw: int, seed: int) -> list[Replicate]:
        """The K x S replicates every config runs."""
        return posterior_replicates(self.posterior, self.draws, seeds_per_draw, seed)

    def describe(self, seeds_per_draw: int) -> dict[str, Any]:
        """What the manifest and the terminal say about the draws."""
        return {
            "posterior": self.location,
            "parameters": self.posterior.names,
            "particles": len(self.posterior.values),
            "draws": self.draws,
            "seeds_per_draw": seeds_per_draw,
            "resampling": "weighted, with replacement, seeded from --seed (SeedSequence spawn key 7)",
        }


def posterior_jobs(
    scenarios: list[Any], replicates: list[Replicate], log_events: bool, warmup_days: int
) -> list[Any]:
    """runner Jobs: every scenario x every replicate, with that replicate's draw applied."""
    from handover_abm.runner import Job

    jobs = []
    for s in scenarios:
        data = s.model_dump(mode="json")
        applied: dict[int, dict[str, Any]] = {}
        for r in replicates:
            if r.draw not in applied:
                applied[r.draw] = with_draw(data, r.values, "--posterior")
            jobs.append(Job(applied[r.draw], r.seed, r.replicate, log_events, warmup_days))
    return jobs


def print_uncertainty(console: Any, table: pd.DataFrame, info: dict[str, Any]) -> None:
    """Terminal: per difference, the interval with and without parameter uncertainty, the
    parameter share of it, the share of draws agreeing in sign, and the robustness statements."""
    from rich import box
    from rich.table import Table

    from handover_abm.glossary import display_name, interval_diff

    console.print(
        f"Parameter uncertainty: {info['draws']} draws from {info['posterior']} "
        f"({', '.join(info['parameters'])}) x {info['seeds_per_draw']} seeds each; intervals above "
        f"include it.",
        markup=False,
        highlight=False,
    )
    baseline = table["baseline"].iloc[0]
    if table["config"].nunique() == 1:
        console.print(_means_table(table, baseline))
    for cfg in dict.fromkeys(table["config"]):
        if cfg == baseline:
            continue
        out = Table(
            title=f"{cfg} against {baseline}: how much of each interval is what we do not know",
            box=box.SIMPLE_HEAD,
            title_justify="left",
        )
        for col, just in (
            ("Outcome", "left"),
            ("With unknowns", "right"),
            ("Parameters fixed", "right"),
            ("Parameter share", "right"),
            ("Draws agreeing", "right"),
        ):
            out.add_column(col, justify=just, overflow="fold", max_width=34 if col == "Outcome" else None)
        for r in table[table["config"] == cfg].itertuples():
            if r.metric == "annual_staff_cost":
                continue
            out.add_row(
                display_name(r.metric),
                interval_diff(r.metric, r.diff, r.diff_ci_low, r.diff_ci_high),
                interval_diff(r.metric, r.diff, r.diff_ci_low_fixed, r.diff_ci_high_fixed),
                "-" if math.isnan(r.diff_param_share) else f"{r.diff_param_share:.0%}",
                "-" if math.isnan(r.diff_sign_share) else f"{r.diff_sign_share:.0%}",
            )
        console.print(out)
    for line in robustness_lines(table):
        console.print(line, markup=False, highlight=False)


def _means_table(table: pd.DataFrame, config: str) -> Any:
    """One config: each outcome's mean with and without parameter uncertainty, and its share."""
    from rich import box
    from rich.table import Table

    from handover_abm.glossary import display_name, interval

    out = Table(
        title=f"{config}: how much of each interval is what we do not know",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    out.add_column("Outcome", max_width=40, overflow="fold")
    for col in ("With unknowns", "Parameters fixed", "Parameter share"):
        out.add_column(col, justify="right")
    for r in table[table["config"] == config].itertuples():
        out.add_row(
            display_name(r.metric),
            interval(r.metric, r.mean, r.ci_low, r.ci_high),
            interval(r.metric, r.mean, r.ci_low_fixed, r.ci_high_fixed),
            "-" if math.isnan(r.param_share) else f"{r.param_share:.0%}",
        )
    return out


def robustness_lines(table: pd.DataFrame) -> list[str]:
    """Plain statements of which paired differences keep their sign across the posterior.

    `table` is stats.posterior_comparison_table's output. A difference keeps its sign when its
    interval including parameter uncertainty excludes zero; it is 'not robust to what is unknown'
    when the interval with parameters fixed excludes zero but that one does not.
    """
    from handover_abm.glossary import display_name

    if "diff_robust" not in table.columns:
        return []
    baseline = table["baseline"].iloc[0]
    out = []
    for cfg in dict.fromkeys(table["config"]):
        if cfg == baseline:
            continue
        part = table[table["config"] == cfg]
        keep, fragile = [], []
        for r in part.itertuples():
            if r.metric == "annual_staff_cost" or math.isnan(r.diff):
                continue
            name = f"{display_name(r.metric)} ({r.diff_sign_share:.0%} of draws agree)"
            if r.diff_robust:
                keep.append(name)
            elif r.diff_ci_low_fixed > 0 or r.diff_ci_high_fixed < 0:
                fragile.append(name)
        out.append(
            f"{cfg} against {baseline}: keeps its sign across the posterior: "
            + ("; ".join(keep) if keep else "no difference")
            + "."
        )
        if fragile:
            out.append(
                f"{cfg} against {baseline}: NOT robust to what is unknown (detectable with the "
                f"parameters fixed, but once parameter uncertainty is included its interval spans "
                f"zero: the sign may not hold across the posterior): " + "; ".join(fragile) + "."
            )
    return out
