"""The team as a planner sees it: posts, FTE and annual staff cost per team entry."""

from __future__ import annotations

import json
from typing import Any

from handover_abm.config import Scenario


def team_table(scenario: Scenario) -> list[dict[str, object]]:
    """One row per team entry: role, organisation, posts, FTE and annual cost (GBP)."""
    roles = scenario.catalogue().roles
    hours = scenario.work.paid_hours_per_fte_day * scenario.working_days_per_year
    rows = []
    for entry in scenario.team:
        role = roles[entry.role]
        fte = entry.count * entry.fte
        rows.append(
            {
                "config": scenario.name,
                "role": entry.role,
                "label": role.label,
                "staff_group": role.staff_group,
                "organisation": str(entry.organisation),
                "posts": entry.count,
                "fte": fte,
                "hourly_cost": role.hourly_cost,
                "annual_cost": fte * hours * role.hourly_cost,
            }
        )
    return rows


def annual_cost(scenario: Scenario) -> float:
    """Annual staff cost of the whole team (GBP/year)."""
    return float(sum(r["annual_cost"] for r in team_table(scenario)))  # type: ignore[misc]


def scaled(data: dict[str, Any], patients: int) -> dict[str, Any]:
    """A config (as data) scaled in proportion to its population: more or fewer practices of about the
    same size, in whole primary care networks once there is more than one, and every team entry's
    posts scaled by the same factor (at least one post each)."""
    out = json.loads(json.dumps(data))
    f = patients / out["population"]["size"]
    out["population"]["size"] = patients
    per = out["population"].get("practices_per_pcn", 5)
    practices = max(1, round(out["population"]["practices"] * f))
    out["population"]["practices"] = per * round(practices / per) if practices > per else practices
    for entry in out["team"]:
        entry["count"] = max(1, round(entry["count"] * f))
    return out


def total_fte(scenario: Scenario) -> float:
    """Whole-time equivalents in the team."""
    return float(sum(e.count * e.fte for e in scenario.team))
