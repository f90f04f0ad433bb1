"""Output files: atomic writes (temp file then rename), the manifest, and the run tables.

The files in an output folder are the contract later tools read:
manifest.json, summary.csv, daily.parquet, staff.parquet, waits.csv, network.json, events.parquet
and contacts.parquet (with --log-events), comparison.csv.
"""

from __future__ import annotations

import io
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from handover_abm.config import Scenario
from handover_abm.metrics import EXTRA, HEADLINE
from handover_abm.simulate import Outcomes

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write a file through a temporary sibling and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Atomically write a UTF-8 text file."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """Atomically write a CSV (full float precision, no index)."""
    write_text(path, frame.to_csv(index=False, float_format="%.10g", lineterminator="\n"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Atomically write a Parquet file."""
    atomic_write(path, lambda fh: frame.to_parquet(fh, index=False))


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


def waits_frame(outcomes: Sequence[Outcomes], replicates: Sequence[int]) -> pd.DataFrame:
    """waits.csv: contacts by calendar days from request to appointment, per config and replicate."""
    rows = [
        {"config": out.config, "replicate": rep, "calendar_days": days, "contacts": n}
        for out, rep in zip(outcomes, replicates, strict=True)
        for days, n in out.waits.items()
    ]
    return pd.DataFrame(rows, columns=["config", "replicate", "calendar_days", "contacts"])


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


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    """Atomically write manifest.json."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")
