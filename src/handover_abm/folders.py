"""Output folders: one writer at a time, replaced as a whole, checked against their manifest.

- Lock: a command that writes into a folder holds `fcntl.flock` on `.NAME.lock` beside it (beside,
  so that the lock outlives the swap below; the kernel releases it when its holder dies): a second
  command into the same folder is refused. Holding it, a command first repairs an interrupted swap
  and removes the temporaries a killed command left (`.FILE.XXXXXXXX.tmp`, `.probe.XXXXXXXX`).
- Swap: run, compare and explain write their complete set into `.NAME.new` beside the folder, then
  move the folder to `.NAME.old` (the commit point), move the new set in and delete the old one. An
  interrupted swap is repaired so that the folder holds the complete old set (killed before the
  commit point: `.NAME.new` is discarded) or the complete new one (after it: `.NAME.new` is moved in
  and `.NAME.old` deleted). A folder holding anything that is not handover-abm's is never replaced.
- Manifest: manifest.json names every data file it vouches for with its SHA-256 ("files");
  `verified_manifest` refuses a folder whose files do not match it (two runs mixed, a file changed,
  missing or unnamed). Figures and report.html, derived later, are not in it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from handover_abm.config import ConfigError
from handover_abm.results import Writer, manifest_writer, output_error, write_manifest

MANIFEST = "manifest.json"
# data files: what commands write and later commands read; each must be named in the manifest
DATA_FILES = frozenset(
    {
        *("summary.csv", "daily.parquet", "staff.parquet", "network.json", "waits.csv", "access.csv"),
        *("events.parquet", "contacts.parquet", "comparison.csv", "daily.csv", "staff.csv", "draws.csv"),
        *("explain.csv", "explain_replicates.csv", "coalitions.csv", "sweep.parquet", "indices.csv"),
        *("posterior.parquet", "trials.parquet", "best.json", "best_config.yaml", "diagnostics.json"),
        *("target_fit.csv", "predictive.parquet"),
    }
)
# working state of sweeps and calibrations (their journal and databases) and a file derived later
OTHER_FILES = frozenset(
    {
        *("runs.jsonl", "report.html"),
        *(f"{db}{end}" for db in ("abc.db", "optuna.db") for end in ("", "-journal", "-wal", "-shm")),
    }
)
SUBFOLDERS = {"figures": re.compile(r".+\.(png|svg)"), "parts": re.compile(r"part-\d{6}\.parquet")}
TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp|\.probe\.[a-z0-9_]{8}")  # results._write_temp, probes
KILL_AFTER_STEP = "HANDOVER_ABM_KILL_AFTER_STEP"  # test hook: SIGKILL this process after that swap step

_held: dict[str, int] = {}  # folders whose lock this process holds, and how deeply nested


def _real(folder: Path) -> Path:
    return Path(os.path.realpath(folder))


def _sibling(real: Path, what: str) -> Path:
    return real.with_name(f".{real.name}.{what}")


def _step(n: int) -> None:
    """Step n of a swap is done; kill this process here if the test hook asks for it."""
    if os.environ.get(KILL_AFTER_STEP) == str(n):
        os.kill(os.getpid(), signal.SIGKILL)


def _unusable(label: str, folder: Path, exc: OSError) -> ConfigError:
    if folder.exists() and not folder.is_dir():
        why = "is a file, not a folder"
    elif exc.errno == errno.ENOTDIR or any(p.is_file() for p in folder.parents):
        why = "lies under a file, not a folder"
    else:
        why = f"cannot be created or written to ({exc.strerror or type(exc).__name__})"
    return ConfigError(f"{label}: {why}; choose a folder that can be written to")


# ---------------------------------------------------------------- what is ours


def foreign_file(folder: Path) -> Path | None:
    """The first entry of `folder` that is not one of handover-abm's outputs (None if all are)."""
    for entry in sorted(folder.iterdir()):
        pattern = SUBFOLDERS.get(entry.name)
        if entry.is_symlink() or (entry.is_dir() and pattern is None):
            return entry
        if entry.is_dir():
            for item in sorted(entry.iterdir()):
                if item.is_symlink() or not item.is_file() or not _ours(item.name, pattern):
                    return item
        elif not _ours(entry.name, None):
            return entry
    return None


def _ours(name: str, pattern: re.Pattern[str] | None) -> bool:
    known = pattern.fullmatch(name) if pattern else name in DATA_FILES | OTHER_FILES | {MANIFEST}
    return bool(known or TEMPORARY.fullmatch(name))


def clean_temporaries(folder: Path) -> None:
    """Remove the temporaries a killed command left in `folder`, figures/ and parts/ (only ours)."""
    for where in (folder, *(folder / name for name in SUBFOLDERS)):
        if where.is_dir() and not where.is_symlink():
            for item in where.iterdir():
                if TEMPORARY.fullmatch(item.name) and item.is_file() and not item.is_symlink():
                    item.unlink(missing_ok=True)


def _remove(folder: Path) -> None:
    """Delete a staging or old folder beside an output folder, if it holds only our files."""
    if not folder.is_dir() or folder.is_symlink():
        return
    stranger = foreign_file(folder)
    if stranger is not None:
        raise ConfigError(
            f"{folder}: left by an interrupted handover-abm command, but it holds {stranger.name}, which "
            f"is not one of handover-abm's outputs; move what you want to keep out of it and delete it"
        )
    shutil.rmtree(folder)


def repair(folder: Path) -> None:
    """Finish or undo an interrupted swap of `folder` (holding its lock): before the commit point
    (the old set moved aside) the new set is discarded, after it the new set is moved in."""
    real = _real(folder)
    staging, old = _sibling(real, "new"), _sibling(real, "old")
    if old.is_dir() and not os.path.lexists(real):
        os.rename(staging if staging.is_dir() else old, real)
    _remove(old)
    _remove(staging)


# ---------------------------------------------------------------- the lock


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
        return f" (process {pid})"
    return ""


def _open_lock(path: Path, label: str, real: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError as exc:
        with contextlib.suppress(OSError):  # left by another user's killed command: flock needs no write
            return os.open(path, os.O_RDONLY)
        raise _unusable(label, real, exc) from None
    except OSError as exc:
        raise _unusable(label, real, exc) from None


@contextlib.contextmanager
def _lock(real: Path, label: str) -> Iterator[bool]:
    """Hold the lock of a folder; yields whether this is the outermost hold in this process.

    The lock file is deleted on release; a process that locked a deleted file (it lost the race with
    the release) sees a different file at the path and tries again."""
    key = str(real)
    if key in _held:
        _held[key] += 1
        try:
            yield False
        finally:
            _held[key] -= 1
        return
    path = _sibling(real, "lock")
    while True:
        fd = _open_lock(path, label, real)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise ConfigError(
                f"{label}: another handover-abm command{holder} is writing into this folder; wait until "
                f"it has finished, or choose another folder"
            ) from None
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        os.close(fd)
    with contextlib.suppress(OSError):  # only to name the holder; a full disk must not stop the command
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    _held[key] = 1
    try:
        yield True
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def _no_progress(folder: Path) -> bool:
    """Whether a folder holds nothing worth keeping: a manifest, an empty journal, temporaries."""
    for item in folder.rglob("*"):
        if item.is_dir() or TEMPORARY.fullmatch(item.name) or item.name == MANIFEST:
            continue
        if item.name == "runs.jsonl" and item.stat().st_size == 0:
            continue
        return False
    return True


@contextlib.contextmanager
def writing_into(folder: Path, label: str | None = None, create: bool = True) -> Iterator[None]:
    """Hold the lock of an output folder for one command (ConfigError if another command holds it),
    repair an interrupted swap of it and remove temporaries left by a killed command.

    `create`: the folder is a command's --out (it may be missing: its missing parents are created;
    the current folder, or one holding it, is refused, and a command that fails removes the folder
    and parents it created if they hold nothing worth keeping). Otherwise (plot, report) the folder
    is only written into, and must exist once repaired."""
    label = label or (f"--out {folder}" if create else str(folder))
    real = _real(folder)
    if create and (real == Path.cwd().resolve() or real in Path.cwd().resolve().parents):
        raise ConfigError(
            f"{label}: is the current folder or holds it (an empty --out names the current folder too); "
            f"results are written into a folder of their own, e.g. --out results/NAME"
        )
    if os.path.lexists(real) and not real.is_dir():
        raise ConfigError(f"{label}: is a file, not a folder; choose a folder that can be written to")
    created = [p for p in real.parents if not p.exists()]  # deepest first
    if created and not create:
        raise ConfigError(f"{folder}: not a folder")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unusable(label, real, exc) from None
    try:
        with _lock(real, label) as outermost:
            if outermost:
                repair(real)
                clean_temporaries(real)
            existed = real.exists()
            try:
                yield
            except BaseException:
                if outermost:  # a new set half-written beside the folder goes; a moved-aside one returns
                    repair(real)
                if outermost and create and not existed and real.is_dir() and _no_progress(real):
                    shutil.rmtree(real, ignore_errors=True)
                raise
    except BaseException:
        for parent in created:
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise


# ---------------------------------------------------------------- replacing a folder as a whole


def check_replaceable(out: Path, force: bool) -> None:
    """Before a command that replaces `out` runs (holding its lock): refuse results there without
    --force, anything that is not handover-abm's, a mount point or a place that cannot be written;
    create the folder the new set will be written into."""
    real = _real(out)
    if real.is_dir() and any(real.iterdir()):
        stranger = foreign_file(real)
        if stranger is not None:
            raise ConfigError(
                f"--out {out}: holds {stranger.relative_to(real)}, which is not one of handover-abm's "
                f"outputs; an output folder is replaced as a whole, so choose a new or empty folder "
                f"(nothing was changed)"
            )
        if not force:
            held = MANIFEST if (real / MANIFEST).exists() else min(p.name for p in real.iterdir())
            raise ConfigError(
                f"--out {out}: already holds results ({held}); pass --force to replace them (they stay "
                f"untouched until the new run completes), or choose another folder"
            )
    try:
        if real.is_dir():  # its contents are not written, but a read-only folder cannot be moved aside
            fd, probe = tempfile.mkstemp(prefix=".probe.", dir=real)
            os.close(fd)
            os.unlink(probe)
        _sibling(real, "new").mkdir()
    except OSError as exc:
        raise _unusable(f"--out {out}", real, exc) from None
    if real.is_dir() and os.path.ismount(real):
        raise ConfigError(
            f"--out {out}: is a mount point, which cannot be replaced as a whole; choose a folder inside it"
        )


def _write_synced(path: Path, write: Writer) -> str:
    """Write a new file, flush it to disk and return its SHA-256."""
    with path.open("xb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return sha256(path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_folder(out: Path, files: Mapping[str, Writer], manifest: dict[str, Any]) -> None:
    """Write `files` and their manifest (with the files' hashes) as a complete set beside `out`, then
    swap it in (see the module's docstring); OutputError if a write fails, `out` unchanged."""
    real = _real(out)
    staging, old = _sibling(real, "new"), _sibling(real, "old")
    name = MANIFEST
    try:
        staging.mkdir(exist_ok=True)
        hashes = {}
        for name, write in files.items():
            hashes[name] = _write_synced(staging / name, write)
            _step(1)
        name = MANIFEST
        _write_synced(staging / MANIFEST, manifest_writer({**manifest, "files": hashes}))
        _fsync_dir(staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise output_error(out / name, exc) from exc
        raise
    _step(2)
    try:
        if os.path.lexists(real):
            os.rename(real, old)
            _step(3)
        os.rename(staging, real)
        _fsync_dir(real.parent)
    except OSError as exc:
        if not os.path.lexists(real) and old.is_dir():
            os.rename(old, real)
        shutil.rmtree(staging, ignore_errors=True)
        raise output_error(out, exc) from exc
    _step(4)
    if old.is_dir():
        (old / MANIFEST).unlink(missing_ok=True)
        _step(5)
        shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- checking a folder against its manifest


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, in hex."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_hashes(folder: Path, names: Iterable[str]) -> dict[str, str]:
    """name -> SHA-256 of each named file of `folder` (for a manifest's "files")."""
    return {name: sha256(folder / name) for name in names}


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of `folder` (None if it has none); ConfigError if it is not a JSON object."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: is not a manifest written by handover-abm (not a JSON object); run the command "
            f"that wrote the folder again into a new --out"
        )
    return data


def vouch_for(folder: Path, names: Iterable[str]) -> None:
    """Add the named files of `folder`, with their hashes, to its manifest (written atomically)."""
    data = read_manifest(folder) or {}
    data["files"] = {**data.get("files", {}), **file_hashes(folder, names)}
    write_manifest(folder / MANIFEST, data)


def _recovery(data: dict[str, Any]) -> str:
    command = data.get("command", "")
    if command in ("sweep", "sensitivity", "calibrate"):
        return f"finish or rebuild it with `handover-abm {command} SPEC --out DIR --resume`"
    return f"run `handover-abm {command or 'run'} ... --force` again to rewrite the whole folder"


def verified_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an output folder once every file it names has its SHA-256 and every data
    file present is named; ConfigError saying how to recover otherwise (a mix of two runs, a file
    changed, missing or not vouched for, an unfinished sweep)."""
    data = read_manifest(folder)
    if data is None:
        raise ConfigError(
            f"{folder}: no run, compare, sweep or sensitivity outputs found (no manifest.json); give the "
            f"--out folder of one of those commands"
        )
    files = data.get("files")
    if not isinstance(files, dict):
        if data.get("status") == "running":
            raise ConfigError(f"{folder}: has not finished (manifest.json says running); {_recovery(data)}")
        raise ConfigError(
            f"{folder}/manifest.json: names no files with their SHA-256 (written by an earlier version of "
            f"handover-abm), so its files cannot be checked; {_recovery(data)}"
        )
    for name, digest in files.items():
        path = folder / str(name)
        if not path.is_file() or sha256(path) != digest:
            what = (
                "is missing" if not path.is_file() else "does not match manifest.json (its SHA-256 differs)"
            )
            raise ConfigError(
                f"{folder}: {name} {what}: the folder does not hold one complete set of results (files of "
                f"two commands mixed, or a file changed); {_recovery(data)}"
            )
    unnamed = sorted(n for n in DATA_FILES - set(files) if (folder / n).exists())
    if unnamed:
        raise ConfigError(
            f"{folder}: {unnamed[0]} is not named in manifest.json, so it may come from another command; "
            f"{_recovery(data)}"
        )
    return data


# ---------------------------------------------------------------- folders written in place


def check_fresh(out: Path, what: str) -> None:
    """Refuse to start `what` (e.g. "the sweep") in a folder that holds anything: results (finished
    with --resume) or files that are not handover-abm's (ConfigError)."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    stranger = foreign_file(out)
    if stranger is not None:
        raise ConfigError(
            f"--out {out}: holds {stranger.relative_to(out)}, which is not one of handover-abm's outputs; "
            f"{what} starts in a new or empty folder: choose another folder"
        )
    held = MANIFEST if (out / MANIFEST).exists() else min(p.name for p in out.iterdir())
    raise ConfigError(
        f"--out {out}: already holds results ({held}); pass --resume to finish {what} in it, or choose "
        f"another folder"
    )


def check_resumable(out: Path, what: str) -> None:
    """Refuse to resume `what` in a folder that holds files but no manifest: nothing would show that
    they were started from the same spec (ConfigError). A missing or empty folder starts afresh."""
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ConfigError(
            f"--out {out}: has no manifest.json, which names the spec {what} in it was started from, so "
            f"it cannot be resumed (its runs could be mixed with another spec's); start {what} again in "
            f"a new or empty folder"
        )


def shown(path: Path | str) -> str:
    """A path as printable text: bytes of its name that are not UTF-8 (kept by Python as lone
    surrogates, which cannot be printed or written as UTF-8) shown as U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")
