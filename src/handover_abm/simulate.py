"""simulate(config, seed) -> Outcomes: the one entry point every tool calls (CLI, sweeps, tests)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from handover_abm.config import ConfigError, Scenario
from handover_abm.metrics import UNITS, Snapshot, access_rows, halfway, snapshot, staff_rows, summarise
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
    warmup_days: int = 0

    def __repr__(self) -> str:
        days = len(self.daily.get("day", ()))
        return (
            f"Outcomes(config={self.config!r}, seed={self.seed}, days={days}, "
            f"warmup_days={self.warmup_days}, metrics={len(self.summary)}, wall_s={self.wall_s:.2f})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The summary as a tidy table: one row per metric with its label, unit and value."""
        from handover_abm.glossary import METRICS

        return pd.DataFrame(
            [
                {
                    "config": self.config,
                    "seed": self.seed,
                    "metric": k,
                    "label": METRICS[k].label if k in METRICS else k,
                    "unit": self.units.get(k, ""),
                    "value": v,
                }
                for k, v in self.summary.items()
            ]
        )


def simulate(
    config: Scenario | dict | str | Path,
    seed: int,
    *,
    log_events: bool = False,
    warmup_days: int = 0,
    **overrides: Any,
) -> Outcomes:
    """Run one replicate of a scenario with a seed and return its outcomes.

    The first `warmup_days` working days run as usual but are not counted in the summary, the staff
    and the access tables (the model starts with empty books); the daily series keep every day. The
    run pauses halfway through the measured period to note its totals, so the summary can say
    whether waits settled (metrics.steady_state).
    """
    start = time.perf_counter()
    model = HandoverModel(config, rng=seed, log_events=log_events, **overrides)
    since = _warm_up(model, warmup_days)
    model.run_for(halfway(model.config.days - warmup_days))  # the first half of the measured period
    midway = dict(model.totals)
    model.run()
    frame = model.datacollector.model_vars
    daily = {"day": list(range(1, len(frame[DAILY_COLUMNS[0]]) + 1))}
    daily.update({name: list(frame[name]) for name in DAILY_COLUMNS})
    return Outcomes(
        config=model.config.name,
        seed=seed,
        summary=summarise(model, since, midway),
        daily=daily,
        team=team_table(model.config),
        staff=staff_rows(model, since),
        network=nx.node_link_data(model.team_graph(), edges="edges"),
        events=model.events,
        contacts=model.contact_log,
        waits=dict(sorted(model.waits.items())),
        access=access_rows(model, since),
        wall_s=time.perf_counter() - start,
        warmup_days=warmup_days,
    )


def _warm_up(model: HandoverModel, days: int) -> Snapshot | None:
    """Run the warm-up days and return the counts to subtract (None without a warm-up)."""
    total = model.config.days
    if days < 0 or (days and days >= total):
        raise ConfigError(
            f"warm-up of {days} working days: must be 0 or more and shorter than the run "
            f"({total} working days); lengthen the run with --days or shorten --warmup-days"
        )
    if not days:
        return None
    model.run_for(days)
    return snapshot(model)
