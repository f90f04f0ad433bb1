"""Children die with their parent: a thread that ends this process when another one is gone.

A command that is killed outright (SIGKILL, the out-of-memory killer, SIGHUP when its terminal
closes) runs no clean-up, so whatever it started must notice by itself: otherwise pool workers,
their fork server and the dashboard's server stay alive, holding memory and the port. Linux's
parent-death signal (prctl PR_SET_PDEATHSIG) is no answer: it follows the thread that started the
child, not the process; it does not exist on macOS; and pool workers are children of the fork
server, not of the command. So each process started on the command's behalf watches the command's
pid itself (`watch`): with a pidfd where the system has one (Linux 5.3+; it wakes the moment the
process ends, even while it is an unreaped zombie), otherwise by polling. POSIX only.

`command` wraps a `python -m MODULE ...` invocation so that the module runs under such a watch:
`python -m handover_abm.lifeline PARENT_PID -m MODULE ARGS...`.
"""

from __future__ import annotations

import os
import runpy
import select
import signal
import sys
import threading
import time

USAGE = "usage: python -m handover_abm.lifeline PARENT_PID -m MODULE [ARGS...]"


def watch(pid: int, interval: float = 0.5) -> None:
    """End this process as soon as process `pid` is gone (at once if it already is), from a
    daemon thread. A process that leads its own process group takes the group with it (what it
    started, e.g. a server's workers); any other only ends itself, never its parent's group.
    `interval` is how often to look where the system offers no pidfd to wait on."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        _end()
    except (AttributeError, OSError):  # no pidfd on this system (macOS, an old kernel, a sandbox)
        parent = os.getppid() == pid
        if not _alive(pid, parent):
            _end()
        threading.Thread(target=_poll, args=(pid, parent, interval), name="lifeline", daemon=True).start()
    else:
        threading.Thread(target=_wait, args=(pidfd,), name="lifeline", daemon=True).start()


def command(argv: list[str]) -> list[str]:
    """The command line that runs `python *argv` (argv = ["-m", MODULE, ...]) under a watch on
    this process: the module ends when this process does, however this process ends."""
    if len(argv) < 2 or argv[0] != "-m":
        raise ValueError(f"expected ['-m', MODULE, ...], got {argv!r}")
    return [sys.executable, "-m", "handover_abm.lifeline", str(os.getpid()), *argv]


def _wait(pidfd: int) -> None:
    """Block until the process behind pidfd ends (the pidfd becomes readable), then end."""
    select.select([pidfd], [], [])
    _end()


def _poll(pid: int, parent: bool, interval: float) -> None:
    """Look every `interval` seconds whether `pid` is still there; end when it is not."""
    while _alive(pid, parent):
        time.sleep(interval)
    _end()


def _alive(pid: int, parent: bool) -> bool:
    """Whether process `pid` still runs. Signal 0 checks that it exists without sending anything,
    but a dead process exists until its parent reaps it; a dead parent is seen sooner, as this
    process is handed to another parent at once."""
    if parent and os.getppid() != pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def _end() -> None:
    """Kill this process, with its process group when it leads one: the process it works for is
    gone, so no one waits for its results and there is nothing to hand back or save."""
    if os.getpgrp() == os.getpid():
        os.killpg(0, signal.SIGKILL)
    os._exit(1)


def _main(args: list[str]) -> None:
    """Run `-m MODULE ARGS...` as __main__ under a watch on PARENT_PID (see `command`)."""
    if len(args) < 3 or args[1] != "-m" or not args[0].isdigit():
        raise SystemExit(USAGE)
    parent = int(args[0])
    watch(parent)
    # the pid could name another process if the parent died and was reaped before the watch
    # began; if the parent is still this process's parent now, the watch is on the right one
    if os.getppid() != parent:
        _end()
    sys.argv = args[2:]  # [MODULE, ARGS...]; run_module puts the module's path in sys.argv[0]
    runpy.run_module(args[2], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    _main(sys.argv[1:])
