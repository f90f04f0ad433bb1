"""Run many (scenario, seed) jobs on any concurrent.futures Executor, in a stable order.

Where a job runs never changes its result: each job carries its own seed, and results are
returned in job order whatever order they finish in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from typing import Any

from handover_abm.backends import close_pool, default_workers, process_pool
from handover_abm.config import Scenario
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


def run_jobs(
    jobs: Sequence[Job],
    workers: int | None = None,
    executor: Executor | None = None,
    on_done: Callable[[int, Outcomes], None] | None = None,
) -> list[Outcomes]:
    """Run jobs serially (workers=1), on a process pool, or on a given executor."""
    workers = default_workers() if workers is None else workers
    results: list[Outcomes | None] = [None] * len(jobs)
    if executor is None and (workers <= 1 or len(jobs) <= 1):
        for i, job in enumerate(jobs):
            results[i] = execute(job)
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
            results[i] = fut.result()
            if on_done:
                on_done(i, results[i])  # type: ignore[arg-type]
        interrupted = False
    finally:
        if own is not None:
            close_pool(own, interrupted)
    return results  # type: ignore[return-value]
