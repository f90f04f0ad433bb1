"""The speed work's equivalence check (benchmarks/equivalence.py) tells reordered draws from a change."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _equivalence() -> ModuleType:
    spec = importlib.util.spec_from_file_location("equivalence", ROOT / "benchmarks" / "equivalence.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_identical_reordered_and_shifted_results_get_their_verdicts() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(10.0, 1.0, 20)
    before = {"same": list(base), "reordered": list(base), "shifted": list(base)}
    # reordered draws: each seed's result moves by its own sampling error (independent runs)
    after = {"same": list(base), "reordered": list(rng.normal(10.0, 1.0, 20)), "shifted": list(base + 1.5)}
    verdicts = {row["metric"]: row["verdict"] for row in _equivalence().compare(before, after)}
    assert verdicts["same"] == "identical"
    assert verdicts["reordered"] in ("equivalent", "consistent")
    assert verdicts["shifted"] == "DIFFERENT"  # 1.5 between-seed SDs: far outside any interval
