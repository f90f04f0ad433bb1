"""The role catalogue and the task/episode catalogue: packaged YAML loaded into typed, frozen objects.

The catalogue is data, validated by schemas: a role with an unknown task type in its scope, or an
episode made of an unknown task, is refused when the catalogue loads.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskType(_Frozen):
    """A unit of clinical or administrative work."""

    minutes: float = Field(gt=0, description="GP reference time for the task (minutes)")
    contact: bool = Field(description="whether the task is a patient contact")
    lead_days: int = Field(ge=0, description="median working days after the previous task")
    label: str = ""


class TaskGroup(_Frozen):
    """Tasks included together in an episode with probability p."""

    tasks: tuple[str, ...] = Field(min_length=1)
    p: float = Field(ge=0, le=1)


class Eligible(_Frozen):
    """Which patients a work programme (an episode type with its own rate) reaches."""

    min_ltc: int = Field(0, ge=0, description="at least this many long-term conditions")
    min_age_band: int = Field(0, ge=0, description="this age band (0 = youngest) or older")
    social_need: bool = Field(False, description="only patients with a social need")


class EpisodeType(_Frozen):
    """A kind of episode of care: how it arrives and its task sequence.

    Most types arrive in the mix of requests patients make (`weight`, `weight_per_ltc`,
    `weight_social_need`: the share of each patient's episodes). A work programme (structured
    medication reviews, medicines reconciliation after discharge, care-home rounds, care plans)
    arrives at its own published rate instead: `rate_per_1000` episodes per 1,000 registered
    patients a year, falling on the patients it reaches (`eligible`), on top of the mix, with its
    weights 0; `rate_source` says where the rate comes from.
    """

    label: str = Field(min_length=1, description="what a person reads (reports, parameter labels)")
    weight: float = Field(0.0, ge=0)
    weight_per_ltc: float = Field(0.0, ge=0)
    weight_social_need: float = Field(0.0, ge=0)
    rate_per_1000: float = Field(0.0, ge=0, description="episodes per 1,000 registered patients a year")
    eligible: Eligible = Eligible()
    rate_source: str = ""
    rate_range: tuple[float, float] | None = Field(
        None, description="plausible range of rate_per_1000 (experiments/sensitivity_case_mix.yaml)"
    )
    tasks: tuple[str | TaskGroup, ...] = Field(min_length=1)
    planned: bool = Field(
        False, description="always a routine, pre-booked request (reviews, admin), never urgent"
    )

    @property
    def programme(self) -> bool:
        """Arrives at its own rate (a work programme), not in the mix of patients' requests."""
        return self.rate_per_1000 > 0

    @model_validator(mode="after")
    def _one_way_in(self) -> EpisodeType:
        if self.programme and (self.weight or self.weight_per_ltc or self.weight_social_need):
            raise ValueError(
                f"episode type {self.label!r}: a rate_per_1000 (a work programme) and mix weights "
                "cannot both be set: set the weights to 0 or the rate to 0"
            )
        if self.programme and not (self.rate_source and self.rate_range):
            raise ValueError(
                f"episode type {self.label!r}: a rate_per_1000 needs its rate_source and rate_range"
            )
        return self

    def task_names(self) -> set[str]:
        """Every task type this episode type can contain."""
        names: set[str] = set()
        for item in self.tasks:
            names.update([item] if isinstance(item, str) else item.tasks)
        return names


SupervisionKind = Literal["day-to-day", "clinical", "educational"]


class Supervision(_Frozen):
    """What supervision a role needs, and from whom.

    Kinds follow NHS England's guidance for PCN multidisciplinary roles: day-to-day (queries,
    sign-offs and escalations as work happens), clinical (scheduled case discussion) and
    educational (scheduled development, e.g. during a preceptorship). The scheduled kinds together
    are `debrief_minutes_per_week`; the day-to-day kind is `query_rate` and `review_minutes`.
    """

    required: bool = False
    debrief_minutes_per_week: float = Field(0.0, ge=0)
    query_rate: float = Field(0.0, ge=0, le=1)
    case_review: bool = False
    review_minutes: float = Field(0.0, ge=0)
    supervised_by: tuple[str, ...] = Field(
        (), description="roles that supervise this role first; empty or none in reach: a GP"
    )
    kinds: tuple[SupervisionKind, ...] = Field((), description="kinds of supervision the role receives")
    source: str = Field("assumption", description="where the figures come from")


class ScopeEntry(_Frozen):
    """How a role does one task type."""

    time: float = Field(gt=0, description="multiplier of the GP reference minutes")
    edge: float = Field(ge=0, le=1, description="0 = core competence, 1 = edge of scope")


class Role(_Frozen):
    """A staff role: scope, supervision needs and cost."""

    label: str
    staff_group: str
    arrs: bool = False
    salary: float = Field(gt=0, description="annual salary of one whole-time post (GBP/year)")
    cost_source: str = Field(description="where the salary figure comes from")
    hourly_cost: float | None = Field(
        None,
        gt=0,
        description="employer cost per working hour (GBP) replacing the one derived from salary (a "
        "scenario's roles.<role>.hourly_cost); unset: salary x (1 + on-costs) x (1 + overheads) over "
        "the working hours of a whole-time year (costs.hours_per_fte_year)",
    )
    annual_turnover: float = Field(ge=0, le=1)
    can_supervise: bool = False
    usual_clinician: bool = False
    holistic: bool = False
    supervision: Supervision = Supervision()
    scope: dict[str, ScopeEntry] = Field(min_length=1)

    @property
    def contact_group(self) -> str:
        """Staff group as NHS appointment data count it: gp, nurse or other."""
        return {"GP": "gp", "Nurse": "nurse"}.get(self.staff_group, "other")


class Catalogue(_Frozen):
    """Roles, task types and episode types, cross-checked."""

    roles: dict[str, Role]
    task_types: dict[str, TaskType]
    episode_types: dict[str, EpisodeType]
    escalation_task: str

    @model_validator(mode="after")
    def _cross_check(self) -> Catalogue:
        known = set(self.task_types)
        for name, role in self.roles.items():
            by = role.supervision.supervised_by
            bad = [r for r in by if r not in self.roles or not self.roles[r].can_supervise]
            if bad:
                raise ValueError(f"role {name!r}: supervised_by names roles that cannot supervise: {bad}")
            unknown = set(role.scope) - known
            if unknown:
                raise ValueError(f"role {name!r} has unknown task types in scope: {sorted(unknown)}")
        for name, ep in self.episode_types.items():
            unknown = ep.task_names() - known
            if unknown:
                raise ValueError(f"episode type {name!r} uses unknown task types: {sorted(unknown)}")
        if self.escalation_task not in known:
            raise ValueError(f"escalation_task {self.escalation_task!r} is not a task type")
        return self


def _read_yaml(path: Path | Any) -> dict[str, Any]:
    with path.open("r", encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


@cache
def load_catalogue() -> Catalogue:
    """Load the catalogue shipped in the package (cached: it is immutable)."""
    data_dir = resources.files("handover_abm") / "data"
    roles = _read_yaml(data_dir / "roles.yaml")
    tasks = _read_yaml(data_dir / "tasks.yaml")
    return Catalogue(roles=roles["roles"], **tasks)


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


@lru_cache(maxsize=64)
def catalogue_with(overrides_json: str) -> Catalogue:
    """The shipped catalogue with some figures replaced (JSON: section -> name -> partial data, the
    sections being `roles` and `episode_types`).

    Cached: a sweep builds many models from the same few sets of overrides.
    """
    data = load_catalogue().model_dump()
    for section, update in json.loads(overrides_json).items():
        data[section] = _merge(data[section], update)
    return Catalogue.model_validate(data)
