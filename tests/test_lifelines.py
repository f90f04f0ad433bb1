"""Children die with their parent: after SIGKILL (or SIGHUP) of a command, nothing it started lives.

Only the command's own process is killed, as the out-of-memory killer would do: never its process
group, which would stop its children whether or not they watch it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from handover_abm import lifeline

CLI = str(Path(sys.executable).parent / "handover-abm")
ROOT = Path(__file__).resolve().parents[1]
GRACE = 5.0  # seconds a child may take to notice its parent is gone (the acceptance criterion)

BASE = {
    "name": "tiny",
    "days": 60,
    "population": {"size": 2000, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
    ],
}
SWEEP = {  # 60 runs: far more than happen before the kill
    "name": "t",
    "base": "base.yaml",
    "parameters": {"routing.policy": {"values": ["first_available", "continuity_first", "specialist_first"]}},
    "replicates": 20,
    "seed": 11,
}
CALIBRATION = {
    "name": "cal",
    "base": str(ROOT / "configs" / "default.yaml"),
    "patients": 2000,
    "days": 40,
    "parameters": {
        "demand.rate_multiplier_per_ltc": {"low": 0.05, "high": 1.0},
        "work.minutes_per_fte_day": {"low": 300, "high": 480},
    },
    "targets": ["contacts_per_patient_year"],
    "replicates": 1,
    "method": "abc",
    "abc": {"population_size": 16, "generations": 3},
    "predictive_draws": 4,
    "seed": 1,
}
# a module run under the lifeline: reports how it was run, starts a process of its own, waits
SLEEPER = """
import json, subprocess, sys, time
kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(json.dumps({"name": __name__, "argv": sys.argv, "kid": kid.pid}), flush=True)
time.sleep(120)
"""
# watches a process (argv[1]) as pool workers watch the command; polls when told to (argv[2])
WATCHER = """
import os, sys, time
from handover_abm import lifeline
if sys.argv[2] == "polling":
    del os.pidfd_open
lifeline.watch(int(sys.argv[1]), interval=0.05)
print("watching", flush=True)
time.sleep(0.2)  # several looks by either kind of watch
print("still here", flush=True)
time.sleep(120)
"""
# the command: starts the sleeper under a lifeline in its own process group, as the dashboard does;
# with argv[1] "polling", in a Python without pidfds
PARENT = """
import subprocess, sys, time
from handover_abm import lifeline
cmd = lifeline.command(["-m", "sleeper", "a", "--b"])
if sys.argv[1] == "polling":
    run = "runpy.run_module('handover_abm.lifeline', run_name='__main__', alter_sys=True)"
    cmd[1:3] = ["-c", "import os, runpy; del os.pidfd_open; " + run]
subprocess.Popen(cmd, process_group=0)
time.sleep(120)
"""


def _alive(proc: psutil.Process) -> bool:
    """Running (a zombie has ended: it only waits for its parent to collect its exit status)."""
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _survivors(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those of procs still running GRACE seconds from now (sooner if all have ended)."""
    deadline = time.monotonic() + GRACE
    while any(_alive(p) for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in procs if _alive(p)]


def _describe(procs: list[psutil.Process]) -> str:
    """Pids and command lines, for a failure message."""
    return "; ".join(f"{p.pid} {' '.join(p.cmdline())[:120]}" for p in procs)


def _kill_all(procs: list[psutil.Process]) -> None:
    """Clean up after a failure, so that a test never leaves processes behind."""
    for p in procs:
        if _alive(p):
            p.kill()


def _read_line(proc: subprocess.Popen, timeout: float = 60.0) -> str:
    """The next line proc writes to its stdout pipe, or a failure after `timeout` seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"no output within {timeout:g} s"
    return proc.stdout.readline().decode()


def _children(proc: psutil.Process) -> list[psutil.Process]:
    """The processes `proc` started (none if it has ended meanwhile, as a `git` run may)."""
    try:
        return proc.children()
    except psutil.NoSuchProcess:
        return []


def _kill_cli_with_workers(args: list[str], cwd: Path) -> None:
    """Start the CLI with a pool of 2 workers, wait until both exist, SIGKILL the CLI's process
    only, and check that every process it started (fork server, resource tracker, workers) ends."""
    log = cwd / "stderr.txt"  # a file, not a pipe: a full pipe would stall the command
    with log.open("wb") as stderr:
        proc = subprocess.Popen(
            [CLI, *args, "--backend", "processes", "--workers", "2"],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    cli = psutil.Process(proc.pid)
    tree: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            kids = _children(cli)
            workers = [w for kid in kids for w in _children(kid)]  # children of the fork server
            tree = kids + workers
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
        assert len(tree) >= 4, f"expected fork server, resource tracker, 2 workers: {_describe(tree)}"
        proc.kill()
        proc.wait()
        left = _survivors(tree)
        assert not left, f"alive {GRACE:g} s after SIGKILL of the command: {_describe(left)}"
    finally:
        proc.kill()
        proc.wait()
        _kill_all(tree)


def test_sweep_workers_end_with_a_killed_command(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SWEEP), encoding="utf-8")
    _kill_cli_with_workers(["sweep", "spec.yaml", "--out", "out"], tmp_path)


def test_calibrate_workers_end_with_a_killed_command(tmp_path: Path) -> None:
    (tmp_path / "cal.yaml").write_text(yaml.safe_dump(CALIBRATION), encoding="utf-8")
    _kill_cli_with_workers(["calibrate", "cal.yaml", "--out", "out"], tmp_path)


def _needs(how: str) -> None:
    if how == "pidfd" and not hasattr(os, "pidfd_open"):
        pytest.skip("no pidfd on this system")


@pytest.mark.parametrize(
    ("sig", "how"),
    [(signal.SIGKILL, "pidfd"), (signal.SIGHUP, "pidfd"), (signal.SIGKILL, "polling")],
    ids=["SIGKILL", "SIGHUP", "SIGKILL-polling"],
)
def test_command_runs_the_module_and_ends_with_its_parent(tmp_path: Path, sig: int, how: str) -> None:
    """The module runs as __main__ with its own arguments; when its parent dies, it ends and so
    does the process it started (it leads its process group, and takes the group with it). The
    dead parent is left unreaped (a zombie) until then: a watch must not take it for alive."""
    _needs(how)
    (tmp_path / "sleeper.py").write_text(SLEEPER, encoding="utf-8")  # found as python -m finds it
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, how], cwd=tmp_path, stdout=subprocess.PIPE, start_new_session=True
    )
    started: list[psutil.Process] = []
    try:
        report = json.loads(_read_line(parent))
        assert report["name"] == "__main__"
        assert report["argv"] == [str(tmp_path / "sleeper.py"), "a", "--b"]
        started = [*psutil.Process(parent.pid).children(), psutil.Process(report["kid"])]
        assert len(started) == 2 and all(_alive(p) for p in started)
        parent.send_signal(sig)
        left = _survivors(started)
        assert not left, f"alive {GRACE:g} s after the parent died: {_describe(left)}"
        assert parent.wait() == -sig
    finally:
        parent.kill()
        parent.wait()
        _kill_all(started)
        assert parent.stdout is not None
        parent.stdout.close()


@pytest.mark.parametrize("how", ["pidfd", "polling"])
def test_watch_ends_this_process_only_when_the_other_ends(how: str) -> None:
    """A watcher outside its own process group ends itself (exit 1), not the group (this test's)."""
    _needs(how)
    target = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    watcher = subprocess.Popen([sys.executable, "-c", WATCHER, str(target.pid), how], stdout=subprocess.PIPE)
    try:
        assert _read_line(watcher) == "watching\n"
        assert _read_line(watcher) == "still here\n"  # the watched process runs: so does the watcher
        target.kill()
        target.wait()
        assert watcher.wait(timeout=GRACE) == 1
    finally:
        for proc in (target, watcher):
            proc.kill()
            proc.wait()
        assert watcher.stdout is not None
        watcher.stdout.close()


@pytest.mark.parametrize("how", ["pidfd", "polling"])
def test_watch_of_a_process_already_gone_ends_this_one_at_once(how: str) -> None:
    _needs(how)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    res = subprocess.run([sys.executable, "-c", WATCHER, str(gone.pid), how], capture_output=True, timeout=60)
    assert res.returncode == 1 and res.stdout == b""  # ended inside watch, before "watching"


def test_a_parent_gone_before_the_watch_ends_the_child_at_once() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    res = subprocess.run(
        [sys.executable, "-m", "handover_abm.lifeline", str(gone.pid), "-m", "http.server", "0"],
        capture_output=True,
        timeout=60,  # a child that missed its parent's death would serve until this runs out
    )
    assert res.returncode == 1 and b"Serving" not in res.stdout


def test_command_line() -> None:
    head = [sys.executable, "-m", "handover_abm.lifeline", str(os.getpid())]
    assert lifeline.command(["-m", "solara", "run"]) == [*head, "-m", "solara", "run"]
    with pytest.raises(ValueError, match="MODULE"):
        lifeline.command(["app.py"])
