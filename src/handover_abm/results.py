"""Output files: atomic writes (temp files then renames), the manifest, and the run tables.

The files in an output folder are the contract later tools read:
manifest.json, summary.csv, daily.parquet, staff.parquet, waits.csv, network.json, events.parquet
and contacts.parquet (with --log-events), comparison.csv. A run's folder is written and replaced
as a whole, and checked against the SHA-256 its manifest gives each file, by folders.py.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from handover_abm.config import ConfigError, Scenario
from handover_abm.errors import OutputError
from handover_abm.metrics import BOOKING_LEAD_BANDS, EXTRA, HEADLINE, in_band

if TYPE_CHECKING:
    from handover_abm.simulate import Outcomes

_UMASK = os.umask(0)
os.umask(_UMASK)


Writer = Callable[[io.BufferedWriter], None]


def output_error(path: Path, exc: OSError) -> OutputError:
    """The one-paragraph OutputError for an OSError met while writing `path`."""
    why = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        todo = "free some space"
    else:
        todo = "check that its folder exists and can be written to"
    return OutputError(f"{path}: could not be written ({why}); {todo}")


def check_output_folder(out: Path) -> None:
    """Check, before any run starts, that files can be written into `out` (by creating it and a
    probe file, then removing what was created): ConfigError naming --out and the reason if it is a
    file, lies under a file, is read-only or cannot be created."""
    created = [p for p in (out, *out.parents) if not p.exists()]  # deepest first
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe.", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if out.exists() and not out.is_dir():
            why = "is a file, not a folder"
        elif exc.errno == errno.ENOTDIR:
            why = "lies under a file, not a folder"
        else:
            why = f"cannot be created or written to ({exc.strerror or type(exc).__name__})"
        raise ConfigError(f"--out {out}: {why}; choose a folder that can be written to") from None
    finally:
        for folder in created:
            with contextlib.suppress(OSError):
                folder.rmdir()


def _write_temp(path: Path, write: Writer) -> Path:
    """Write a temporary sibling of `path` (flushed to disk); return its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write_all(files: Sequence[tuple[Path, Writer]]) -> None:
    """Write every file to a temporary sibling, then rename them all into place: when any write
    fails (e.g. a full disk), no file under its final name has changed and no temporary is left.

    Raises OutputError for an OSError."""
    temps: list[tuple[Path, Path]] = []
    path = files[0][0] if files else Path()
    try:
        for path, write in files:
            temps.append((_write_temp(path, write), path))
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise output_error(path, exc) from exc
        raise


def atomic_write(path: Path, write: Writer) -> None:
    """Write a file through a temporary sibling and rename it into place (OutputError if not)."""
    atomic_write_all([(path, write)])


def text_writer(text: str) -> Writer:
    """A writer of UTF-8 text."""
    return lambda fh: fh.write(text.encode("utf-8"))


def csv_writer(frame: pd.DataFrame) -> Writer:
    """A writer of a CSV (full float precision, no index)."""
    return text_writer(frame.to_csv(index=False, float_format="%.10g", lineterminator="\n"))


def parquet_writer(frame: pd.DataFrame) -> Writer:
    """A writer of a Parquet file."""
    return lambda fh: frame.to_parquet(fh, index=False)


def read_parquet(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a Parquet file through an open file: pyarrow cannot open a path whose name is not
    UTF-8 (e.g. a folder named in another encoding), Python can."""
    with path.open("rb") as fh:
        return pd.read_parquet(fh, columns=list(columns) if columns is not None else None)


def write_text(path: Path, text: str) -> None:
    """Atomically write a UTF-8 text file."""
    atomic_write(path, text_writer(text))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Atomically write a CSV (full float precision, no index)."""
    atomic_write(path, csv_writer(frame))


def summary_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """summary.csv: one row per config and replicate, keys then headline then extra metrics."""
    rows = []
    for out, rep in zip(outcomes, replicates, strict=True):
        rows.append(
            {
                "config": out.config,
                "replicate": rep,
                "seed": out.seed,
                **{k: out.summary[k] for k in (*HEADLINE, *EXTRA)},
            }
        )
    return pd.DataFrame(rows)


def daily_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """daily.parquet: one row per config, replicate and day."""
    parts = []
    for out, rep in zip(outcomes, replicates, strict=True):
        frame = pd.DataFrame(out.daily)
        frame.insert(0, "seed", out.seed)
        frame.insert(0, "replicate", rep)
        frame.insert(0, "config", out.config)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _keyed_rows(outcomes: Sequence[Outcomes], replicates: Sequence[int], field: str) -> pd.DataFrame:
    """One row per record of `field` (a list of dicts) of each outcome, keyed by config and replicate."""
    rows = [
        {"config": out.config, "replicate": rep, "seed": out.seed, **record}
        for out, rep in zip(outcomes, replicates, strict=True)
        for record in getattr(out, field)
    ]
    return pd.DataFrame(rows)


def events_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """events.parquet: one row per handover."""
    return _keyed_rows(outcomes, replicates, "events")


def contacts_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """contacts.parquet: one row per patient contact (who, when requested, when seen, by whom)."""
    parts = []
    for out, rep in zip(outcomes, replicates, strict=True):
        frame = pd.DataFrame(out.contacts, columns=list(out.contact_columns))
        frame.insert(0, "replicate", rep)
        frame.insert(0, "config", out.config)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def lead_band(days: int) -> str:
    """The booking-lead band NHS England publishes that `days` (calendar days) falls in."""
    for _, first, last, band in BOOKING_LEAD_BANDS:
        if in_band(days, first, last):
            return band
    raise ValueError(f"no booking-lead band holds {days} days")


def waits_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """waits.csv: contacts by calendar days from request to appointment, per config and replicate,
    with the published booking-lead band each day falls in."""
    rows = [
        {
            "config": out.config,
            "replicate": rep,
            "calendar_days": days,
            "band": lead_band(days),
            "contacts": n,
        }
        for out, rep in zip(outcomes, replicates, strict=True)
        for days, n in sorted(out.waits.items())
    ]
    return pd.DataFrame(rows, columns=["config", "replicate", "calendar_days", "band", "contacts"])


def access_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """access.csv: unmet demand by age band, per config and replicate."""
    return _keyed_rows(outcomes, replicates, "access")


def staff_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """staff.parquet: one row per config, replicate and post (utilisation, variety, supervision)."""
    return _keyed_rows(outcomes, replicates, "staff")


def network_json(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> str:
    """network.json: the team network at the end of replicate 0 of each config (node-link data)."""
    nets = {out.config: out.network for out, rep in zip(outcomes, replicates, strict=True) if rep == 0}
    return json.dumps(nets)


def _git_commit() -> str | None:
    try:
        here = Path(__file__).resolve().parent
        res = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
        return res.stdout.strip() or None if res.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def manifest(
    command: str,
    scenarios: Sequence[Scenario],
    seeds: Sequence[int],
    root_seed: int,
    wall_s: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Provenance of an output folder: resolved configs and their hashes, seeds, versions."""
    return {
        "command": command,
        "configs": [
            {"name": s.name, "sha256": s.digest(), "resolved": s.model_dump(mode="json")} for s in scenarios
        ],
        "root_seed": root_seed,
        "seeds": list(seeds),
        "versions": {
            "handover_abm": metadata.version("handover-abm"),
            "mesa": metadata.version("mesa"),
            "python": platform.python_version(),
            "numpy": metadata.version("numpy"),
        },
        "git_commit": _git_commit(),
        "wall_time_s": round(wall_s, 3),
        "units": {k: v[0] for k, v in (HEADLINE | EXTRA).items()},
        **(extra or {}),
    }


def manifest_writer(data: dict[str, Any]) -> Writer:
    """A writer of manifest.json."""
    return text_writer(json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    """Atomically write manifest.json."""
    atomic_write(path, manifest_writer(data))
