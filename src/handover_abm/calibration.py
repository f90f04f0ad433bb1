"""`handover-abm calibrate`: fit parameters to published targets, by ABC-SMC (pyabc) or Optuna.

A spec (YAML) names a base config, the parameters to calibrate (config key paths, as `--set`
takes them) with their priors, the targets to fit (names from targets.yaml), replicates per
point, the method and its budget, and a root seed. Both methods minimise the same distance:
the sum over targets of ((model mean - published value) / uncertainty)^2, the model mean being
the mean of a point's replicates.

- `abc`: ABC-SMC with pyabc. Particles are simulated on the project's Executor backends (serial,
  local processes, Dask) through `ExecutorSampler`, which gives every proposal a seed drawn from
  the spec's seed and consumes results in submission order: the posterior does not depend on how
  many workers ran it. The SQLite history (DIR/abc.db) holds every finished generation; `--resume`
  continues from the last one.
- `optuna`: a TPE point estimate; every trial sees the same replicate seeds (common random
  numbers, as `compare` and `sweep` do). The study lives in DIR/optuna.db; `--resume` keeps its
  finished trials and re-queues the ones a kill interrupted.

Seeds: a simulation's seeds derive from the spec seed with numpy SeedSequence (for ABC, keyed by
the particle's parameter values), so a calibration is reproducible and any point can be re-run
alone with `handover-abm run BASE --set key=value ... --seeds SEED`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import random
import textwrap
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from handover_abm.backends import Backend
from handover_abm.config import ConfigError, model_at, read_config_data, read_yaml, validation_message
from handover_abm.folders import check_fresh, check_resumable, file_hashes, read_manifest
from handover_abm.limits import MAX_CALIBRATION_POINTS, MAX_DRAWS, MAX_REPLICATES, MAX_RUNS, MAX_SEED
from handover_abm.metrics import EXTRA, HEADLINE, UNITS
from handover_abm.results import (
    atomic_write,
    manifest,
    parquet_writer,
    write_csv,
    write_manifest,
    write_text,
)
from handover_abm.simulate import simulate
from handover_abm.streams import replicate_seeds
from handover_abm.style import styled
from handover_abm.sweep import build_scenario, check_parameter_paths
from handover_abm.targets import Target, check_metrics, load_targets, select_targets, target_metrics
from handover_abm.team import scaled

# SeedSequence spawn keys: one independent family of streams per use of the spec seed.
_KEY_PARTICLE, _KEY_PREDICTIVE, _KEY_SAMPLER, _KEY_OPTUNA, _KEY_DRAWS = 1, 2, 3, 4, 5
ABC_DB, OPTUNA_DB = "abc.db", "optuna.db"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Prior(_Strict):
    """Prior of one parameter: uniform or log-uniform on [low, high], or a normal truncated to it."""

    distribution: Literal["uniform", "loguniform", "normal"] = "uniform"
    low: float
    high: float
    mean: float | None = Field(None, description="normal only")
    sd: float | None = Field(None, gt=0, description="normal only")

    @model_validator(mode="after")
    def _consistent(self) -> Prior:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be less than high ({self.high})")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError(f"a loguniform prior needs low > 0 (got {self.low})")
        if self.distribution == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("a normal prior needs 'mean' and 'sd' (it is truncated to [low, high])")
            if not self.low <= self.mean <= self.high:
                raise ValueError(f"mean {self.mean} lies outside [low, high] = [{self.low}, {self.high}]")
        elif self.mean is not None or self.sd is not None:
            raise ValueError(f"'mean' and 'sd' are for normal priors only, not {self.distribution}")
        return self

    def random_variable(self) -> Any:
        """This prior as a pyabc random variable."""
        import pyabc

        if self.distribution == "uniform":
            return pyabc.RV("uniform", self.low, self.high - self.low)
        if self.distribution == "loguniform":
            return pyabc.RV("loguniform", self.low, self.high)
        assert self.mean is not None and self.sd is not None
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return pyabc.RV("truncnorm", a, b, self.mean, self.sd)

    def optuna_distribution(self) -> Any:
        """The search range for Optuna (a normal prior is searched over its bounds)."""
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.distribution == "loguniform")


class AbcBudget(_Strict):
    """How much ABC-SMC may do: particles per generation, generations, total simulations."""

    population_size: int = Field(
        100, ge=2, le=MAX_CALIBRATION_POINTS, description="accepted particles per generation"
    )
    generations: int = Field(
        5, ge=1, le=MAX_CALIBRATION_POINTS, description="SMC generations (tolerance steps)"
    )
    max_simulations: int | None = Field(
        None, ge=1, le=MAX_RUNS, description="stop once this many points were tried"
    )
    min_epsilon: float = Field(0.0, ge=0, description="stop once the tolerance falls to this")


class OptunaBudget(_Strict):
    """How many Optuna trials (each a point simulated `replicates` times)."""

    trials: int = Field(50, ge=1, le=MAX_CALIBRATION_POINTS)


class CalibrationSpec(_Strict):
    """A calibration: base config, priors, targets, replicates, method, budget and seed."""

    name: str = Field("calibration", pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str = Field(description="base config file, relative to the spec file")
    set: list[str] = Field(default_factory=list, description="fixed overrides key.path=value")
    days: int | None = Field(None, ge=1, description="override the base config's days (warm-up included)")
    warmup_days: int = Field(
        0, ge=0, description="working days run first and not counted (the book fills from empty)"
    )
    patients: int | None = Field(
        None, ge=1, description="scale the base config's population and team to this many patients"
    )
    parameters: dict[str, Prior] = Field(min_length=1, description="config key path -> prior")
    targets: list[str] = Field(min_length=1, description="target names from the targets file")
    targets_file: str | None = Field(
        None, description="targets file, relative to the spec (default: shipped)"
    )
    replicates: int = Field(
        1, ge=1, le=MAX_REPLICATES, description="simulations per point; the distance uses their mean"
    )
    method: Literal["abc", "optuna"] = "abc"
    abc: AbcBudget = Field(default_factory=AbcBudget)
    optuna: OptunaBudget = Field(default_factory=OptunaBudget)
    predictive_draws: int = Field(
        20, ge=2, le=MAX_DRAWS, description="posterior-predictive points for the fit table"
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed")

    @model_validator(mode="after")
    def _bounded(self) -> CalibrationSpec:
        """Refuse a budget of more points than MAX_CALIBRATION_POINTS before anything starts."""
        if self.method == "abc":
            points = self.abc.population_size * self.abc.generations
            what = f"abc: population_size {self.abc.population_size:,} x generations {self.abc.generations:,}"
        else:
            points, what = self.optuna.trials, f"optuna: trials {self.optuna.trials:,}"
        if points > MAX_CALIBRATION_POINTS:
            raise ValueError(
                f"{what} = {points:,} points, more than the {MAX_CALIBRATION_POINTS:,} allowed; use a "
                f"smaller budget"
            )
        return self

    @field_validator("targets")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        dup = sorted({v for v in value if value.count(v) > 1})
        if dup:
            raise ValueError(f"each target may be named once; repeated: {', '.join(dup)}")
        return value


@dataclass(frozen=True)
class Calibration:
    """A checked calibration, ready to run: spec, resolved base config data and targets."""

    path: Path
    spec: CalibrationSpec
    base_data: dict[str, Any]
    targets: list[Target]

    @property
    def names(self) -> list[str]:
        """Calibrated parameter key paths, in spec order."""
        return list(self.spec.parameters)

    @property
    def observed(self) -> dict[str, float]:
        """Published value of each target (target name -> value)."""
        return {t.name: t.value for t in self.targets}

    @property
    def scales(self) -> dict[str, float]:
        """Divisor of each target's deviation in the distance."""
        return {t.name: t.uncertainty.scale for t in self.targets}

    def digest(self) -> str:
        """Fingerprint of what is being fitted (not the budget), so a resume cannot mix two fits."""
        spec = self.spec.model_dump(mode="json", exclude={"description", "abc", "optuna", "predictive_draws"})
        text = json.dumps(
            [spec, self.base_data, [t.model_dump(mode="json") for t in self.targets]], sort_keys=True
        )
        return hashlib.sha256(text.encode()).hexdigest()


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration spec; every problem names the file and key (ConfigError)."""
    p = Path(path)
    raw = read_yaml(p, "calibration spec")
    try:
        spec = CalibrationSpec.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise ConfigError(
            validation_message(str(p), exc, CalibrationSpec, "calibration spec", "docs/calibration.md")
        ) from None
    base_path = p.parent / spec.base
    data = read_config_data(base_path)
    data.setdefault("name", base_path.stem)
    base = build_scenario(data, spec.set, {}, spec.days, str(base_path))
    base_data = base.model_dump(mode="json")
    if spec.patients is not None:
        base_data = scaled(base_data, spec.patients)
        base = build_scenario(base_data, [], {}, None, f"{p} (key 'patients': {spec.patients})")
    if spec.warmup_days >= base.days:
        raise ConfigError(
            f"{p}: key 'warmup_days' ({spec.warmup_days}) must be shorter than the run ({base.days} "
            "working days, key 'days' or the base config's days), which includes the warm-up"
        )
    check_parameter_paths(base, list(spec.parameters), p, base_path)
    for key, prior in spec.parameters.items():
        for bound in (prior.low, prior.high):
            build_scenario(base_data, [], {key: bound}, None, f"{p} (key 'parameters.{key}' at {bound})")
    targets_path = p.parent / spec.targets_file if spec.targets_file else None
    targets = select_targets(load_targets(targets_path), spec.targets, str(p))
    check_metrics(targets, UNITS, str(p))
    return Calibration(path=p, spec=spec, base_data=base_data, targets=targets)


# ---------------------------------------------------------------- seeds, simulation, distance


def _seed(root: int, *key: int) -> int:
    """A 32-bit seed from the root seed and a spawn key (numpy SeedSequence)."""
    return int(np.random.SeedSequence(root, spawn_key=key).generate_state(1, dtype=np.uint32)[0])


def point_seeds(root: int, values: Mapping[str, float], replicates: int) -> list[int]:
    """Replicate seeds of an ABC particle: a function of the root seed and the parameter values."""
    text = json.dumps({k: float(v) for k, v in values.items()}, sort_keys=True)
    words = np.frombuffer(hashlib.sha256(text.encode()).digest()[:16], dtype=np.uint32)
    return [_seed(root, _KEY_PARTICLE, *map(int, words), r) for r in range(replicates)]


def predictive_seeds(root: int, draw: int, replicates: int) -> list[int]:
    """Replicate seeds of posterior-predictive draw `draw` (fresh, independent of the fit's)."""
    return [_seed(root, _KEY_PREDICTIVE, draw, r) for r in range(replicates)]


def simulate_point(
    base_data: dict[str, Any], values: dict[str, float], seed: int, warmup_days: int = 0
) -> dict[str, float]:
    """One run of the base config with calibrated values set; its summary after the warm-up."""
    scenario = build_scenario(base_data, [], values, None, "calibration point")
    return simulate(scenario, seed, warmup_days=warmup_days).summary


def point_metrics(
    base_data: dict[str, Any],
    values: dict[str, float],
    seeds: Sequence[int],
    targets: Sequence[Target],
    warmup_days: int = 0,
) -> dict[str, float]:
    """Mean over replicates of each target's metric at one point (target name -> mean)."""
    runs = [target_metrics(simulate_point(base_data, values, s, warmup_days), targets) for s in seeds]
    return {t.name: float(np.mean([r[t.name] for r in runs])) for t in targets}


def distance(model: Mapping[str, float], observed: Mapping[str, float], scales: Mapping[str, float]) -> float:
    """Sum of squared standardised deviations ((model - observed) / scale)^2; inf if any is NaN."""
    total = 0.0
    for name, value in observed.items():
        z = (float(model[name]) - value) / scales[name]
        if math.isnan(z):
            return math.inf
        total += z * z
    return total


@dataclass(frozen=True)
class StandardisedDistance:
    """`distance` as pyabc calls it: (simulated, observed) -> float."""

    scales: dict[str, float]

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        """Distance of simulated summary statistics x from the observed x0."""
        return distance(x, x0, self.scales)


@dataclass(frozen=True)
class AbcModel:
    """The simulator as pyabc sees it: a parameter set -> each target's replicate mean."""

    base_data: dict[str, Any]
    targets: tuple[Target, ...]
    replicates: int
    root_seed: int
    warmup_days: int = 0

    def __call__(self, parameter: Mapping[str, float]) -> dict[str, float]:
        """Simulate a particle `replicates` times with seeds derived from its values."""
        values = {k: float(v) for k, v in parameter.items()}
        seeds = point_seeds(self.root_seed, values, self.replicates)
        return point_metrics(self.base_data, values, seeds, self.targets, self.warmup_days)


# ---------------------------------------------------------------- ABC-SMC on the project's backends


@functools.lru_cache(maxsize=2)
def _unpickled(payload: bytes) -> Callable[[], Any]:
    """pyabc's propose-and-simulate function of a generation, unpickled once per worker."""
    import cloudpickle

    return cloudpickle.loads(payload)


def _simulate_particle(payload: bytes, seed: int) -> Any:
    """Worker side of ExecutorSampler: seed pyabc's global RNGs, propose and simulate one particle."""
    np.random.seed(seed)
    random.seed(seed)
    return _unpickled(payload)()


def _make_executor_sampler() -> type:
    """ExecutorSampler, defined on first use so that pyabc stays an optional import."""
    from pyabc.sampler import Sampler

    class ExecutorSampler(Sampler):
        """pyabc sampler on a concurrent.futures Executor, reproducible whatever the worker count.

        Task i of generation t proposes and simulates one particle with seed i of a stream drawn
        from (root seed, t); results are consumed in submission order and the first n accepted
        are kept, so the sample is unbiased (no preference for fast simulations) and identical on
        1 or 100 workers. Tasks still in flight when n are accepted are cancelled or ignored.
        """

        def __init__(
            self,
            executor: Any,
            root_seed: int,
            window: int,
            on_sample: Callable[[int, int, int, int], None] | None = None,
        ) -> None:
            super().__init__()
            self.executor = executor
            self.root_seed = root_seed
            self.window = max(1, window)
            self.on_sample = on_sample

        def sample_until_n_accepted(
            self,
            n: int,
            simulate_one: Callable[[], Any],
            t: int,
            *,
            max_eval: float = np.inf,
            all_accepted: bool = False,
            ana_vars: Any = None,
        ) -> Any:
            import cloudpickle

            payload = cloudpickle.dumps(simulate_one)
            # t is -1 for the prior sample that calibrates the first tolerance
            seeds = np.random.default_rng(
                np.random.SeedSequence(self.root_seed, spawn_key=(_KEY_SAMPLER, t + 1))
            )
            sample = self._create_empty_sample()
            pending: deque[Future] = deque()
            evaluated = accepted = 0
            try:
                while accepted < n and evaluated < max_eval:
                    while len(pending) < self.window:
                        seed = int(seeds.integers(2**32))
                        pending.append(self.executor.submit(_simulate_particle, payload, seed))
                    particle = pending.popleft().result()
                    evaluated += 1
                    sample.append(particle)
                    if particle.accepted:
                        accepted += 1
                    if self.on_sample:
                        self.on_sample(t, accepted, evaluated, n)
            finally:
                for fut in pending:
                    fut.cancel()
            self.nr_evaluations_ = evaluated
            if sample.n_accepted < n:
                sample.ok = False
            return sample

    return ExecutorSampler


# ---------------------------------------------------------------- running and outputs


@dataclass
class ProgressEvent:
    """What a calibration reports as it goes: a bar position and a line for people."""

    done: int
    total: int
    text: str
    line: str = ""  # a finished generation or batch, worth keeping on screen


@dataclass
class CalibrationResult:
    """What a calibration wrote."""

    method: str
    fit: pd.DataFrame
    files: list[str]
    wall_s: float
    points: int  # parameter sets simulated (each `replicates` times), not counting predictive draws
    extra: dict[str, Any] = field(default_factory=dict)


def _check_out(cal: Calibration, out: Path, db: str, resume: bool) -> None:
    """Refuse to overwrite a calibration or start one in a folder holding anything else, and to
    resume one without its manifest or fitted to something else."""
    if (out / db).exists() and not resume:
        raise ConfigError(
            f"{out}: already holds a calibration ({db}); pass --resume, or choose another --out"
        )
    if not resume:
        check_fresh(out, "the calibration")
        return
    if not (out / db).exists():
        raise ConfigError(f"{out}: --resume given but there is no {db} to resume; drop --resume to start")
    check_resumable(out, "the calibration")
    if (read_manifest(out) or {}).get("calibration_sha256") != cal.digest():
        raise ConfigError(
            f"{out}: was started with another spec, base config or targets; it cannot be resumed "
            f"with {cal.path} (budgets may change, nothing else)"
        )


def check_database(path: Path) -> None:
    """Refuse to resume from a calibration database that SQLite cannot read whole (e.g. truncated by
    a full disk or a partial copy), before pyabc or Optuna open it (ConfigError)."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        verdict = str(exc)
    if verdict != "ok":
        raise ConfigError(
            f"{path}: the calibration database is damaged ({verdict}), e.g. truncated by a full disk "
            f"or a partial copy, and cannot be resumed; start the calibration again in a new --out "
            f"(or restore the database from a copy)"
        )


def _write_manifest(cal: Calibration, out: Path, status: str, wall: float, extra: dict[str, Any]) -> None:
    base = build_scenario(cal.base_data, [], {}, None, str(cal.path))
    data = manifest(
        "calibrate",
        [base],
        [],
        cal.spec.seed,
        wall,
        {
            "spec_file": str(cal.path),
            "spec": cal.spec.model_dump(mode="json"),
            "targets": [t.model_dump(mode="json") for t in cal.targets],
            "calibration_sha256": cal.digest(),
            "status": status,
            **extra,
        },
    )
    write_manifest(out / "manifest.json", data)


def run_calibration(
    cal: Calibration,
    out: Path,
    backend: Backend,
    resume: bool = False,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop_after: int | None = None,
) -> CalibrationResult:
    """Run (or resume) a calibration into `out` and write its outputs.

    `stop_after` ends the fit after that many generations (abc) or trials (optuna) of this call,
    as a kill would, without writing the final outputs: the way tests interrupt a calibration.
    """
    import importlib.util

    library = {"abc": "pyabc", "optuna": "optuna"}[cal.spec.method]
    if importlib.util.find_spec(library) is None:
        raise ConfigError(
            f"{cal.path}: key 'method': {cal.spec.method!r} needs {library}, which is not installed: "
            "pip install 'handover-abm[calibration]'"
        )
    out.mkdir(parents=True, exist_ok=True)
    say = on_progress or (lambda event: None)
    start = time.perf_counter()
    if cal.spec.method == "abc":
        return _run_abc(cal, out, backend, resume, say, stop_after, start)
    return _run_optuna(cal, out, backend, resume, say, stop_after, start)


def _run_abc(
    cal: Calibration,
    out: Path,
    backend: Backend,
    resume: bool,
    say: Callable[[ProgressEvent], None],
    stop_after: int | None,
    start: float,
) -> CalibrationResult:
    import logging

    import pyabc

    _check_out(cal, out, ABC_DB, resume)
    if resume:
        check_database(out / ABC_DB)
    for name in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "Transitions", "Population"):
        logging.getLogger(f"ABC.{name}" if name != "ABC" else name).setLevel(logging.WARNING)
    budget = cal.spec.abc
    n, gens = budget.population_size, budget.generations

    def on_sample(t: int, accepted: int, evaluated: int, wanted: int) -> None:
        if t < 0:
            say(
                ProgressEvent(
                    0, n * gens, f"ABC-SMC: prior sample for the first tolerance {evaluated}/{wanted}"
                )
            )
            return
        say(
            ProgressEvent(
                t * n + accepted,
                n * gens,
                f"ABC-SMC generation {t + 1}/{gens}: {accepted}/{wanted} accepted, "
                f"acceptance {accepted / evaluated:.0%}, tolerance {abc.eps(t):.3g}",
            )
        )

    sampler = _make_executor_sampler()(backend.executor, cal.spec.seed, backend.in_flight(), on_sample)
    prior = pyabc.Distribution(**{k: p.random_variable() for k, p in cal.spec.parameters.items()})
    model = AbcModel(
        cal.base_data, tuple(cal.targets), cal.spec.replicates, cal.spec.seed, cal.spec.warmup_days
    )
    url = f"sqlite:///{(out / ABC_DB).resolve()}"

    def smc() -> Any:
        return pyabc.ABCSMC(
            model, prior, StandardisedDistance(cal.scales), population_size=n, sampler=sampler
        )

    abc = smc()
    history = abc.load(url, 1) if resume else abc.new(url, cal.observed)
    _write_manifest(cal, out, "running", 0.0, {"method": "abc"})
    ran = 0
    while history.max_t + 1 < gens:
        # every generation starts from the database, as a resumed one does: one path, same numbers
        abc = smc()
        history = abc.load(url, 1)
        if budget.max_simulations is not None and history.total_nr_simulations >= budget.max_simulations:
            break
        if stop_after is not None and ran >= stop_after:
            return CalibrationResult("abc", pd.DataFrame(), [], time.perf_counter() - start, 0)
        t = history.max_t + 1
        np.random.seed(_seed(cal.spec.seed, _KEY_SAMPLER, 0, t))  # any draw pyabc makes here
        abc.run(
            max_nr_populations=1,
            max_total_nr_simulations=budget.max_simulations or np.inf,
            minimum_epsilon=budget.min_epsilon,
        )
        if history.max_t < t:  # the simulation budget ran out inside the generation
            break
        ran += 1
        row = _generations(history).iloc[-1]
        say(
            ProgressEvent(
                (t + 1) * n,
                n * gens,
                f"ABC-SMC generation {t + 1}/{gens} done",
                f"generation {t + 1}/{gens}: tolerance {row['epsilon']:.4g}, acceptance "
                f"{row['acceptance_rate']:.1%} ({int(row['simulations'])} points), ESS {row['ess']:.1f}",
            )
        )
        if row["epsilon"] <= budget.min_epsilon:
            break
    if history.max_t < 0:
        raise ConfigError(
            f"{cal.path}: key 'abc.max_simulations': the budget ran out before the first generation "
            f"finished; raise it above population_size x a few"
        )
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = frame[cal.names].reset_index(drop=True)
    posterior["weight"] = np.asarray(weights) / np.sum(weights)
    posterior["generation"] = history.max_t
    atomic_write(out / "posterior.parquet", parquet_writer(posterior))
    gen = _generations(history)
    diagnostics = {
        "method": "abc",
        "library": f"pyabc {pyabc.__version__}",
        "population_size": n,
        "generations": gen.to_dict(orient="records"),
        "points_simulated": int(history.total_nr_simulations),
        "replicates_per_point": cal.spec.replicates,
        "final_ess": float(gen["ess"].iloc[-1]),
        "distance": "sum over targets of ((model mean - value) / uncertainty)^2",
    }
    rng = np.random.default_rng(_seed(cal.spec.seed, _KEY_DRAWS))
    idx = rng.choice(len(posterior), size=cal.spec.predictive_draws, p=posterior["weight"].to_numpy())
    draws = [{k: float(posterior.loc[i, k]) for k in cal.names} for i in idx]
    fit, predictive = _predictive(cal, draws, backend, say)
    diagnostics["predictive_draws"] = len(draws)
    files = _finish(cal, out, fit, predictive, diagnostics, start)
    files += _figures_posterior(cal, posterior, out / "figures")
    return CalibrationResult(
        "abc", fit, sorted(files), time.perf_counter() - start, diagnostics["points_simulated"], diagnostics
    )


def _generations(history: Any) -> pd.DataFrame:
    """One row per finished generation: tolerance, points tried, acceptance rate, ESS."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for r in pops.itertuples():
        _, w = history.get_distribution(m=0, t=int(r.t))
        rows.append(
            {
                "generation": int(r.t),
                "epsilon": float(r.epsilon),
                "accepted": int(r.particles),
                "simulations": int(r.samples),
                "acceptance_rate": float(r.particles / r.samples) if r.samples else math.nan,
                "ess": float(effective_sample_size(np.asarray(w))),
            }
        )
    return pd.DataFrame(rows)


def _run_optuna(
    cal: Calibration,
    out: Path,
    backend: Backend,
    resume: bool,
    say: Callable[[ProgressEvent], None],
    stop_after: int | None,
    start: float,
) -> CalibrationResult:
    import optuna
    from optuna.trial import TrialState

    _check_out(cal, out, OPTUNA_DB, resume)
    if resume:
        check_database(out / OPTUNA_DB)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / OPTUNA_DB).resolve()}"
    sampler = optuna.samplers.TPESampler(seed=_seed(cal.spec.seed, _KEY_OPTUNA))
    study = optuna.create_study(
        study_name=cal.spec.name,
        storage=storage,
        sampler=sampler,
        direction="minimize",
        load_if_exists=resume,
    )
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        if trial.state == TrialState.RUNNING:  # interrupted by a kill: run its point again
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params)
    _write_manifest(cal, out, "running", 0.0, {"method": "optuna"})
    dists = {k: p.optuna_distribution() for k, p in cal.spec.parameters.items()}
    seeds = replicate_seeds(cal.spec.seed, cal.spec.replicates)
    total, warmup = cal.spec.optuna.trials, cal.spec.warmup_days

    def complete() -> int:
        return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))

    ran = 0
    while (done := complete()) < total:
        if stop_after is not None and ran >= stop_after:
            return CalibrationResult("optuna", pd.DataFrame(), [], time.perf_counter() - start, 0)
        batch = [study.ask(dists) for _ in range(min(backend.slots, total - done))]
        futures = [
            [backend.executor.submit(simulate_point, cal.base_data, dict(t.params), s, warmup) for s in seeds]
            for t in batch
        ]
        for trial, futs in zip(batch, futures, strict=True):
            try:
                runs = [target_metrics(f.result(), cal.targets) for f in futs]
            except BaseException:
                for t in batch:
                    if t.number >= trial.number:
                        study.tell(t, state=TrialState.FAIL)
                raise
            means = {t.name: float(np.mean([r[t.name] for r in runs])) for t in cal.targets}
            trial.set_user_attr("metrics", means)
            value = distance(means, cal.observed, cal.scales)
            study.tell(
                trial,
                value if math.isfinite(value) else None,
                state=None if math.isfinite(value) else TrialState.FAIL,
            )
            ran += 1
            best = study.best_value if complete() else math.nan
            say(
                ProgressEvent(
                    complete(), total, f"Optuna trial {complete()}/{total}: best distance {best:.4g}"
                )
            )
    best = study.best_trial
    best_values = {k: float(v) for k, v in best.params.items()}
    fit, predictive = _predictive(cal, [best_values] * cal.spec.predictive_draws, backend, say)
    trials = study.trials_dataframe(attrs=("number", "value", "params", "state"))
    atomic_write(out / "trials.parquet", parquet_writer(trials))
    diagnostics = {
        "method": "optuna",
        "library": f"optuna {optuna.__version__}",
        "sampler": "TPE",
        "trials_complete": complete(),
        "points_simulated": complete(),
        "replicates_per_point": cal.spec.replicates,
        "replicate_seeds": seeds,
        "best_distance": float(best.value),
        "distance": "sum over targets of ((model mean - value) / uncertainty)^2",
    }
    best_json = {
        "trial": best.number,
        "distance": float(best.value),
        "parameters": best_values,
        "metrics_at_fit": best.user_attrs.get("metrics", {}),
        "replicate_seeds": seeds,
        "rerun": f"handover-abm run {out / 'best_config.yaml'} --seeds {','.join(map(str, seeds))}",
    }
    best_scenario = build_scenario(cal.base_data, [], best_values, None, "best point")
    write_text(
        out / "best_config.yaml", yaml.safe_dump(best_scenario.model_dump(mode="json"), sort_keys=False)
    )
    write_text(out / "best.json", json.dumps(best_json, indent=2) + "\n")
    files = _finish(cal, out, fit, predictive, diagnostics, start)
    files += ["best.json", "best_config.yaml", "trials.parquet", *_figure_history(trials, out / "figures")]
    return CalibrationResult(
        "optuna", fit, sorted(files), time.perf_counter() - start, diagnostics["points_simulated"], best_json
    )


def _predictive(
    cal: Calibration, draws: list[dict[str, float]], backend: Backend, say: Callable[[ProgressEvent], None]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate each draw `replicates` times with fresh seeds; the target-fit table and the draws."""
    reps = cal.spec.replicates
    futures = [
        [
            backend.executor.submit(simulate_point, cal.base_data, values, s, cal.spec.warmup_days)
            for s in predictive_seeds(cal.spec.seed, d, reps)
        ]
        for d, values in enumerate(draws)
    ]
    rows = []
    for d, (values, futs) in enumerate(zip(draws, futures, strict=True)):
        runs = [target_metrics(f.result(), cal.targets) for f in futs]
        rows.append(
            {"draw": d, **values, **{t.name: float(np.mean([r[t.name] for r in runs])) for t in cal.targets}}
        )
        say(ProgressEvent(d + 1, len(draws), f"posterior-predictive check {d + 1}/{len(draws)}"))
    predictive = pd.DataFrame(rows)
    fit = target_fit(cal.targets, predictive)
    return fit, predictive


def target_fit(targets: Sequence[Target], predictive: pd.DataFrame) -> pd.DataFrame:
    """Per target: published value, model mean and 95% interval over predictive draws, and verdicts."""
    rows = []
    for t in targets:
        x = predictive[t.name].to_numpy(dtype=float)
        mean, lo, hi = float(np.mean(x)), float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))
        rows.append(
            {
                "target": t.name,
                "metric": t.metric,
                "unit": t.unit,
                "published": t.value,
                "uncertainty": t.uncertainty.scale,
                "uncertainty_kind": "sd" if t.uncertainty.sd is not None else "tolerance",
                "model_mean": mean,
                "model_low": lo,
                "model_high": hi,
                "within_tolerance": bool(abs(mean - t.value) <= t.uncertainty.allowed),
                "published_in_interval": bool(lo <= t.value <= hi),
                "second_hand": t.second_hand,
            }
        )
    return pd.DataFrame(rows)


def _finish(
    cal: Calibration,
    out: Path,
    fit: pd.DataFrame,
    predictive: pd.DataFrame,
    diagnostics: dict[str, Any],
    start: float,
) -> list[str]:
    wall = time.perf_counter() - start
    diagnostics["wall_time_s"] = round(wall, 2)
    write_csv(out / "target_fit.csv", fit)
    atomic_write(out / "predictive.parquet", parquet_writer(predictive))
    write_text(out / "diagnostics.json", json.dumps(diagnostics, indent=2) + "\n")
    final = {"abc": ["posterior.parquet"], "optuna": ["best.json", "best_config.yaml", "trials.parquet"]}
    vouched = file_hashes(
        out, ["target_fit.csv", "predictive.parquet", "diagnostics.json", *final[cal.spec.method]]
    )
    _write_manifest(cal, out, "complete", wall, {"method": cal.spec.method, "files": vouched})
    return [
        "target_fit.csv",
        "predictive.parquet",
        "diagnostics.json",
        "manifest.json",
        *_figure_fit(cal.targets, fit, out / "figures"),
        *(["posterior.parquet"] if cal.spec.method == "abc" else []),
    ]


# ---------------------------------------------------------------- figures


def parameter_label(key: str, width: int = 34) -> str:
    """Axis label of a calibrated parameter: its key path and its description from the schema."""
    path = tuple(int(x) if x.isdigit() else x for x in key.split("."))
    owner = model_at(path)
    info = owner.model_fields.get(str(path[-1])) if owner is not None else None
    text = info.description if info is not None and info.description else ""
    return "\n".join([key, *textwrap.wrap(text, width, max_lines=2, placeholder=" …")])


def _metric_label(t: Target) -> str:
    desc = (HEADLINE | EXTRA).get(t.metric, ("", t.name))[1]
    return f"{t.name} ({t.unit})\n" + "\n".join(textwrap.wrap(desc, 40, max_lines=2, placeholder=" …"))


@styled
def _figures_posterior(cal: Calibration, posterior: pd.DataFrame, folder: Path) -> list[str]:
    import matplotlib.pyplot as plt

    from handover_abm.plots import OKABE_ITO, _save, legend_below, suptitle

    names, w = cal.names, posterior["weight"].to_numpy()
    fig, axes = plt.subplots(
        1, len(names), figsize=(3.4 * len(names), 3.2), squeeze=False, layout="constrained"
    )
    for ax, key in zip(axes[0], names, strict=True):
        prior = cal.spec.parameters[key]
        ax.hist(
            posterior[key],
            bins=20,
            range=(prior.low, prior.high),
            weights=w,
            density=True,
            color=OKABE_ITO[0],
        )
        ax.axhline(
            1 / (prior.high - prior.low), color=OKABE_ITO[1], ls="--", lw=1, label="uniform on prior range"
        )
        ax.set_xlabel(parameter_label(key))
        ax.set_ylabel("posterior density")
    legend_below(fig, *axes[0][0].get_legend_handles_labels())
    suptitle(fig, f"{cal.spec.name}: weighted posterior marginals (last generation)")
    files = _save(fig, folder, "posterior_marginals")
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.6 * k + 1, 2.6 * k + 1), squeeze=False, layout="constrained")
    sizes = 8 + 60 * w / w.max()
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i][j]
            if i == j:
                p = cal.spec.parameters[xj]
                ax.hist(posterior[xj], bins=20, range=(p.low, p.high), weights=w, color=OKABE_ITO[0])
            else:
                ax.scatter(posterior[xj], posterior[yi], s=sizes, alpha=0.5, color=OKABE_ITO[0], lw=0)
                ax.set_xlim(cal.spec.parameters[xj].low, cal.spec.parameters[xj].high)
                ax.set_ylim(cal.spec.parameters[yi].low, cal.spec.parameters[yi].high)
            if i == k - 1:
                ax.set_xlabel(xj)
            if j == 0 and i != j:
                ax.set_ylabel(yi)
    suptitle(fig, f"{cal.spec.name}: posterior pairs (point size = weight)")
    files += _save(fig, folder, "posterior_pairs")
    return [str(f.relative_to(folder.parent)) for f in files]


@styled
def _figure_fit(targets: Sequence[Target], fit: pd.DataFrame, folder: Path) -> list[str]:
    import matplotlib.pyplot as plt

    from handover_abm.plots import OKABE_ITO, _save, legend_below

    fig, axes = plt.subplots(
        len(targets), 1, figsize=(7, 1.5 + 1.1 * len(targets)), squeeze=False, layout="constrained"
    )
    for ax, t, row in zip(axes[:, 0], targets, fit.itertuples(), strict=True):
        allowed = t.uncertainty.allowed
        ax.axvspan(t.value - allowed, t.value + allowed, color=OKABE_ITO[1], alpha=0.25, lw=0)
        ax.axvline(t.value, color=OKABE_ITO[1], lw=2, label="published ± allowed deviation")
        ax.errorbar(
            [row.model_mean],
            [0],
            xerr=[[row.model_mean - row.model_low], [row.model_high - row.model_mean]],
            fmt="o",
            color=OKABE_ITO[0],
            capsize=4,
            label="model mean, 95% predictive interval",
        )
        ax.set_yticks([0], [_metric_label(t)])
        ax.tick_params(axis="y", labelsize=7)
    legend_below(fig, *axes[0, 0].get_legend_handles_labels(), ncol=2)
    return [str(f.relative_to(folder.parent)) for f in _save(fig, folder, "target_fit")]


@styled
def _figure_history(trials: pd.DataFrame, folder: Path) -> list[str]:
    import matplotlib.pyplot as plt

    from handover_abm.plots import OKABE_ITO, _save, legend_below

    done = trials[trials["state"] == "COMPLETE"].sort_values("number")
    fig, ax = plt.subplots(figsize=(6, 3.4), layout="constrained")
    ax.scatter(done["number"], done["value"], s=12, color=OKABE_ITO[0], label="trial")
    ax.plot(done["number"], done["value"].cummin(), color=OKABE_ITO[5], label="best so far")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("trial")
    ax.set_ylabel("distance (sum of squared z)")
    legend_below(fig, *ax.get_legend_handles_labels(), ncol=2)
    return [str(f.relative_to(folder.parent)) for f in _save(fig, folder, "optimisation_history")]
