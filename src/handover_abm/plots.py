"""Figures from output folders (run, compare, sweep, sensitivity). Reads only result files.

Colour-blind-safe palettes (Okabe & Ito 2008; Tol 2021); axes carry units; every figure is saved
as PNG and SVG in DIR/figures.
"""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd

from handover_abm.metrics import HEADLINE
from handover_abm.results import atomic_write_all
from handover_abm.stats import comparison_table, mean_ci

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
DAILY_PANELS = [
    ("handovers", "handovers per day"),
    ("miscommunications", "miscommunications per day"),
    ("supervisor_load_index", "supervisor load index (1 = protected time used)"),
    ("tasks_waiting", "backlog (tasks waiting)"),
]

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "savefig.dpi": 150,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
    }
)


def _save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    try:
        atomic_write_all([(p, partial(fig.savefig, format=p.suffix[1:], bbox_inches="tight")) for p in paths])
    finally:
        plt.close(fig)
    return paths


def comparison_bars(summary: pd.DataFrame, folder: Path) -> list[Path]:
    """Bars of each key metric per config with 95% CI error bars."""
    table = comparison_table(summary, KEY_METRICS)
    configs = list(dict.fromkeys(summary["config"]))
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(configs))]
    fig, axes = plt.subplots(4, 3, figsize=(11, 11))
    for ax, metric in zip(axes.flat, KEY_METRICS, strict=True):
        part = table[table["metric"] == metric].set_index("config").loc[configs]
        err = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
        err = np.nan_to_num(err)
        ax.bar(range(len(configs)), part["mean"], color=colours, yerr=err, capsize=4)
        ax.set_xticks(range(len(configs)), configs, rotation=20, ha="right")
        ax.set_title(metric.replace("_", " "))
        ax.set_ylabel(HEADLINE[metric][0])
    n = summary.groupby("config").size().min()
    fig.suptitle(f"Headline metrics by team: mean and 95% CI over {n} replicates")
    fig.tight_layout()
    return _save(fig, folder, "comparison")


def daily_series(daily: pd.DataFrame, folder: Path, window: int = 5) -> list[Path]:
    """Daily series (5-day rolling mean) per config: replicate mean and min-max band."""
    configs = list(dict.fromkeys(daily["config"]))
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, (col, label) in zip(axes.flat, DAILY_PANELS, strict=True):
        for k, cfg in enumerate(configs):
            part = daily[daily["config"] == cfg].pivot_table(index="day", columns="replicate", values=col)
            smooth = part.rolling(window, min_periods=1).mean()
            colour = OKABE_ITO[k % len(OKABE_ITO)]
            ax.plot(smooth.index, smooth.mean(axis=1), color=colour, label=cfg, lw=1.4)
            ax.fill_between(
                smooth.index, smooth.min(axis=1), smooth.max(axis=1), color=colour, alpha=0.2, lw=0
            )
        if col == "supervisor_load_index":
            ax.axhline(1.0, color="grey", ls="--", lw=1)
        ax.set_ylabel(label)
        ax.set_title(label)
    for ax in axes[1]:
        ax.set_xlabel("working day")
    axes[0, 0].legend(frameon=False)
    fig.suptitle(f"Daily series, {window}-day rolling mean; line: replicate mean, band: replicate range")
    fig.tight_layout()
    return _save(fig, folder, "daily")


def supervisor_load(staff: pd.DataFrame, folder: Path) -> list[Path]:
    """Distribution of supervisors' mean load index (one point per supervisor and replicate)."""
    sups = staff[staff["supervisees"] > 0]
    configs = list(dict.fromkeys(staff["config"]))
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(configs) + 2), 4.5))
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
    ax.set_ylabel("mean load index (supervision min / protected min)")
    ax.set_title("Supervisor load: one point per supervising GP and replicate")
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return _save(fig, folder, "supervisor_load")


def wait_distribution(waits: pd.DataFrame, folder: Path, max_days: int = 42) -> list[Path]:
    """Share of contacts seen within d calendar days of the request, per config (all replicates)."""
    configs = list(dict.fromkeys(waits["config"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
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
    ax.set_ylabel("share of contacts seen within")
    ax.set_ylim(0, 1)
    ax.set_title("Wait from request to appointment (dotted: 14 and 28 days)")
    ax.legend(frameon=False, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, folder, "waits")


def team_networks(networks: dict[str, dict], folder: Path) -> list[Path]:
    """Team network per config: colour by role, edge width by handovers, supervision dashed."""
    paths: list[Path] = []
    roles = sorted({d["role"] for net in networks.values() for d in net["nodes"]})
    colour = {r: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, r in enumerate(roles)}
    for name, data in networks.items():
        g = nx.node_link_graph(data, edges="edges")
        fig, ax = plt.subplots(figsize=(8.5, 7))
        work = [(u, v) for u, v, d in g.edges(data=True) if d["handovers"] > 0 and not d["supervision"]]
        sup = [(u, v) for u, v, d in g.edges(data=True) if d["supervision"]]
        h = nx.Graph()
        h.add_nodes_from(g.nodes)
        h.add_edges_from(work + sup)
        pos = nx.spring_layout(h, seed=1, k=1.5 / math.sqrt(max(1, h.number_of_nodes())))
        flows = np.array([g.edges[e]["handovers"] for e in work], dtype=float)
        widths = 0.3 + 3.5 * np.log1p(flows) / np.log1p(flows.max()) if len(flows) else []
        nx.draw_networkx_edges(h, pos, edgelist=work, width=widths, edge_color="#888888", alpha=0.5, ax=ax)
        nx.draw_networkx_edges(h, pos, edgelist=sup, style="dashed", edge_color="#D55E00", width=1.2, ax=ax)
        sizes = [40 + 260 * g.nodes[n]["fte"] for n in g.nodes]
        nx.draw_networkx_nodes(
            h,
            pos,
            node_color=[colour[g.nodes[n]["role"]] for n in g.nodes],
            node_size=sizes,
            edgecolors="black",
            linewidths=0.5,
            ax=ax,
        )
        present = sorted({g.nodes[n]["role"] for n in g.nodes})
        handles = [
            plt.Line2D([], [], marker="o", ls="", color=colour[r], label=r.replace("_", " ")) for r in present
        ]
        handles.append(plt.Line2D([], [], color="#D55E00", ls="--", label="supervision link"))
        handles.append(plt.Line2D([], [], color="#888888", lw=3, label="handovers (width: log count)"))
        ax.legend(handles=handles, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        ax.set_title(f"Team network: {name} (node size: FTE; replicate 0, end of run)")
        ax.axis("off")
        fig.tight_layout()
        paths += _save(fig, folder, f"network_{name}")
    return paths


def sweep_lines(table: pd.DataFrame, params: list[str], folder: Path) -> list[Path]:
    """Each key metric against each swept parameter: mean and 95% CI band over the other runs."""
    ok = table[table["status"] == "ok"]
    paths: list[Path] = []
    for p in params:
        others = [q for q in params if q != p and ok[q].nunique() <= 6]
        group = others[0] if len(params) == 2 and others else None
        numeric = pd.api.types.is_numeric_dtype(ok[p])
        fig, axes = plt.subplots(4, 3, figsize=(11, 11))
        for ax, metric in zip(axes.flat, KEY_METRICS, strict=True):
            levels = list(dict.fromkeys(ok[group])) if group else [None]
            for k, level in enumerate(levels):
                part = ok if level is None else ok[ok[group] == level]
                stats = part.groupby(p, sort=numeric)[metric].apply(lambda s: mean_ci(s.to_numpy()))
                xs = list(stats.index)
                m = np.array([v[0] for v in stats])
                lo = np.array([v[1] for v in stats])
                hi = np.array([v[2] for v in stats])
                colour = OKABE_ITO[k % len(OKABE_ITO)]
                shown = Path(str(level)).stem if group == "config" else level
                label = None if level is None else f"{group} = {shown}"
                if numeric:
                    ax.plot(xs, m, marker="o", ms=3, color=colour, label=label)
                    ax.fill_between(
                        xs, np.nan_to_num(lo, nan=m), np.nan_to_num(hi, nan=m), color=colour, alpha=0.2, lw=0
                    )
                else:
                    x = np.arange(len(xs)) + 0.08 * (k - (len(levels) - 1) / 2)
                    err = np.nan_to_num(np.vstack([m - lo, hi - m]))
                    ax.errorbar(x, m, yerr=err, fmt="o", ms=4, capsize=3, color=colour, label=label)
                    names = [Path(str(v)).stem if p == "config" else str(v) for v in xs]
                    ax.set_xticks(np.arange(len(xs)), names, rotation=20, ha="right")
            ax.set_title(metric.replace("_", " "))
            ax.set_ylabel(HEADLINE[metric][0])
            ax.set_xlabel(p)
        if group:
            axes[0, 0].legend(frameon=False)
        fig.suptitle(
            f"Metrics against {p}: mean and 95% CI over replicates"
            + ("" if group else " and the other parameters")
        )
        fig.tight_layout()
        paths += _save(fig, folder, f"sweep_{p.replace('.', '_')}")
    return paths


def sensitivity_bars(indices: pd.DataFrame, folder: Path) -> list[Path]:
    """Ranked bars of the sensitivity indices (mu* for Morris, ST and S1 for Sobol) per metric."""
    method = indices["method"].iloc[0]
    metrics = [m for m in KEY_METRICS if m in set(indices["metric"])]
    n = len(metrics)
    cols = 3
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.2 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = indices[indices["metric"] == metric]
        if method == "morris":
            part = part.sort_values("mu_star")
            ax.barh(part["parameter"], part["mu_star"], xerr=part["mu_star_conf"], color=OKABE_ITO[0])
            ax.set_xlabel(f"mu* ({HEADLINE[metric][0]})")
        else:
            part = part.sort_values("ST")
            y = np.arange(len(part))
            ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color=OKABE_ITO[0], label="total (ST)")
            ax.barh(
                y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color=OKABE_ITO[1], label="first order (S1)"
            )
            ax.set_yticks(y, part["parameter"])
            ax.set_xlabel("share of output variance")
        ax.set_title(metric.replace("_", " "))
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if method == "sobol" and n:
        axes[0, 0].legend(frameon=False)
    fig.suptitle(f"Sensitivity ({method}): parameters ranked by influence")
    fig.tight_layout()
    return _save(fig, folder, f"sensitivity_{method}")


def plot_dir(folder: Path) -> list[Path]:
    """Write every figure the output folder's files allow; returns the paths written."""
    folder = Path(folder)
    figs = folder / "figures"
    paths: list[Path] = []
    if (folder / "summary.csv").exists():
        paths += comparison_bars(pd.read_csv(folder / "summary.csv"), figs)
    if (folder / "daily.parquet").exists():
        paths += daily_series(pd.read_parquet(folder / "daily.parquet"), figs)
    if (folder / "waits.csv").exists() and (folder / "waits.csv").stat().st_size > 1:
        waits = pd.read_csv(folder / "waits.csv")
        if len(waits):
            paths += wait_distribution(waits, figs)
    if (folder / "staff.parquet").exists():
        paths += supervisor_load(pd.read_parquet(folder / "staff.parquet"), figs)
    if (folder / "network.json").exists():
        paths += team_networks(json.loads((folder / "network.json").read_text(encoding="utf-8")), figs)
    if (folder / "sweep.parquet").exists() and (folder / "manifest.json").exists():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        params = list(manifest["spec"]["parameters"])
        if not (folder / "indices.csv").exists():
            paths += sweep_lines(pd.read_parquet(folder / "sweep.parquet"), params, figs)
    if (folder / "indices.csv").exists() and (folder / "indices.csv").stat().st_size > 1:
        paths += sensitivity_bars(pd.read_csv(folder / "indices.csv"), figs)
    if not paths:
        raise FileNotFoundError(f"{folder}: no run, compare, sweep or sensitivity outputs found")
    return paths
