"""Submitting many independent runs to an Executor: a bounded number in flight, grouped into tasks
sized from the measured run time, and resubmitted a bounded number of times when lost.

Grouping never changes a result (each run carries its own seed); it only sets how many scheduler
round trips a sweep costs. On a Dask cluster each task costs a few milliseconds of scheduler and
client work, which would dominate runs of a few milliseconds; tasks of about `Backend.task_seconds`
of work make that overhead small, and tasks shrink towards the end of a sweep so that workers
finish together (guided self-scheduling).
"""

from __future__ import annotations

import itertools
import math
import pickle
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from typing import Any

from handover_abm.backends import Backend

Job = tuple[Any, ...]


def run_task(fn: Callable[..., Any], payload: bytes) -> tuple[list[Any], float]:
    """Run a task's pickled jobs in turn on a worker; return their results and the seconds taken.

    Jobs travel as one pickle so that an executor ships opaque bytes: Dask would otherwise walk
    (and, by default, hash) every nested config dict of every job on the client.
    """
    start = time.perf_counter()
    results = [fn(*job) for job in pickle.loads(payload)]
    return results, time.perf_counter() - start


class TaskSizer:
    """How many runs to put in the next task: about `target_s` of work, never more than a share of
    what is left (so the last tasks are small), and one until a run time has been measured."""

    def __init__(self, target_s: float, slots: int) -> None:
        self.target_s = target_s
        self.slots = max(1, slots)
        self.runs = 0
        self.seconds = 0.0

    def observe(self, runs: int, seconds: float) -> None:
        """Record that a task of `runs` runs took `seconds` on its worker (a time that is not a
        finite, non-negative number, e.g. from a broken clock, is ignored)."""
        if runs > 0 and math.isfinite(seconds) and seconds >= 0:
            self.runs += runs
            self.seconds += seconds

    def size(self, remaining: int) -> int:
        """Runs for the next task, given how many runs are not yet submitted."""
        if not self.target_s > 0 or self.runs == 0 or remaining <= 1:
            return 1
        share = math.ceil(remaining / (2 * self.slots))
        per_run = self.seconds / self.runs
        # a zero or subnormal time makes the ratio infinite: cap it before converting to int
        want = self.target_s / per_run if per_run > 0 else math.inf
        return max(1, int(min(want, share)))


def dispatch(
    backend: Backend,
    fn: Callable[..., Any],
    jobs: Sequence[Job],
    record: Callable[[Any], None],
    failed: Callable[[Job, str], Any],
    max_attempts: int = 3,
) -> None:
    """Run `fn(*job)` for every job on the backend and `record` each result as it arrives.

    At most `backend.in_flight()` tasks are submitted at a time, so a sweep of any size is
    submitted as it can be consumed. A task whose future fails (its worker was lost, the pool
    broke) is resubmitted up to `max_attempts` times; after that each of its jobs is recorded as
    `failed(job, error)`. Every job is recorded exactly once.
    """
    waiting = deque(jobs)
    sizer = TaskSizer(backend.task_seconds, backend.slots)
    executor = backend.executor
    attempts: dict[int, int] = {}
    pending: dict[Future, tuple[int, tuple[Job, ...], Executor]] = {}
    task_ids = itertools.count()

    def submit(task_id: int, task: tuple[Job, ...]) -> None:
        nonlocal executor
        payload = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            fut = executor.submit(run_task, fn, payload)
        except BrokenExecutor:
            if backend.restart is None:
                raise
            executor = backend.restart()
            fut = executor.submit(run_task, fn, payload)
        pending[fut] = (task_id, task, executor)

    def submit_next() -> None:
        if waiting:
            n = sizer.size(len(waiting))
            submit(next(task_ids), tuple(waiting.popleft() for _ in range(min(n, len(waiting)))))

    for _ in range(backend.in_flight()):
        submit_next()
    while pending:
        finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in finished:
            task_id, task, ran_on = pending.pop(fut)
            try:
                results, seconds = fut.result()
                sizer.observe(len(task), seconds)
            except Exception as exc:  # infrastructure failure: the runs themselves never raise
                attempts[task_id] = attempts.get(task_id, 0) + 1
                if isinstance(exc, BrokenExecutor) and backend.restart is not None and ran_on is executor:
                    executor = backend.restart()  # once per broken pool
                if attempts[task_id] < max_attempts:
                    submit(task_id, task)
                    continue
                error = f"lost {attempts[task_id]} times: {type(exc).__name__}: {exc}"
                results = [failed(job, error) for job in task]
            for result in results:
                record(result)
            submit_next()
