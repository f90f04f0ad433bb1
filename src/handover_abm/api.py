"""The notebook API: replicated comparisons, sweeps and sensitivity analyses as Python objects.

    import handover_abm as ha
    result = ha.compare(["configs/default.yaml", "configs/generalist.yaml"], replicates=5, days=120)
    result.to_frame()   # tidy: config, metric, label, unit, mean, lo, hi, diff, diff_lo, diff_hi, verdict
    result.plot()       # paired differences against the first config, with 95% intervals

Each call runs through the same engine as the command line (experiment.run_replicates for
compare, sweep.run_sweep for sweeps, sensitivity.run_sensitivity for SALib), so a notebook and
`handover-abm compare` with the same configs, replicates and seed give identical numbers.
Labels and units come from the glossary; verdicts from verdict.py.

The package exports `sweep` and `sensitivity` (these functions) under the names of the modules
sweep.py and sensitivity.py; the package keeps the functions bound when those modules are imported
(handover_abm/__init__.py). Code that needs the modules imports from them
(`from handover_abm.sweep import load_sweep`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from handover_abm.experiment import (
    DEFAULT_SEED,
    ConfigLike,
    Replicates,
    load_configs,
    resolve_warmup,
    run_replicates,
)
from handover_abm.glossary import label, parameter_label, scale, unit
from handover_abm.metrics import HEADLINE, TABLE_METRICS
from handover_abm.sensitivity import run_sensitivity
from handover_abm.stats import INTERVAL_METHOD, sweep_table
from handover_abm.streams import replicate_seeds
from handover_abm.style import PaperFigure, styled
from handover_abm.sweep import load_sweep, run_sweep
from handover_abm.verdict import (
    Verdict,
    call,
    keep_up_notes,
    measured_text,
    seeds_text,
    verdicts,
    warnings_for,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# What .plot() draws by default: the board's outcomes (access, safety, supervisor load, continuity, cost).
PLOT_METRICS = [
    "same_day_share",
    "over_14_days_share",
    "harm_risk_per_1000_episodes",
    "supervisor_load_index",
    "upc_gp_mean",
    "cost_per_episode",
]


def _figure(n: int, cols: int = 3) -> tuple[Figure, np.ndarray]:
    """A grid for n panels, made by pyplot with the user's backend: a notebook draws it below the
    cell, as it does pandas' plots (no backend is forced: plots.py)."""
    import matplotlib.pyplot as plt

    rows = max(1, -(-n // cols))  # constrained: titles inside the canvas, a legend below the axes
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(11, 2.9 * rows + 0.6),
        squeeze=False,
        layout="constrained",
        FigureClass=PaperFigure,
    )
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes


def _check_metrics(metrics: Sequence[str] | None, allowed: Sequence[str]) -> list[str]:
    chosen = list(metrics) if metrics is not None else [m for m in PLOT_METRICS if m in allowed]
    bad = [m for m in chosen if m not in allowed]
    if bad:
        raise ValueError(f"unknown metric(s) {bad}; allowed: {', '.join(allowed)}")
    return chosen


# ---------------------------------------------------------------- compare


@dataclass(frozen=True)
class Comparison:
    """Replicates of configs on common random numbers, their means and paired differences."""

    runs: Replicates
    table: pd.DataFrame  # stats.comparison_table over TABLE_METRICS

    @property
    def configs(self) -> list[str]:
        """Config names in order; the first is the baseline of every difference."""
        return [s.name for s in self.runs.scenarios]

    @property
    def warnings(self) -> list[str]:
        """Which team does not keep up with demand (its work waiting grows, so its results depend on
        how long it runs), then why the intervals may not be trusted (too few replicates, too short
        a run)."""
        days = min(s.days for s in self.runs.scenarios)
        return keep_up_notes(self.table) + warnings_for(len(self.runs.seeds), days, self.runs.warmup_days)

    def verdicts(self) -> list[Verdict]:
        """Each config against the first, per board group and outcome (verdict.py)."""
        return verdicts(self.table)

    def summary(self) -> pd.DataFrame:
        """One row per run (config, replicate, seed) with every summary metric."""
        return self.runs.summary()

    def to_frame(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Tidy table, one row per config and metric: label, unit, n, mean and 95% interval (lo, hi),
        and the paired difference from the first config (diff, diff_lo, diff_hi) with its verdict."""
        t = self.table if metrics is None else self.table[self.table["metric"].isin(list(metrics))]
        base = t[t["config"] == self.configs[0]].set_index("metric")["mean"]
        words = [
            call(r.metric, r.mean, base[r.metric], r.diff, r.diff_ci_low, r.diff_ci_high).verdict
            if r.config != r.baseline
            else ""
            for r in t.itertuples()
        ]
        out = t.rename(
            columns={
                "ci_low": "lo",
                "ci_high": "hi",
                "diff_ci_low": "diff_lo",
                "diff_ci_high": "diff_hi",
            }
        ).assign(verdict=words)
        cols = ["config", "metric", "label", "unit", "n", "mean", "lo", "hi", "baseline", "diff"]
        return out[[*cols, "diff_lo", "diff_hi", "verdict"]].reset_index(drop=True)

    @styled
    def plot(self, metrics: Sequence[str] | None = None) -> Figure:
        """Paired differences from the first config, mean and 95% interval, one panel per outcome."""
        from handover_abm.plots import OKABE_ITO, suptitle

        chosen = _check_metrics(metrics, TABLE_METRICS)
        frame = self.to_frame(chosen)
        others = self.configs[1:] or self.configs
        fig, axes = _figure(len(chosen))
        for ax, metric in zip(axes.flat, chosen, strict=False):
            part = frame[frame["metric"] == metric].set_index("config").loc[others]
            k = scale(metric)
            y = np.arange(len(others))[::-1]
            err = np.nan_to_num(
                k * np.vstack([part["diff"] - part["diff_lo"], part["diff_hi"] - part["diff"]])
            )
            colours = [OKABE_ITO[(i + 1) % len(OKABE_ITO)] for i in range(len(others))]
            for x, yi, e, colour in zip(k * part["diff"], y, err.T, colours, strict=True):
                ax.errorbar(x, yi, xerr=e[:, None], fmt="none", ecolor=colour, capsize=3)  # one colour a bar
            ax.scatter(k * part["diff"], y, c=colours, zorder=3)
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_yticks(y, others)
            ax.set_title(label(metric))
            ax.set_xlabel(f"difference ({'percentage points' if k == 100 else unit(metric)})")
        n = len(self.runs.seeds)
        suptitle(
            fig, f"Against {self.configs[0]}: paired difference, mean and 95% interval over {n} replicates"
        )
        return fig

    def __repr__(self) -> str:
        n, seeds = len(self.runs.seeds), seeds_text(self.runs.seeds, DEFAULT_SEED)
        lines = [
            f"Comparison(configs={self.configs}, replicates={n}, "
            f"days={self.runs.scenarios[0].days}, warmup_days={self.runs.warmup_days})",
            measured_text(self.runs.scenarios[0], self.runs.warmup_days, n, seeds),
        ]
        lines += [v.sentence() for v in self.verdicts()]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def compare(
    configs: Sequence[ConfigLike],
    replicates: int = 5,
    days: int | None = None,
    seed: int = DEFAULT_SEED,
    warmup_days: int | None = None,
    workers: int | None = None,
    sets: Sequence[str] = (),
) -> Comparison:
    """Run configs (files, mappings or Scenarios) on the same seeds, as `handover-abm compare` does.

    The defaults are the command line's and the dashboard's: `days` None is each config's run
    length, `warmup_days` None 80 working days (or half a shorter run), `seed` the root seed 0.
    `sets` are key.path=value overrides applied to every config; `workers` None uses one process
    per core.
    """
    if not configs:
        raise ValueError("compare needs at least one config")
    if replicates < 1:
        raise ValueError(f"replicates={replicates}: need at least 1")
    scenarios = load_configs(configs, sets, days)
    warmup = resolve_warmup(scenarios, warmup_days)
    runs = run_replicates(scenarios, replicate_seeds(seed, replicates), warmup, workers)
    return Comparison(runs, runs.comparison(TABLE_METRICS))


# ---------------------------------------------------------------- sweep


@dataclass(frozen=True)
class SweepResult:
    """A sweep's runs (one row per design point and replicate) and what was varied."""

    name: str
    parameters: list[str]
    table: pd.DataFrame  # sweep.parquet: run_index, point, replicate, seed, parameters, status, metrics
    team_roles: list[str]

    def to_frame(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Tidy table, one row per design point and metric: the parameter values, mean and 95%
        interval over replicates, and the paired difference (same seeds) from the first point."""
        return sweep_table(self.table, self.parameters, list(metrics if metrics is not None else HEADLINE))

    @styled
    def plot(self, metrics: Sequence[str] | None = None) -> Figure:
        """Each outcome against the first parameter (a series for each level of the others): paired
        difference from the first design point, mean and 95% interval; a line and band for a number,
        points with whiskers at each category for a yes/no switch or a named choice."""
        from handover_abm.plots import (
            OKABE_ITO,
            draw_against,
            is_categorical,
            legend_below,
            level_name,
            suptitle,
        )

        chosen = _check_metrics(metrics, HEADLINE)
        frame = self.to_frame(chosen)
        x, rest = self.parameters[0], self.parameters[1:]
        categories = list(dict.fromkeys(frame[x])) if is_categorical(frame[x]) else None
        fig, axes = _figure(len(chosen))
        for ax, metric in zip(axes.flat, chosen, strict=False):
            part = frame[frame["metric"] == metric]
            groups = list(part.groupby(rest, sort=False)) if rest else [((), part)]
            k = scale(metric)
            for i, (level, g) in enumerate(groups):
                colour = OKABE_ITO[i % len(OKABE_ITO)]
                level = level if isinstance(level, tuple) else (level,)
                pairs = zip(rest, level, strict=True)
                name = ", ".join(
                    f"{parameter_label(p, self.team_roles)} = {level_name(p, v)}" for p, v in pairs
                )
                m, lo, hi = (k * g[c].to_numpy(dtype=float) for c in ("diff", "diff_lo", "diff_hi"))
                shift = 0.12 * (i - (len(groups) - 1) / 2)
                draw_against(ax, x, categories, list(g[x]), m, lo, hi, colour, name or None, shift)
            ax.axhline(0, color="grey", lw=0.8)
            ax.set_title(label(metric))
            ax.set_xlabel(parameter_label(x, self.team_roles))
            ax.set_ylabel(f"difference ({'percentage points' if k == 100 else unit(metric)})")
        if rest:
            legend_below(fig, *axes[0, 0].get_legend_handles_labels())
        suptitle(fig, f"{self.name}: paired difference from the first design point, mean and 95% interval")
        return fig

    @property
    def failed(self) -> int:
        """Runs that failed (their rows have status 'failed' and the error; to_frame leaves them out)."""
        return int((self.table["status"] != "ok").sum())

    def __repr__(self) -> str:
        points = self.table["point"].nunique()
        return (
            f"SweepResult(name={self.name!r}, parameters={self.parameters}, points={points}, "
            f"runs={len(self.table)}, ok={len(self.table) - self.failed}, failed={self.failed})"
        )


def _roles(base_data: dict[str, Any]) -> list[str]:
    return [str(e.get("role")) for e in base_data.get("team", []) if isinstance(e, dict)]


def sweep(
    spec: str | Path,
    out: str | Path | None = None,
    days: int | None = None,
    replicates: int | None = None,
    workers: int | None = None,
    keep_going: bool = False,
) -> SweepResult:
    """Run a sweep spec (as `handover-abm sweep`); `out` keeps its files (None: a temporary folder).

    A failed run raises RunsFailed (naming the first) unless `keep_going`: then the result holds
    the failed rows (status, error) and says how many failed (`SweepResult.failed`).
    """
    plan = load_sweep(spec, days, replicates)
    with tempfile.TemporaryDirectory(prefix="handover-abm-sweep-") as tmp:
        result = run_sweep(plan, Path(out) if out is not None else Path(tmp), workers=workers)
    if result.failed and not keep_going:
        raise result.failure(Path(out) if out is not None else None)
    return SweepResult(plan.spec.name, list(plan.spec.parameters), result.table, _roles(plan.base_data))


# ---------------------------------------------------------------- sensitivity


@dataclass(frozen=True)
class SensitivityResult:
    """Sensitivity indices (SALib) of every headline metric to every factor."""

    method: str
    indices: pd.DataFrame  # sensitivity.run_sensitivity's table
    team_roles: list[str]

    def to_frame(self) -> pd.DataFrame:
        """Tidy indices: metric, label, parameter, its label, and mu*/sigma (Morris) or S1/ST (Sobol)."""
        t = self.indices.copy()
        t.insert(1, "label", [label(m) for m in t["metric"]])
        t.insert(3, "parameter_label", [parameter_label(p, self.team_roles) for p in t["parameter"]])
        return t.drop(columns=["method"])

    @styled
    def plot(self, metrics: Sequence[str] | None = None) -> Figure:
        """Factors ranked by influence per outcome: mu* (Morris) or total index ST (Sobol)."""
        from handover_abm.plots import OKABE_ITO, suptitle

        present = list(dict.fromkeys(self.indices["metric"]))
        chosen = _check_metrics(metrics, present) if metrics is not None else present[:6]
        key, err = ("mu_star", "mu_star_conf") if self.method == "morris" else ("ST", "ST_conf")
        frame = self.to_frame()
        fig, axes = _figure(len(chosen))
        for ax, metric in zip(axes.flat, chosen, strict=False):
            part = frame[frame["metric"] == metric].sort_values(key)
            k = scale(metric) if self.method == "morris" else 1.0
            ax.barh(part["parameter_label"], k * part[key], xerr=k * part[err], color=OKABE_ITO[0])
            ax.set_title(label(metric))
            ax.set_xlabel(f"mu* ({unit(metric)})" if self.method == "morris" else "total index (ST)")
        suptitle(fig, f"Sensitivity ({self.method.capitalize()}): factors ranked by influence")
        return fig

    def __repr__(self) -> str:
        n = self.indices["parameter"].nunique() if len(self.indices) else 0
        m = self.indices["metric"].nunique() if len(self.indices) else 0
        return f"SensitivityResult(method={self.method!r}, parameters={n}, metrics={m})"


def sensitivity(
    spec: str | Path,
    method: str = "morris",
    out: str | Path | None = None,
    days: int | None = None,
    replicates: int | None = None,
    workers: int | None = None,
) -> SensitivityResult:
    """Global sensitivity analysis of a sweep spec (as `handover-abm sensitivity`): "morris" or "sobol"."""
    if method not in ("morris", "sobol"):
        raise ValueError(f"method={method!r}: allowed methods are morris, sobol")
    with tempfile.TemporaryDirectory(prefix="handover-abm-sensitivity-") as tmp:
        table = run_sensitivity(
            spec,
            method,  # type: ignore[arg-type]
            Path(out) if out is not None else Path(tmp),
            workers=workers,
            days=days,
            replicates=replicates,
        )
    base = load_sweep(spec, days, replicates).base_data
    return SensitivityResult(method, table, _roles(base))


__all__ = [
    "INTERVAL_METHOD",
    "Comparison",
    "SensitivityResult",
    "SweepResult",
    "compare",
    "sensitivity",
    "sweep",
]
