"""Submitting runs: every job is recorded exactly once, lost tasks are retried a bounded number of
times, no more than the window is in flight, and tasks are sized from measured run times."""

from __future__ import annotations

import math
import pickle
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover_abm.backends import Backend, SerialExecutor
from handover_abm.dispatch import TaskSizer, dispatch, run_task


def _double(x: int) -> int:
    return 2 * x


def _failed(job: tuple, error: str) -> tuple[str, int, str]:
    return ("failed", job[0], error)


class LosingExecutor(SerialExecutor):
    """Loses every task holding job `victim` the first `losses` times it is submitted."""

    def __init__(self, victim: int, losses: int) -> None:
        self.victim, self.losses, self.tasks = victim, losses, 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        self.tasks += 1
        jobs = pickle.loads(args[1])
        if any(job[0] == self.victim for job in jobs) and self.losses > 0:
            self.losses -= 1
            fut: Future = Future()
            fut.set_exception(ConnectionError("worker lost"))
            return fut
        return super().submit(fn, *args, **kwargs)


def test_run_task_returns_results_and_its_time() -> None:
    results, seconds = run_task(_double, pickle.dumps(((1,), (2,), (5,))))
    assert results == [2, 4, 10]
    assert seconds >= 0


def test_sizer_sends_single_runs_until_a_time_is_measured() -> None:
    sizer = TaskSizer(target_s=0.25, slots=2)
    assert sizer.size(1000) == 1
    sizer.observe(runs=10, seconds=0.1)  # 10 ms a run
    assert sizer.size(1000) == 25  # 0.25 s of work
    assert sizer.size(40) == 10  # never more than a quarter of what is left on 2 slots
    assert sizer.size(3) == 1
    assert sizer.size(1) == 1


def test_sizer_without_a_target_sends_one_run_per_task() -> None:
    sizer = TaskSizer(target_s=0.0, slots=4)
    sizer.observe(runs=100, seconds=0.001)
    assert sizer.size(10_000) == 1


def test_slow_runs_go_one_per_task() -> None:
    sizer = TaskSizer(target_s=0.25, slots=8)
    sizer.observe(runs=2, seconds=20.0)  # 10 s a run
    assert sizer.size(10_000) == 1


@pytest.mark.parametrize(
    ("target", "observed"),
    [
        (1.0, [(1, 2.2e-311)]),  # subnormal time: target / time overflows to infinity
        (1.0, [(1, 5e-324), (3, 0.0)]),
        (1.0, [(1, 0.0)]),
        (1.0, [(1, math.inf)]),  # ignored: no time measured yet
        (1.0, [(1, math.nan), (2, -1.0)]),  # ignored
        (1.0, [(1, 1e308), (1, 1e308)]),  # the sum overflows to infinity
        (math.inf, [(1, 0.5)]),
        (math.nan, [(1, 0.5)]),
        (5e-324, [(1, 1e308)]),
    ],
)
@pytest.mark.parametrize("remaining", [1, 2, 7, 100_000])
def test_sizer_survives_extreme_times(
    target: float, observed: list[tuple[int, float]], remaining: int
) -> None:
    sizer = TaskSizer(target, slots=2)
    for runs, seconds in observed:
        sizer.observe(runs, seconds)
    assert 1 <= sizer.size(remaining) <= max(1, math.ceil(remaining / 4))


@given(
    target=st.floats(0.0, 5.0),
    slots=st.integers(1, 64),
    observed=st.lists(
        st.tuples(st.integers(0, 50), st.floats(allow_nan=True, allow_infinity=True)), max_size=5
    ),
    remaining=st.integers(1, 100_000),
)
def test_sizer_stays_between_one_and_a_fair_share(
    target: float, slots: int, observed: list[tuple[int, float]], remaining: int
) -> None:
    sizer = TaskSizer(target, slots)
    for runs, seconds in observed:
        sizer.observe(runs, seconds)
    n = sizer.size(remaining)
    assert 1 <= n <= max(1, math.ceil(remaining / (2 * slots)))


@settings(max_examples=40)
@given(n_jobs=st.integers(0, 300), target=st.sampled_from([0.0, 1e-6, 0.25]), slots=st.integers(1, 8))
def test_every_job_is_recorded_exactly_once(n_jobs: int, target: float, slots: int) -> None:
    backend = Backend("serial", SerialExecutor(), slots, "test", task_seconds=target)
    got: list[int] = []
    dispatch(backend, _double, [(i,) for i in range(n_jobs)], got.append, _failed)
    assert sorted(got) == [2 * i for i in range(n_jobs)]


def test_small_runs_are_grouped_into_fewer_tasks() -> None:
    executor = LosingExecutor(victim=-1, losses=0)
    backend = Backend("serial", executor, 2, "test", window=4, task_seconds=10.0)
    got: list[int] = []
    dispatch(backend, _double, [(i,) for i in range(2000)], got.append, _failed)
    assert len(got) == 2000
    assert executor.tasks < 100  # single runs until the first time is known, then large tasks


def test_a_lost_task_is_retried_and_then_recorded_as_failed() -> None:
    backend = Backend("serial", LosingExecutor(victim=7, losses=2), 1, "test")
    got: list[Any] = []
    dispatch(backend, _double, [(i,) for i in range(20)], got.append, _failed, max_attempts=3)
    assert sorted(got) == [2 * i for i in range(20)]  # lost twice, third attempt ran

    backend = Backend("serial", LosingExecutor(victim=7, losses=99), 1, "test")
    got = []
    dispatch(backend, _double, [(i,) for i in range(20)], got.append, _failed, max_attempts=3)
    failures = [g for g in got if isinstance(g, tuple)]
    assert len(got) == 20 and len(failures) == 1
    assert failures[0][:2] == ("failed", 7) and "lost 3 times: ConnectionError" in failures[0][2]


def test_no_more_than_the_window_is_in_flight() -> None:
    recorded = 0
    submitted = 0
    most = 0
    lock = threading.Lock()

    class Counting(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
            nonlocal submitted, most
            with lock:
                submitted += 1
                most = max(most, submitted - recorded)
            return super().submit(fn, *args, **kwargs)

    def record(_: Any) -> None:
        nonlocal recorded
        with lock:
            recorded += 1

    jobs = [(i,) for i in range(200)]
    with Counting(max_workers=3) as pool:
        dispatch(Backend("threads", pool, 3, "test", window=5), _double, jobs, record, _failed)
    assert recorded == 200 and submitted == 200
    assert most <= 5
