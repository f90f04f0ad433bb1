"""Global sensitivity analysis with SALib (Morris elementary effects, Sobol indices).

The spec is a sweep spec (sweep.py) whose `parameters` are the factors and whose `samples` is N
(Morris trajectories, or the Sobol base sample: N (D + 2) points without second-order indices).
Every factor is sampled on [0, 1] and mapped to its range (or, for `values`, to one of them), the
design runs through the same resumable sweep engine, each point's output is the mean over its
replicates (common random numbers), and SALib computes the indices per headline metric.

Before the design runs, a short pilot of each team the spec sweeps (its base config, and each config
of a `config` axis) counts which task types each role got and which roles have supervised posts, and
flags every varied parameter that cannot change anything in this design (`unexercised`): a figure
of a role with no posts, of a task type a role never got, of a team entry without posts, or a
supervision figure of a role nobody supervises. After the runs, a parameter whose every index is
exactly 0 is marked "no effect in this design" in indices.csv (`note`), with the pilot's reason when
it has one; the manifest keeps the pilot and its flags.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from handover_abm.backends import Backend
from handover_abm.config import ConfigError, Scenario, team_index
from handover_abm.folders import MANIFEST, read_manifest, vouch_for, writing_into
from handover_abm.glossary import role_label
from handover_abm.metrics import HEADLINE
from handover_abm.model import HandoverModel
from handover_abm.results import write_csv, write_manifest
from handover_abm.sweep import (
    CONFIG_AXIS,
    ParamSpec,
    Sweep,
    build_scenario,
    check_runs,
    load_sweep,
    run_sweep,
)

Method = Literal["morris", "sobol"]


def problem_for(names: list[str]) -> dict[str, Any]:
    """A SALib problem over unit intervals (factors are scaled to their ranges afterwards)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def sample_unit(method: Method, problem: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """SALib design on the unit hypercube."""
    if method == "morris":
        return morris_sample.sample(problem, n, num_levels=4, seed=seed)
    return sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)


def analyse(method: Method, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Indices for one output: mu_star, mu_star_conf, sigma (Morris) or S1, ST and CIs (Sobol)."""
    if method == "morris":
        res = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
        return pd.DataFrame(
            {
                "parameter": problem["names"],
                "mu_star": res["mu_star"],
                "mu_star_conf": res["mu_star_conf"],
                "sigma": res["sigma"],
                "mu": res["mu"],
            }
        )
    res = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )


def plan(
    spec_path: str | Path, method: Method, days: int | None = None, replicates: int | None = None
) -> tuple[Sweep, np.ndarray, dict[str, Any]]:
    """Load the spec and build the SALib design as a sweep (points in parameter units)."""
    sweep = load_sweep(spec_path, days, replicates)
    if sweep.spec.samples is None:
        raise ConfigError(f"{spec_path}: key 'samples': sensitivity needs samples (N)")
    names = list(sweep.spec.parameters)
    per_sample = len(names) + (1 if method == "morris" else 2)
    check_runs(Path(spec_path), sweep.spec.samples * per_sample, sweep.spec.replicates)
    problem = problem_for(names)
    unit = sample_unit(method, problem, sweep.spec.samples, sweep.spec.seed)
    params = [sweep.spec.parameters[n] for n in names]
    points = [{n: p.scale(float(u)) for n, p, u in zip(names, params, row, strict=True)} for row in unit]
    spec = sweep.spec.model_copy(update={"name": f"{sweep.spec.name}-{method}", "design": "grid"})
    return replace(sweep, spec=spec, points=points, command="sensitivity", design=method), unit, problem


# ---------------------------------------------------------------- what the design exercises

# Working days of the pilot run (assumption, range 20-120): long enough for work booked days ahead
# (results 3 working days, follow-ups 10 after the consultation, plus the wait for a slot) to come
# due; about a second per team at 50,000 patients on a 2-core VM. Never more than the design runs.
PILOT_DAYS = 60

# Varied parameters the pilot sets to the end of their range that gives roles the most work (True:
# the highest value), so that a parameter is flagged only if no point of the design exercises it:
# the most posts, the widest care navigation, the core of scope (navigation books the core first)
# and the quickest (`specialist_first` books the quickest role).
_MOST_WORK: dict[tuple[str, ...], bool] = {
    ("team", "*", "count"): True,
    ("routing", "navigation_max_edge"): True,
    ("roles", "*", "scope", "*", "edge"): False,
    ("roles", "*", "scope", "*", "time"): False,
}
NO_EFFECT = "no effect in this design"


@dataclass(frozen=True)
class Pilot:
    """What a short run of each team of a design exercised (the model's state after the run)."""

    days: dict[str, int]  # team -> working days run
    seed: int
    posts: dict[str, dict[str, int]]  # team -> role -> posts
    tasks: dict[str, list[str]]  # role -> task types some post of it got, in any team
    supervised: list[str]  # roles with a post that has a supervisor, in any team
    reviewed: list[str]  # roles whose tasks are signed off case by case (case_review)
    entries: dict[str, int]  # team entry a varied team.<entry>.<field> names -> most posts in any team
    most_work: dict[str, Any]  # varied parameters set to the end that gives roles the most work
    wall_s: float

    def describe(self) -> str:
        """What ran, for a person: 'a pilot run of fragmented (60 working days), seed 7'."""
        teams = ", ".join(f"{name} ({d} working days)" for name, d in self.days.items())
        return f"a pilot run of {teams}, seed {self.seed}"


@dataclass(frozen=True)
class Flag:
    """A varied parameter that cannot change anything in this design, why, and what to do."""

    parameter: str
    reason: str  # e.g. "no physician associate got a diagnosis task"
    action: str
    by_pilot: bool  # found in the pilot's runs (else from the teams alone)

    def line(self, pilot: Pilot) -> str:
        """One line for a person: the parameter, why it does nothing, what to do."""
        seen = f" in {pilot.describe()}" if self.by_pilot else ""
        return f"{self.parameter} cannot change anything in this design: {self.reason}{seen}; {self.action}"


def _most_work(key: str, spec: ParamSpec) -> Any:
    """The value of a varied parameter that gives roles the most work (None: not such a parameter)."""
    parts = tuple(key.split("."))
    high = next(
        (
            h
            for pattern, h in _MOST_WORK.items()
            if len(pattern) == len(parts) and all(p in ("*", x) for p, x in zip(pattern, parts, strict=True))
        ),
        None,
    )
    if high is None:
        return None
    if spec.range is not None:
        return spec.scale(1.0 if high else 0.0)
    numbers = [v for v in spec.values or [] if isinstance(v, int | float) and not isinstance(v, bool)]
    return (max if high else min)(numbers) if numbers else None


def _entry_posts(scenario: Scenario, name: str, source: str) -> int:
    """Posts of the team entry a key path names (by position, id or role)."""
    k = int(name) if name.isdigit() else team_index(scenario.model_dump(mode="json"), name, source)
    return scenario.team[k].count


def run_pilot(sweep: Sweep) -> Pilot:
    """Run each team of the design (the base config, or each config of a `config` axis) once, for
    PILOT_DAYS (or the design's days if fewer) on the first replicate's seed, with the varied
    parameters that give roles work at their most, and note which task types each role got and
    which roles were supervised."""
    start = time.perf_counter()
    varied = [k for k in sweep.spec.parameters if k != CONFIG_AXIS]
    most = {k: v for k in varied if (v := _most_work(k, sweep.spec.parameters[k])) is not None}
    seed = sweep.seeds[0]
    days: dict[str, int] = {}
    posts: dict[str, dict[str, int]] = {}
    tasks: dict[str, set[str]] = {}
    supervised: set[str] = set()
    reviewed: set[str] = set()
    entries: dict[str, int] = {}
    for name, data in (sweep.configs or {sweep.spec.base: sweep.base_data}).items():  # the teams run
        where = f"{sweep.path} (pilot of {name})"
        scenario = build_scenario(data, sweep.spec.set, most, sweep.spec.days, where)
        scenario = scenario.model_copy(update={"days": min(PILOT_DAYS, scenario.days)})
        model = HandoverModel(scenario, rng=seed)
        model.run()
        days[scenario.name] = scenario.days
        count: dict[str, int] = {}
        for e in scenario.team:
            count[e.role] = count.get(e.role, 0) + e.count
        posts[scenario.name] = {r: n for r, n in count.items() if n}
        for c in model.clinicians:
            tasks.setdefault(c.role_name, set()).update(c.task_types_done)
            if c.supervisor >= 0:
                supervised.add(c.role_name)
        roles = scenario.catalogue().roles
        reviewed |= {r for r, n in count.items() if n and roles[r].supervision.case_review}
        for key in varied:
            parts = key.split(".")
            if parts[0] == "team" and len(parts) == 3:
                n = _entry_posts(scenario, parts[1], where)
                entries[parts[1]] = max(entries.get(parts[1], 0), n)
    return Pilot(
        days=days,
        seed=seed,
        posts=posts,
        tasks={r: sorted(t) for r, t in sorted(tasks.items())},
        supervised=sorted(supervised),
        reviewed=sorted(reviewed),
        entries=entries,
        most_work=most,
        wall_s=time.perf_counter() - start,
    )


def _person(role: str) -> str:
    """A role's label inside a sentence: 'physician associate', 'GP partner'."""
    text = role_label(role)
    return text if text[:2].isupper() else text[0].lower() + text[1:]


def unexercised(sweep: Sweep, pilot: Pilot) -> list[Flag]:
    """Every varied parameter that no run of this design can exercise, by what the pilot saw: a
    figure of a team entry or role without posts, a supervision figure of a role nobody supervises
    (or whose tasks are not signed off), a scope figure of a task type the role never got."""
    return [Flag(key, *why) for key in sweep.spec.parameters if (why := _why_idle(key, pilot)) is not None]


def _why_idle(key: str, pilot: Pilot) -> tuple[str, str, bool] | None:
    """(reason, what to do, found by the pilot's runs) for a parameter that cannot change anything."""
    parts = key.split(".")
    if parts[0] == "team" and len(parts) == 3 and parts[2] != "count" and pilot.entries.get(parts[1]) == 0:
        why = f"team entry {parts[1]} has no posts in any team swept"
        return why, f"drop it from the spec, or vary team.{parts[1]}.count too", False
    if parts[0] != "roles" or len(parts) < 3:
        return None
    role, who = parts[1], _person(parts[1])
    if not any(role in team for team in pilot.posts.values()):
        return f"no {who} post in any team swept", f"drop it from the spec, or add {who} posts", False
    if parts[2:4] == ["supervision", "review_minutes"] and role not in pilot.reviewed:
        why = f"{who} tasks are not signed off case by case (case_review is false in the role catalogue)"
        return why, "drop it from the spec", False
    if parts[2] == "supervision" and role not in pilot.supervised:
        why = f"no {who} post has a supervisor (the role needs none, or its employer supervises it)"
        return why, "drop it from the spec", True
    if parts[2] == "scope" and parts[3] not in pilot.tasks.get(role, []):
        task = parts[3].replace("_", " ")
        do = (
            f"drop it from the spec, or give {who} posts {task} work (their team entry's tasks, the booking "
            f"rule or the edge of scope decide who gets it)"
        )
        return f"no {who} got a {task} task", do, True
    return None


def notes_for(table: pd.DataFrame, method: Method, names: list[str], flags: list[Flag]) -> dict[str, str]:
    """parameter -> what the report says of it: "no effect in this design" when every index of it
    is exactly 0 (each run it changed gave the same results), with the pilot's reason if it has one;
    a flagged parameter that did move an outcome was exercised in part of the design only."""
    cols = ["mu_star"] if method == "morris" else ["S1", "ST"]
    zero = (
        table.groupby("parameter")[cols].apply(lambda part: bool((part == 0).all().all())).to_dict()
        if not table.empty
        else {}
    )
    reasons = {f.parameter: f.reason for f in flags}
    notes = {}
    for name in names:
        if zero.get(name):
            notes[name] = NO_EFFECT + (f"; never exercised: {reasons[name]}" if name in reasons else "")
        elif name in reasons:
            notes[name] = f"exercised in part of the design only (in the pilot: {reasons[name]})"
    return notes


def run_sensitivity(
    spec_path: str | Path,
    method: Method,
    out: Path,
    workers: int | None = None,
    resume: bool = False,
    on_progress: Callable[[int, int, int], None] | None = None,
    days: int | None = None,
    replicates: int | None = None,
    backend: Backend | None = None,
    on_pilot: Callable[[Pilot, list[Flag]], None] | None = None,
) -> pd.DataFrame:
    """Run the pilot (`on_pilot` hears its flags before any run of the design starts), then the
    design; compute indices for every headline metric and write indices.csv (named with its SHA-256
    in the manifest, beside sweep.parquet, which also keeps the pilot and its flags)."""
    sweep, unit, problem = plan(spec_path, method, days, replicates)
    with writing_into(out):
        pilot = run_pilot(sweep)
        flags = unexercised(sweep, pilot)
        if on_pilot:
            on_pilot(pilot, flags)
        table = _indices_into(sweep, unit, problem, method, out, workers, resume, on_progress, backend)
        notes = notes_for(table, method, problem["names"], flags)
        if not table.empty:
            table["note"] = [notes.get(p, "") for p in table["parameter"]]
        write_csv(out / "indices.csv", table)
        data = read_manifest(out) or {}
        data["pilot"] = asdict(pilot)
        data["unexercised"] = [asdict(f) for f in flags]
        data["no_effect"] = [p for p, note in notes.items() if note.startswith(NO_EFFECT)]
        write_manifest(out / MANIFEST, data)
        vouch_for(out, ["indices.csv"])
        return table


def _indices_into(
    sweep: Sweep,
    unit: np.ndarray,
    problem: dict[str, Any],
    method: Method,
    out: Path,
    workers: int | None,
    resume: bool,
    on_progress: Callable[[int, int, int], None] | None,
    backend: Backend | None,
) -> pd.DataFrame:
    """The design's runs and indices (run_sensitivity, holding the folder's lock)."""
    result = run_sweep(sweep, out, workers=workers, resume=resume, backend=backend, on_progress=on_progress)
    if result.failed:  # indices need every design point
        raise result.failure(out)
    means = result.table.groupby("point")[list(HEADLINE)].mean().sort_index()
    parts = []
    for metric in HEADLINE:
        y = means[metric].to_numpy(dtype=float)
        if np.isnan(y).any() or np.ptp(y) == 0:
            continue  # undefined or constant output: no indices to compute
        frame = analyse(method, problem, unit, y, sweep.spec.seed)
        frame.insert(0, "metric", metric)
        frame.insert(1, "method", method)
        parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# Below this many base samples Sobol indices are rarely stable (Saltelli et al. 2010 use 500 and more).
SOBOL_MIN_SAMPLES = 500


def sobol_warnings(indices: pd.DataFrame, samples: int) -> list[str]:
    """Why Sobol indices may not be stable: a small base sample, wide intervals or total indices
    above 1 (impossible for a stable estimate)."""
    out = []
    if samples < SOBOL_MIN_SAMPLES:
        out.append(
            f"The Sobol design has {samples} base samples: indices are rarely stable below "
            f"{SOBOL_MIN_SAMPLES}; treat them as a ranking at best and rerun with more samples."
        )
    if not indices.empty and "ST" in indices:
        over = int((indices["ST"] > 1.0).sum())
        wide = int((indices["ST_conf"] > 0.1).sum())
        if over:
            out.append(f"{over} total indices exceed 1, which a stable estimate cannot: too few samples.")
        if wide:
            out.append(f"{wide} total indices have a 95% interval wider than ±0.1: too few samples.")
    return out
