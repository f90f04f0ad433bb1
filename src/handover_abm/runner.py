"""Run many (scenario, seed) jobs on any concurrent.futures Executor, in a stable order.

Where a job runs never changes its result: each job carries its own seed, and results are
returned in job order whatever order they finish in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, as_completed
from dataclasses import dataclass
from typing import Any

from handover_abm.backends import close_pool, process_pool
from handover_abm.config import Scenario
from handover_abm.errors import RunsFailed
from handover_abm.limits import check_workers, cores
from handover_abm.simulate import Outcomes, simulate


@dataclass(frozen=True)
class Job:
    """One replicate of one scenario."""

    scenario: dict[str, Any]
    seed: int
    replicate: int
    log_events: bool = False
    warmup_days: int = 0


def execute(job: Job) -> Outcomes:
    """Run one job (a top-level function so process pools can pickle it)."""
    return simulate(
        Scenario.model_validate(job.scenario),
        job.seed,
        log_events=job.log_events,
        warmup_days=job.warmup_days,
    )


def runs_failed(job: Job, total: int, exc: BaseException) -> RunsFailed:
    """The one-paragraph error for a run that raised or whose worker was lost: every run is needed
    (the comparison is paired), so the whole call fails and nothing is written."""
    name = job.scenario.get("name", "?")
    why = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    hint = "rerun with one worker (--workers 1, or workers=1) to see the error in one process"
    if isinstance(exc, BrokenExecutor):
        hint = "a worker process died (out of memory, or killed); " + hint
    return RunsFailed(
        f"run {job.replicate} (seed {job.seed}) of config {name!r} failed, one of {total} runs, so "
        f"there is no result and nothing was written ({why}); {hint}"
    )


def run_jobs(
    jobs: Sequence[Job],
    workers: int | None = None,
    executor: Executor | None = None,
    on_done: Callable[[int, Outcomes], None] | None = None,
) -> list[Outcomes]:
    """Run jobs serially (workers=1), on a process pool, or on a given executor."""
    workers = cores() if workers is None else check_workers(workers)
    results: list[Outcomes | None] = [None] * len(jobs)
    if executor is None and (workers <= 1 or len(jobs) <= 1):
        for i, job in enumerate(jobs):
            try:
                results[i] = execute(job)
            except Exception as exc:
                raise runs_failed(job, len(jobs), exc) from exc
            if on_done:
                on_done(i, results[i])  # type: ignore[arg-type]
        return results  # type: ignore[return-value]
    own = process_pool(min(workers, len(jobs))) if executor is None else None
    pool = executor or own
    interrupted = True
    try:
        futures = {pool.submit(execute, job): i for i, job in enumerate(jobs)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except Exception as exc:  # the run raised, or its worker was lost
                raise runs_failed(jobs[i], len(jobs), exc) from exc
            if on_done:
                on_done(i, results[i])  # type: ignore[arg-type]
        interrupted = False
    finally:
        if own is not None:
            close_pool(own, interrupted)
    return results  # type: ignore[return-value]
