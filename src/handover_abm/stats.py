"""Replicate statistics: means with 95% intervals that respect each metric's range, and paired
differences between configs.

Intervals (INTERVAL_METHOD): a metric that cannot go below zero gets the t-interval of its mean on
the log scale, and a share (0-1) on the logit scale (delta method: the standard error of the mean
is carried to the transformed scale, the interval formed there and transformed back), so bounds
never leave the metric's range; other quantities, and every paired difference, get the plain
t-interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from handover_abm.glossary import METRICS, Kind
from handover_abm.metrics import HEADLINE, UNITS

INTERVAL_METHOD = (
    "95% t-interval of the mean over replicates, on the log scale for quantities that cannot be "
    "negative and on the logit scale for shares (delta method), so bounds stay within range; "
    "differences: t-interval of the paired (same-seed) differences"
)


def mean_ci(values: Sequence[float], level: float = 0.95, kind: Kind = "real") -> tuple[float, float, float]:
    """Mean and two-sided confidence interval (NaN bounds with fewer than 2 values).

    kind "real": t-interval; "count" (>= 0): t-interval on the log scale; "share" (0-1): on the
    logit scale. A mean on the edge of its range with no spread has that value as both bounds.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    t = float(stats.t.ppf(0.5 + level / 2, x.size - 1))
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    if kind == "count" and mean > 0:
        factor = math.exp(t * se / mean)
        return mean, mean / factor, mean * factor
    if kind == "share" and 0 < mean < 1:
        centre = math.log(mean / (1 - mean))
        half = t * se / (mean * (1 - mean))
        return mean, _expit(centre - half), _expit(centre + half)
    lo, hi = mean - t * se, mean + t * se
    if kind == "real":
        return mean, lo, hi
    # on the edge of the range (a mean of 0, or a share of 1, has no spread): clip to the range
    return mean, max(0.0, lo), min(1.0, hi) if kind == "share" else hi


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def kind_of(metric: str) -> Kind:
    """How a metric's interval is formed (glossary kind; 'real' for anything unknown)."""
    m = METRICS.get(metric)
    return m.kind if m else "real"


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
            mean, lo, hi = mean_ci(part[metric].to_numpy(), level, kind_of(metric))
            common = part.index.intersection(base.index)
            diff = part.loc[common, metric].to_numpy() - base.loc[common, metric].to_numpy()
            d_mean, d_lo, d_hi = mean_ci(diff, level)
            rows.append(
                {
                    "config": cfg,
                    "metric": metric,
                    "label": METRICS[metric].label if metric in METRICS else metric,
                    "unit": UNITS.get(metric, ""),
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
