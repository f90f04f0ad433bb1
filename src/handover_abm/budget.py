"""Equal budgets: scale teams to the first config's annual staff cost or total FTE (`compare --equalise`).

Each team keeps its proportions: every entry's FTE is multiplied by the same factor, so the share of
each role in the team's FTE (and cost) is unchanged. Posts stay whole numbers: the factor scales the
FTE of each post, and only when a post would exceed the schema's 1.5 FTE are posts added (each
entry's total FTE is still exactly scaled). Annual staff cost is linear in FTE, so the scaled team
costs exactly the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from handover_abm.config import ConfigError, Scenario, scenario_from_dict
from handover_abm.team import annual_cost, total_fte

EQUALISE = ("cost", "fte")
MAX_FTE_PER_POST = 1.5  # TeamEntry.fte's upper bound


@dataclass(frozen=True)
class Scaling:
    """How one config was scaled."""

    config: str
    factor: float
    before: float
    after: float


def measure(scenario: Scenario, by: Literal["cost", "fte"]) -> float:
    """Annual staff cost (GBP/year) or total FTE of a team."""
    return annual_cost(scenario) if by == "cost" else total_fte(scenario)


def scaled_to(scenario: Scenario, factor: float) -> Scenario:
    """The scenario with every team entry's FTE multiplied by `factor` (posts added only where a
    post would pass 1.5 FTE)."""
    data = scenario.model_dump(mode="json")
    for entry in data["team"]:
        fte = entry["fte"] * factor
        if fte > MAX_FTE_PER_POST:
            posts = math.ceil(entry["count"] * fte)
            entry["fte"], entry["count"] = entry["count"] * fte / posts, posts
        else:
            entry["fte"] = fte
    return scenario_from_dict(data, f"{scenario.name} (scaled)")


def equalise(scenarios: list[Scenario], by: str) -> tuple[list[Scenario], list[Scaling]]:
    """Every config after the first scaled to the first's annual staff cost or total FTE."""
    if by not in EQUALISE:
        raise ConfigError(f"--equalise {by!r}: allowed: cost (annual staff cost) or fte (total FTE)")
    target = measure(scenarios[0], by)  # type: ignore[arg-type]
    out, notes = [scenarios[0]], [Scaling(scenarios[0].name, 1.0, target, target)]
    for s in scenarios[1:]:
        before = measure(s, by)  # type: ignore[arg-type]
        factor = target / before
        what = "annual staff cost" if by == "cost" else "total FTE"
        scaled = scaled_to(s, factor).model_copy(
            update={
                "description": f"{s.description} [scaled to {scenarios[0].name}'s {what}: FTE x{factor:.3f}]"
            }
        )
        out.append(scaled)
        notes.append(Scaling(s.name, factor, before, measure(scaled, by)))  # type: ignore[arg-type]
    return out, notes
