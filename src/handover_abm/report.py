"""A self-contained HTML report of an output folder, for a planner to share with a board.

A compare opens with the verdict (per config against the first: better, worse or no detectable
difference per outcome, and the annual cost difference), then a short board table (access,
safety, supervisor load, continuity, cost), then who hands care to whom, then detail. Every
metric and parameter is named by the glossary; periods are calendar dates.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import pandas as pd

from handover_abm.config import Scenario
from handover_abm.folders import shown, verified_manifest
from handover_abm.glossary import BOARD, METRICS, display_name, fmt, interval, interval_diff, parameter_label
from handover_abm.metrics import BOOKING_LEAD_BANDS, HEADLINE, TABLE_METRICS
from handover_abm.plots import KEY_METRICS, level_name, plot_files
from handover_abm.results import read_parquet, write_text
from handover_abm.sensitivity import sobol_warnings
from handover_abm.stats import (
    INTERVAL_METHOD,
    POSTERIOR_INTERVAL_METHOD,
    comparison_table,
    kind_of,
    mean_ci,
    posterior_comparison_table,
    sweep_table,
)
from handover_abm.team import team_table
from handover_abm.verdict import (
    BETTER,
    SAME,
    WORSE,
    Verdict,
    calls,
    keep_up_notes,
    measured_text,
    seeds_text,
    verdicts,
    warnings_for,
)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .55em;text-align:right;vertical-align:top}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}img{max-width:100%;margin:.6em 0}
.note{color:#555;font-size:.9em}.verdict{font-size:1.08em;margin:.4em 0}
.better{color:#0a6b3d;font-weight:600}.worse{color:#b00020;font-weight:600}.same{color:#666}
.mixed{color:#8a5a00;font-weight:600}
.warn{background:#fff4d6;border-left:4px solid #e0a800;padding:.5em .8em;margin:.8em 0}
td.l{text-align:left}
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _cls(verdict: str) -> str:
    return {BETTER: "better", WORSE: "worse", SAME: "same", "mixed": "mixed"}.get(verdict, "same")


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{_e(path.stem)}' src='data:image/png;base64,{data}'>"


def _title(scenarios: list[Scenario], command: str) -> str:
    names = [s.name for s in scenarios]
    if command == "compare" and len(names) > 1:
        others = names[1:]
        listed = others[0] if len(others) == 1 else f"{', '.join(others[:-1])} and {others[-1]}"
        return f"Which team does better? {listed} against {names[0]}"
    return f"Outcomes of {names[0]}"


def _team_html(scenarios: list[Scenario]) -> str:
    out = []
    for s in scenarios:
        rows = team_table(s)
        body = "".join(
            f"<tr><td>{_e(r['label'])}</td><td>{_e(r['organisation'])}</td>"
            f"<td>{r['posts']}</td><td>{r['fte']:.1f}</td>"
            f"<td>{fmt('annual_staff_cost', r['annual_cost'])}</td></tr>"
            for r in rows
        )
        total = sum(float(r["annual_cost"]) for r in rows)  # type: ignore[arg-type]
        out.append(
            f"<h3>{_e(s.name)}</h3><p class=note>{_e(s.description)}</p>"
            f"<table><tr><th>role</th><th>employer</th><th>posts</th><th>FTE</th>"
            f"<th>annual cost</th></tr>{body}<tr><th>total</th><th></th>"
            f"<th>{sum(int(r['posts']) for r in rows)}</th>"  # type: ignore[call-overload]
            f"<th>{sum(float(r['fte']) for r in rows):.1f}</th>"  # type: ignore[arg-type]
            f"<th>{fmt('annual_staff_cost', total)}</th></tr></table>"
        )
    return "".join(out)


def _board_html(table: pd.DataFrame, found: list[Verdict]) -> str:
    """Rows: the board's groups; columns: each config against the baseline."""
    head = "".join(f"<th>{_e(v.config)} against {_e(v.baseline)}</th>" for v in found)
    rows = []
    for group in BOARD:
        cells = []
        for v in found:
            verdict, group_calls = v.groups[group]
            lines = "".join(
                f"<br>{_e(c.label)}: {fmt(c.metric, c.base)} → {fmt(c.metric, c.mean)} "
                f"<span class={_cls(c.verdict)}>({_e(interval_diff(c.metric, c.diff, c.low, c.high))})</span>"
                for c in group_calls
            )
            note = v.group_note(group)
            behind = f"<br><span class=worse>{_e(note)}</span>" if note else ""
            cells.append(f"<td class=l><span class={_cls(verdict)}>{_e(verdict)}</span>{behind}{lines}</td>")
        rows.append(f"<tr><th>{_e(group.capitalize())}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th>outcome</th>{head}</tr>{''.join(rows)}</table>"


def _detail_html(table: pd.DataFrame, configs: list[str]) -> str:
    parts = []
    base = configs[0]
    by = table.set_index(["config", "metric"])
    metrics = list(dict.fromkeys(table["metric"]))
    if len(configs) == 1:
        body = "".join(
            f"<tr><td>{_e(display_name(m))}</td>"
            f"<td>{_e(interval(m, *by.loc[(base, m), ['mean', 'ci_low', 'ci_high']]))}</td></tr>"
            for m in metrics
        )
        return f"<table><tr><th>outcome</th><th>mean [95% interval]</th></tr>{body}</table>"
    for cfg in configs[1:]:
        body = "".join(
            f"<tr><td>{_e(display_name(c.metric))}</td>"
            f"<td>{_e(interval(c.metric, *by.loc[(base, c.metric), ['mean', 'ci_low', 'ci_high']]))}</td>"
            f"<td>{_e(interval(c.metric, *by.loc[(cfg, c.metric), ['mean', 'ci_low', 'ci_high']]))}</td>"
            f"<td>{_e(interval_diff(c.metric, c.diff, c.low, c.high))}</td>"
            f"<td><span class={_cls(c.verdict)}>{_e(c.verdict)}</span></td></tr>"
            for c in calls(table, cfg, metrics)
        )
        parts.append(
            f"<h3>{_e(cfg)} against {_e(base)}</h3><table><tr><th>outcome</th><th>{_e(base)}</th>"
            f"<th>{_e(cfg)}</th><th>difference [95% interval]</th><th>verdict</th></tr>{body}</table>"
        )
    return "".join(parts)


def _bands_html(summary: pd.DataFrame, configs: list[str]) -> str:
    """Contacts by the booking-lead bands NHS England publishes, beside the published shares
    (data/targets.yaml); a folder written before the bands existed shows none."""
    from handover_abm.targets import load_targets

    bands = [b for b in BOOKING_LEAD_BANDS if b[0] in summary.columns]
    if not bands:
        return ""
    published = {t.metric: t for t in load_targets().values()}
    head = "".join(f"<th>{_e(c)}</th>" for c in configs)
    rows = []
    for metric, _, _, band in bands:
        t = published.get(metric)
        shares = (summary.loc[summary["config"] == c, metric] for c in configs)
        cells = "".join(f"<td>{_e(interval(metric, *mean_ci(x, kind=kind_of(metric))))}</td>" for x in shares)
        source = f"{fmt(metric, t.value)} ({t.year})" if t else "–"
        rows.append(f"<tr><td>{_e(band)}</td><td>{_e(source)}</td>{cells}</tr>")
    return (
        "<h2>Time from request to appointment, in the published bands</h2><p class=note>Share of "
        "contacts by calendar days from the request (or the booking, for a contact booked ahead) to "
        "the appointment, mean [95% interval], beside the share NHS England's Appointments in General "
        "Practice publishes for England (booking to appointment; sources in docs/calibration.md).</p>"
        f"<table><tr><th>band</th><th>published</th>{head}</tr>{''.join(rows)}</table>"
    )


def _glossary_html(metrics: list[str]) -> str:
    body = "".join(
        f"<tr><td>{_e(METRICS[m].label)}</td><td>{_e(METRICS[m].unit)}</td>"
        f"<td class=l>{_e(METRICS[m].meaning)}</td>"
        f"<td>{_e(METRICS[m].better or '–')}</td></tr>"
        for m in metrics
    )
    return f"<table><tr><th>outcome</th><th>unit</th><th>meaning</th><th>better when</th></tr>{body}</table>"


def _warnings_html(notes: list[str]) -> str:
    return "".join(f"<div class=warn>{_e(n)}</div>" for n in notes)


def _comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """The comparison table; with posterior draws (--posterior), intervals include parameter uncertainty.
    A folder written before a metric was added lacks its column: the table leaves it out."""
    metrics = [m for m in TABLE_METRICS if m in summary.columns]
    if "draw" in summary.columns:
        return posterior_comparison_table(summary, metrics)
    return comparison_table(summary, metrics)


def _robustness_html(table: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """With --posterior: which differences keep their sign across the posterior, and which do not."""
    info = manifest.get("posterior")
    if not info:
        return ""
    from handover_abm.posterior import robustness_lines

    head = (
        f"<h2>Robust to what is unknown?</h2><p class=note>Each replicate used a parameter set drawn "
        f"from the calibrated posterior {_e(info['posterior'])} ({info['draws']} draws of "
        f"{_e(', '.join(info['parameters']))}, {info['seeds_per_draw']} seeds each, the same in every "
        f"config); the intervals above and below include that parameter uncertainty. "
        f"{_e(POSTERIOR_INTERVAL_METHOD)}.</p>"
    )
    return head + "".join(f"<p class=verdict>{_e(line)}</p>" for line in robustness_lines(table))


def _compare_parts(
    folder: Path, manifest: dict[str, Any], scenarios: list[Scenario], figures: list[Path]
) -> list[str]:
    summary = pd.read_csv(folder / "summary.csv")
    table = _comparison(summary)
    configs = list(dict.fromkeys(summary["config"]))
    n = int(summary.groupby("config").size().min())
    warmup = int(manifest.get("warmup_days", 0))
    root = manifest.get("root_seed")
    # posterior draws derive their seeds from the root seed in their own way (posterior.py)
    seeds = f"root seed {root}" if manifest.get("posterior") else seeds_text(manifest.get("seeds", []), root)
    parts = [
        f"<p class=note>{_e(measured_text(scenarios[0], warmup, n, seeds))} Common random numbers: "
        "replicate r of every team has the same patients and episodes.</p>",
        _warnings_html(keep_up_notes(table) + warnings_for(n, min(s.days for s in scenarios), warmup)),
    ]
    if manifest.get("equalise"):  # compare --equalise: the teams were scaled to one budget
        parts.insert(1, f"<p class=verdict>{_e(manifest['equalise']['note'])}.</p>")
    figure = {p.stem: p for p in figures}
    if len(configs) > 1:
        found = verdicts(table)
        parts.append("<h2>Verdict</h2>")
        parts += [f"<p class=verdict>{_e(v.sentence())}</p>" for v in found]
        parts.append(
            "<p class=note>Better or worse only where the 95% interval of the paired difference excludes "
            "zero; otherwise no detectable difference. A group is mixed when its outcomes disagree.</p>"
        )
        parts.append(_robustness_html(table, manifest))
        parts.append("<h2>What a board needs to know</h2>" + _board_html(table, found))
    parts.append("<h2>Who hands care to whom</h2>")
    parts += [_img(figure[f"handovers_{c}"]) for c in configs if f"handovers_{c}" in figure]
    parts.append("<h2>Every outcome</h2>" + _detail_html(table, configs))
    parts.append(f"<p class=note>Intervals: {_e(INTERVAL_METHOD)}.</p>")
    parts.append(_bands_html(summary, configs))
    parts.append(
        "<h2>Configs compared</h2>"
        + "".join(
            f"<p><b>{_e(s.name)}</b>: {_e(s.description)}; {s.population.size:,} patients, "
            f"booking rule {_e(s.routing.policy.replace('_', ' '))}</p>"
            for s in scenarios
        )
    )
    parts.append("<h2>Teams</h2>" + _team_html(scenarios))
    parts.append("<h2>Figures</h2>")
    parts += [_img(p) for p in figures if not p.stem.startswith("handovers_")]
    parts.append("<h2>Glossary</h2>" + _glossary_html(TABLE_METRICS))
    return parts


def _sweep_parts(
    folder: Path, manifest: dict[str, Any], scenarios: list[Scenario], figures: list[Path]
) -> list[str]:
    spec = manifest["spec"]
    roles = [e.role for e in scenarios[0].team]
    varied = ", ".join(_e(parameter_label(k, roles)) for k in spec["parameters"])
    command = manifest.get("command", "sweep")
    design = manifest.get("design", spec["design"])
    parts = [
        f"<p>{manifest['runs']} runs ({len(manifest['design_points'])} design points x "
        f"{spec['replicates']} replicates), design {_e(design)}, varying {varied}; "
        f"{manifest.get('runs_failed', 0)} failed.</p>"
    ]
    numbers = ""
    if command == "sweep":
        runs = read_parquet(folder / "sweep.parquet")
        params = list(spec["parameters"])
        frame = sweep_table(runs, params, [m for m in KEY_METRICS if m in runs.columns])
        ok = runs[runs["status"] == "ok"]
        n = int(ok.groupby("point").size().min()) if len(ok) else 0
        parts.append(_warnings_html(warnings_for(n, scenarios[0].days, int(manifest.get("warmup_days", 0)))))
        numbers = "<h2>The numbers</h2>" + _sweep_table_html(frame, params, roles)
    indices_path = folder / "indices.csv"
    if command == "sensitivity" and indices_path.exists() and indices_path.stat().st_size > 1:
        indices = pd.read_csv(indices_path)
        method = str(indices["method"].iloc[0])
        if method == "sobol":
            parts.append(_warnings_html(sobol_warnings(indices, int(spec.get("samples") or 0))))
        parts.append("<h2>Sensitivity indices</h2>" + _indices_html(indices, method, roles))
    parts.append("<h2>Figures</h2>")
    parts += [_img(p) for p in figures]
    parts.append(numbers)
    parts.append("<h2>Base team</h2>" + _team_html(scenarios))
    return parts


def _sweep_table_html(frame: pd.DataFrame, params: list[str], roles: list[str]) -> str:
    """One table per metric of stats.sweep_table: each design point's parameter values, replicates,
    mean [95% interval] and paired difference [95% interval] from the first point."""
    if frame.empty:
        return "<p>No run succeeded: no numbers to show.</p>"
    head = "".join(f"<th>{_e(parameter_label(p, roles))}</th>" for p in params)
    out = [
        "<p class=note>Per design point: mean and 95% interval over replicates, and the paired "
        f"difference from the first design point (same seeds). Intervals: {_e(INTERVAL_METHOD)}.</p>"
    ]
    for metric in dict.fromkeys(frame["metric"]):
        rows = frame[frame["metric"] == metric].to_dict("records")
        diffs = ["reference"] + [
            interval_diff(metric, r["diff"], r["diff_lo"], r["diff_hi"]) for r in rows[1:]
        ]
        body = "".join(
            "<tr>"
            + "".join(f"<td>{_e(level_name(p, r[p]))}</td>" for p in params)
            + f"<td>{r['n']}</td><td>{_e(interval(metric, r['mean'], r['lo'], r['hi']))}</td>"
            + f"<td>{_e(d)}</td></tr>"
            for r, d in zip(rows, diffs, strict=True)
        )
        out.append(
            f"<h3>{_e(display_name(metric))}</h3><table><tr>{head}<th>replicates</th>"
            f"<th>mean [95% interval]</th><th>difference from the first point [95% interval]</th></tr>"
            f"{body}</table>"
        )
    return "".join(out)


def _indices_html(indices: pd.DataFrame, method: str, roles: list[str]) -> str:
    """One table per headline metric: the parameters ranked by influence, with sensitivity's note
    (no effect in this design, and why) where a parameter has one."""
    cols = ["mu_star", "mu_star_conf", "sigma"] if method == "morris" else ["S1", "S1_conf", "ST", "ST_conf"]
    heads = {
        "mu_star": "mu* (mean |effect|)",
        "mu_star_conf": "mu* 95% ±",
        "sigma": "sigma (spread)",
        "S1": "first order S1",
        "S1_conf": "S1 95% ±",
        "ST": "total ST",
        "ST_conf": "ST 95% ±",
    }
    key = cols[0] if method == "morris" else "ST"
    noted = "note" in indices and bool(indices["note"].fillna("").astype(bool).any())
    out = []
    for metric in dict.fromkeys(indices["metric"]):
        if metric not in HEADLINE:
            continue
        part = indices[indices["metric"] == metric].sort_values(key, ascending=False)
        body = "".join(
            f"<tr><td>{_e(parameter_label(r['parameter'], roles))}</td>"
            + "".join(f"<td>{r[c]:.3g}</td>" for c in cols)
            + (f"<td class=l>{_e(r['note'] if isinstance(r['note'], str) else '')}</td>" if noted else "")
            + "</tr>"
            for _, r in part.iterrows()
        )
        out.append(
            f"<h3>{_e(display_name(metric))}</h3><table><tr><th>parameter</th>"
            + "".join(f"<th>{heads[c]}</th>" for c in cols)
            + ("<th>note</th>" if noted else "")
            + f"</tr>{body}</table>"
        )
    return "".join(out)


def _explain_parts(folder: Path, manifest: dict[str, Any], figures: list[Path]) -> list[str]:
    """What makes the difference: Shapley contributions of each mechanism group, key metrics'
    waterfalls, the keys each group switched and the structure that could not be switched."""
    from handover_abm.glossary import group_label
    from handover_abm.plots import KEY_METRICS

    frame = pd.read_csv(folder / "explain.csv")
    groups = manifest.get("groups", {})
    players = manifest.get("players", [])
    residual = manifest.get("residual_keys", [])
    shown = [*players, *(["residual"] if residual else [])]
    a, b = str(frame["a"].iloc[0]), str(frame["b"].iloc[0])

    def name(g: str) -> str:
        return str(groups.get(g, {}).get("label") or group_label(g))

    head = "".join(f"<th>{_e(name(g))}</th>" for g in shown)
    rows = []
    for metric in [m for m in TABLE_METRICS if m in set(frame["metric"])]:
        part = frame[frame["metric"] == metric].set_index("group")
        first = part.iloc[0]
        cells = "".join(
            f"<td>{_e(interval_diff(metric, *part.loc[g, ['contribution', 'lo', 'hi']]))}</td>"
            for g in shown
            if g in part.index
        )
        rows.append(
            f"<tr><td>{_e(display_name(metric))}</td><td>{_e(fmt(metric, first['a_mean']))}</td>"
            f"<td>{_e(fmt(metric, first['b_mean']))}</td>"
            f"<td>{_e(interval_diff(metric, *first[['total', 'total_lo', 'total_hi']]))}</td>{cells}</tr>"
        )
    keys_rows = "".join(
        f"<tr><td>{_e(name(g))}</td><td>{len(groups.get(g, {}).get('keys', []))}</td>"
        f"<td class=l>{_e(', '.join(parameter_label(k) for k in groups.get(g, {}).get('keys', [])[:6]))}"
        f"{' …' if len(groups.get(g, {}).get('keys', [])) > 6 else ''}</td></tr>"
        for g in players
    )
    figure = {p.stem: p for p in figures}
    parts = [
        f"<h2>What makes the difference: {_e(b)} against {_e(a)}, by mechanism</h2>",
        f"<p class=note>Each group of mechanisms was switched between {_e(a)}'s and {_e(b)}'s values in "
        f"every combination ({manifest.get('runs', '?')} runs of {manifest.get('distinct_configs', '?')} "
        f"distinct configs, {manifest.get('replicates', '?')} replicates on the same seeds). Method: "
        f"{_e(manifest.get('method', ''))}. Contributions add up to the difference in every replicate. "
        "A role one team lacks takes that team's average figure; a change of head counts is split into "
        "clinical capacity (every post's FTE scaled to the other team's total), the role mix at the same "
        "minutes and the supervision the changed posts ask for (docs/explain.md).</p>",
        f"<table><tr><th>outcome</th><th>{_e(a)}</th><th>{_e(b)}</th><th>difference</th>{head}</tr>"
        f"{''.join(rows)}</table>",
        "<h3>Structure that cannot be switched</h3><p>"
        + (
            _e(", ".join(residual))
            if residual
            else "none: every key on which the configs differ is in a group"
        )
        + "</p>",
        "<h3>What each group switched</h3><table><tr><th>group</th><th>keys</th><th>for example</th></tr>"
        f"{keys_rows}</table>",
    ]
    parts += [_img(figure[f"explain_{m}"]) for m in KEY_METRICS if f"explain_{m}" in figure]
    return parts


def write_report(folder: Path) -> Path:
    """Write DIR/report.html (figures embedded as PNG data) and return its path."""
    folder = Path(folder)
    manifest = verified_manifest(folder)
    scenarios = [Scenario.model_validate(c["resolved"]) for c in manifest["configs"]]
    figures = [p for p in plot_files(folder, manifest) if p.suffix == ".png"]
    command = manifest["command"]
    if "spec" in manifest:
        spec = manifest["spec"]
        title = spec.get("description") or f"{command.capitalize()} {spec['name']}"
        parts = _sweep_parts(folder, manifest, scenarios, figures)
    else:
        title = _title(scenarios, command)
        parts = _compare_parts(folder, manifest, scenarios, figures)
    if (folder / "explain.csv").exists():
        title = f"Why does {scenarios[-1].name} differ from {scenarios[0].name}?"
        figures_shown = [p for p in figures if not p.stem.startswith("explain_")]
        parts = _compare_parts(folder, manifest, scenarios, figures_shown)
        parts[2:2] = _explain_parts(folder, manifest, figures)
    versions = manifest["versions"]
    parts.append(
        f"<h2>Provenance</h2><p class=note>Command: {_e(command)}; output folder {_e(shown(folder.name))}; "
        f"handover-abm {_e(versions['handover_abm'])}, Mesa {_e(versions['mesa'])}, Python "
        f"{_e(versions['python'])}; root seed {_e(manifest['root_seed'])}; git "
        f"{_e(manifest.get('git_commit'))}.</p>"
    )
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>{''.join(parts)}</body></html>\n"
    )
    target = folder / "report.html"
    write_text(target, page)
    return target
