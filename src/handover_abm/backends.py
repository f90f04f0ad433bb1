"""Where runs execute: serial, local processes, or a Dask cluster. Each is just an Executor.

The sweep engine submits runs to whatever `concurrent.futures.Executor` it is given; a backend only
decides which one. Dask is an optional extra (`pip install 'handover-abm[cluster]'`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from handover_abm.config import ConfigError

BACKENDS = ("processes", "serial", "dask")
SCHEDULER_ENV = "HANDOVER_ABM_SCHEDULER"


class SerialExecutor(Executor):
    """Runs each submitted call at once in this process (the 'serial' backend)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run fn now; return a finished Future holding its result or exception."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the engine decides what a failure means
            fut.set_exception(exc)
        return fut


@dataclass
class Backend:
    """An open backend: its executor, how many runs it works on at once, and what to tell the user."""

    name: str
    executor: Executor
    slots: int
    description: str
    dashboard: str | None = None
    restart: Callable[[], Executor] | None = None  # a fresh executor if this one breaks


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of worker processes started by a fork server (safe when this process has threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


def default_workers() -> int:
    """As many workers as this process may use cores."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


@contextmanager
def open_backend(
    name: str, workers: int | None = None, scheduler: str | None = None, connect_timeout: float = 5.0
) -> Iterator[Backend]:
    """Open the named backend for the duration of a sweep (and close what it started)."""
    if name not in BACKENDS:
        raise ConfigError(f"--backend {name!r}: allowed backends are {', '.join(BACKENDS)}")
    workers = workers or default_workers()
    if name == "serial":
        yield Backend("serial", SerialExecutor(), 1, "serial (this process)")
        return
    if name == "processes":
        pools = [process_pool(workers)]

        def restart() -> Executor:
            pools.append(process_pool(workers))
            return pools[-1]

        try:
            yield Backend(
                "processes", pools[0], workers, f"{workers} local worker processes", restart=restart
            )
        finally:
            for pool in pools:
                pool.shutdown(cancel_futures=True)
        return
    yield from _dask(workers, scheduler or os.environ.get(SCHEDULER_ENV), connect_timeout)


def _dask(workers: int, address: str | None, timeout: float) -> Iterator[Backend]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            "--backend dask needs Dask distributed: pip install 'handover-abm[cluster]'"
        ) from None
    cluster = None
    try:
        if address:
            try:
                client = Client(address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s "
                    f"({type(exc).__name__}); start one with `dask scheduler` or check the "
                    f"address"
                ) from None
            where = f"Dask scheduler {address}"
        else:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
            client = Client(cluster)
            where = f"local Dask cluster of {workers} worker processes"
        slots = max(1, sum(client.nthreads().values()))
        try:
            yield Backend("dask", client.get_executor(), slots, where, dashboard=client.dashboard_link)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
