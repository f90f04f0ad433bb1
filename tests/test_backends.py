"""Backends: serial, processes and Dask give identical sweep tables; a lost Dask worker loses no run;
an unreachable scheduler is a clear error with nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from handover_abm.backends import DASK_TASK_SECONDS, Backend, SerialExecutor, open_backend
from handover_abm.sweep import load_sweep, run_sweep

distributed = pytest.importorskip("distributed", reason="Dask backend tests need the cluster extra")
CLI = str(Path(sys.executable).parent / "handover-abm")

BASE = {
    "name": "tiny",
    "days": 15,
    "population": {"size": 1000, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ],
}


def _spec(tmp: Path, replicates: int = 2, days: int = 15) -> Path:
    (tmp / "base.yaml").write_text(yaml.safe_dump({**BASE, "days": days}), encoding="utf-8")
    spec = {
        "name": "b",
        "base": "base.yaml",
        "parameters": {
            "routing.policy": {"values": ["first_available", "continuity_first"]},
            "supervision.protected_minutes_per_day": {"values": [15, 30, 60]},
        },
        "replicates": replicates,
        "seed": 3,
    }
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_serial_executor_returns_results_and_exceptions() -> None:
    ex = SerialExecutor()
    assert ex.submit(pow, 2, 5).result() == 32
    with pytest.raises(ZeroDivisionError):
        ex.submit(lambda: 1 / 0).result()


def test_serial_processes_and_dask_give_identical_tables(tmp_path: Path) -> None:
    plan = load_sweep(_spec(tmp_path))
    tables = {}
    for name in ("serial", "processes", "dask"):
        with open_backend(name, workers=2) as backend:
            tables[name] = run_sweep(plan, tmp_path / name, backend=backend).table
        if name == "dask":
            assert backend.dashboard and "127.0.0.1" in backend.dashboard
    for name in ("processes", "dask"):
        pd.testing.assert_frame_equal(tables["serial"], tables[name])
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / name / "sweep.parquet"), tables["serial"])
    assert (tables["serial"]["status"] == "ok").all() and len(tables["serial"]) == 12


def test_killing_a_dask_worker_loses_no_run_and_duplicates_none(tmp_path: Path) -> None:
    plan = load_sweep(_spec(tmp_path, replicates=4, days=40))
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        # runs grouped into tasks as the real backend does, so a lost task holds several runs
        executor = client.get_executor(pure=False)
        backend = Backend("dask", executor, 2, "test cluster", window=8, task_seconds=DASK_TASK_SECONDS)
        pids = client.run(os.getpid)
        victim = next(iter(pids.values()))
        killed = threading.Event()
        journal = tmp_path / "out" / "runs.jsonl"

        def kill_when_started() -> None:
            deadline = time.time() + 120
            while time.time() < deadline:
                if journal.exists() and journal.read_text().count("\n") >= 3:
                    os.kill(victim, signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.02)

        thread = threading.Thread(target=kill_when_started)
        thread.start()
        result = run_sweep(plan, tmp_path / "out", backend=backend)
        thread.join()
        assert killed.is_set(), "the sweep ended before a worker could be killed"
        table = result.table
        assert table["run_index"].tolist() == list(range(plan.n_runs))  # each run exactly once
        assert (table["status"] == "ok").all()
        lines = journal.read_text().splitlines() if journal.exists() else []
        assert len(lines) == len({line for line in lines})
    finally:
        client.close()
        cluster.close()


def test_unreachable_scheduler_fails_fast_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    start = time.time()
    res = subprocess.run(
        [
            CLI,
            "sweep",
            str(_spec(tmp_path)),
            "--out",
            str(out),
            "--backend",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "tcp://127.0.0.1:9" in res.stderr and "no Dask scheduler answered" in res.stderr
    assert time.time() - start < 20
    assert not out.exists()


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    res = subprocess.run(
        [CLI, "sweep", str(_spec(tmp_path)), "--out", str(tmp_path / "o"), "--backend", "mpi"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "allowed backends" in res.stderr
