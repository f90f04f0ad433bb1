"""Replicate statistics: means with 95% t-intervals, and paired differences between configs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from handover_abm.metrics import HEADLINE


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t confidence interval (NaN bounds with fewer than 2 values)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def comparison_table(
    summary: pd.DataFrame, metrics: Sequence[str] = tuple(HEADLINE), level: float = 0.95
) -> pd.DataFrame:
    """Per config and metric: mean and CI, and the paired difference against the first config.

    Replicate r of every config shares a seed (common random numbers), so differences are
    formed replicate by replicate and their interval is that of the paired differences.
    """
    configs = list(dict.fromkeys(summary["config"]))
    base = summary[summary["config"] == configs[0]].set_index("replicate")
    rows = []
    for cfg in configs:
        part = summary[summary["config"] == cfg].set_index("replicate")
        for metric in metrics:
            mean, lo, hi = mean_ci(part[metric].to_numpy(), level)
            common = part.index.intersection(base.index)
            diff = part.loc[common, metric].to_numpy() - base.loc[common, metric].to_numpy()
            d_mean, d_lo, d_hi = mean_ci(diff, level)
            rows.append(
                {
                    "config": cfg,
                    "metric": metric,
                    "unit": HEADLINE[metric][0],
                    "n": int(part[metric].notna().sum()),
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                    "baseline": configs[0],
                    "diff": d_mean,
                    "diff_ci_low": d_lo,
                    "diff_ci_high": d_hi,
                }
            )
    return pd.DataFrame(rows)
