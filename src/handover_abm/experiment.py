"""Replicated runs of one or more configs on common random numbers: the one engine behind
`handover-abm run` and `compare`, the notebook API (api.py) and the dashboard's "run a year".

Replicate r of every config shares a seed, so paired differences between configs cancel the
noise of the patients and episodes they share (stats.comparison_table).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handover_abm.config import (
    ConfigError,
    Scenario,
    apply_override,
    load_scenario,
    parse_override,
    scenario_from_dict,
)
from handover_abm.limits import check_held_runs
from handover_abm.metrics import TABLE_METRICS, warmup_for

if TYPE_CHECKING:  # loading configs stays light (the CLI checks them before importing the model)
    import pandas as pd

    from handover_abm.simulate import Outcomes

ConfigLike = Scenario | dict[str, Any] | str | Path

# The root seed of the command line, the notebook API and the dashboard unless one is given: replicate
# r's seed derives from it (streams.replicate_seeds), so a config gives the same numbers in all three.
DEFAULT_SEED = 0


def load_configs(
    configs: Sequence[ConfigLike], sets: Sequence[str] = (), days: int | None = None
) -> list[Scenario]:
    """Scenarios from config files, mappings or Scenarios, with --set overrides and days applied;
    a name seen twice gets its position appended, so every config is told apart in outputs."""
    scenarios = []
    for c in configs:
        if isinstance(c, (str, Path)):
            scenarios.append(load_scenario(c, list(sets), days))
            continue
        data = c.model_dump(mode="json") if isinstance(c, Scenario) else dict(c)
        if sets:
            data = load_scenario_data(data, sets)
        if days is not None:
            data["days"] = days
        scenarios.append(scenario_from_dict(data, str(data.get("name", "<config>"))))
    seen: set[str] = set()
    for i, s in enumerate(scenarios):
        if s.name in seen:
            scenarios[i] = s.model_copy(update={"name": f"{s.name}_{i + 1}"})
        seen.add(scenarios[i].name)
    return scenarios


def load_scenario_data(data: dict[str, Any], sets: Sequence[str]) -> dict[str, Any]:
    """A config mapping with key.path=value overrides applied (as --set does)."""
    out = json.loads(json.dumps(data))
    for text in sets:
        path, value = parse_override(text)
        apply_override(out, path, value, str(out.get("name", "<config>")))
    return out


def resolve_warmup(scenarios: Sequence[Scenario], warmup_days: int | None) -> int:
    """The warm-up in working days: as given (refused if it leaves no measured day), else the default
    capped at half the shortest run so a short trial run still measures something."""
    shortest = min(s.days for s in scenarios)
    if warmup_days is None:
        return warmup_for(shortest)
    short = [s for s in scenarios if warmup_days >= s.days]
    if short:
        raise ConfigError(
            f"--warmup-days {warmup_days}: config {short[0].name!r} runs {short[0].days} working days, "
            f"which leaves nothing to measure after the warm-up; use --warmup-days below the run "
            f"length (0 counts every day) or a longer --days"
        )
    return warmup_days


@dataclass(frozen=True)
class Replicates:
    """Every run of a replicated comparison, in config-major order."""

    scenarios: list[Scenario]
    seeds: list[int]
    warmup_days: int
    outcomes: list[Outcomes]

    @property
    def replicates(self) -> list[int]:
        """Replicate number of each outcome."""
        return [r for _ in self.scenarios for r in range(len(self.seeds))]

    def summary(self) -> pd.DataFrame:
        """One row per run: config, replicate, seed and every summary metric."""
        from handover_abm.results import summary_frame

        return summary_frame(self.outcomes, self.replicates)

    def comparison(self, metrics: Sequence[str] = TABLE_METRICS) -> pd.DataFrame:
        """Means, intervals and paired differences against the first config (stats.comparison_table)."""
        from handover_abm.stats import comparison_table

        return comparison_table(self.summary(), metrics)


def run_replicates(
    scenarios: Sequence[Scenario],
    seeds: Sequence[int],
    warmup_days: int,
    workers: int | None = None,
    log_events: bool = False,
    on_done: Callable[[int, Outcomes], None] | None = None,
) -> Replicates:
    """Run every config with every seed (common random numbers) on the runner's process pool."""
    from handover_abm.runner import Job, run_jobs

    check_held_runs(len(scenarios), len(seeds))
    jobs = [
        Job(s.model_dump(mode="json"), sd, r, log_events, warmup_days)
        for s in scenarios
        for r, sd in enumerate(seeds)
    ]
    outcomes = run_jobs(jobs, workers, on_done=on_done)
    return Replicates(list(scenarios), list(seeds), warmup_days, outcomes)
