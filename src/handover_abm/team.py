"""The team as a planner sees it: posts, FTE and annual staff cost per team entry.

Costs are on one basis: the employer's annual cost of a whole-time post is

    annual = salary x (1 + costs.on_cost_rate) x (1 + costs.overhead_rate),

and its cost per working hour is annual / H with H = costs.hours_per_fte_year (the working hours
of a whole-time year, as PSSRU Unit Costs count them), the same hours the annual cost of a team
entry multiplies back (fte x H x hourly). A scenario may set a role's hourly cost directly
(roles.<role>.hourly_cost); then the annual cost is that times H.
"""

from __future__ import annotations

import json
import math
from typing import Any

from handover_abm.catalogue import Role
from handover_abm.config import Scenario


def employer_annual_cost(role: Role, scenario: Scenario) -> float:
    """Employer's annual cost of one whole-time post of `role` (GBP/year)."""
    if role.hourly_cost is not None:
        return role.hourly_cost * scenario.costs.hours_per_fte_year
    c = scenario.costs
    return role.salary * (1.0 + c.on_cost_rate) * (1.0 + c.overhead_rate)


def hourly_cost(role: Role, scenario: Scenario) -> float:
    """Employer's cost per working hour of `role` (GBP/hour), on the same hours as the annual cost."""
    return employer_annual_cost(role, scenario) / scenario.costs.hours_per_fte_year


def team_table(scenario: Scenario) -> list[dict[str, object]]:
    """One row per team entry: role, organisation, posts, FTE and annual cost (GBP)."""
    roles = scenario.catalogue().roles
    hours = scenario.costs.hours_per_fte_year
    rows = []
    for entry in scenario.team:
        role = roles[entry.role]
        fte = entry.count * entry.fte
        hourly = hourly_cost(role, scenario)
        rows.append(
            {
                "config": scenario.name,
                "role": entry.role,
                "label": role.label,
                "staff_group": role.staff_group,
                "organisation": str(entry.organisation),
                "posts": entry.count,
                "fte": fte,
                "hourly_cost": hourly,
                "annual_cost": fte * hours * hourly,
            }
        )
    return rows


def annual_cost(scenario: Scenario) -> float:
    """Annual staff cost of the whole team (GBP/year)."""
    return float(sum(r["annual_cost"] for r in team_table(scenario)))  # type: ignore[misc]


def scaled(data: dict[str, Any], patients: int) -> dict[str, Any]:
    """A config (as data) scaled in proportion to its population: more or fewer practices of about the
    same size, in whole primary care networks once there is more than one, and every team entry's
    FTE scaled by the same factor, so FTE per patient is kept exactly.

    A team entry keeps at least one post: its posts are count x factor rounded up and its FTE spread
    over them (each post at most its old FTE). Rounding posts alone would give every small network
    role a whole post: at one practice of 10,000 the national PCN team (0.2 paramedic FTE, 0.2 PA,
    ...) became 7 network FTE instead of 3.2, which made a small practice look far better staffed
    than the network it was cut from.
    """
    out = json.loads(json.dumps(data))
    f = patients / out["population"]["size"]
    out["population"]["size"] = patients
    per = out["population"].get("practices_per_pcn", 5)
    practices = max(1, round(out["population"]["practices"] * f))
    out["population"]["practices"] = per * round(practices / per) if practices > per else practices
    for entry in out["team"]:
        fte = entry["count"] * entry.get("fte", 1.0) * f
        entry["count"] = max(1, math.ceil(entry["count"] * f - 1e-9))
        entry["fte"] = fte / entry["count"]
    return out


def total_fte(scenario: Scenario) -> float:
    """Whole-time equivalents in the team."""
    return float(sum(e.count * e.fte for e in scenario.team))
