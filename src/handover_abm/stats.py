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

from handover_abm.glossary import METRICS, Kind, label, unit
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


# ---------------------------------------------------------------- parameter uncertainty (--posterior)

POSTERIOR_INTERVAL_METHOD = (
    "95% interval of the expected outcome over the posterior: mean ± t(K-1) x "
    "sqrt(var_parameter x (1 + 1/K) + var_stochastic / N), the two variances from a one-way "
    "random-effects analysis of variance of K posterior draws x S seeds (N = K x S runs); "
    "differences: the same on the paired (same draw, same seed) differences"
)


def variance_components(values: Sequence[float], groups: Sequence[int]) -> tuple[float, float, float, int]:
    """Mean, parameter (between-draw) and stochastic (within-draw) variance, and the draw count.

    One-way random-effects ANOVA by the method of moments: the stochastic variance is the pooled
    within-draw variance; the parameter variance is the variance of the draw means less the part
    the seeds explain (stochastic variance x mean of 1/seeds per draw), floored at zero.
    """
    frame = pd.DataFrame({"x": np.asarray(values, dtype=float), "g": np.asarray(groups)}).dropna()
    if frame.empty:
        return math.nan, math.nan, math.nan, 0
    by = frame.groupby("g")["x"]
    n, means = by.count(), by.mean()
    k, total = len(n), len(frame)
    if k < 2 or total - k < 1:
        return float(frame["x"].mean()), math.nan, math.nan, k
    within = float(((frame["x"] - frame["g"].map(means)) ** 2).sum() / (total - k))
    between = max(0.0, float(means.var(ddof=1)) - within * float((1 / n).mean()))
    return float(frame["x"].mean()), between, within, k


def posterior_interval(
    values: Sequence[float], groups: Sequence[int], level: float = 0.95
) -> tuple[float, float, float, float, float, float]:
    """(mean, low, high, parameter share of the variance, low and high with parameters fixed).

    The interval is for the expected outcome under a parameter set drawn from the posterior; the
    'parameters fixed' interval keeps only the stochastic part (what an interval without
    --posterior measures: the noise of a mean of N runs).
    """
    mean, var_p, var_s, k = variance_components(values, groups)
    n = int(np.isfinite(np.asarray(values, dtype=float)).sum())
    if math.isnan(var_p) or k < 2:
        return mean, math.nan, math.nan, math.nan, math.nan, math.nan
    param = var_p * (1 + 1 / k)
    stoch = var_s / n
    total = param + stoch
    t_all = float(stats.t.ppf(0.5 + level / 2, k - 1))
    t_fixed = float(stats.t.ppf(0.5 + level / 2, n - 1))
    half, half_fixed = t_all * math.sqrt(total), t_fixed * math.sqrt(stoch)
    # a quantity the same in every run (e.g. team size) has no variance to share out
    share = param / total if total > 1e-12 * max(1.0, mean * mean) else math.nan
    return mean, mean - half, mean + half, share, mean - half_fixed, mean + half_fixed


def _clip(kind: Kind, x: float) -> float:
    if kind == "count":
        return max(0.0, x)
    if kind == "share":
        return min(1.0, max(0.0, x))
    return x


def posterior_comparison_table(
    summary: pd.DataFrame, metrics: Sequence[str] = tuple(HEADLINE), level: float = 0.95
) -> pd.DataFrame:
    """comparison_table's columns, with intervals that include parameter uncertainty, plus its share.

    `summary` has a `draw` column: replicate r of every config used the same posterior draw and
    seed. Extra columns: `param_share` and `diff_param_share` (share of the interval's variance
    that is parameter uncertainty), `ci_low_fixed`... (intervals with parameters fixed),
    `diff_sign_share` (share of draws whose mean difference has the overall sign) and `diff_robust`
    (the interval including parameter uncertainty excludes zero: the sign holds across the posterior).
    """
    configs = list(dict.fromkeys(summary["config"]))
    base = summary[summary["config"] == configs[0]].set_index("replicate")
    rows = []
    for cfg in configs:
        part = summary[summary["config"] == cfg].set_index("replicate")
        common = part.index.intersection(base.index)
        draws = part.loc[common, "draw"].to_numpy()
        for metric in metrics:
            kind = kind_of(metric)
            mean, lo, hi, share, lo_f, hi_f = posterior_interval(
                part[metric].to_numpy(), part["draw"].to_numpy(), level
            )
            diff = part.loc[common, metric].to_numpy(dtype=float) - base.loc[common, metric].to_numpy(
                dtype=float
            )
            d_mean, d_lo, d_hi, d_share, d_lo_f, d_hi_f = posterior_interval(diff, draws, level)
            per_draw = pd.Series(diff).groupby(draws).mean().dropna()
            sign = np.sign(d_mean) if not math.isnan(d_mean) else 0.0
            agree = float((np.sign(per_draw) == sign).mean()) if sign != 0 and len(per_draw) else math.nan
            rows.append(
                {
                    "config": cfg,
                    "metric": metric,
                    "label": METRICS[metric].label if metric in METRICS else metric,
                    "unit": UNITS.get(metric, ""),
                    "n": int(part[metric].notna().sum()),
                    "draws": int(part["draw"].nunique()),
                    "mean": mean,
                    "ci_low": _clip(kind, lo),
                    "ci_high": _clip(kind, hi),
                    "ci_low_fixed": _clip(kind, lo_f),
                    "ci_high_fixed": _clip(kind, hi_f),
                    "param_share": share,
                    "baseline": configs[0],
                    "diff": d_mean,
                    "diff_ci_low": d_lo,
                    "diff_ci_high": d_hi,
                    "diff_ci_low_fixed": d_lo_f,
                    "diff_ci_high_fixed": d_hi_f,
                    "diff_param_share": d_share,
                    "diff_sign_share": agree,
                    "diff_robust": bool(d_lo > 0 or d_hi < 0),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- sweeps


def sweep_table(
    runs: pd.DataFrame, parameters: Sequence[str], metrics: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """Per design point and metric of a sweep's runs (sweep.parquet): the parameter values, mean and
    interval over replicates, and the paired difference (same seeds) from the first point.

    Replicate r of every design point shares a seed, so differences are formed replicate by
    replicate, as in comparison_table; failed runs are left out.
    """
    ok = runs[runs["status"] == "ok"]
    first = ok[ok["point"] == ok["point"].min()].set_index("replicate")
    rows = []
    for point, part in ok.groupby("point", sort=True):
        values = {p: part[p].iloc[0] for p in parameters}
        by_rep = part.set_index("replicate")
        common = by_rep.index.intersection(first.index)
        for metric in metrics:
            mean, lo, hi = mean_ci(part[metric].to_numpy(), level, kind_of(metric))
            diff = by_rep.loc[common, metric].to_numpy() - first.loc[common, metric].to_numpy()
            d, d_lo, d_hi = mean_ci(diff, level)
            rows.append(
                {
                    "point": point,
                    **values,
                    "metric": metric,
                    "label": label(metric),
                    "unit": unit(metric),
                    "n": len(part),
                    "mean": mean,
                    "lo": lo,
                    "hi": hi,
                    "diff": d,
                    "diff_lo": d_lo,
                    "diff_hi": d_hi,
                }
            )
    return pd.DataFrame(rows)
