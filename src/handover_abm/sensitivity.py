"""Global sensitivity analysis with SALib (Morris elementary effects, Sobol indices).

The spec is a sweep spec (sweep.py) whose `parameters` are the factors and whose `samples` is N
(Morris trajectories, or the Sobol base sample: N (D + 2) points without second-order indices).
Every factor is sampled on [0, 1] and mapped to its range (or, for `values`, to one of them), the
design runs through the same resumable sweep engine, each point's output is the mean over its
replicates (common random numbers), and SALib computes the indices per headline metric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from handover_abm.backends import Backend
from handover_abm.config import ConfigError
from handover_abm.folders import vouch_for, writing_into
from handover_abm.metrics import HEADLINE
from handover_abm.results import write_csv
from handover_abm.sweep import Sweep, check_runs, load_sweep, run_sweep

Method = Literal["morris", "sobol"]


def problem_for(names: list[str]) -> dict[str, Any]:
    """A SALib problem over unit intervals (factors are scaled to their ranges afterwards)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sample_unit(method: Method, problem: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """SALib design on the unit hypercube."""
    if method == "morris":
        return morris_sample.sample(problem, n, num_levels=4, seed=seed)
    return sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)


def analyse(method: Method, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Indices for one output: mu_star, mu_star_conf, sigma (Morris) or S1, ST and CIs (Sobol)."""
    if method == "morris":
        res = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
        return pd.DataFrame(
            {
                "parameter": problem["names"],
                "mu_star": res["mu_star"],
                "mu_star_conf": res["mu_star_conf"],
                "sigma": res["sigma"],
                "mu": res["mu"],
            }
        )
    res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )


def plan(
    spec_path: str | Path, method: Method, days: int | None = None, replicates: int | None = None
) -> tuple[Sweep, np.ndarray, dict[str, Any]]:
    """Load the spec and build the SALib design as a sweep (points in parameter units)."""
    sweep = load_sweep(spec_path, days, replicates)
    if sweep.spec.samples is None:
        raise ConfigError(f"{spec_path}: key 'samples': sensitivity needs samples (N)")
    names = list(sweep.spec.parameters)
    per_sample = len(names) + (1 if method == "morris" else 2)
    check_runs(Path(spec_path), sweep.spec.samples * per_sample, sweep.spec.replicates)
    problem = problem_for(names)
    unit = sample_unit(method, problem, sweep.spec.samples, sweep.spec.seed)
    params = [sweep.spec.parameters[n] for n in names]
    points = [{n: p.scale(float(u)) for n, p, u in zip(names, params, row, strict=True)} for row in unit]
    spec = sweep.spec.model_copy(update={"name": f"{sweep.spec.name}-{method}", "design": "grid"})
    return replace(sweep, spec=spec, points=points, command="sensitivity", design=method), unit, problem


def run_sensitivity(
    spec_path: str | Path,
    method: Method,
    out: Path,
    workers: int | None = None,
    resume: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
    days: int | None = None,
    replicates: int | None = None,
    backend: Backend | None = None,
) -> pd.DataFrame:
    """Run the design, compute indices for every headline metric, write indices.csv (named with its
    SHA-256 in the manifest, beside sweep.parquet)."""
    sweep, unit, problem = plan(spec_path, method, days, replicates)
    with writing_into(out):
        return _indices_into(sweep, unit, problem, method, out, workers, resume, on_progress, backend)


def _indices_into(
    sweep: Sweep,
    unit: np.ndarray,
    problem: dict[str, Any],
    method: Method,
    out: Path,
    workers: int | None,
    resume: bool,
    on_progress: Callable[[int, int, int], None] | None,
    backend: Backend | None,
) -> pd.DataFrame:
    """run_sensitivity, holding the folder's lock."""
    result = run_sweep(sweep, out, workers=workers, resume=resume, backend=backend, on_progress=on_progress)
    if result.failed:  # indices need every design point
        raise result.failure(out)
    means = result.table.groupby("point")[list(HEADLINE)].mean().sort_index()
    parts = []
    for metric in HEADLINE:
        y = means[metric].to_numpy(dtype=float)
        if np.isnan(y).any() or np.ptp(y) == 0:
            continue  # undefined or constant output: no indices to compute
        frame = analyse(method, problem, unit, y, sweep.spec.seed)
        frame.insert(0, "metric", metric)
        frame.insert(1, "method", method)
        parts.append(frame)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    write_csv(out / "indices.csv", table)
    vouch_for(out, ["indices.csv"])
    return table


# Below this many base samples Sobol indices are rarely stable (Saltelli et al. 2010 use 500 and more).
SOBOL_MIN_SAMPLES = 500


def sobol_warnings(indices: pd.DataFrame, samples: int) -> list[str]:
    """Why Sobol indices may not be stable: a small base sample, wide intervals or total indices
    above 1 (impossible for a stable estimate)."""
    out = []
    if samples < SOBOL_MIN_SAMPLES:
        out.append(
            f"The Sobol design has {samples} base samples: indices are rarely stable below "
            f"{SOBOL_MIN_SAMPLES}; treat them as a ranking at best and rerun with more samples."
        )
    if not indices.empty and "ST" in indices:
        over = int((indices["ST"] > 1.0).sum())
        wide = int((indices["ST_conf"] > 0.1).sum())
        if over:
            out.append(f"{over} total indices exceed 1, which a stable estimate cannot: too few samples.")
        if wide:
            out.append(f"{wide} total indices have a 95% interval wider than ±0.1: too few samples.")
    return out
