"""Durable, resumable storage of a sweep's finished runs.

Every finished run is appended to DIR/runs.jsonl and fsynced before it counts, so a kill at any
moment loses no finished run (a torn last line is ignored). Every `batch_size` runs the journal is
compacted into a Parquet part, DIR/parts/part-NNNNNN.parquet (written atomically), and emptied:
the runner's memory stays flat however long the sweep. Reading merges the parts and the journal;
a run recorded more than once (e.g. failed, then retried on --resume) keeps its latest record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from handover_abm.metrics import EXTRA, HEADLINE
from handover_abm.results import atomic_write, output_error, read_parquet

FLOAT_COLUMNS = (*HEADLINE, *EXTRA)


class SweepStore:
    """The journal and Parquet parts of one sweep output folder."""

    def __init__(self, folder: Path, columns: list[str], batch_size: int = 500) -> None:
        self.folder = folder
        self.columns = columns
        self.batch_size = batch_size
        self.journal = folder / "runs.jsonl"
        self.parts = folder / "parts"
        self._in_journal = len(self._journal_rows())

    def exists(self) -> bool:
        """Whether this folder already holds runs of a sweep."""
        return self.journal.exists() or (self.parts.exists() and any(self.parts.glob("part-*.parquet")))

    def _journal_rows(self) -> list[dict[str, Any]]:
        rows = []
        if self.journal.exists():
            with self.journal.open("r", encoding="utf-8") as fh:
                for line in fh:
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        continue  # torn line from a killed writer
        return rows

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("part-*.parquet")) if self.parts.exists() else []

    def statuses(self) -> dict[int, str]:
        """Status of every recorded run, by run index (reads only two columns of each part)."""
        out: dict[int, str] = {}
        for part in self._part_files():
            t = read_parquet(part, columns=["run_index", "status"])
            out.update(zip(t["run_index"].tolist(), t["status"].tolist(), strict=True))
        for row in self._journal_rows():
            out[int(row["run_index"])] = row["status"]
        return out

    def append(self, row: dict[str, Any]) -> None:
        """Durably record one finished run; compact into a part when the batch is full."""
        data = (json.dumps(row) + "\n").encode("utf-8")
        if self.journal.exists() and self.journal.stat().st_size:
            with self.journal.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a torn line from a killed writer: start a fresh line
                    data = b"\n" + data
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self.journal.open("ab") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # e.g. a full disk: a torn last line is ignored when read
            raise output_error(self.journal, exc) from exc
        self._in_journal += 1
        if self._in_journal >= self.batch_size:
            self.compact()

    def _frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        frame = pd.DataFrame(rows, columns=self.columns)
        for col in FLOAT_COLUMNS:
            frame[col] = frame[col].astype(float)
        frame["error"] = frame["error"].fillna("").astype(str)
        return frame

    def compact(self) -> None:
        """Move the journal's runs into a new Parquet part, then empty the journal."""
        rows = self._journal_rows()
        if rows:
            self.parts.mkdir(parents=True, exist_ok=True)
            n = len(self._part_files())
            frame = self._frame(rows)
            atomic_write(self.parts / f"part-{n:06d}.parquet", lambda fh: frame.to_parquet(fh, index=False))
        atomic_write(self.journal, lambda fh: None)  # a crash before this only duplicates rows
        self._in_journal = 0

    def table(self) -> pd.DataFrame:
        """Every recorded run as one table, latest record per run, sorted by run index."""
        frames = [read_parquet(p) for p in self._part_files()]
        rows = self._journal_rows()
        if rows:
            frames.append(self._frame(rows))
        if not frames:
            return self._frame([])
        table = pd.concat(frames, ignore_index=True)
        table = table.drop_duplicates("run_index", keep="last").sort_values("run_index")
        return table.reset_index(drop=True)[self.columns]
