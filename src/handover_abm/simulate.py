"""simulate(config, seed) -> Outcomes: the one entry point every tool calls (CLI, sweeps, tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from handover_abm.config import Scenario
from handover_abm.metrics import UNITS, access_rows, staff_rows, summarise
from handover_abm.model import CONTACT_COLUMNS, DAILY_COLUMNS, HandoverModel
from handover_abm.team import team_table


@dataclass
class Outcomes:
    """Everything one run produced: names and units travel with the numbers."""

    config: str
    seed: int
    summary: dict[str, float]
    daily: dict[str, list[float]]
    team: list[dict[str, object]]
    staff: list[dict[str, object]] = field(default_factory=list)
    network: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    waits: dict[int, int] = field(default_factory=dict)
    access: list[dict[str, object]] = field(default_factory=list)
    wall_s: float = 0.0
    units: dict[str, str] = field(default_factory=lambda: dict(UNITS))
    contact_columns: tuple[str, ...] = CONTACT_COLUMNS


def simulate(
    config: Scenario | dict | str | Path, seed: int, *, log_events: bool = False, **overrides: Any
) -> Outcomes:
    """Run one replicate of a scenario with a seed and return its outcomes."""
    start = time.perf_counter()
    model = HandoverModel(config, rng=seed, log_events=log_events, **overrides)
    model.run()
    frame = model.datacollector.model_vars
    daily = {"day": list(range(1, len(frame[DAILY_COLUMNS[0]]) + 1))}
    daily.update({name: list(frame[name]) for name in DAILY_COLUMNS})
    return Outcomes(
        config=model.config.name,
        seed=seed,
        summary=summarise(model),
        daily=daily,
        team=team_table(model.config),
        staff=staff_rows(model),
        network=nx.node_link_data(model.team_graph(), edges="edges"),
        events=model.events,
        contacts=model.contact_log,
        waits=dict(sorted(model.waits.items())),
        access=access_rows(model),
        wall_s=time.perf_counter() - start,
    )
