"""Command line: `handover-abm run | compare | validate`. Parses arguments, calls the library."""

from __future__ import annotations

import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from handover_abm.backends import Backend, open_backend
from handover_abm.config import (
    ConfigError,
    Scenario,
    load_scenario,
    positional_team_notes,
    read_config_data,
)
from handover_abm.errors import OutputError, RunsFailed
from handover_abm.experiment import DEFAULT_SEED, load_configs, resolve_warmup, run_replicates
from handover_abm.limits import (
    MAX_DRAWS,
    MAX_REPLICATES,
    MAX_SEED,
    check_count,
    check_held_runs,
    check_seed,
    check_workers,
)
from handover_abm.metrics import DEFAULT_WARMUP_DAYS, HEADLINE, TABLE_METRICS
from handover_abm.streams import replicate_seeds
from handover_abm.team import annual_cost, total_fte
from handover_abm.terminal import WIDTH, PlainProgress, print_results
from handover_abm.terminal import progress as progress_display
from handover_abm.verdict import measured_text, warnings_for

if TYPE_CHECKING:  # the modules that bring pandas, SciPy and Mesa are imported where they are used,
    # so that --help and bad input are answered without loading them
    import pandas as pd

    from handover_abm.posterior import PosteriorRequest
    from handover_abm.sweep import Sweep

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Agent-based model of handovers and care fragmentation in primary care.",
)
out_console = Console() if sys.stdout.isatty() else Console(width=WIDTH)
err_console = Console(stderr=True, soft_wrap=True)


def _show_version(value: bool) -> None:
    if value:
        from importlib import metadata

        print(f"handover-abm {metadata.version('handover-abm')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    """Agent-based model of handovers and care fragmentation in primary care."""


OutOpt = Annotated[Path, typer.Option("--out", help="output folder (created if missing)")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="replace the results already in --out (refused without it)")
]
DaysOpt = Annotated[int | None, typer.Option("--days", min=1, help="override the config's days")]
RepOpt = Annotated[int, typer.Option("--replicates", min=1, max=MAX_REPLICATES, help="replicates per config")]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed",
        min=0,
        max=MAX_SEED,
        help="root seed; replicate seeds derive from it with numpy SeedSequence",
    ),
]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="override any config value: key.path=value (repeatable)")
]
EventsOpt = Annotated[
    bool,
    typer.Option(
        "--log-events",
        help="write events.parquet (one row per handover) and contacts.parquet (one row per contact)",
    ),
]
SeedsOpt = Annotated[
    str | None,
    typer.Option(
        "--seeds",
        help="explicit model seeds, comma-separated (one replicate each), e.g. "
        "the seed column of a sweep row; overrides --seed and --replicates",
    ),
]
BackendOpt = Annotated[
    str, typer.Option("--backend", help="where runs execute: processes (default), serial or dask")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="HANDOVER_ABM_SCHEDULER",
        help="Dask scheduler address tcp://HOST:PORT (--backend dask; none: a local cluster)",
    ),
]
WarmupOpt = Annotated[
    int | None,
    typer.Option(
        "--warmup-days",
        min=0,
        help=f"working days run first and not counted in any headline metric (default "
        f"{DEFAULT_WARMUP_DAYS}, or half the run if shorter: books start empty; 0 counts every day)",
    ),
]
CsvOpt = Annotated[bool, typer.Option("--csv", help="also write daily.csv and staff.csv (for spreadsheets)")]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        callback=lambda value: check_workers(value),
        help="worker processes (default: one per core; at most 4 per core)",
    ),
]
PosteriorOpt = Annotated[
    str | None,
    typer.Option(
        "--posterior",
        help="carry parameter uncertainty: the --out folder of an ABC calibration (posterior.parquet), "
        "or 'default'; each replicate then uses a parameter set drawn from it, and --replicates is "
        "the seeds per draw (default 2)",
    ),
]
DrawsOpt = Annotated[
    int,
    typer.Option(
        "--draws",
        min=2,
        max=MAX_DRAWS,
        help="posterior draws (with --posterior); the same draws in every config",
    ),
]


def _progress() -> Progress | PlainProgress:
    """The progress display of a command that runs the model; first says so if the model's kernels
    must be compiled (a silent minute otherwise, the first time on a machine)."""
    from handover_abm.kernel_cache import cached

    if not cached():
        err_console.print(
            "Compiling the model's kernels (once per install, about a minute on 2 cores); later runs "
            "start at once.",
            markup=False,
            highlight=False,
        )
    return progress_display(err_console)


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def _ci(mean: float, lo: float, hi: float) -> str:
    return _fmt(mean) if math.isnan(lo) else f"{_fmt(mean)} [{_fmt(lo)}, {_fmt(hi)}]"


def _parse_seeds(text: str | None, seed: int, replicates: int) -> list[int]:
    if text is None:
        return replicate_seeds(seed, replicates)
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: expected comma-separated non-negative integers") from None
    if not seeds or min(seeds) < 0:
        raise ConfigError(f"--seeds {text!r}: expected comma-separated non-negative integers")
    check_count(f"--seeds: {len(seeds):,} seeds", len(seeds), MAX_REPLICATES, "use fewer seeds")
    for s in seeds:
        check_seed(s, "--seeds: seed")
    return seeds


def _execute(
    command: str,
    paths: list[Path],
    out: Path,
    days: int | None,
    replicates: int,
    seed: int,
    sets: list[str] | None,
    log_events: bool,
    workers: int | None,
    seeds_text: str | None = None,
    force: bool = False,
    warmup_days: int | None = None,
    csv: bool = False,
    equalise_by: str | None = None,
    posterior: PosteriorRequest | None = None,
) -> None:
    start = time.perf_counter()
    scenarios = load_configs(paths, sets or [], days)
    _say_positions(paths, sets or [])
    scenarios, equalised = _equalised(scenarios, equalise_by)
    seeds = [] if posterior else _parse_seeds(seeds_text, seed, replicates)
    per_config = posterior.runs(replicates) if posterior else len(seeds)
    check_held_runs(len(scenarios), per_config)
    draws = posterior.replicates(replicates, seed) if posterior else []
    seeds = [d.seed for d in draws] if posterior else seeds
    replicates = len(seeds)
    # the configs and options are sound: now load what runs and writes them (pandas, SciPy, Mesa)
    from handover_abm.folders import MANIFEST, check_replaceable, replace_folder, shown, writing_into
    from handover_abm.posterior import draws_frame, posterior_jobs, print_uncertainty
    from handover_abm.results import (
        access_frame,
        contacts_frame,
        csv_writer,
        daily_frame,
        events_frame,
        manifest,
        network_json,
        parquet_writer,
        staff_frame,
        summary_frame,
        text_writer,
        waits_frame,
    )
    from handover_abm.runner import run_jobs
    from handover_abm.stats import comparison_table, posterior_comparison_table

    with writing_into(out):  # one writer at a time; the new set replaces the folder as a whole
        check_replaceable(out, force)
        warmup_days = resolve_warmup(scenarios, warmup_days)
        with _progress() as bar:
            task = bar.add_task(
                f"{command}: {len(scenarios)} config(s) x {replicates} replicate(s)",
                total=len(scenarios) * replicates,
            )
            if posterior:
                jobs = posterior_jobs(scenarios, draws, log_events, warmup_days)
                outcomes = run_jobs(jobs, workers, on_done=lambda i, o: bar.advance(task))
            else:
                runs = run_replicates(
                    scenarios, seeds, warmup_days, workers, log_events, on_done=lambda i, o: bar.advance(task)
                )
        if posterior:
            reps = [j.replicate for j in jobs]
            summary = summary_frame(outcomes, reps)
            summary.insert(
                summary.columns.get_loc("replicate") + 1,
                "draw",
                summary["replicate"] // (replicates // posterior.draws),
            )
            comparison = posterior_comparison_table(summary, TABLE_METRICS)
        else:
            outcomes, reps = runs.outcomes, runs.replicates
            summary = runs.summary()
            comparison = comparison_table(summary, TABLE_METRICS)
        wall = time.perf_counter() - start
        daily, staff = daily_frame(outcomes, reps), staff_frame(outcomes, reps)
        files = {
            "summary.csv": csv_writer(summary),
            "daily.parquet": parquet_writer(daily),
            "staff.parquet": parquet_writer(staff),
            "network.json": text_writer(network_json(outcomes, reps)),
            "waits.csv": csv_writer(waits_frame(outcomes, reps)),
            "access.csv": csv_writer(access_frame(outcomes, reps)),
        }
        if csv:
            files["daily.csv"] = csv_writer(daily)
            files["staff.csv"] = csv_writer(staff)
        if log_events:
            files["events.parquet"] = parquet_writer(events_frame(outcomes, reps))
            files["contacts.parquet"] = parquet_writer(contacts_frame(outcomes, reps))
        if command == "compare" or posterior:
            files["comparison.csv"] = csv_writer(comparison)
        extra = {
            "config_files": [str(p) for p in paths],
            "overrides": sets or [],
            "replicates": replicates,
            "warmup_days": warmup_days,
            **({"equalise": equalised} if equalised else {}),
        }
        if posterior:
            files["draws.csv"] = csv_writer(draws_frame(draws))
            extra["posterior"] = posterior.describe(replicates // posterior.draws)
        try:
            replace_folder(out, files, manifest(command, scenarios, seeds, seed, wall, extra))
        except OutputError as exc:
            raise OutputError(
                f"{exc}, then run the command again (the files already in {out} are unchanged)"
            ) from None
    notes = warnings_for(replicates, min(s.days for s in scenarios), warmup_days)
    if equalised:
        out_console.print(equalised["note"], markup=False, highlight=False)
    if posterior:
        notes = [n for n in notes if "replicate" not in n]  # the draws x seeds design replaces that advice
    from handover_abm.verdict import seeds_text as seeds_said  # beside the option of that name

    said = f"root seed {seed}" if posterior else seeds_said(seeds, seed)
    measured = measured_text(scenarios[0], warmup_days, replicates, said)
    print_results(out_console, comparison, TABLE_METRICS, command == "compare", notes, measured)
    if posterior:
        print_uncertainty(out_console, comparison, posterior.describe(replicates // posterior.draws))
    written = ", ".join([*files, MANIFEST])
    out_console.print(f"Wrote {shown(out)}/ ({written}) in {wall:.1f}s.", markup=False, highlight=False)


def _say_positions(paths: list[Path], sets: list[str]) -> None:
    """On stderr: the role each --set key that names a team entry by position resolved to."""
    keys = [text.split("=", 1)[0] for text in sets]
    for path in paths if keys else []:
        for note in positional_team_notes(read_config_data(path), keys, f"--set on {path}"):
            err_console.print(f"note: {note}", markup=False, highlight=False)


def _posterior_request(location: str | None, draws: int, seeds_text: str | None) -> PosteriorRequest | None:
    """The posterior to draw from, checked before anything runs (None without --posterior)."""
    from handover_abm.posterior import PosteriorRequest

    if location is None:
        return None
    if seeds_text is not None:
        raise ConfigError(
            "--seeds cannot be combined with --posterior: the seeds of the draws derive from --seed"
        )
    return PosteriorRequest.load(location, draws)


def _seeds_per_draw(ctx: typer.Context, replicates: int) -> int:
    """With --posterior, --replicates counts seeds per draw; left at its default it is 2."""
    from handover_abm.posterior import MIN_SEEDS_PER_DRAW

    source = ctx.get_parameter_source("replicates")
    given = source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
    return replicates if given else MIN_SEEDS_PER_DRAW


def _equalised(scenarios: list[Scenario], by: str | None) -> tuple[list[Scenario], dict[str, Any]]:
    """`compare --equalise`: the configs scaled to the first's budget, and what was done (manifest)."""
    if by is None:
        return scenarios, {}
    from handover_abm.budget import equalise

    scaled, steps = equalise(scenarios, by)
    what = "annual staff cost" if by == "cost" else "total FTE"
    amount = f"GBP {steps[0].after:,.0f} a year" if by == "cost" else f"{steps[0].after:.1f} FTE"
    note = f"Equal budgets: every team scaled to {steps[0].config}'s {what} ({amount}), keeping its " + (
        "proportions (FTE of each post x factor): "
        + "; ".join(f"{x.config} x{x.factor:.3f}" for x in steps[1:])
    )
    info = {
        "by": by,
        "target": steps[0].after,
        "note": note,
        "factors": {x.config: x.factor for x in steps},
        "before": {x.config: x.before for x in steps},
    }
    return scaled, info


@app.command()
def run(
    ctx: typer.Context,
    config: Annotated[Path, typer.Argument(help="config YAML")],
    out: OutOpt,
    days: DaysOpt = None,
    replicates: RepOpt = 1,
    seed: SeedOpt = DEFAULT_SEED,
    set_: SetOpt = None,
    log_events: EventsOpt = False,
    workers: WorkersOpt = None,
    seeds: SeedsOpt = None,
    force: ForceOpt = False,
    warmup_days: WarmupOpt = None,
    csv: CsvOpt = False,
    posterior: PosteriorOpt = None,
    draws: DrawsOpt = 20,
) -> None:
    """Run one config for R replicates (or posterior draws x seeds) and write its outputs."""
    request = _posterior_request(posterior, draws, seeds)
    _execute(
        "run",
        [config],
        out,
        days,
        _seeds_per_draw(ctx, replicates) if request else replicates,
        seed,
        set_,
        log_events,
        workers,
        seeds,
        force,
        warmup_days,
        csv,
        posterior=request,
    )


@app.command()
def compare(
    ctx: typer.Context,
    configs: Annotated[list[Path], typer.Argument(help="two or more config YAMLs")],
    out: OutOpt,
    days: DaysOpt = None,
    replicates: RepOpt = 5,
    seed: SeedOpt = DEFAULT_SEED,
    set_: SetOpt = None,
    log_events: EventsOpt = False,
    workers: WorkersOpt = None,
    seeds: SeedsOpt = None,
    force: ForceOpt = False,
    warmup_days: WarmupOpt = None,
    csv: CsvOpt = False,
    equalise: Annotated[
        str | None,
        typer.Option(
            "--equalise",
            help="cost or fte: scale every config after the first to the first's annual staff cost "
            "(or total FTE), keeping each team's proportions (each post's FTE is scaled)",
        ),
    ] = None,
    posterior: PosteriorOpt = None,
    draws: DrawsOpt = 20,
) -> None:
    """Run configs on the same patients and seeds; print verdicts, means, CIs and paired differences."""
    if len(configs) < 2:
        raise ConfigError(
            f"compare needs two or more config files (got {len(configs)}: {', '.join(map(str, configs))}); "
            f"to run one config use `handover-abm run {configs[0] if configs else 'CONFIG'} --out DIR`"
        )
    request = _posterior_request(posterior, draws, seeds)
    _execute(
        "compare",
        configs,
        out,
        days,
        _seeds_per_draw(ctx, replicates) if request else replicates,
        seed,
        set_,
        log_events,
        workers,
        seeds,
        force,
        warmup_days,
        csv,
        equalise,
        request,
    )


@app.command()
def explain(
    ctx: typer.Context,
    config_a: Annotated[Path, typer.Argument(help="config A (the reference)")],
    config_b: Annotated[Path, typer.Argument(help="config B (the one whose difference is explained)")],
    out: OutOpt,
    days: DaysOpt = None,
    replicates: Annotated[
        int,
        typer.Option(
            "--replicates",
            min=1,
            max=MAX_REPLICATES,
            help="replicates (seeds) per coalition; with --posterior, seeds per draw (default 2)",
        ),
    ] = 3,
    seed: SeedOpt = DEFAULT_SEED,
    seeds: SeedsOpt = None,
    workers: WorkersOpt = None,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    warmup_days: WarmupOpt = None,
    groups: Annotated[
        Path | None,
        typer.Option("--groups", help="mechanism groups YAML (default: the packaged mechanism_groups.yaml)"),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option(
            "--metrics", help="comma-separated metrics to draw and tabulate (default: the key ones)"
        ),
    ] = None,
    posterior: PosteriorOpt = None,
    draws: DrawsOpt = 20,
) -> None:
    """Attribute B - A in every headline metric to groups of mechanisms (exact Shapley values, same seeds)."""
    request = _posterior_request(posterior, draws, seeds)
    _explain_command(
        config_a,
        config_b,
        out,
        days,
        _seeds_per_draw(ctx, replicates) if request else replicates,
        seed,
        seeds,
        workers,
        backend,
        scheduler,
        force,
        warmup_days,
        groups,
        metrics,
        request,
    )


def _explain_command(
    config_a: Path,
    config_b: Path,
    out: Path,
    days: int | None,
    replicates: int,
    seed: int,
    seeds_text: str | None,
    workers: int | None,
    backend: str,
    scheduler: str | None,
    force: bool,
    warmup_days: int | None,
    groups_file: Path | None,
    metrics: str | None,
    posterior: PosteriorRequest | None = None,
) -> None:
    """`explain`: check everything, run the coalitions on a backend, write files, figures and a table."""
    from handover_abm.explain import check_explain, explain_files, load_groups
    from handover_abm.explain import explain as explain_pair
    from handover_abm.folders import check_replaceable, replace_folder, shown, writing_into

    scenarios = load_configs([config_a, config_b], [], days)
    drawn = posterior.replicates(replicates, seed) if posterior else None
    seed_list = [r.seed for r in drawn] if drawn else _parse_seeds(seeds_text, seed, replicates)
    groups = load_groups(groups_file)
    check_explain(scenarios[0], scenarios[1], groups, len(seed_list))
    chosen = _metric_list(metrics)
    from handover_abm.plots import KEY_METRICS, plot_dir

    with writing_into(out):  # one writer at a time; the new set replaces the folder as a whole
        check_replaceable(out, force)
        warm = resolve_warmup(scenarios, warmup_days)
        with open_backend(backend, workers, scheduler) as opened, _progress() as bar:
            _announce(opened)
            task = bar.add_task(f"explain {scenarios[1].name} against {scenarios[0].name}", total=None)
            result = explain_pair(
                scenarios[0],
                scenarios[1],
                seeds=seed_list,
                warmup_days=warm,
                groups=groups,
                backend=opened,
                on_progress=lambda done, total: bar.update(task, completed=done, total=total),
                posterior=drawn,
            )
        extra = {"config_files": [str(config_a), str(config_b)], "groups_file": str(groups_file or "")}
        if posterior:
            extra["posterior"] = posterior.describe(replicates)
        try:
            replace_folder(out, *explain_files(result, seed, extra))
        except OutputError as exc:
            raise OutputError(
                f"{exc}, then run the command again (the files already in {out} are unchanged)"
            ) from None
        plot_dir(out, chosen)
    out_console.print(_explain_table(result.to_frame(), chosen or KEY_METRICS))
    if result.residual:
        err_console.print(
            "not switched (structure that cannot be switched, at B's value throughout): "
            + ", ".join(result.residual),
            markup=False,
            highlight=False,
        )
    out_console.print(
        f"{result.runs} runs ({result.configs} distinct configs x {len(seed_list)} replicates) in "
        f"{result.wall_s:.1f}s. Wrote {shown(out)}/ (explain.csv, explain_replicates.csv, coalitions.csv, "
        f"summary.csv, manifest.json, figures/).",
        markup=False,
        highlight=False,
    )


def _explain_table(frame: pd.DataFrame, metrics: list[str], shown: int = 3) -> Table:
    """Per metric: A, B, the difference and the `shown` largest contributions that are not exactly 0
    (the report and explain.csv have every group's), each with its 95% interval."""
    from handover_abm.glossary import fmt, interval_diff, label

    first = frame.iloc[0]
    tab = Table(title=f"{first['b']} against {first['a']}: what makes the difference", title_justify="left")
    for col in ("outcome", str(first["a"]), str(first["b"]), "difference [95% CI]", "largest contributions"):
        tab.add_column(col, overflow="fold")
    for metric in metrics:
        part = frame[(frame["metric"] == metric) & (frame["keys"] > 0)]
        if part.empty:
            continue
        size = part["contribution"].abs()
        top = part.loc[size[size > 0].sort_values(ascending=False).index[:shown]]
        row = part.iloc[0]
        tab.add_row(
            label(metric),
            fmt(metric, row["a_mean"]),
            fmt(metric, row["b_mean"]),
            interval_diff(metric, row["total"], row["total_lo"], row["total_hi"]),
            "\n".join(
                f"{g['group_label']}: {interval_diff(metric, g['contribution'], g['lo'], g['hi'])}"
                for _, g in top.iterrows()
            )
            or "none",
        )
    return tab


def _metric_list(metrics: str | None) -> list[str] | None:
    chosen = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    unknown = [m for m in chosen or [] if m not in HEADLINE]
    if unknown or chosen == []:
        raise ConfigError(
            f"--metrics {metrics!r}: unknown metric(s) {', '.join(unknown) or '(none given)'}; "
            f"allowed: {', '.join(HEADLINE)} (see the report's glossary for what each means)"
        )
    return chosen


@app.command()
def sweep(
    spec: Annotated[Path, typer.Argument(help="sweep spec YAML")],
    out: OutOpt,
    workers: WorkersOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="finish an interrupted sweep in --out")] = False,
    days: DaysOpt = None,
    replicates: Annotated[int | None, typer.Option("--replicates", min=1, help="override the spec's")] = None,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
    posterior: PosteriorOpt = None,
    draws: DrawsOpt = 20,
) -> None:
    """Run a parameter sweep (grid, Latin hypercube or Sobol design) into DIR/sweep.parquet."""
    from handover_abm.folders import shown
    from handover_abm.posterior import draw_parameters
    from handover_abm.sweep import load_sweep, run_sweep, with_posterior

    plan = load_sweep(spec, days, replicates)
    for note in plan.position_notes():
        err_console.print(f"note: {note}", markup=False, highlight=False)
    request = _posterior_request(posterior, draws, None)
    if request:  # each point runs every draw with the spec's replicates as seeds per draw
        plan = with_posterior(plan, draw_parameters(request.posterior, request.draws, plan.spec.seed))
    with (
        _resumable(out, resume, plan),
        open_backend(backend, workers, scheduler) as opened,
        _progress() as bar,
    ):
        _announce(opened)
        task = bar.add_task(f"sweep {plan.spec.name}", total=plan.n_runs)

        def progress(ok: int, failed: int, total: int) -> None:
            label = f"sweep {plan.spec.name}" + (f" ({failed} failed)" if failed else "")
            bar.update(task, completed=ok + failed, description=label)

        result = run_sweep(plan, out, resume=resume, backend=opened, on_progress=progress)
    out_console.print(
        f"Sweep {plan.spec.name}: {result.ok}/{result.total} runs ok, {result.failed} failed "
        f"({result.ran} run now). Wrote {shown(out)}/sweep.parquet and manifest.json.",
        markup=False,
    )
    if result.failed:
        err_console.print(
            f"{result.failed} run(s) failed; their errors and seeds are in {shown(out)}/sweep.parquet "
            f"(status, error columns). `--resume` retries them.",
            markup=False,
        )
        raise typer.Exit(1)


@contextmanager
def _resumable(out: Path, resume: bool, plan: Sweep | None = None) -> Iterator[None]:
    """Around a sweep: hold the folder's lock, refuse a folder it cannot start (or resume `plan`) in,
    and on a full disk or an interrupt (Ctrl-C, SIGTERM) say how to finish it."""
    from handover_abm.folders import writing_into
    from handover_abm.sweep import check_sweep_out

    args = sys.argv[1:]
    again = shlex.join(["handover-abm", *args, *([] if "--resume" in args else ["--resume"])])
    with writing_into(out):
        check_sweep_out(out, resume, plan)
        try:
            yield
        except OutputError as exc:
            raise OutputError(
                f"{exc}, then finish the sweep with: {again} (finished runs are kept)"
            ) from None
        except KeyboardInterrupt:
            print(f"interrupted: finished runs are kept in {out}; finish with: {again}", file=sys.stderr)
            raise typer.Exit(130) from None


def _announce(backend: Backend) -> None:
    msg = f"Running on {backend.description}."
    if backend.dashboard:
        msg += f" Dask dashboard: {backend.dashboard}"
    err_console.print(msg, markup=False, highlight=False)


@app.command()
def sensitivity(
    spec: Annotated[Path, typer.Argument(help="sweep spec YAML (parameters with ranges, samples = N)")],
    out: OutOpt,
    method: Annotated[str, typer.Option("--method", help="morris or sobol")] = "morris",
    workers: WorkersOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="finish an interrupted analysis")] = False,
    days: DaysOpt = None,
    replicates: Annotated[int | None, typer.Option("--replicates", min=1, help="override the spec's")] = None,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
) -> None:
    """Global sensitivity analysis (SALib): indices.csv and a ranked bar plot per headline metric."""
    if method not in ("morris", "sobol"):
        raise ConfigError(f"--method {method!r}: allowed methods are morris, sobol")
    from handover_abm.folders import shown, writing_into
    from handover_abm.glossary import label, parameter_label
    from handover_abm.plots import plot_dir
    from handover_abm.sensitivity import Flag, Pilot, run_sensitivity, sobol_warnings

    with _resumable(out, resume), open_backend(backend, workers, scheduler) as opened, _progress() as bar:
        _announce(opened)
        task = bar.add_task(f"sensitivity ({method})", total=None)

        def progress(ok: int, failed: int, total: int) -> None:
            bar.update(task, completed=ok + failed, total=total)

        def flagged(pilot: Pilot, flags: list[Flag]) -> None:  # before any run of the design
            for flag in flags:
                err_console.print(f"warning: {flag.line(pilot)}", markup=False, highlight=False)

        table = run_sensitivity(
            spec,
            method,
            out,
            workers=workers,
            resume=resume,  # type: ignore[arg-type]
            on_progress=progress,
            days=days,
            replicates=replicates,
            backend=opened,
            on_pilot=flagged,
        )
    if table.empty:
        err_console.print("no metric varied across the design: no indices to compute")
        raise typer.Exit(1)
    with writing_into(out):
        plot_dir(out)
    key = "mu_star" if method == "morris" else "ST"
    top = table.sort_values(key, ascending=False).groupby("metric").head(1)
    tab = Table(title=f"Most influential parameter per outcome ({key})", title_justify="left")
    for col in ("outcome", "parameter", key):
        tab.add_column(col, overflow="fold")
    for r in top.itertuples():
        tab.add_row(label(r.metric), parameter_label(r.parameter), _fmt(getattr(r, key)))
    out_console.print(tab)
    notes = table[table["note"] != ""].drop_duplicates("parameter")
    if len(notes):
        idle = Table(title="Parameters the design does not exercise", title_justify="left")
        for col in ("parameter", "effect"):
            idle.add_column(col, overflow="fold")
        for r in notes.itertuples():
            idle.add_row(f"{parameter_label(r.parameter)} ({r.parameter})", r.note)
        out_console.print(idle)
    if method == "sobol":
        samples = int(yaml.safe_load(spec.read_text(encoding="utf-8")).get("samples") or 0)
        for note in sobol_warnings(table, samples):
            err_console.print(f"warning: {note}", markup=False, highlight=False)
    out_console.print(
        f"Wrote {shown(out)}/indices.csv, sweep.parquet and figures/ (indices, {method} plots)",
        markup=False,
        highlight=False,
    )


@app.command()
def calibrate(
    spec: Annotated[Path, typer.Argument(help="calibration spec YAML (see docs/calibration.md)")],
    out: OutOpt,
    resume: Annotated[bool, typer.Option("--resume", help="continue an interrupted calibration")] = False,
    workers: WorkersOpt = None,
    backend: BackendOpt = "processes",
    scheduler: SchedulerOpt = None,
) -> None:
    """Fit parameters to published targets (ABC-SMC or Optuna); posterior or best point, fit table."""
    from handover_abm.calibration import ProgressEvent, load_calibration, run_calibration
    from handover_abm.folders import check_fresh, check_resumable, shown, writing_into
    from handover_abm.results import check_output_folder

    cal = load_calibration(spec)
    with writing_into(out):
        (check_resumable if resume else check_fresh)(out, "the calibration")
        check_output_folder(out)
        with open_backend(backend, workers, scheduler) as opened, _progress() as bar:
            _announce(opened)
            task = bar.add_task(f"calibrate {cal.spec.name} ({cal.spec.method})", total=None)

            def progress(event: ProgressEvent) -> None:
                bar.update(task, completed=event.done, total=event.total, description=event.text)
                if event.line:
                    err_console.print(event.line, markup=False, highlight=False)

            result = run_calibration(cal, out, opened, resume=resume, on_progress=progress)
    table = Table(title=f"Target fit ({cal.spec.method}): published value vs model mean [95% interval]")
    for col in ("target", "unit", "published", "model", "fits"):
        table.add_column(col)
    for r in result.fit.itertuples():
        fits = "yes" if r.within_tolerance else "no"
        table.add_row(r.target, r.unit, _fmt(r.published), _ci(r.model_mean, r.model_low, r.model_high), fits)
    out_console.print(table)
    out_console.print(
        f"{result.points} points x {cal.spec.replicates} replicate(s) in {result.wall_s:.1f}s. "
        f"Wrote {shown(out)}/ ({', '.join(result.files)}).",
        markup=False,
        highlight=False,
    )


@app.command()
def plot(
    folder: Annotated[Path, typer.Argument(help="a run, compare, sweep or sensitivity folder")],
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="comma-separated headline metrics to draw (default: the key ones)"),
    ] = None,
) -> None:
    """Write 300 dpi PNG and editable-text SVG figures of an output folder into DIR/figures."""
    from handover_abm.folders import shown, writing_into
    from handover_abm.plots import plot_dir

    chosen = _metric_list(metrics)
    with writing_into(folder, create=False):  # repairs an interrupted swap; plot_dir checks the files
        if not folder.is_dir():
            raise ConfigError(f"{folder}: not a folder")
        try:
            paths = plot_dir(folder, chosen)
        except FileNotFoundError as exc:
            raise ConfigError(str(exc)) from None
    out_console.print(f"Wrote {len(paths)} files to {shown(folder)}/figures/", markup=False, highlight=False)


@app.command()
def report(folder: Annotated[Path, typer.Argument(help="a run, compare or sweep folder")]) -> None:
    """Write DIR/report.html: configs, teams, headline table with CIs and figures, self-contained."""
    from handover_abm.folders import shown, writing_into
    from handover_abm.report import write_report

    with writing_into(folder, create=False):  # repairs an interrupted swap; write_report checks the files
        if not folder.is_dir():
            raise ConfigError(f"{folder}: not a folder")
        try:
            page = write_report(folder)
        except FileNotFoundError as exc:  # a folder with nothing a report shows (e.g. a calibration)
            raise ConfigError(
                f"{shown(folder)}: nothing to report ({exc}); give the folder of a run, compare, sweep, "
                f"sensitivity or explain (a calibration's figures and fit table are already in its folder)"
            ) from None
    out_console.print(f"Wrote {shown(page)}", markup=False, highlight=False)


@app.command()
def dashboard(
    config: Annotated[Path, typer.Argument(help="config YAML to start from")] = Path("configs/default.yaml"),
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="port to serve on")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (not loopback: needs a token)")
    ] = "127.0.0.1",
    configs: Annotated[
        list[Path] | None,
        typer.Option(
            "--configs",
            metavar="FOLDER",
            help="a folder the page may load configs from (repeatable); the starting config's "
            "folder and configs/ always are",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            metavar="TEXT",
            envvar="HANDOVER_ABM_TOKEN",
            show_envvar=False,
            help="token the page's address must carry (?token=...); generated when --host is not "
            "loopback; set HANDOVER_ABM_TOKEN instead to keep it out of ps",
        ),
    ] = None,
) -> None:
    """Serve the interactive what-if dashboard (needs the dashboard extra) on 127.0.0.1."""
    from handover_abm.serve import serve

    raise typer.Exit(serve(config, host, port, configs or [], token))


@app.command("validate-model")
def validate_model(
    out: Annotated[Path, typer.Option("--out", help="where to write the report")] = Path(
        "docs/VALIDATION.md"
    ),
    full: Annotated[bool, typer.Option("--full", help="full size (slower, tighter intervals)")] = False,
) -> None:
    """Run the validation suite, write docs/VALIDATION.md; exit 1 if a verification, fitted or tuned
    check fails (an out-of-sample miss is reported, not an error)."""
    from handover_abm.results import write_text
    from handover_abm.validation import FULL, REDUCED, must_pass, report_markdown, run_suite

    size = FULL if full else REDUCED
    checks = run_suite(size)
    write_text(out, report_markdown(checks, size))
    for c in checks:
        out_console.print(
            f"{'pass' if c.passed else 'FAIL'}  {c.name}: observed {c.observed:.4g}, expected {c.expected}",
            markup=False,
            highlight=False,
        )
    failed = [c for c in checks if not c.passed]
    unseen = [c for c in checks if c.basis == "out_of_sample"]
    out_console.print(
        f"Wrote {out}: {len(checks) - len(failed)} of {len(checks)} checks pass; out of sample "
        f"{sum(c.passed for c in unseen)} of {len(unseen)} figures reproduced."
    )
    if any(must_pass(c) for c in failed):
        raise typer.Exit(1)


@app.command()
def validate(config: Annotated[Path, typer.Argument(help="config YAML")], set_: SetOpt = None) -> None:
    """Check a config and print it resolved with every default."""
    scenario = load_scenario(config, set_ or [])
    _say_positions([config], set_ or [])
    out_console.print(
        f"# {config}: valid. Resolved with defaults "
        f"(team: {total_fte(scenario):.1f} FTE, "
        f"annual staff cost GBP {annual_cost(scenario):,.0f}):",
        markup=False,
    )
    out_console.print(
        yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), markup=False, highlight=False
    )


def main() -> None:
    """Console entry point: user errors exit 2 and output errors 1, each with a one-paragraph
    message and no traceback; SIGTERM, and SIGHUP (the terminal closed) unless the command was
    started to ignore it (nohup), stop a command as Ctrl-C does (exit 130)."""
    # the commands write figures to files: Agg, no GUI toolkit (unless MPLBACKEND names another);
    # undone on the way out, for a caller that runs the command line in its own process (tests)
    chosen = "MPLBACKEND" in os.environ
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        _main()
    finally:
        if not chosen:
            os.environ.pop("MPLBACKEND", None)


def _main() -> None:
    """The command line, its errors turned into exit codes (see main)."""
    signal.signal(signal.SIGTERM, _interrupt)
    if signal.getsignal(signal.SIGHUP) == signal.SIG_DFL:
        signal.signal(signal.SIGHUP, _interrupt)
    try:
        code = app(standalone_mode=False)  # typer returns the code of a typer.Exit
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)  # plain: one unwrapped paragraph
        sys.exit(2)
    except (OutputError, RunsFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:
        # click's usage errors (Typer vendors its own click, so match the interface, not the class)
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise
    sys.exit(code if isinstance(code, int) else 0)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM handler: raise KeyboardInterrupt so that worker pools are shut down and temporary
    files removed on the way out (typer turns it into exit code 130)."""
    raise KeyboardInterrupt
