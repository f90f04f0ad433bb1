"""Figures from output folders (run, compare, sweep, sensitivity). Reads only result files.

Colour-blind-safe palettes (Okabe & Ito 2008; Tol 2021); every label comes from the glossary
(human words and units, never code names or config paths); every figure is saved in DIR/figures
as a 300 dpi PNG and an SVG whose text stays editable text (svg.fonttype none), ready for a paper.
Layout (constrained) keeps titles inside the canvas and legends outside the axes, below them; a
yes/no switch or a named choice is drawn as categories (points with intervals, no lines).
No matplotlib backend is chosen here (a library leaves that to its user): a notebook draws with its
own, and the command line, which only writes files, chooses Agg (cli.main).
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes

from handover_abm.dates import Calendar
from handover_abm.folders import verified_manifest
from handover_abm.glossary import DAILY, label, parameter_label, role_label, scale, unit
from handover_abm.results import atomic_write_all, read_parquet
from handover_abm.stats import comparison_table, kind_of, mean_ci
from handover_abm.style import styled

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# 14 roles: Okabe-Ito followed by Tol's muted scheme
ROLE_COLOURS = [*OKABE_ITO[:7], "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#882255", "#AA4499"]
KEY_METRICS = [
    "handovers_per_episode",
    "miscommunications_per_episode",
    "harm_risk_per_1000_episodes",
    "supervisor_load_index",
    "supervisor_interruptions_per_day",
    "upc_gp_mean",
    "gp_contact_share",
    "same_day_share",
    "over_14_days_share",
    "unmet_demand_per_1000_patients",
    "cost_per_episode",
    "fragmentation_index",
]
# Parameter names longer than this (characters) are too long for tick labels: numbers and a key instead.
TICK_LABEL_CHARS = 40
DAILY_PANELS = ["handovers", "miscommunications", "supervisor_load_index", "tasks_waiting"]


@styled
def _save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    try:
        atomic_write_all([(p, partial(fig.savefig, format=p.suffix[1:], bbox_inches="tight")) for p in paths])
    finally:
        plt.close(fig)
    return paths


def _grid(n: int, cols: int = 3) -> tuple[plt.Figure, np.ndarray]:
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.75 * rows + 0.8), squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes


def _chars(inches: float, size: str) -> int:
    """Characters of text at rcParams[`size`] that fit in `inches` (about 0.55 em a character)."""
    points = plt.rcParams[size]
    return int(inches * 72 / (0.55 * (points if isinstance(points, int | float) else 12.0)))


def suptitle(fig: plt.Figure, text: str) -> None:
    """The figure's title, wrapped into lines of even length that fit the figure's width, so that
    it stays inside the canvas."""
    chars = _chars(fig.get_figwidth(), "figure.titlesize")
    lines = math.ceil(len(text) / chars)
    fig.suptitle("\n".join(textwrap.wrap(text, min(chars, math.ceil(len(text) / lines) + 10))))


def legend_below(fig: plt.Figure, handles: list[Artist], labels: list[str], ncol: int = 3) -> None:
    """One figure legend below the axes (constrained layout makes room), so that it covers no data;
    its labels are wrapped so that its columns fit the figure's width."""
    ncol = min(ncol, len(labels))
    chars = _chars(fig.get_figwidth() / ncol, "legend.fontsize") - 6  # less the handle
    wrapped = ["\n".join(textwrap.wrap(t, chars)) for t in labels]
    fig.legend(handles, wrapped, loc="outside lower center", ncol=ncol, frameon=False)


def is_categorical(values: pd.Series) -> bool:
    """Whether a parameter's values are categories (a yes/no switch, a named choice), not numbers."""
    return pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values)


def level_name(param: str, value: object) -> str:
    """A parameter value as a reader sees it: 'yes'/'no' for a switch, a config's name, else the value."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return Path(str(value)).stem if param == "config" else str(value)


def draw_against(
    ax: Axes,
    param: str,
    categories: list[object] | None,
    xs: Sequence[object],
    mean: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    colour: str,
    legend: str | None = None,
    shift: float = 0.0,
) -> None:
    """Mean and interval of an outcome at values `xs` of a parameter: a line and band for a number;
    for categories (every category, in order), a point with whiskers at each category's position
    (moved by `shift` to set series side by side), no connecting line."""
    if categories is None:
        ax.plot(xs, mean, marker="o", ms=3, color=colour, label=legend)
        ax.fill_between(
            xs, np.nan_to_num(lo, nan=mean), np.nan_to_num(hi, nan=mean), color=colour, alpha=0.2, lw=0
        )
        return
    x = np.array([categories.index(v) for v in xs], dtype=float) + shift
    err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
    ax.errorbar(x, mean, yerr=err, fmt="o", ms=4, capsize=3, color=colour, label=legend)
    names = [level_name(param, v) for v in categories]
    turn = max(map(len, names)) > 8
    ax.set_xticks(range(len(names)), names, rotation=20 if turn else 0, ha="right" if turn else "center")
    ax.set_xlim(-0.5, len(names) - 0.5)


@styled
def comparison_bars(summary: pd.DataFrame, folder: Path, metrics: list[str] | None = None) -> list[Path]:
    """Bars of each chosen metric (default: the key metrics) per config with 95% CI error bars."""
    metrics = metrics or KEY_METRICS
    table = comparison_table(summary, metrics)
    configs = list(dict.fromkeys(summary["config"]))
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(configs))]
    fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = table[table["metric"] == metric].set_index("config").loc[configs]
        k = scale(metric)
        err = k * np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
        err = np.nan_to_num(err)
        ax.bar(range(len(configs)), k * part["mean"], color=colours, yerr=err, capsize=4)
        ax.set_xticks(range(len(configs)), configs, rotation=20, ha="right")
        ax.set_title(label(metric))
        ax.set_ylabel(unit(metric))
    n = summary.groupby("config").size().min()
    suptitle(fig, f"Outcomes by team: mean and 95% interval over {n} replicates")
    return _save(fig, folder, "comparison")


@styled
def daily_series(
    daily: pd.DataFrame, folder: Path, window: int = 5, start: date | None = None, warmup_days: int = 0
) -> list[Path]:
    """Daily series (5-day rolling mean) per config against the date: replicate mean and min-max
    band; the warm-up, not counted in any headline metric, is shaded."""
    configs = list(dict.fromkeys(daily["config"]))
    days = int(daily["day"].max())
    dates = Calendar(start, days).dates if start else None
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, layout="constrained")
    for ax, col in zip(axes.flat, DAILY_PANELS, strict=True):
        for k, cfg in enumerate(configs):
            part = daily[daily["config"] == cfg].pivot_table(index="day", columns="replicate", values=col)
            smooth = part.rolling(window, min_periods=1).mean()
            x = [dates[d] for d in smooth.index] if dates else smooth.index
            colour = OKABE_ITO[k % len(OKABE_ITO)]
            ax.plot(x, smooth.mean(axis=1), color=colour, label=cfg, lw=1.4)
            ax.fill_between(x, smooth.min(axis=1), smooth.max(axis=1), color=colour, alpha=0.2, lw=0)
        if warmup_days:
            ax.axvspan(
                dates[1] if dates else 1,
                dates[warmup_days] if dates else warmup_days,
                color="#ececec",
                lw=0,
                zorder=0,
            )
        if col == "supervisor_load_index":
            ax.axhline(1.0, color="grey", ls="--", lw=1)
        ax.set_ylabel(DAILY[col][1])
        ax.set_title(DAILY[col][0])
    for ax in axes[1]:
        ax.set_xlabel("date (working days)" if dates else "working day")
        if dates:
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
            plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    legend_below(fig, *axes[0, 0].get_legend_handles_labels(), ncol=4)
    shade = "; grey: warm-up, not counted" if warmup_days else ""
    suptitle(
        fig, f"Day by day, {window}-day rolling mean; line: replicate mean, band: replicate range{shade}"
    )
    return _save(fig, folder, "daily")


@styled
def supervisor_load(staff: pd.DataFrame, folder: Path) -> list[Path]:
    """Distribution of supervisors' mean load index (one point per supervisor and replicate)."""
    sups = staff[staff["supervisees"] > 0]
    configs = list(dict.fromkeys(staff["config"]))
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(configs) + 2), 4.5), layout="constrained")
    data = [sups[sups["config"] == c]["supervisor_load_index"].dropna().to_numpy() for c in configs]
    if any(len(d) for d in data):
        ax.boxplot([d if len(d) else [np.nan] for d in data], tick_labels=configs, showfliers=False)
        rng = np.random.default_rng(0)
        for k, d in enumerate(data):
            ax.scatter(
                k + 1 + rng.uniform(-0.15, 0.15, len(d)),
                d,
                s=10,
                alpha=0.6,
                color=OKABE_ITO[k % len(OKABE_ITO)],
            )
    ax.axhline(1.0, color="grey", ls="--", lw=1, label="protected supervision time")
    ax.set_ylabel(f"{label('supervisor_load_index')} ({unit('supervisor_load_index')})")
    ax.set_title("Supervisor load: one point per supervising GP and replicate")
    legend_below(fig, *ax.get_legend_handles_labels())
    return _save(fig, folder, "supervisor_load")


@styled
def wait_distribution(waits: pd.DataFrame, folder: Path, max_days: int = 42) -> list[Path]:
    """Share of contacts seen within d calendar days of the request, per config (all replicates)."""
    configs = list(dict.fromkeys(waits["config"]))
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    days = np.arange(max_days + 1)
    for k, cfg in enumerate(configs):
        part = waits[waits["config"] == cfg].groupby("calendar_days")["contacts"].sum()
        counts = part.reindex(range(int(max(part.index.max(), max_days)) + 1), fill_value=0)
        share = counts.cumsum() / counts.sum()
        ax.step(
            days, share.iloc[: max_days + 1], where="post", color=OKABE_ITO[k % len(OKABE_ITO)], label=cfg
        )
    for d in (14, 28):
        ax.axvline(d, color="grey", ls=":", lw=1)
    ax.set_xlabel("calendar days from request (or booking) to appointment")
    ax.set_ylabel("share of contacts seen within that many days")
    ax.set_ylim(0, 1)
    ax.set_title("Wait from request to appointment (dotted: 14 and 28 days)")
    legend_below(fig, *ax.get_legend_handles_labels())
    ax.grid(alpha=0.3)
    return _save(fig, folder, "waits")


def handover_matrix(networks: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """Per config: handovers between roles (role x role, symmetric, % of the config's handovers)."""
    out = {}
    for name, data in networks.items():
        roles = {n["id"]: n["role"] for n in data["nodes"]}
        order = list(dict.fromkeys(n["role"] for n in data["nodes"]))
        m = pd.DataFrame(0.0, index=order, columns=order)
        for e in data["edges"]:
            if e.get("handovers", 0) > 0:
                a, b = roles[e["source"]], roles[e["target"]]
                m.loc[a, b] += e["handovers"]
                if a != b:
                    m.loc[b, a] += e["handovers"]
        total = np.triu(m.to_numpy()).sum()
        out[name] = 100 * m / total if total else m
    return out


@styled
def handover_heatmaps(networks: dict[str, dict], folder: Path) -> list[Path]:
    """A role-by-role heat map of handovers per config: who hands care to whom, readable by a board."""
    paths: list[Path] = []
    for name, m in handover_matrix(networks).items():
        n = len(m)
        fig, ax = plt.subplots(figsize=(1.9 + 0.62 * n, 1.2 + 0.5 * n), layout="constrained")
        im = ax.imshow(m.to_numpy(), cmap="Blues", vmin=0)
        names = [role_label(r) for r in m.index]
        ax.set_xticks(range(n), names, rotation=40, ha="right")
        ax.set_yticks(range(n), names)
        top = m.to_numpy().max() or 1
        for i in range(n):
            for j in range(n):
                v = m.iat[i, j]
                if v >= 0.05:
                    ax.text(
                        j,
                        i,
                        f"{v:.1f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if v > 0.6 * top else "black",
                    )
        ax.spines[:].set_visible(False)
        fig.colorbar(im, ax=ax, shrink=0.7, label="% of the team's handovers")
        ax.set_title(f"Handovers between roles: {name}\n(% of all handovers; diagonal: within a role)")
        paths += _save(fig, folder, f"handovers_{name}")
    return paths


def _paired_differences(ok: pd.DataFrame, p: str, params: list[str], metric: str) -> pd.Series | None:
    """Each run's metric less that of the run with `p` at its first level, the other parameters
    and the replicate (so the seed) equal; None when the design does not pair runs (not a grid)."""
    key = [q for q in params if q != p] + ["replicate"]
    first = ok[p].iloc[0]
    indexed = ok.set_index(key)
    base = ok[ok[p] == first].set_index(key)[metric]
    if not base.index.is_unique or not indexed.index.isin(base.index).all():
        return None
    return pd.Series(indexed[metric].to_numpy() - base.reindex(indexed.index).to_numpy(), index=ok.index)


@styled
def sweep_figure(
    table: pd.DataFrame, p: str, params: list[str], metrics: list[str], team_roles: list[str] | None = None
) -> plt.Figure:
    """Each metric against swept parameter `p` (sweep.parquet rows). On a grid: the paired difference
    (same seeds, other parameters equal) from `p`'s first level, mean and 95% interval; on a sampled
    design: the mean and 95% interval over replicates and the other parameters. A number is drawn
    as a line with a band, a yes/no switch or a named choice as categories (draw_against)."""
    ok = table[table["status"] == "ok"]
    others = [q for q in params if q != p and ok[q].nunique() <= 6]
    group = others[0] if len(params) == 2 and others else None
    levels = list(dict.fromkeys(ok[group])) if group else [None]
    categories = list(dict.fromkeys(ok[p])) if is_categorical(ok[p]) else None
    name = parameter_label(p, team_roles)
    fig, axes = _grid(len(metrics))
    paired_any = False
    for ax, metric in zip(axes.flat, metrics, strict=False):
        diffs = _paired_differences(ok, p, params, metric)
        values = diffs if diffs is not None else ok[metric]
        paired_any |= diffs is not None
        kind = "real" if diffs is not None else kind_of(metric)
        k_scale = scale(metric)
        for k, level in enumerate(levels):
            rows = ok.index if level is None else ok.index[ok[group] == level]
            grouped = values.loc[rows].groupby(ok.loc[rows, p], sort=categories is None)
            st = grouped.apply(lambda s: mean_ci(s.to_numpy(), kind=kind))  # noqa: B023
            m, lo, hi = (k_scale * np.array([v[i] for v in st]) for i in range(3))
            legend = (
                None if level is None else f"{parameter_label(group, team_roles)}: {level_name(group, level)}"
            )
            colour = OKABE_ITO[k % len(OKABE_ITO)]
            shift = 0.12 * (k - (len(levels) - 1) / 2)
            draw_against(ax, p, categories, list(st.index), m, lo, hi, colour, legend, shift)
        if diffs is not None:
            ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(label(metric))
        ax.set_ylabel(("difference, " if diffs is not None else "") + unit(metric))
        ax.set_xlabel(name)
    if group:
        legend_below(fig, *axes[0, 0].get_legend_handles_labels())
    what = (
        f"paired difference from {name} = {level_name(p, ok[p].iloc[0])} (same seeds), mean and 95% interval"
        if paired_any
        else "mean and 95% interval over replicates and the other parameters"
    )
    suptitle(fig, f"Outcomes against {name}: {what}")
    return fig


@styled
def sweep_lines(
    table: pd.DataFrame,
    params: list[str],
    folder: Path,
    metrics: list[str] | None = None,
    team_roles: list[str] | None = None,
) -> list[Path]:
    """sweep_figure of each swept parameter, saved as sweep_<parameter>."""
    paths: list[Path] = []
    for p in params:
        fig = sweep_figure(table, p, params, metrics or KEY_METRICS, team_roles)
        paths += _save(fig, folder, f"sweep_{p.replace('.', '_')}")
    return paths


@styled
def sensitivity_bars(
    indices: pd.DataFrame, folder: Path, metrics: list[str] | None = None, team_roles: list[str] | None = None
) -> list[Path]:
    """Ranked bars of the sensitivity indices (mu* for Morris, ST and S1 for Sobol) per metric."""
    method = indices["method"].iloc[0]
    metrics = [m for m in (metrics or KEY_METRICS) if m in set(indices["metric"])]
    n = len(metrics)
    cols = 3
    rows = max(1, math.ceil(n / cols))
    params = list(dict.fromkeys(indices["parameter"]))
    names = {q: parameter_label(q, team_roles) for q in params}
    numbered = max(map(len, names.values()), default=0) > TICK_LABEL_CHARS
    tick = {q: str(i) if numbered else names[q] for i, q in enumerate(params, 1)}
    fig, axes = plt.subplots(rows, cols, figsize=(13, 3.2 * rows), squeeze=False, layout="constrained")
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = indices[indices["metric"] == metric]
        y = np.arange(len(part))
        if method == "morris":
            part = part.sort_values("mu_star")
            k = scale(metric)
            ax.barh(y, k * part["mu_star"], xerr=k * part["mu_star_conf"], color=OKABE_ITO[0])
            ax.set_xlabel(f"mu*: mean absolute effect ({unit(metric)})")
        else:
            part = part.sort_values("ST")
            ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color=OKABE_ITO[0], label="total (ST)")
            ax.barh(
                y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color=OKABE_ITO[1], label="first order (S1)"
            )
            ax.set_xlabel("share of output variance")
        ax.set_yticks(y, [tick[x] for x in part["parameter"]])
        ax.set_title(label(metric))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if numbered:  # the parameters' names in a key below, by number
        handles += [plt.Line2D([], [], ls="none") for _ in params]
        labels += [f"{tick[q]}: {names[q]}" for q in params]
    if labels:
        legend_below(fig, handles, labels, ncol=2)
    suptitle(
        fig, f"Sensitivity ({'Morris' if method == 'morris' else 'Sobol'}): parameters ranked by influence"
    )
    return _save(fig, folder, f"sensitivity_{method}")


@styled
def morris_mu_sigma(
    indices: pd.DataFrame, folder: Path, metrics: list[str] | None = None, team_roles: list[str] | None = None
) -> list[Path]:
    """Morris mu*-sigma plane per metric: far right = influential, high = non-linear or interacting."""
    metrics = [m for m in (metrics or KEY_METRICS) if m in set(indices["metric"])]
    params = list(dict.fromkeys(indices["parameter"]))
    colour = {q: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, q in enumerate(params)}
    fig, axes = _grid(len(metrics))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = indices[indices["metric"] == metric]
        k = scale(metric)
        for r in part.itertuples():
            ax.scatter(
                k * r.mu_star, k * r.sigma, color=colour[r.parameter], s=28, edgecolors="black", lw=0.4
            )
        top = k * float(max(part["mu_star"].max(), part["sigma"].max()) or 1)
        ax.plot([0, top], [0, top], color="grey", ls=":", lw=0.8)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_title(label(metric))
        ax.set_xlabel(f"mu* ({unit(metric)})")
        ax.set_ylabel(f"sigma ({unit(metric)})")
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=colour[q], label=parameter_label(q, team_roles))
        for q in params
    ]
    legend_below(fig, handles, [h.get_label() for h in handles], ncol=2)
    suptitle(
        fig, "Morris screening: mean absolute effect (mu*) against its spread (sigma); dotted: sigma = mu*"
    )
    return _save(fig, folder, "morris_mu_sigma")


@styled
def waterfalls(explained: pd.DataFrame, folder: Path, metrics: list[str] | None = None) -> list[Path]:
    """Per metric, a waterfall from A's mean to B's: one bar per mechanism group that was switched
    (its mean Shapley contribution, 95% interval over paired replicates), in the groups' order."""
    paths: list[Path] = []
    chosen = metrics or KEY_METRICS
    for metric in chosen:
        part = explained[explained["metric"] == metric]
        if part.empty:
            continue
        part = part[(part["keys"] > 0) | (part["contribution"] != 0)]
        k = scale(metric)
        a_name, b_name = str(part["a"].iloc[0]), str(part["b"].iloc[0])
        a_mean, b_mean = k * float(part["a_mean"].iloc[0]), k * float(part["b_mean"].iloc[0])
        names = [f"{a_name} (A)", *part["group_label"], f"{b_name} (B)"]
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.42 * len(names)), layout="constrained")
        y = np.arange(len(names))[::-1]
        ax.barh(y[0], a_mean, color="#999999")
        level = a_mean
        for i, r in enumerate(part.itertuples(), start=1):
            c = k * r.contribution
            colour = OKABE_ITO[0] if c >= 0 else OKABE_ITO[5]
            ax.barh(y[i], c, left=level, color=colour)
            if not math.isnan(r.lo):
                ax.errorbar(
                    level + c,
                    y[i],
                    xerr=[[k * (r.contribution - r.lo)], [k * (r.hi - r.contribution)]],
                    color="black",
                    capsize=3,
                    lw=0.8,
                )
            ax.plot([level, level], [y[i - 1] - 0.4, y[i] + 0.4], color="grey", lw=0.6, ls=":")
            level += c
        ax.barh(y[-1], b_mean, color="#555555")
        ax.set_yticks(y, names)
        ax.set_xlabel(unit(metric))
        ax.axvline(0, color="grey", lw=0.6)
        suptitle(
            fig,
            f"{label(metric)}: {b_name} against {a_name}, by mechanism (exact Shapley contributions, "
            "same seeds; blue raises, orange lowers; whiskers: 95% interval)",
        )
        paths += _save(fig, folder, f"explain_{metric}")
    return paths


def plot_dir(folder: Path, metrics: list[str] | None = None) -> list[Path]:
    """Write every figure the output folder's files allow, once they are checked against its
    manifest (ConfigError if they do not match it); returns the paths written.

    `metrics` chooses the outcomes drawn (default: the key metrics; any headline metric).
    """
    folder = Path(folder)
    return plot_files(folder, verified_manifest(folder), metrics)


def plot_files(folder: Path, manifest: dict[str, Any], metrics: list[str] | None = None) -> list[Path]:
    """`plot_dir` for a folder already checked against its manifest."""
    figs = folder / "figures"
    resolved = manifest.get("configs", [{}])[0].get("resolved", {})
    team_roles = [e["role"] for e in resolved.get("team", [])]
    start = date.fromisoformat(resolved["calendar"]["start_date"]) if "calendar" in resolved else None
    paths: list[Path] = []
    if (folder / "summary.csv").exists():
        paths += comparison_bars(pd.read_csv(folder / "summary.csv"), figs, metrics)
    if (folder / "daily.parquet").exists():
        daily = read_parquet(folder / "daily.parquet")
        paths += daily_series(daily, figs, start=start, warmup_days=manifest.get("warmup_days", 0))
    if (folder / "waits.csv").exists() and (folder / "waits.csv").stat().st_size > 1:
        waits = pd.read_csv(folder / "waits.csv")
        if len(waits):
            paths += wait_distribution(waits, figs)
    if (folder / "staff.parquet").exists():
        paths += supervisor_load(read_parquet(folder / "staff.parquet"), figs)
    if (folder / "network.json").exists():
        paths += handover_heatmaps(json.loads((folder / "network.json").read_text(encoding="utf-8")), figs)
    if (folder / "sweep.parquet").exists() and "spec" in manifest:
        params = list(manifest["spec"]["parameters"])
        if not (folder / "indices.csv").exists():
            table = read_parquet(folder / "sweep.parquet")
            paths += sweep_lines(table, params, figs, metrics, team_roles)
    if (folder / "indices.csv").exists() and (folder / "indices.csv").stat().st_size > 1:
        indices = pd.read_csv(folder / "indices.csv")
        paths += sensitivity_bars(indices, figs, metrics, team_roles)
        if indices["method"].iloc[0] == "morris":
            paths += morris_mu_sigma(indices, figs, metrics, team_roles)
    if (folder / "explain.csv").exists():
        paths += waterfalls(pd.read_csv(folder / "explain.csv"), figs, metrics)
    if not paths:
        raise FileNotFoundError(f"{folder}: no run, compare, sweep or sensitivity outputs found")
    return paths
