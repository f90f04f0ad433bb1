"""Shared fixtures: small scenarios that run in well under a second; hypothesis profiles.

Property tests run derandomized (the same examples on every machine and every run) unless
HYPOTHESIS_PROFILE=fuzz (`make test-fuzz`) asks for fresh random examples, and many more of them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from handover_abm.config import Scenario, scenario_from_dict

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=60)
settings.register_profile("fuzz", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def small_scenario(**changes: Any) -> Scenario:
    """A 2-practice, 2,000-patient team with GPs, a nurse and a few ARRS roles."""
    data: dict[str, Any] = {
        "name": "small",
        "days": 40,
        "population": {"size": 2000, "practices": 2},
        "team": [
            {"role": "gp_partner", "count": 2, "fte": 0.8},
            {"role": "practice_nurse", "count": 1, "fte": 1.0},
            {"role": "clinical_pharmacist", "count": 1, "fte": 0.5, "organisation": "pcn"},
            {"role": "physician_associate", "count": 1, "fte": 0.5, "organisation": "pcn"},
            {"role": "care_coordinator", "count": 1, "fte": 0.5, "organisation": "pcn"},
        ],
    }
    data.update(changes)
    return scenario_from_dict(data)


@pytest.fixture
def small() -> Scenario:
    """The small scenario with defaults."""
    return small_scenario()


@contextlib.contextmanager
def dashboard_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A free port for a dashboard server, held under a lock that every pytest process shares.

    The tests run in parallel (pytest-xdist): a port found free can be taken by another test's server
    before this one binds it, so only one test at a time starts a server. The lock file lies beside the
    workers' temporary folders (the xdist recipe for cross-worker state) and is held until the server
    has been stopped."""
    lock = tmp_path_factory.getbasetemp().parent / "dashboard-port.lock"
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            yield port
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def pytest_configure(config: pytest.Config) -> None:
    """Compile the model's kernels once, in the controlling process, before any test worker or test
    subprocess starts: on a fresh machine each of them would otherwise compile the same kernels at
    the same time (about a minute of a core each) until one of them had written the cache."""
    from handover_abm import kernel_cache

    if hasattr(config, "workerinput") or kernel_cache.cached():
        return
    from handover_abm.simulate import simulate

    simulate(small_scenario(days=5), seed=1)


def cli_main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the console entry point in this process: (exit code, stderr). The signal handlers it
    installs (SIGTERM, SIGHUP) are put back, so the test process is left as it was."""
    from handover_abm import cli

    old_argv = sys.argv
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    sys.argv = ["handover-abm", *args]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old_argv
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return code, capsys.readouterr().err


def one_paragraph(err: str, *needles: str) -> None:
    """An `error:` paragraph on one line naming every needle, and no traceback (plain progress
    lines, as a command prints them into a pipe, aside)."""
    assert "Traceback" not in err, err
    progress = re.compile(r"^\S.*: (started|\d+/\d+ runs done .*)$")
    lines = [line for line in err.splitlines() if line.strip() and not progress.match(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in err, (needle, err)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden temporaries too) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
