"""Where runs execute: serial, local processes, or a Dask cluster. Each is just an Executor.

The sweep engine submits runs to whatever `concurrent.futures.Executor` it is given; a backend only
decides which one. Dask is an optional extra (`pip install 'handover-abm[cluster]'`).
"""

from __future__ import annotations

import ast
import os
import signal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path
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


_MAIN_SWAP = threading.Lock()  # one swap of __main__ at a time, so each restores the real one


@contextmanager
def _main_hidden() -> Iterator[None]:
    """Show multiprocessing a `__main__` with no file and no module name while a worker starts.

    The stdlib sends each new worker the caller's main module (spawn.get_preparation_data:
    `init_main_from_path` for a script, `init_main_from_name` for `python -m`), and the worker
    runs it again as `__mp_main__` before it takes any work. A script that calls the API without
    an `if __name__ == "__main__":` guard would then call it again inside every worker, which
    fails (RuntimeError: a process started while bootstrapping), and a script read from stdin
    (`python -`, whose file is "<stdin>") fails in every worker. Workers run only this package's
    functions, never one of `__main__`, so they are started without it. Other threads see the
    stand-in for the milliseconds a start takes.
    """
    with _MAIN_SWAP:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class _WorkerProcess(ForkServerProcess):
    """A pool worker forked by the fork server, started without the caller's main module."""

    def start(self) -> None:
        """Start the worker with `__main__` hidden (see `_main_hidden`)."""
        with _main_hidden():
            super().start()


class _WorkerContext(ForkServerContext):
    """The fork-server context whose processes are `_WorkerProcess`es (what the pools use)."""

    Process = _WorkerProcess


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

    Neither the fork server nor a worker runs the caller's main module (`_main_hidden`), so the
    API works from a script without a main guard and from stdin: the fork server preloads only
    this package (the stdlib passes it no main path), and workers are started without it.
    """
    ctx = _WorkerContext()
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
            problem = _unguarded_main()
            if problem:
                raise ConfigError(
                    f"backend 'dask': a local Dask cluster starts its workers by running the main "
                    f"module again, {problem} (Dask's own requirement); or use the 'processes' "
                    f"backend, which needs no guard, or a running scheduler's address"
                )
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


def _unguarded_main() -> str | None:
    """Why a local Dask cluster would fail to start from this call, or None if it can start.

    Dask starts workers with multiprocessing's "spawn": each runs this process's main module again
    (as `__mp_main__`), so a script that starts the cluster outside `if __name__ == "__main__":`
    would start one again in every worker, and a script read from stdin has no file to run.
    """
    main = sys.modules["__main__"]
    path = getattr(main, "__file__", None)
    name = getattr(main.__spec__, "name", None) or ""
    if path is None or name == "__main__" or name.endswith(".__main__"):
        return None  # `python -c`, a REPL, Jupyter, a package's __main__: spawn runs nothing again
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None  # called after the main module's top level (a thread, a callback)
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return (
            f"but {path} is not a file it can read (a script given on standard input?): save the "
            f'script to a file and put the call under `if __name__ == "__main__":`'
        )
    if any(_in_main_guard(node, frame.f_lineno) for node in ast.walk(tree)):
        return None
    return (
        f'and this call in {path} (line {frame.f_lineno}) is not under `if __name__ == "__main__":`, '
        f"so every worker would start a cluster of its own: put it under that guard"
    )


def _in_main_guard(node: ast.AST, line: int) -> bool:
    """Whether `line` lies in the main-only branch of `node`, if node is `if __name__ == "__main__"`."""
    if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1):
        return False
    sides = {ast.unparse(node.test.left), ast.unparse(node.test.comparators[0])}
    if sides != {"__name__", "'__main__'"}:
        return False
    op = node.test.ops[0]
    block = node.body if isinstance(op, ast.Eq) else node.orelse if isinstance(op, ast.NotEq) else []
    return bool(block) and block[0].lineno <= line <= (block[-1].end_lineno or block[-1].lineno)


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
