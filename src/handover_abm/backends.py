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
DASK_TASK_SECONDS = 0.25  # work per Dask task: its scheduler round trip costs a few ms


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
    window: int = 0  # tasks in flight at once (0: two per slot); bounded, never the whole sweep
    task_seconds: float = 0.0  # group runs into tasks of about this much work (0: a run per task)

    def in_flight(self) -> int:
        """How many runs to keep submitted: enough to hide latency, few enough to stay flat."""
        return self.window or 2 * self.slots


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of worker processes started by a fork server (safe when this process has threads)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["handover_abm.sweep", "handover_abm.runner"])  # workers start warm
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


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
        import dask
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
            # Workers' statistical profiler samples the running task every 10 ms: about a fifth of
            # a short run's time on a busy laptop, and sweeps do not need it (docs/cluster.md)
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                )
            client = Client(cluster)
            where = f"local Dask cluster of {workers} worker processes"
        _check_workers(client)
        slots = max(1, sum(client.nthreads().values()))
        try:
            # a scheduler round trip per task: tasks of ~0.25 s of runs make it a few per cent
            yield Backend(
                "dask",
                client.get_executor(pure=False),  # unique keys: no hashing, a retry is a new task
                slots,
                where,
                dashboard=client.dashboard_link,
                window=max(8, 4 * slots),
                task_seconds=DASK_TASK_SECONDS,
            )
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def worker_version() -> str:
    """Import the model on a worker (so runs start warm) and report the package version there."""
    from importlib import metadata

    import handover_abm.sweep  # noqa: F401

    return metadata.version("handover-abm")


def _check_workers(client: Any) -> None:
    """Warm every worker and refuse a cluster whose workers run another version of the package."""
    from importlib import metadata

    try:
        versions = client.run(worker_version)
    except Exception as exc:  # a worker without the package fails to import it
        raise ConfigError(
            f"Dask workers cannot import handover_abm ({type(exc).__name__}: {exc}); "
            f"install the same version on every worker (docs/cluster.md)"
        ) from None
    mine = metadata.version("handover-abm")
    other = {w: v for w, v in versions.items() if v != mine}
    if other:
        raise ConfigError(
            f"Dask workers run handover-abm {sorted(set(other.values()))}, this client "
            f"{mine}: install the same version everywhere (docs/cluster.md)"
        )
