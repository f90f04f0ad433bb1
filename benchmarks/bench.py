"""Benchmark: task throughput against bare SimPy and Ciw queues, scaling with population, peak
memory, a calibration-sized run, sweep scaling on 2 workers and the Dask backend.

    python benchmarks/bench.py              # everything but 1M (make bench); results/bench.json + .png
    python benchmarks/bench.py --million    # also 1,000,000 patients (several minutes, a few GiB)
    python benchmarks/bench.py --one N      # one size in this process (used internally, fresh RSS)
    python benchmarks/bench.py --simpy      # only the throughput ratios to SimPy and Ciw

Absolute times vary between machines (and between runs on a shared machine): the ratios, each
measured within one process run of this script, are the figures to compare. Every timed figure is
repeated; the minimum (least disturbed) and the median are kept, and checks use the minimum.

Each population size runs in a fresh process (so peak RSS is that size's) after a short warm-up,
simulating a PCN-year (252 working days) of the default team mix scaled to the population.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from handover_abm.team import scaled

ROOT = Path(__file__).resolve().parents[1]
DAYS = 252  # a PCN-year of working days
SIZES = [5_000, 10_000, 25_000, 50_000, 100_000]
MILLION = 1_000_000
REPEATS = 3
SIZE_REPEATS = 5  # rounds of the scaling runs: their ratios have a margin of a few per cent
DEFAULT = ROOT / "configs" / "default.yaml"
CALIBRATION = (8_000, 126)  # one practice over the calibration window (docs/calibration.md)
# A sweep's realistic run: half a PCN (three practices) over a year, about 0.6 s now. The
# 10,000-patient, 120-day runs used before took 0.6 s when the life cycle was interpreted and
# take 0.1 s compiled: too short for a study, and short enough for a scheduler's fixed cost per
# run to dominate the comparison of backends.
SWEEP_RUN = (25_000, 252)
# name -> (target, "min" when the figure must be at least the target, "max" at most; the aim)
TARGETS: dict[str, tuple[float, str, float | None]] = {
    "throughput_vs_simpy": (1.0, "min", 2.0),
    "throughput_vs_ciw": (2.0, "min", None),
    "ratio_100k_50k": (2.05, "max", None),
    "ratio_1m_100k": (10.5, "max", None),
    "rss_100k_mib": (1024.0, "max", None),
    "rss_1m_mib": (8192.0, "max", None),
    "collect_share": (0.10, "max", None),
    "sweep_speedup_2_workers": (1.9, "min", None),
    "dask_over_processes_realistic": (1.1, "max", None),
}
SIMPY_SERVERS = 30  # M/M/30 at utilisation 0.8: a bare queue with as many tasks as the model does
CIW_MAX_CUSTOMERS = 100_000  # Ciw is timed on at most this many customers and compared per task


def scaled_config(patients: int, days: int = DAYS) -> dict:
    """The default config scaled in proportion to the population: more practices of the same size
    (8,000 patients each) and every team entry's posts scaled by the same factor."""
    data = scaled(yaml.safe_load(DEFAULT.read_text()), patients)
    data["days"] = days
    return data


def spread(values: list[float]) -> dict[str, float]:
    """Minimum and median of repeated timings."""
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def one(patients: int, days: int) -> dict:
    """Time one run of `patients` for `days` in this process."""
    from mesa.datacollection import DataCollector

    from handover_abm.config import scenario_from_dict
    from handover_abm.simulate import simulate

    simulate(scenario_from_dict(scaled_config(2000, 10)), 1)  # warm-up: imports, caches
    spent = [0.0]
    original = DataCollector.collect

    def timed(self, model):
        t = time.perf_counter()
        original(self, model)
        spent[0] += time.perf_counter() - t

    DataCollector.collect = timed
    scenario = scenario_from_dict(scaled_config(patients, days))
    start = time.perf_counter()
    cpu = time.process_time()
    out = simulate(scenario, 1)
    wall = time.perf_counter() - start
    tasks = out.summary["tasks_completed"]
    return {
        "patients": patients,
        "days": days,
        "wall_s": round(wall, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
        "tasks": int(tasks),
        "tasks_per_s": round(tasks / wall),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "collect_s": round(spent[0], 4),
        "collect_share": round(spent[0] / wall, 4),
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB: Linux's VmHWM, which starts afresh at exec.

    getrusage's ru_maxrss does not: a child started by fork and exec reports its parent's peak
    when that was higher (the bench process itself holds a few hundred MiB by then).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clocked(fn: Callable[..., object], *args: object) -> tuple[float, float]:
    """(wall s, CPU s of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def simpy_mmc(n_tasks: int, servers: int = SIMPY_SERVERS, rho: float = 0.8, seed: int = 1) -> None:
    """A bare SimPy M/M/c queue serving `n_tasks` customers (the reference)."""
    import random

    import simpy

    rnd = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    mu = 1.0
    lam = rho * servers * mu

    def customer(env: simpy.Environment):
        with desk.request() as req:
            yield req
            yield env.timeout(rnd.expovariate(mu))

    def source(env: simpy.Environment):
        for _ in range(n_tasks):
            env.process(customer(env))
            yield env.timeout(rnd.expovariate(lam))

    env.process(source(env))
    env.run()


def ciw_mmc(n_tasks: int, servers: int = SIMPY_SERVERS, rho: float = 0.8, seed: int = 1) -> None:
    """A bare Ciw M/M/c queue serving `n_tasks` customers (the second reference)."""
    import ciw

    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rho * servers)],
        service_distributions=[ciw.dists.Exponential(rate=1.0)],
        number_of_servers=[servers],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(n_tasks, method="Finish")


def throughput_ratio(patients: int = 50_000, days: int = DAYS, repeats: int = REPEATS) -> dict:
    """Model tasks/s over bare SimPy and Ciw tasks/s, timed in turn in this one process.

    Ratios use CPU time of this process (robust to other jobs on a shared machine); wall-clock
    ratios are kept beside them. Ciw serves at most CIW_MAX_CUSTOMERS (its cost per customer is
    constant), so its figure is per task.
    """
    from handover_abm.config import scenario_from_dict
    from handover_abm.simulate import simulate

    simulate(scenario_from_dict(scaled_config(2000, 10)), 1)  # warm-up
    scenario = scenario_from_dict(scaled_config(patients, days))
    tasks = int(simulate(scenario, 1).summary["tasks_completed"])
    ciw_n = min(tasks, CIW_MAX_CUSTOMERS)
    model, sim, ciw = [], [], []
    for _ in range(repeats):
        model.append(clocked(simulate, scenario, 1))
        sim.append(clocked(simpy_mmc, tasks))
        ciw.append(tuple(t * tasks / ciw_n for t in clocked(ciw_mmc, ciw_n)))
    out: dict = {"patients": patients, "days": days, "tasks": tasks, "ciw_customers": ciw_n}
    for clock, k in (("cpu", 1), ("wall", 0)):
        m, q, c = ([r[k] for r in rows] for rows in (model, sim, ciw))
        out[f"model_{clock}_s"], out[f"simpy_{clock}_s"], out[f"ciw_{clock}_s"] = (
            spread(m),
            spread(q),
            spread(c),
        )
        out[f"throughput_vs_simpy_{clock}"] = round(min(q) / min(m), 3)
        out[f"throughput_vs_ciw_{clock}"] = round(min(c) / min(m), 3)
    out["throughput_vs_simpy"] = out["throughput_vs_simpy_cpu"]
    out["throughput_vs_ciw"] = out["throughput_vs_ciw_cpu"]
    return out


def calibration_run(repeats: int = 5) -> dict:
    """Seconds of one calibration-sized run (one practice over the calibration window)."""
    from handover_abm.config import scenario_from_dict
    from handover_abm.simulate import simulate

    patients, days = CALIBRATION
    scenario = scenario_from_dict(scaled_config(patients, days))
    simulate(scenario, 0)  # warm-up
    times = [clocked(simulate, scenario, seed) for seed in range(1, repeats + 1)]
    return {
        "patients": patients,
        "days": days,
        "run_s": spread([t[0] for t in times]),
        "run_cpu_s": spread([t[1] for t in times]),
    }


def sized(sizes: list[int], days: int, repeats: int) -> list[dict]:
    """Runs of each size, each in a fresh process, in rounds (every size once a round), so that a
    slow spell of a shared machine falls on all sizes alike; per size the row of the fastest, with
    min and median wall and CPU time."""
    tries: dict[int, list[dict]] = {n: [] for n in sizes}
    for _ in range(repeats):
        for n in sizes:
            res = subprocess.run(
                [sys.executable, __file__, "--one", str(n), "--days", str(days)],
                capture_output=True,
                text=True,
                check=True,
            )
            tries[n].append(json.loads(res.stdout.strip().splitlines()[-1]))
    rows = []
    for n in sizes:
        row = dict(min(tries[n], key=lambda r: r["wall_s"]))
        row["wall"] = spread([r["wall_s"] for r in tries[n]])
        row["cpu"] = spread([r["cpu_s"] for r in tries[n]])
        rows.append(row)
    return rows


def _sweep_time(runs: int, patients: int, days: int, backend: str, workers: int) -> float:
    from handover_abm.backends import open_backend
    from handover_abm.sweep import load_sweep, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.yaml"
        base.write_text(yaml.safe_dump(scaled_config(patients, days)))
        spec = {
            "name": "bench",
            "base": "base.yaml",
            "replicates": runs,
            "parameters": {"routing.policy": {"values": ["preferred_within"]}},
        }
        (Path(tmp) / "spec.yaml").write_text(yaml.safe_dump(spec))
        plan = load_sweep(Path(tmp) / "spec.yaml")
        with open_backend(backend, workers) as opened:
            warm = load_sweep(Path(tmp) / "spec.yaml", replicates=2 * workers)
            run_sweep(warm, Path(tmp) / "warm", backend=opened)  # worker start-up and imports, untimed
            start = time.perf_counter()
            run_sweep(plan, Path(tmp) / "out", backend=opened)
            return time.perf_counter() - start


def sweeps(repeats: int = 3) -> dict:
    """2 workers against 1, and Dask against local processes, on realistic runs (SWEEP_RUN), in
    rounds (each backend once a round) so that a slow spell of the machine falls on all alike."""
    patients, days = SWEEP_RUN
    one_w, two_w, dask = [], [], []
    for _ in range(repeats):
        one_w.append(_sweep_time(20, patients, days, "processes", 1))
        two_w.append(_sweep_time(20, patients, days, "processes", 2))
        dask.append(_sweep_time(20, patients, days, "dask", 2))
    return {
        "sweep_20_runs_1_worker_s": spread(one_w),
        "sweep_20_runs_2_workers_s": spread(two_w),
        "sweep_20_runs_dask_2_workers_s": spread(dask),
        "sweep_speedup_2_workers": round(min(one_w) / min(two_w), 2),
        "dask_over_processes_realistic": round(min(dask) / min(two_w), 2),
    }


def cpu_ratio(big: dict, small: dict) -> float:
    """Ratio of the fastest CPU times of two sizes (wall-clock ratios are in bench.json's rows)."""
    return round(big["cpu"]["min"] / small["cpu"]["min"], 2)


def check(name: str, value: float | None) -> dict:
    """A figure beside its target: met, not met, or not measured."""
    target, kind, aim = TARGETS[name]
    met = None if value is None else (value >= target if kind == "min" else value <= target)
    return {"value": value, "target": target, "kind": kind, "aim": aim, "met": met}


def main(million: bool) -> None:
    ratio = throughput_ratio()
    print(
        f"{ratio['patients']:,} patients x {ratio['days']} days: {ratio['tasks']:,} tasks. "
        f"CPU s (min, median): model "
        f"{ratio['model_cpu_s']}, bare SimPy M/M/{SIMPY_SERVERS} {ratio['simpy_cpu_s']}, bare Ciw "
        f"{ratio['ciw_cpu_s']} (per task, {ratio['ciw_customers']:,} customers); wall-clock ratios "
        f"{ratio['throughput_vs_simpy_wall']} (SimPy), {ratio['throughput_vs_ciw_wall']} (Ciw)\n"
    )
    calib = calibration_run()
    print(
        f"calibration-sized run ({calib['patients']:,} patients, {calib['days']} days): "
        f"wall {calib['run_s']} s, CPU {calib['run_cpu_s']} s (min, median)"
    )
    head = ("patients", "days", "min s", "median s", "min cpu s", "tasks/s", "peak MiB", "collect")
    print("\n" + " ".join(f"{h:>9}" for h in head))
    rows = sized(SIZES + ([MILLION] if million else []), DAYS, SIZE_REPEATS)
    for row in rows:
        wall = row["wall"]
        print(
            f"{row['patients']:>9,} {row['days']:>9} {wall['min']:>9.2f} {wall['median']:>9.2f} "
            f"{row['cpu']['min']:>9.2f} "
            f"{row['tasks_per_s']:>9,} {row['peak_rss_mib']:>9.0f} {row['collect_share']:>9.1%}"
        )
    by = {r["patients"]: r for r in rows}
    sw = sweeps()
    speedup = sw["sweep_speedup_2_workers"]
    calib["runs_per_minute_2_cores"] = round(60.0 / calib["run_cpu_s"]["min"] * speedup, 1)
    print(f"\ncalibration-sized runs per minute on 2 cores: {calib['runs_per_minute_2_cores']}")
    for k, v in sw.items():
        print(f"{k:32s} {v}")
    m = by.get(MILLION)
    half, big = by[SIZES[-2]], by[SIZES[-1]]  # 50,000 and 100,000 patients
    checks = {
        "throughput_vs_simpy": check("throughput_vs_simpy", ratio["throughput_vs_simpy"]),
        "throughput_vs_ciw": check("throughput_vs_ciw", ratio["throughput_vs_ciw"]),
        "ratio_100k_50k": check("ratio_100k_50k", cpu_ratio(big, half)),
        "ratio_1m_100k": check("ratio_1m_100k", cpu_ratio(m, big) if m else None),
        "rss_100k_mib": check("rss_100k_mib", big["peak_rss_mib"]),
        "rss_1m_mib": check("rss_1m_mib", m["peak_rss_mib"] if m else None),
        "collect_share": check("collect_share", max(r["collect_share"] for r in rows)),
        "sweep_speedup_2_workers": check("sweep_speedup_2_workers", speedup),
        "dask_over_processes_realistic": check(
            "dask_over_processes_realistic", sw["dask_over_processes_realistic"]
        ),
    }
    print(
        "\nAbsolute times vary between machines; the ratios below are the figures to compare "
        "(CPU time of the process, so that other jobs on a shared machine disturb them less)."
    )
    for name, c in checks.items():
        sign = ">=" if c["kind"] == "min" else "<="
        aim = f" (aim {c['aim']})" if c["aim"] else ""
        status = "not measured (--million)" if c["met"] is None else "met" if c["met"] else "NOT MET"
        print(f"{name:30s} {c['value']!s:>9}  target {sign} {c['target']!s:<6}{aim:11s} {status}")
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(
        json.dumps(
            {"rows": rows, "throughput": ratio, "calibration": calib, "sweeps": sw, "checks": checks},
            indent=2,
        )
        + "\n"
    )
    _plot(rows, out / "bench.png")
    print(f"\nwrote {out / 'bench.json'} and {out / 'bench.png'}")


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["patients"] for r in rows]
    t = [r["wall_s"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.loglog(n, t, "o-", color="#0072B2", label="measured (fastest of the repeats)")
    ax.loglog(n, [t[0] * x / n[0] for x in n], "--", color="grey", label="linear from the smallest")
    ax.set_xlabel("registered patients (team scaled in proportion)")
    ax.set_ylabel(f"wall time for {DAYS} working days (s)")
    ax.set_title("Scaling of one run with population")
    ax.legend(frameon=False)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", type=int)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--simpy", action="store_true")
    parser.add_argument("--million", action="store_true", help="also time 1,000,000 patients (in each round)")
    args = parser.parse_args()
    if args.simpy:
        print(json.dumps(throughput_ratio()))
    elif args.one:
        print(json.dumps(one(args.one, args.days)))
    else:
        main(args.million)
