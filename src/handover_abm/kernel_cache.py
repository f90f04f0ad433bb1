"""The compiled kernels' cache on disk: kept in step with the sources, and asked whether a run will
start at once or first compile (about a minute on 2 cores, once per install).

Light on purpose (no numba): the command line asks `cached()` before it starts a run, to say what it
is doing during the silent first compile.
"""

from __future__ import annotations

import hashlib
from itertools import chain
from pathlib import Path

# The modules with compiled functions. numba keys each function's cache on its own file only, so a
# change to a mechanism that another module's kernels call would leave their cached code stale:
# `drop_stale` clears the package's cached kernels whenever any of these files changes.
KERNEL_MODULES = (
    "admissions.py",
    "book.py",
    "booking.py",
    "continuity.py",
    "demand.py",
    "familiarity.py",
    "handover.py",
    "lifecycle.py",
    "network.py",
    "preferences.py",
    "referral.py",
    "state.py",
    "supervision.py",
)
HERE = Path(__file__).parent
CACHE = HERE / "__pycache__"
STAMP = CACHE / "kernels.sha256"


def _digest() -> str:
    return hashlib.sha256(b"".join((HERE / name).read_bytes() for name in KERNEL_MODULES)).hexdigest()


def drop_stale() -> None:
    """Clear the cached kernels if any kernel module changed since they were compiled."""
    digest = _digest()
    try:
        if STAMP.read_text() == digest:
            return
    except OSError:  # no stamp: kernels cached before it are of unknown sources
        pass
    try:
        for old in chain(CACHE.glob("*.nbi"), CACHE.glob("*.nbc")):
            old.unlink(missing_ok=True)
        CACHE.mkdir(exist_ok=True)
        STAMP.write_text(digest)
    except OSError:  # a read-only install: numba then caches elsewhere
        pass


def cached() -> bool:
    """Whether the task life cycle's kernels are cached for today's sources (a run starts at once)."""
    try:
        fresh = STAMP.read_text() == _digest()
    except OSError:
        return False
    return fresh and any(CACHE.glob("lifecycle.*.nbi"))
