"""Calibration targets: published figures the model should reproduce, as typed, checked data.

The shipped targets are `src/handover_abm/data/targets.yaml`; a calibration spec may name another
file (tests use a small one). Unknown keys, missing fields and duplicate names are refused with a
`ConfigError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from handover_abm.config import ConfigError, read_yaml, validation_message

TARGETS_FILE = Path(str(files("handover_abm") / "data" / "targets.yaml"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a published figure comes from."""

    publisher: str = Field(min_length=1)
    title: str = Field(min_length=1)
    table: str = Field(min_length=1, description="table, figure or passage that gives the number")
    url: str = ""


class Uncertainty(_Strict):
    """How far the model may sit from the figure: a standard deviation or a tolerance half-width."""

    sd: float | None = Field(None, gt=0)
    tolerance: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> Uncertainty:
        if (self.sd is None) == (self.tolerance is None):
            raise ValueError("give exactly one of 'sd' or 'tolerance' (a positive number)")
        return self

    @property
    def scale(self) -> float:
        """The divisor of a deviation in the calibration distance."""
        return float(self.sd if self.sd is not None else self.tolerance)  # type: ignore[arg-type]

    @property
    def allowed(self) -> float:
        """Largest deviation that still counts as a fit: the tolerance, or 1.96 sd."""
        return self.tolerance if self.tolerance is not None else 1.96 * self.scale


class Target(_Strict):
    """One published figure and its meaning in model terms."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    metric: str = Field(min_length=1, description="a key of the run summary (summary.csv column)")
    value: float
    uncertainty: Uncertainty
    unit: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    source: Source
    definition: str = Field(min_length=1, description="which metric, which patients, which window")
    second_hand: bool = Field(description="read from a publication quoting the primary source")


class TargetsFile(_Strict):
    """The targets file: a list of targets with unique names."""

    targets: list[Target] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _unique_names(cls, value: list[Target]) -> list[Target]:
        names = [t.name for t in value]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"target names must be unique; repeated: {', '.join(dup)}")
        return value


def load_targets(path: str | Path | None = None) -> dict[str, Target]:
    """Read and check a targets file (default: the shipped one); name -> target."""
    p = Path(path) if path is not None else TARGETS_FILE
    raw = read_yaml(p, "targets file")
    try:
        parsed = TargetsFile.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise ConfigError(
            validation_message(str(p), exc, TargetsFile, "targets file", "docs/calibration.md")
        ) from None
    return {t.name: t for t in parsed.targets}


def select_targets(available: Mapping[str, Target], names: Iterable[str], source: str) -> list[Target]:
    """The named targets, in order; an unknown name is refused with the names allowed."""
    chosen = []
    for name in names:
        if name not in available:
            raise ConfigError(
                f"{source}: key 'targets': unknown target {name!r}; allowed targets: {', '.join(available)}"
            )
        chosen.append(available[name])
    return chosen


def check_metrics(targets: Iterable[Target], reported: Iterable[str], source: str) -> None:
    """Refuse targets whose metric the model does not report (e.g. a metric still to come)."""
    known = set(reported)
    for t in targets:
        if t.metric not in known:
            raise ConfigError(
                f"{source}: target {t.name!r} needs metric {t.metric!r}, which this model's run "
                f"summary does not report; reported metrics: {', '.join(sorted(known))}"
            )


def target_metrics(summary: Mapping[str, float], targets: Iterable[Target]) -> dict[str, float]:
    """Each target's metric value from one run's summary dict (target name -> value)."""
    targets = list(targets)
    check_metrics(targets, summary, "run summary")
    return {t.name: float(summary[t.metric]) for t in targets}


# ---------------------------------------------------------------- national workforce figures

WORKFORCE_FILE = Path(str(files("handover_abm") / "data" / "workforce.yaml"))


class WorkforceGroup(_Strict):
    """FTE per 10,000 registered patients of one staff group, and the catalogue roles it covers."""

    per_10000: float = Field(gt=0)
    computed_from: str = Field(min_length=1)
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    source: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    second_hand: bool
    note: str = ""


class RegisteredPatients(_Strict):
    """Registered patients in England: the denominator of the per-10,000 figures."""

    value: int = Field(gt=0)
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    source: str = Field(min_length=1)
    second_hand: bool


class ArrsRoles(_Strict):
    """ARRS FTE in England by role, in one month."""

    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    source: str = Field(min_length=1)
    second_hand: bool
    fte: dict[str, float] = Field(min_length=1)


class UnitCost(_Strict):
    """A published cost per working hour of a grade of staff, and the catalogue roles on that grade."""

    per_hour: float = Field(gt=0, description="GBP per working hour")
    table: str = Field(min_length=1, description="the table and row the figure is read from")
    roles: list[str] = Field(min_length=1)


class UnitCosts(_Strict):
    """Costs per working hour from one edition of a unit-costs publication."""

    source: str = Field(min_length=1)
    prices: str = Field(min_length=1, description="the financial year of the prices")
    second_hand: bool
    grades: dict[str, UnitCost] = Field(min_length=1)
    not_covered: dict[str, str] = Field(default_factory=dict, description="role -> why it has no figure")


class Workforce(_Strict):
    """National workforce figures: the basis of configs/default.yaml (data/workforce.yaml)."""

    registered_patients: RegisteredPatients
    groups: dict[str, WorkforceGroup] = Field(min_length=1)
    arrs_roles: ArrsRoles
    unit_costs: UnitCosts

    def arrs_per_10000(self) -> dict[str, float]:
        """ARRS FTE per 10,000 registered patients by role."""
        n = self.registered_patients.value
        return {role: fte / n * 10_000 for role, fte in self.arrs_roles.fte.items()}


def load_workforce(path: str | Path | None = None) -> Workforce:
    """Read and check the workforce figures (default: the shipped file)."""
    p = Path(path) if path is not None else WORKFORCE_FILE
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        return Workforce.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: cannot read the workforce figures: {exc}") from None
    except ValidationError as exc:
        raise ConfigError(
            validation_message(str(p), exc, Workforce, "workforce file", "docs/VALIDATION.md")
        ) from None
