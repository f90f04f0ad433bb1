"""Parameter sweeps: a YAML spec, designs (grid, Latin hypercube, Sobol), seeding, and a
resumable runner that submits runs to any concurrent.futures Executor.

Seeding: run (point p, replicate r) uses the seed of replicate r derived from the root seed with
numpy SeedSequence (the same seeds `run`/`compare --seed ROOT` use). Every design point thus sees
the same patients and episodes for a given replicate (common random numbers), and any row can be
re-run alone: `handover-abm run BASE --set path=value ... --seeds SEED`.

Durability: every finished run is appended to DIR/runs.jsonl (flushed and fsynced) before it is
counted; a truncated last line left by a kill is ignored. `--resume` runs only what the journal
lacks (or recorded as failed), and DIR/sweep.parquet is rebuilt atomically from the journal,
sorted by run index, so it is identical to an uninterrupted sweep's.
"""

from __future__ import annotations

import itertools
import json
import math
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc

from handover_abm.backends import Backend, open_backend
from handover_abm.config import (
    ConfigError,
    Scenario,
    apply_override,
    parse_override,
    positional_team_notes,
    read_config_data,
    read_yaml,
    scenario_from_dict,
    team_index,
    validation_message,
)
from handover_abm.dispatch import dispatch
from handover_abm.errors import RunsFailed
from handover_abm.folders import check_fresh, check_resumable, file_hashes, read_manifest, writing_into
from handover_abm.limits import MAX_REPLICATES, MAX_RUNS, MAX_SEED, MAX_STEPS, check_count
from handover_abm.metrics import EXTRA, HEADLINE, warmup_for
from handover_abm.results import atomic_write, check_output_folder, manifest, write_manifest
from handover_abm.simulate import simulate
from handover_abm.streams import replicate_seeds
from handover_abm.sweep_store import SweepStore

CONFIG_AXIS = "config"  # reserved parameter name: its values are config files (team mixes) to sweep


class ParamSpec(BaseModel):
    """One varied parameter: explicit values, or a range (with steps for a grid)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    values: list[Any] | None = Field(None, min_length=1, description="explicit values (any type)")
    range: tuple[float, float] | None = Field(None, description="[low, high] for numbers")
    steps: int | None = Field(
        None, ge=2, le=MAX_STEPS, description="grid points over the range (grid design)"
    )
    integer: bool = Field(False, description="round sampled values to integers")

    @model_validator(mode="after")
    def _one_kind(self) -> ParamSpec:
        if (self.values is None) == (self.range is None):
            raise ValueError("give exactly one of 'values' or 'range'")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range low {self.range[0]} is greater than high {self.range[1]}")
        return self

    def grid(self) -> list[Any]:
        """Values of this parameter in a full-grid design."""
        if self.values is not None:
            return list(self.values)
        assert self.range is not None
        pts = np.linspace(self.range[0], self.range[1], self.steps or 3).tolist()
        return sorted({round(v) for v in pts}) if self.integer else pts

    def scale(self, u: float) -> Any:
        """Map u in [0, 1) to a value (categorical for 'values', linear for 'range')."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.range is not None
        lo, hi = self.range
        value = lo + u * (hi - lo)
        return int(min(round(value), hi)) if self.integer else float(value)


class SweepSpec(BaseModel):
    """A sweep: a base config, varied parameters, a design, replicates and a root seed."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field("sweep", description="label of the sweep")
    description: str = ""
    base: str = Field(description="base config file, relative to the spec file")
    set: list[str] = Field(default_factory=list, description="fixed overrides key.path=value")
    days: int | None = Field(None, ge=1, description="override the base config's days")
    warmup_days: int | None = Field(
        None, ge=0, description="working days run but not counted (default: as run and compare)"
    )
    parameters: dict[str, ParamSpec] = Field(min_length=1, description="config key path -> values")
    design: Literal["grid", "lhs", "sobol"] = "grid"
    samples: int | None = Field(None, ge=1, le=MAX_RUNS, description="design points for lhs and sobol")
    replicates: int = Field(1, ge=1, le=MAX_REPLICATES, description="replicates per design point")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed")

    @model_validator(mode="after")
    def _samples_for_sampled_designs(self) -> SweepSpec:
        if self.design != "grid" and self.samples is None:
            raise ValueError(f"design {self.design!r} needs 'samples' (number of design points)")
        return self


@dataclass(frozen=True)
class Sweep:
    """A validated sweep, ready to run: spec, base config data and the design points."""

    path: Path
    spec: SweepSpec
    base_data: dict[str, Any]
    points: list[dict[str, Any]]
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    command: str = "sweep"  # what the manifest says ran: "sweep" or "sensitivity"
    design: str | None = None  # the design the manifest names (None: the spec's, e.g. "morris")
    draws: tuple[dict[str, float], ...] = ()  # posterior draws: replicate r uses draw r // seeds per draw

    def position_notes(self) -> list[str]:
        """The role each key naming a team entry by position resolves to, in every team swept."""
        keys = [
            *(k for k in self.spec.parameters if k != CONFIG_AXIS),
            *(t.split("=", 1)[0] for t in self.spec.set),
        ]
        teams = {self.spec.base: self.base_data, **self.configs}
        return [
            note
            for name, data in teams.items()
            for note in positional_team_notes(data, keys, f"{self.path} on {name}")
        ]

    def fixed_for(self, replicate: int) -> list[str]:
        """Fixed overrides of a replicate: the spec's `set`, then its posterior draw (if any)."""
        if not self.draws:
            return self.spec.set
        draw = self.draws[replicate // (self.spec.replicates // len(self.draws))]
        return [*self.spec.set, *(f"{k}={v!r}" for k, v in draw.items())]

    def draw_of(self, replicate: int) -> int | None:
        """Posterior draw index of a replicate (None without --posterior)."""
        return replicate // (self.spec.replicates // len(self.draws)) if self.draws else None

    def data_for(self, values: dict[str, Any]) -> dict[str, Any]:
        """Config data of a design point: the `config` axis value's file, else the base config."""
        return self.configs[values[CONFIG_AXIS]] if CONFIG_AXIS in values else self.base_data

    @property
    def seeds(self) -> list[int]:
        """Seed of each replicate (shared by every design point)."""
        return replicate_seeds(self.spec.seed, self.spec.replicates)

    def runs(self) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
        """(run index, point index, replicate, parameter values) for every run."""
        reps = self.spec.replicates
        for p, values in enumerate(self.points):
            for r in range(reps):
                yield p * reps + r, p, r, values

    @property
    def n_runs(self) -> int:
        """Total number of runs."""
        return len(self.points) * self.spec.replicates

    def digest(self) -> str:
        """Fingerprint of what the sweep computes (spec + base config), for safe resumes."""
        import hashlib

        parts = [self.spec.model_dump(mode="json"), self.base_data, self.configs, self.points]
        text = json.dumps(parts + ([list(self.draws)] if self.draws else []), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The parameter values of each design point."""
    names = list(spec.parameters)
    params = [spec.parameters[n] for n in names]
    if spec.design == "grid":
        return [
            dict(zip(names, combo, strict=True)) for combo in itertools.product(*(p.grid() for p in params))
        ]
    assert spec.samples is not None
    if spec.design == "lhs":
        u = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(spec.seed)).random(spec.samples)
    else:
        u = qmc.Sobol(d=len(names), scramble=True, seed=np.random.default_rng(spec.seed)).random(spec.samples)
    return [{n: p.scale(float(x)) for n, p, x in zip(names, params, row, strict=True)} for row in u]


def _path_exists(data: Any, path: list[str | int]) -> bool:
    node = data
    for part in path:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if not (in_dict or in_list):
            return False
        node = node[part]
    return True


def check_parameter_paths(base: Scenario, keys: list[str], spec_path: Path, base_path: Path) -> None:
    """Refuse a spec's parameter key path that names no value of the base config."""
    resolved = base.model_dump(mode="json")
    catalogue = base.catalogue().model_dump(mode="json")
    resolved["roles"] = catalogue["roles"]  # roles.<role>.<key> paths
    resolved["episodes"] = catalogue["episode_types"]  # episodes.<type>.<weight> paths
    for key in keys:
        parts: list[str | int] = [int(x) if x.isdigit() else x for x in key.split(".")]
        if len(parts) > 2 and parts[0] == "team" and isinstance(parts[1], str):
            parts[1] = team_index(resolved, parts[1], f"{spec_path}: parameters")
        if not _path_exists(resolved, parts):
            raise ConfigError(
                f"{spec_path}: key 'parameters.{key}': unknown parameter path {key!r} in base "
                f"config {base_path} (see docs/parameters.md for every key path)"
            )


def build_scenario(
    base_data: dict[str, Any], fixed: list[str], values: dict[str, Any], days: int | None, source: str
) -> Scenario:
    """The scenario of one design point: base config, fixed overrides, days, then varied values."""
    data = json.loads(json.dumps(base_data))
    for text in fixed:
        path, value = parse_override(text)
        apply_override(data, path, value, source)
    if days is not None:
        data["days"] = days
    for key, value in values.items():
        if key == CONFIG_AXIS:
            continue
        apply_override(data, [int(p) if p.isdigit() else p for p in key.split(".")], value, source)
    return scenario_from_dict(data, source)


def check_runs(path: Path, points: int, replicates: int) -> None:
    """Refuse a design of more than MAX_RUNS runs before any of it is built."""
    check_count(
        f"{path}: the design has {points:,} points x {replicates:,} replicates",
        points * replicates,
        MAX_RUNS,
        "use fewer steps, samples, replicates or draws",
    )


def load_sweep(path: str | Path, days: int | None = None, replicates: int | None = None) -> Sweep:
    """Read and check a sweep spec; every design point is validated before any run starts.

    `days` and `replicates`, when given, override the spec's (e.g. for a reduced-size run).
    """
    p = Path(path)
    raw = read_yaml(p, "sweep spec") or {}
    try:
        if isinstance(raw, dict):
            raw.update({k: v for k, v in (("days", days), ("replicates", replicates)) if v is not None})
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            validation_message(str(p), exc, SweepSpec, "sweep spec", "README.md (Command line)")
        ) from None
    base_path = p.parent / spec.base
    base_data = read_config_data(base_path)
    base_data.setdefault("name", base_path.stem)
    configs: dict[str, dict[str, Any]] = {}
    if CONFIG_AXIS in spec.parameters:
        axis = spec.parameters[CONFIG_AXIS]
        if axis.values is None:
            raise ConfigError(f"{p}: key 'parameters.config': give config files as 'values'")
        for name in axis.values:
            data = read_config_data(p.parent / str(name))
            data.setdefault("name", Path(str(name)).stem)
            configs[str(name)] = data
    base = build_scenario(base_data, spec.set, {}, spec.days, str(base_path))
    check_parameter_paths(base, [k for k in spec.parameters if k != CONFIG_AXIS], p, base_path)
    grid = math.prod(
        len(a.values) if a.values is not None else a.steps or 3 for a in spec.parameters.values()
    )
    check_runs(p, grid if spec.design == "grid" else spec.samples or 0, spec.replicates)
    points = design_points(spec)
    sweep = Sweep(path=p, spec=spec, base_data=base_data, points=points, configs=configs)
    for values in points:
        point = build_scenario(
            sweep.data_for(values), spec.set, values, spec.days, f"{p} (design point {values})"
        )
        if spec.warmup_days is not None and spec.warmup_days >= point.days:
            raise ConfigError(
                f"{p}: key 'warmup_days' is {spec.warmup_days} but design point {values} runs "
                f"{point.days} working days; use a warm-up shorter than the run"
            )
    return sweep


# ---------------------------------------------------------------- running


def execute_run(
    base_data: dict[str, Any],
    fixed: list[str],
    values: dict[str, Any],
    days: int | None,
    warmup_days: int | None,
    run_index: int,
    point: int,
    replicate: int,
    seed: int,
    draw: int | None = None,
) -> dict[str, Any]:
    """Run one design point and replicate; never raises: a failure becomes a row with its error."""
    row: dict[str, Any] = {
        "run_index": run_index,
        "point": point,
        "replicate": replicate,
        "seed": seed,
        **({} if draw is None else {"draw": draw}),
        **values,
    }
    try:
        scenario = build_scenario(base_data, fixed, values, days, "sweep")
        out = simulate(scenario, seed, warmup_days=warmup_for(scenario.days, warmup_days))
        row.update(status="ok", error="", **{k: out.summary[k] for k in (*HEADLINE, *EXTRA)})
    except Exception as exc:  # recorded with its seed so it can be re-run alone
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
    return row


@dataclass
class SweepOutcome:
    """What a sweep call did."""

    total: int
    ok: int
    failed: int
    ran: int
    table: pd.DataFrame

    def failure(self, out: Path | None) -> RunsFailed:
        """The one-paragraph error for a sweep with failed runs: how many, the first, what to do."""
        bad = self.table[self.table["status"] != "ok"]
        first = " ".join(str(bad["error"].iloc[0]).split())[:300] if len(bad) else ""
        where = (
            f"their errors and seeds are in {out}/sweep.parquet and resuming the sweep into it retries them"
            if out is not None
            else "pass keep_going=True to get the table with its failed rows, or out= to keep and resume it"
        )
        return RunsFailed(
            f"{self.failed} of {self.total} sweep runs failed, so the sweep has no complete answer; "
            f"the first: {first}; {where}"
        )


def _failure_row(args: tuple, error: str) -> dict[str, Any]:
    _, _, values, _, _, run_index, point, replicate, seed, draw = args
    return {
        "run_index": run_index,
        "point": point,
        "replicate": replicate,
        "seed": seed,
        **({} if draw is None else {"draw": draw}),
        **values,
        "status": "failed",
        "error": error,
    }


def run_sweep(
    sweep: Sweep,
    out: Path,
    workers: int | None = None,
    resume: bool = False,
    backend: Backend | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    max_attempts: int = 3,
    batch_size: int = 500,
) -> SweepOutcome:
    """Run (or finish) a sweep into `out` on a backend's Executor; returns counts and the table.

    Runs are submitted as they can be consumed, grouped into tasks sized from the measured run
    time, and a task lost with its worker is resubmitted up to `max_attempts` times before its runs
    are recorded as failed; a run is never recorded twice (see `dispatch`).
    """
    if backend is None:
        name = "serial" if workers == 1 else "processes"
        with open_backend(name, workers) as opened:
            return run_sweep(sweep, out, workers, resume, opened, on_progress, max_attempts, batch_size)
    with writing_into(out):  # one writer at a time (the command line already holds it: nested)
        return _sweep_into(sweep, out, resume, backend, on_progress, max_attempts, batch_size)


def _sweep_into(
    sweep: Sweep,
    out: Path,
    resume: bool,
    backend: Backend,
    on_progress: Callable[[int, int, int], None] | None,
    max_attempts: int,
    batch_size: int,
) -> SweepOutcome:
    """run_sweep, holding the folder's lock."""
    start = time.perf_counter()
    check_sweep_out(out, resume, sweep)
    store = SweepStore(out, sweep_columns(sweep), batch_size)
    done = store.statuses() if resume else {}
    todo = [r for r in sweep.runs() if done.get(r[0]) != "ok"]
    _write_sweep_manifest(sweep, out, status="running", wall=0.0, backend=backend.description)
    ok = sum(1 for v in done.values() if v == "ok")
    failed = 0
    if on_progress:
        on_progress(ok, failed, sweep.n_runs)

    def record(row: dict[str, Any]) -> None:
        nonlocal ok, failed
        store.append(row)
        if row["status"] == "ok":
            ok += 1
        else:
            failed += 1
        if on_progress:
            on_progress(ok, failed, sweep.n_runs)

    spec, seeds = sweep.spec, sweep.seeds
    jobs = [
        (
            sweep.data_for(v),
            sweep.fixed_for(r),
            v,
            spec.days,
            spec.warmup_days,
            i,
            p,
            r,
            seeds[r],
            sweep.draw_of(r),
        )
        for i, p, r, v in todo
    ]
    dispatch(backend, execute_run, jobs, record, _failure_row, max_attempts)
    store.compact()
    table = store.table()
    atomic_write(out / "sweep.parquet", lambda fh: table.to_parquet(fh, index=False))
    n_ok = int((table["status"] == "ok").sum())
    n_failed = len(table) - n_ok
    _write_sweep_manifest(
        sweep,
        out,
        status="complete" if n_failed == 0 else "failed_runs",
        wall=time.perf_counter() - start,
        ok=n_ok,
        failed=n_failed,
        backend=backend.description,
        files=file_hashes(out, ["sweep.parquet"]),
    )
    return SweepOutcome(total=sweep.n_runs, ok=n_ok, failed=n_failed, ran=len(todo), table=table)


def with_posterior(sweep: Sweep, draws: list[dict[str, float]]) -> Sweep:
    """The sweep run over posterior draws: each draw with the spec's replicates as seeds, so
    replicates per point become draws x seeds; every point sees the same draws and seeds."""
    from dataclasses import replace

    reps = sweep.spec.replicates * len(draws)
    check_runs(sweep.path, len(sweep.points), reps)
    for d in {json.dumps(x, sort_keys=True) for x in draws}:
        for data in [sweep.base_data, *sweep.configs.values()]:
            build_scenario(
                data,
                [*sweep.spec.set, *(f"{k}={v!r}" for k, v in json.loads(d).items())],
                {},
                sweep.spec.days,
                f"{sweep.path} with --posterior",
            )
    spec = sweep.spec.model_copy(update={"replicates": reps})
    return replace(sweep, spec=spec, draws=tuple(draws))


def check_sweep_out(out: Path, resume: bool, sweep: Sweep | None = None) -> None:
    """Refuse an --out that cannot be written; one that holds anything, unless resumed; and, resumed,
    one without the manifest that fingerprints the spec its runs came from, or (given the sweep)
    whose fingerprint is not this sweep's."""
    if resume:
        check_resumable(out, "the sweep")
        old = read_manifest(out)
        if sweep is not None and old is not None and old.get("sweep_sha256") != sweep.digest():
            raise ConfigError(
                f"{out}: was started from a different spec or base config (its manifest.json says "
                f"{old.get('command', '?')} {old.get('spec_file', '?')}); it cannot be resumed with "
                f"{sweep.path}: choose another --out"
            )
    else:
        check_fresh(out, "the sweep")
    check_output_folder(out)


def sweep_columns(sweep: Sweep) -> list[str]:
    """Column order of the sweep table."""
    return [
        "run_index",
        "point",
        "replicate",
        "seed",
        *(["draw"] if sweep.draws else []),
        *sweep.spec.parameters,
        "status",
        "error",
        *HEADLINE,
        *EXTRA,
    ]


def _write_sweep_manifest(
    sweep: Sweep,
    out: Path,
    status: str,
    wall: float,
    ok: int = 0,
    failed: int = 0,
    backend: str = "",
    files: dict[str, str] | None = None,
) -> None:
    """manifest.json of a sweep: written when it starts (its fingerprint, for --resume) and when it
    ends, then with the SHA-256 of the files it vouches for (`files`)."""
    base = build_scenario(sweep.base_data, sweep.spec.set, {}, sweep.spec.days, str(sweep.path))
    spec = sweep.spec.model_dump(mode="json")
    spec["design"] = sweep.design or spec["design"]
    data = manifest(
        sweep.command,
        [base],
        sweep.seeds,
        sweep.spec.seed,
        wall,
        {
            "spec_file": str(sweep.path),
            "spec": spec,
            "design": spec["design"],
            "warmup_days": warmup_for(base.days, sweep.spec.warmup_days),
            "sweep_sha256": sweep.digest(),
            "design_points": sweep.points,
            "runs": sweep.n_runs,
            "status": status,
            "runs_ok": ok,
            "runs_failed": failed,
            "backend": backend,
            **({"posterior_draws": list(sweep.draws)} if sweep.draws else {}),
            **({"files": files} if files is not None else {}),
        },
    )
    write_manifest(out / "manifest.json", data)
