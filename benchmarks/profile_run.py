"""Profile one 50,000-patient PCN-year and the share of time per mechanism (make profile).

    python benchmarks/profile_run.py [--patients N] [--days D]

Writes results/profile.prof (cProfile, open with snakeviz or pstats) and results/profile.txt: the
share of run time spent in each of the day's compiled kernels (lifecycle.py: their time includes
every mechanism they call, which compiled code does not report one by one) and in each module of
the Python that is left (own time of its functions, cProfile's tottime), then the 30 functions
with the most own time. Absolute times come from `make bench`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import scaled_config

from handover_abm import lifecycle
from handover_abm.config import scenario_from_dict
from handover_abm.model import HandoverModel

ROOT = Path(__file__).resolve().parents[1]
KERNELS = {  # the day's compiled kernels -> what they do
    "book_due": "kernel: book work due today (lifecycle.py and the mechanisms it calls)",
    "arrivals": "kernel: new episodes (lifecycle.py and the mechanisms it calls)",
    "see_patients": "kernel: see booked patients (lifecycle.py and the mechanisms it calls)",
    "close_books": "kernel: close the books (lifecycle.py, book.py)",
    "work_without_slots": "kernel: work without a slot (lifecycle.py and the mechanisms it calls)",
    "end_of_day": "kernel: free finished rows (lifecycle.py)",
}
MECHANISMS = {  # module file -> the mechanism whose room it is
    "model.py": "day schedule, state building and growth (model.py)",
    "book.py": "appointment book (book.py)",
    "booking.py": "booking rules (booking.py)",
    "preferences.py": "preferences (preferences.py)",
    "rota.py": "working patterns (rota.py)",
    "dates.py": "calendar (dates.py)",
    "handover.py": "handover loss and consequences (handover.py)",
    "supervision.py": "supervision (supervision.py)",
    "network.py": "ties (network.py)",
    "demand.py": "demand (demand.py)",
    "streams.py": "random numbers (streams.py)",
    "turnover.py": "turnover (turnover.py)",
    "state.py": "state (state.py)",
    "agents.py": "agents (agents.py)",
    "metrics.py": "metrics (metrics.py)",
}


def _timed(name: str):
    """A Python wrapper of a kernel, so that cProfile shows its time under its own name."""
    kernel = getattr(lifecycle, name)
    code = f"def {name}(*args):\n    return kernel(*args)\n"
    scope: dict = {"kernel": kernel}
    exec(compile(code, f"<kernel {name}>", "exec"), scope)
    return scope[name]


def mechanism_of(filename: str, function: str) -> str:
    """The mechanism a profiled function belongs to, from its file (a kernel: its name)."""
    if filename.startswith("<kernel "):
        return KERNELS[function]
    name = Path(filename).name
    if "handover_abm" in filename and name in MECHANISMS:
        return MECHANISMS[name]
    if "/mesa/" in filename:
        return "Mesa (event loop, DataCollector, agents)"
    if "/numpy/" in filename or filename.startswith("~"):
        return "numpy and built-ins"
    return "other"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=252)
    args = parser.parse_args()
    HandoverModel(scenario_from_dict(scaled_config(2000, 5)), rng=1).run()  # load the compiled kernels
    for name in KERNELS:
        setattr(lifecycle, name, _timed(name))
    scenario = scenario_from_dict(scaled_config(args.patients, args.days))
    model = HandoverModel(scenario, rng=1)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(model.run)
    wall = time.perf_counter() - start
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    profiler.dump_stats(out / "profile.prof")
    stats = pstats.Stats(profiler)
    shares: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        shares[mechanism_of(filename, function)] += tottime
    total = sum(shares.values())
    lines = [
        f"{args.patients:,} patients, {args.days} working days, "
        f"{int(model.totals['tasks_completed']):,} tasks, {wall:.1f} s under cProfile",
        "",
        "share of time by kernel, and by module of the Python left (own time of its functions):",
    ]
    lines += [
        f"  {share / total:6.1%}  {name}" for name, share in sorted(shares.items(), key=lambda x: -x[1])
    ]
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
    lines += ["", text.getvalue()]
    (out / "profile.txt").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[: len(shares) + 4]))
    print(f"wrote {out / 'profile.prof'} and {out / 'profile.txt'}")


if __name__ == "__main__":
    main()
