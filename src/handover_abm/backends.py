"""Where runs execute: serial, local processes, or a Dask cluster. Each is just an Executor.

The sweep engine submits runs to whatever `concurrent.futures.Executor` it is given; a backend only
decides which one. Dask is an optional extra (`pip install 'handover-abm[cluster]'`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import forkserver
from typing import Any

from handover_abm import lifeline
from handover_abm.config import ConfigError
from handover_abm.limits import check_workers, cores

BACKENDS = ("processes", "serial", "dask")
SCHEDULER_ENV = "HANDOVER_ABM_SCHEDULER"
DASK_TASK_SECONDS = 0.25  # work per Dask task: its scheduler round trip costs a few ms
# A local cluster shares the machine's cores with its runs: its scheduler, nannies and workers wake
# less often than Dask's defaults (measured on 2 cores: the parent's CPU per 20-run sweep 0.27 ->
# 0.12 s, the sweep 1.12-1.38 -> 1.04-1.11 x the process pool's time; docs/cluster.md). Workers'
# statistical profiler samples the running task every 10 ms (a fifth of a short run's time on a
# busy laptop): sweeps do not need it. A scheduler given by address keeps its own settings.
LOCAL_DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",  # event-loop health check (default 20 ms)
    "distributed.worker.memory.monitor-interval": "1s",  # nannies' memory check (100 ms)
    "distributed.admin.system-monitor.interval": "2s",  # CPU and memory figures (500 ms)
    "distributed.scheduler.work-stealing-interval": "1s",  # rebalancing (100 ms)
}


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
    """A pool of worker processes started by a fork server (safe when this process has threads).

    Ctrl-C reaches the terminal's whole process group, but only this process should act on it
    (by stopping the workers, see `close_pool`): the fork server and the resource tracker are
    started with SIGINT ignored, which they and every worker forked from them inherit.

    Killed outright (SIGKILL, out of memory), this process cannot stop anything, so each worker
    watches it and ends with it (`lifeline.watch`). The fork server and the resource tracker then
    end by themselves: each runs until no process holds the write end of its pipe, and the stdlib
    gives that end to every worker too (so that a worker could start processes of its own). Workers
    that outlived the command kept both alive; a fork server killed while still importing its
    preload ends once the import is done.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["handover_abm.sweep", "handover_abm.runner"])  # workers start warm
    lifeline_args = {"initializer": lifeline.watch, "initargs": (os.getpid(),)}
    if threading.current_thread() is not threading.main_thread():  # signals are set in main only
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, **lifeline_args)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
        return _WorkerPool(max_workers=workers, mp_context=ctx, **lifeline_args)
    finally:
        signal.signal(signal.SIGINT, previous)


class _WorkerPool(ProcessPoolExecutor):
    """A process pool that starts its workers whole: `submit` may start a worker, and an
    interrupt half-way would leave one the pool does not know about (so `close_pool` could not
    stop it, and it would die with a traceback). Ctrl-C and SIGTERM wait until submit returns."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Submit with interrupts held (this pool is only created in the main thread)."""
        held: list[int] = []
        interrupts = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, lambda signum, _: held.append(signum)) for sig in interrupts}
        try:
            return super().submit(fn, *args, **kwargs)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if held:
                signal.raise_signal(held[0])  # now handled as it would have been


def close_pool(pool: ProcessPoolExecutor, interrupted: bool) -> None:
    """Shut a pool down and join its workers. When interrupted (Ctrl-C, SIGTERM, an error) its
    running tasks are abandoned: the workers are terminated first instead of awaited. Either way
    its processes and semaphores are released, so nothing is left running or reported leaked."""
    if interrupted:
        for proc in list((pool._processes or {}).values()):  # the stdlib's own list of its workers
            proc.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def open_backend(
    name: str, workers: int | None = None, scheduler: str | None = None, connect_timeout: float = 5.0
) -> Iterator[Backend]:
    """Open the named backend for the duration of a sweep (and close what it started)."""
    if name not in BACKENDS:
        raise ConfigError(f"--backend {name!r}: allowed backends are {', '.join(BACKENDS)}")
    workers = check_workers(workers) or cores()  # default: one per core
    if name == "serial":
        yield Backend("serial", SerialExecutor(), 1, "serial (this process)")
        return
    if name == "processes":
        pools = [process_pool(workers)]

        def restart() -> Executor:
            pools.append(process_pool(workers))
            return pools[-1]

        interrupted = True
        try:
            yield Backend(
                "processes", pools[0], workers, f"{workers} local worker processes", restart=restart
            )
            interrupted = False
        finally:
            for pool in pools:
                close_pool(pool, interrupted)
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
            except ValueError as exc:  # Dask's own parser: an address it cannot read
                raise ConfigError(
                    f"--scheduler {address}: not a Dask scheduler address ({exc}); give "
                    f"tcp://HOST:PORT (or tls://HOST:PORT), e.g. tcp://10.0.0.5:8786"
                ) from None
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"--scheduler {address}: no Dask scheduler answered within {timeout:g} s "
                    f"({type(exc).__name__}); start one with `dask scheduler` or check the "
                    f"address"
                ) from None
            where = f"Dask scheduler {address}"
        else:
            with dask.config.set(LOCAL_DASK_CONFIG):
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
