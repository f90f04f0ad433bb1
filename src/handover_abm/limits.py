"""Upper bounds on every size and count a user can type, checked before anything is allocated or
started.

Each bound is far above what a study of primary care networks needs, and keeps a typo (an extra
zero in `--draws`, a design of a billion points) from asking for more memory, time or processes
than a machine has. One list: config schemas, specs, the command line, the API and
docs/parameters.md (through `BOUNDS`) all read these names.
"""

from __future__ import annotations

import os

from handover_abm.errors import ConfigError

# A config's sizes (a run takes about 2 KiB of memory per patient): a whole integrated care board,
# decades of working days.
MAX_POPULATION = 5_000_000  # patients
MAX_PRACTICES = 10_000  # member practices
MAX_DAYS = 5_000  # working days of one run (warm-up included)
MAX_POSTS = 5_000  # posts in one team entry, and in the whole team
# How many runs a study asks for. Seeds are allocated up front; run and compare hold every run's
# outcomes in memory until they are written.
MAX_REPLICATES = 10_000  # runs per config or design point: replicates, or draws x seeds per draw
MAX_DRAWS = 5_000  # posterior draws (each needs at least 2 seeds: 10,000 runs per config)
MAX_HELD_RUNS = 20_000  # runs of one run, compare or dashboard comparison (configs x replicates)
MAX_RUNS = 10_000_000  # runs of one sweep, sensitivity analysis or explain (written as they finish)
MAX_STEPS = 10_000  # grid points of one swept parameter
MAX_CALIBRATION_POINTS = 1_000_000  # parameter points a calibration may try (particles x generations, trials)
MAX_WORKERS_PER_CORE = 4  # local worker processes per core (each holds a model's memory)
MAX_SEED = 2**63 - 1  # seeds are stored in 64-bit signed integer columns
# YAML input files (configs, specs, targets, groups): the largest shipped file is a few kB.
MAX_YAML_BYTES = 10 * 2**20  # bytes of one file
MAX_YAML_DEPTH = 32  # levels of nested lists and mappings
MAX_YAML_VALUES = 1_000_000  # values, counting each alias (*name) as often as it is used

# (name, bound, what it bounds) for docs/parameters.md
BOUNDS: tuple[tuple[str, int, str], ...] = (
    ("population.size", MAX_POPULATION, "patients"),
    ("population.practices", MAX_PRACTICES, "member practices"),
    ("days", MAX_DAYS, "working days of one run, warm-up included"),
    ("team[].count", MAX_POSTS, "posts in one team entry, and in the whole team"),
    (
        "--replicates",
        MAX_REPLICATES,
        "runs per config or design point (with --posterior: draws x seeds per draw)",
    ),
    ("--draws", MAX_DRAWS, "posterior draws (and a calibration's predictive_draws)"),
    ("configs x replicates", MAX_HELD_RUNS, "runs of one `run`, `compare` or dashboard comparison"),
    ("runs of a study", MAX_RUNS, "runs of one sweep, sensitivity analysis or explain"),
    ("steps", MAX_STEPS, "grid points of one swept parameter"),
    (
        "calibration points",
        MAX_CALIBRATION_POINTS,
        "points one calibration may try (ABC particles x generations, or Optuna trials)",
    ),
    ("--workers", MAX_WORKERS_PER_CORE, "local worker processes per core of the machine"),
    ("--seed, --seeds", MAX_SEED, "seeds (2^63 - 1: they are stored as 64-bit integers)"),
    ("YAML file size", MAX_YAML_BYTES, "bytes of one config, spec, targets or groups file"),
    ("YAML nesting", MAX_YAML_DEPTH, "levels of nested lists and mappings in a YAML file or --set value"),
    ("YAML values", MAX_YAML_VALUES, "values in a YAML file, each alias (*name) counted as often as used"),
)


def cores() -> int:
    """How many cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def check_workers(workers: int | None, option: str = "--workers") -> int | None:
    """`workers` if it is at least 1 and at most MAX_WORKERS_PER_CORE per core, else ConfigError."""
    if workers is None:
        return None
    most = MAX_WORKERS_PER_CORE * cores()
    if not 1 <= workers <= most:
        raise ConfigError(
            f"{option} {workers}: allowed 1 to {most:,} local worker processes ({MAX_WORKERS_PER_CORE} per "
            f"core, {cores()} core(s) here; each worker holds a model's memory)"
        )
    return workers


def check_seed(seed: int, option: str = "--seed") -> int:
    """`seed` if it is a non-negative integer of at most MAX_SEED, else ConfigError."""
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{option} {seed}: allowed 0 to {MAX_SEED:,} (2^63 - 1)")
    return seed


def check_held_runs(configs: int, per_config: int) -> None:
    """Refuse a run, compare or dashboard comparison of more than MAX_HELD_RUNS runs."""
    check_count(
        f"{configs} config(s) x {per_config:,} replicate(s)",
        configs * per_config,
        MAX_HELD_RUNS,
        "use fewer configs, replicates or draws (every run's outcomes are held in memory until written)",
    )


def check_count(what: str, runs: int, most: int, fewer: str) -> None:
    """Refuse a study of more than `most` runs before any of it is built; `fewer` says what to cut
    (an instruction: "use fewer ...")."""
    if runs > most:
        raise ConfigError(f"{what} = {runs:,} runs, more than the {most:,} allowed; {fewer}")
