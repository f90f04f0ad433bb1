"""A self-contained HTML report of an output folder, for a planner to open or share."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

import pandas as pd

from handover_abm.config import Scenario
from handover_abm.metrics import HEADLINE
from handover_abm.plots import plot_dir
from handover_abm.results import write_text
from handover_abm.stats import comparison_table
from handover_abm.team import team_table

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:.6em 0}
.note{color:#555;font-size:.9em}
"""


def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _ci(m: float, lo: float, hi: float) -> str:
    return _num(m) if math.isnan(lo) else f"{_num(m)} [{_num(lo)}, {_num(hi)}]"


def _team_html(scenarios: list[Scenario]) -> str:
    rows = [r for s in scenarios for r in team_table(s)]
    frame = pd.DataFrame(rows)
    out = []
    for s in scenarios:
        part = frame[frame["config"] == s.name]
        body = "".join(
            f"<tr><td>{html.escape(str(r.label))}</td><td>{html.escape(str(r.organisation))}</td>"
            f"<td>{r.posts}</td><td>{r.fte:.1f}</td><td>{_num(r.annual_cost)}</td></tr>"
            for r in part.itertuples()
        )
        out.append(
            f"<h3>{html.escape(s.name)}</h3><p class=note>{html.escape(s.description)}</p>"
            f"<table><tr><th>role</th><th>organisation</th><th>posts</th><th>FTE</th>"
            f"<th>annual cost (GBP)</th></tr>{body}<tr><th>total</th><th></th>"
            f"<th>{part['posts'].sum()}</th><th>{part['fte'].sum():.1f}</th>"
            f"<th>{_num(part['annual_cost'].sum())}</th></tr></table>"
        )
    return "".join(out)


def _headline_html(summary: pd.DataFrame) -> str:
    table = comparison_table(summary)
    configs = list(dict.fromkeys(summary["config"]))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in configs)
    body = []
    for metric in HEADLINE:
        cells = []
        for k, cfg in enumerate(configs):
            r = table[(table["metric"] == metric) & (table["config"] == cfg)].iloc[0]
            cell = _ci(r["mean"], r["ci_low"], r["ci_high"])
            if k:
                cell += f"<br><small>Δ {_ci(r['diff'], r['diff_ci_low'], r['diff_ci_high'])}</small>"
            cells.append(f"<td>{cell}</td>")
        body.append(f"<tr><td>{metric}</td><td>{HEADLINE[metric][0]}</td>{''.join(cells)}</tr>")
    return (
        f"<table><tr><th>metric</th><th>unit</th>{head}</tr>{''.join(body)}</table>"
        f"<p class=note>Mean [95% CI] over {summary.groupby('config').size().min()} replicates. "
        f"Δ: paired difference against {html.escape(configs[0])} (same seeds, same patients and "
        f"episodes), with its 95% CI.</p>"
    )


def write_report(folder: Path) -> Path:
    """Write DIR/report.html (figures embedded as PNG data) and return its path."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    scenarios = [Scenario.model_validate(c["resolved"]) for c in manifest["configs"]]
    figures = [p for p in plot_dir(folder) if p.suffix == ".png"]
    parts = [
        f"<h1>handover-abm report: {html.escape(folder.name)}</h1>",
        f"<p class=note>Command: {html.escape(manifest['command'])}; "
        f"handover-abm {manifest['versions']['handover_abm']}, Mesa {manifest['versions']['mesa']}, "
        f"Python {manifest['versions']['python']}; root seed {manifest['root_seed']}; "
        f"git {html.escape(str(manifest.get('git_commit')))}.</p>",
    ]
    if manifest["command"] == "sweep":
        spec = manifest["spec"]
        parts.append(
            f"<h2>Sweep</h2><p>{html.escape(spec.get('description') or spec['name'])}: "
            f"{manifest['runs']} runs ({len(manifest['design_points'])} design points x "
            f"{spec['replicates']} replicates), design {spec['design']}, varying "
            f"{', '.join(html.escape(k) for k in spec['parameters'])}; "
            f"{manifest.get('runs_failed', 0)} failed.</p>"
        )
        parts.append("<h2>Base team</h2>" + _team_html(scenarios))
    else:
        parts.append(
            "<h2>Configs compared</h2>"
            + "".join(
                f"<p><b>{html.escape(s.name)}</b>: {html.escape(s.description)}; "
                f"{s.population.size:,} patients, {s.days} working days from {s.calendar.start_date}, "
                f"booking rule "
                f"{s.routing.policy}</p>"
                for s in scenarios
            )
        )
        parts.append("<h2>Teams</h2>" + _team_html(scenarios))
        summary = pd.read_csv(folder / "summary.csv")
        parts.append("<h2>Headline metrics</h2>" + _headline_html(summary))
    parts.append("<h2>Figures</h2>")
    for p in figures:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        parts.append(f"<img alt='{html.escape(p.stem)}' src='data:image/png;base64,{data}'>")
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>handover-abm report</title>"
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )
    target = folder / "report.html"
    write_text(target, page)
    return target
