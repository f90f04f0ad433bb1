"""The seeded regression baseline: run its scenarios, and read or write the expected summaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from handover_abm.config import apply_override, parse_override, scenario_from_dict
from handover_abm.results import write_text
from handover_abm.simulate import simulate

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios.yaml"
EXPECTED = HERE / "expected.json"


def compute() -> dict[str, dict[str, float]]:
    """'variant/seed' -> that run's summary, for every variant and seed of scenarios.yaml."""
    spec: dict[str, Any] = yaml.safe_load(SCENARIOS.read_text(encoding="utf-8"))
    out: dict[str, dict[str, float]] = {}
    for name, overrides in spec["variants"].items():
        data = json.loads(json.dumps(spec["base"]))
        data["days"] = spec["days"]
        for text in overrides:
            path, value = parse_override(text)
            apply_override(data, path, value, str(SCENARIOS))
        scenario = scenario_from_dict(data, f"{SCENARIOS} (variant {name})")
        for seed in spec["seeds"]:
            out[f"{name}/{seed}"] = {k: float(v) for k, v in simulate(scenario, seed).summary.items()}
    return out


def read() -> dict[str, dict[str, float]]:
    """The committed expected summaries."""
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def write(results: dict[str, dict[str, float]]) -> None:
    """Replace expected.json atomically."""
    write_text(EXPECTED, json.dumps(results, indent=1, sort_keys=True) + "\n")
