"""What the terminal shows: compact tables (fit 100 columns, human labels, mean [CI] and the
difference on one line), verdict sentences, warnings, and progress that also works in a pipe."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from handover_abm.glossary import display_name, fmt, interval, interval_diff
from handover_abm.verdict import BETTER, SAME, WORSE, calls, keep_up_notes, verdicts

if TYPE_CHECKING:
    import pandas as pd

WIDTH = 100


def run_table(table: pd.DataFrame, config: str, metrics: Sequence[str]) -> Table:
    """One config: outcome and mean [95% CI]."""
    out = Table(title=f"{config}: mean [95% CI] over replicates", box=box.SIMPLE_HEAD, title_justify="left")
    out.add_column("Outcome", max_width=52, overflow="fold")
    out.add_column("Mean [95% CI]", justify="right", no_wrap=True)
    by = table[table["config"] == config].set_index("metric")
    for metric in metrics:
        r = by.loc[metric]
        out.add_row(display_name(metric), interval(metric, r["mean"], r["ci_low"], r["ci_high"]))
    return out


def difference_table(table: pd.DataFrame, config: str, metrics: Sequence[str]) -> Table:
    """One config against the baseline: both means and the paired difference [95% CI] with a verdict."""
    baseline = table["baseline"].iloc[0]
    out = Table(
        title=f"{config} against {baseline}: paired difference [95% CI]",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    out.add_column("Outcome", max_width=40, overflow="fold")
    out.add_column(baseline[:14], justify="right", no_wrap=True)
    out.add_column(config[:14], justify="right", no_wrap=True)
    out.add_column("Difference [95% CI]", justify="right", no_wrap=True)
    out.add_column("", no_wrap=True)
    for c in calls(table, config, list(metrics)):
        style = "green" if c.verdict == BETTER else "red" if c.verdict == WORSE else "dim"
        word = "–" if c.verdict == SAME else c.verdict
        out.add_row(
            display_name(c.metric),
            fmt(c.metric, c.base),
            fmt(c.metric, c.mean),
            interval_diff(c.metric, c.diff, c.low, c.high),
            f"[{style}]{word}[/]",
        )
    return out


def print_results(
    console: Console,
    table: pd.DataFrame,
    metrics: Sequence[str],
    differences: bool,
    notes: Sequence[str],
    measured: str = "",
) -> None:
    """Print what was measured (verdict.measured_text), the verdicts (compare), the tables and the
    warnings, first of them any team whose work waiting does not settle (verdict.keep_up_notes)."""
    configs = list(dict.fromkeys(table["config"]))
    if measured:
        console.print(measured, markup=False, highlight=False)
    if differences and len(configs) > 1:
        for v in verdicts(table):
            console.print(v.sentence(), markup=False, highlight=False)
        console.print()
        for cfg in configs[1:]:
            console.print(difference_table(table, cfg, metrics))
    else:
        for cfg in configs:
            console.print(run_table(table, cfg, metrics))
    for note in [*keep_up_notes(table), *notes]:
        console.print(f"warning: {note}", style="yellow", markup=False, highlight=False)


class PlainProgress:
    """A progress line for pipes and logs: 'compare: 12/20 runs done (60%), 41s elapsed', at most
    every `every` seconds and at the end, on stderr."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.tasks: dict[int, dict[str, Any]] = {}
        self.start = time.monotonic()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def add_task(self, description: str, total: float | None = None) -> int:
        """Start a task (the interface of rich's Progress that the CLI uses)."""
        k = len(self.tasks)
        self.tasks[k] = {"description": description, "total": total, "completed": 0, "shown": -1e9}
        print(f"{description}: started", file=sys.stderr, flush=True)
        return k

    def advance(self, task: int, advance: float = 1) -> None:
        """Count `advance` more units done."""
        self.update(task, completed=self.tasks[task]["completed"] + advance)

    def update(self, task: int, **fields: Any) -> None:
        """Update completed/total/description and print a line when it is time to."""
        t = self.tasks[task]
        t.update({k: v for k, v in fields.items() if k in ("completed", "total", "description")})
        now = time.monotonic()
        done = t["total"] is not None and t["completed"] >= t["total"]
        if now - t["shown"] < self.every and not done:
            return
        t["shown"] = now if not done else math.inf
        total = t["total"]
        share = f" ({100 * t['completed'] / total:.0f}%)" if total else ""
        of = f"/{total:.0f}" if total else ""
        print(
            f"{t['description']}: {t['completed']:.0f}{of} runs done{share}, {now - self.start:.0f}s elapsed",
            file=sys.stderr,
            flush=True,
        )


def progress(console: Console) -> Progress | PlainProgress:
    """A progress bar on a terminal, a plain progress line otherwise (so `| tee` shows progress)."""
    if not console.is_terminal:
        return PlainProgress()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
