"""Equivalence check for speed work: the model before and after computes the same thing.

    python benchmarks/equivalence.py [--ref REF] [--seeds 20] [--patients 8000] [--days 126]

Runs the default config (scaled to `--patients`, `--days` working days) for the same seeds with
the package as it is at git revision REF (default: the merge base with main) and as it is in
this working tree, each in its own process, and compares every headline metric
(metrics.HEADLINE) over the seeds:

- identical: every seed gives the same value in both (speed work that keeps the order of random
  draws must give this);
- equivalent: otherwise, the difference of the two means lies within the sampling interval of the
  reference mean (95% t interval half-width over the seeds);
- consistent: otherwise, the difference is within the sampling interval of a difference: the 95%
  t interval of the mean seed-by-seed (paired) difference, widened for the number of metrics
  compared (Bonferroni), so that a change that only reorders random draws fails with probability
  at most 5% over all the metrics together. The "equivalent" test alone is a fair one only for
  runs that stay closely paired: when a change reorders many draws (a new numbering of the posts,
  say) each run's result moves by its own sampling error, and the difference of two independent
  means of 20 seeds exceeds the reference's own 95% half-width about one time in seven, so that
  31 metrics would show four such "differences" by chance alone.

Exit status 0 when every metric is identical, equivalent or consistent, 1 otherwise. Prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def collect(root: Path, seeds: int, patients: int, days: int) -> dict[str, list[float]]:
    """Headline metrics per seed with the package importable here (run in a child process)."""
    import yaml

    from handover_abm.config import scenario_from_dict
    from handover_abm.metrics import HEADLINE
    from handover_abm.simulate import simulate
    from handover_abm.team import scaled

    data = scaled(yaml.safe_load((root / "configs" / "default.yaml").read_text()), patients)
    data["days"] = days
    scenario = scenario_from_dict(data)
    out: dict[str, list[float]] = {name: [] for name in HEADLINE}
    for seed in range(1, seeds + 1):
        summary = simulate(scenario, seed).summary
        for name in HEADLINE:
            out[name].append(float(summary.get(name, math.nan)))
    return out


def run_tree(src_root: Path, seeds: int, patients: int, days: int) -> dict[str, list[float]]:
    """`collect` in a fresh process importing the package from `src_root`/src."""
    env = dict(os.environ, PYTHONPATH=str(src_root / "src"))
    cmd = [sys.executable, __file__, "--collect", str(src_root), "--seeds", str(seeds)]
    cmd += ["--patients", str(patients), "--days", str(days)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def t_quantile(p: float, df: int) -> float:
    """Student t quantile."""
    from scipy import stats

    return float(stats.t.ppf(p, df))


def t975(df: int) -> float:
    """Two-sided 95% Student t quantile."""
    return t_quantile(0.975, df)


def compare(before: dict[str, list[float]], after: dict[str, list[float]]) -> list[dict[str, object]]:
    """One row per metric: means, the reference interval half-width, the family-wise interval of the
    paired difference, paired max difference, verdict."""
    rows = []
    changed = sum(
        1
        for name, ref in before.items()
        if name in after
        and not all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
            for a, b in zip(ref, after[name], strict=True)
        )
    )
    for name, ref in before.items():
        new = after.get(name)
        if new is None:
            rows.append({"metric": name, "verdict": "missing after"})
            continue
        n = len(ref)
        pairs = [(a, b) for a, b in zip(ref, new, strict=True) if not (math.isnan(a) and math.isnan(b))]
        identical = all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in pairs)
        m0, m1 = statistics.fmean(a for a, _ in pairs), statistics.fmean(b for _, b in pairs)
        half = t975(n - 1) * statistics.stdev(a for a, _ in pairs) / math.sqrt(len(pairs))
        diffs = [b - a for a, b in pairs]
        tail = 1.0 - 0.025 / max(changed, 1)  # Bonferroni over the metrics that changed
        paired = t_quantile(tail, len(pairs) - 1) * statistics.stdev(diffs) / math.sqrt(len(pairs))
        if identical:
            verdict = "identical"
        elif abs(m1 - m0) <= half:
            verdict = "equivalent"
        elif abs(m1 - m0) <= paired:
            verdict = "consistent"
        else:
            verdict = "DIFFERENT"
        rows.append(
            {
                "metric": name,
                "mean_before": m0,
                "mean_after": m1,
                "interval_half_width": half,
                "difference_half_width": paired,
                "max_paired_difference": max(abs(b - a) for a, b in pairs),
                "verdict": verdict,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ref", default=None, help="git revision of the model before (default: merge base with main)"
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--patients", type=int, default=8000)
    parser.add_argument("--days", type=int, default=126)
    parser.add_argument("--collect", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.collect:
        print(json.dumps(collect(args.collect, args.seeds, args.patients, args.days)))
        return
    git = ["git", "-C", str(ROOT)]
    ref = (
        args.ref
        or subprocess.run(
            [*git, "merge-base", "HEAD", "main"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            [*git, "archive", ref, "src", "configs"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        before = run_tree(Path(tmp), args.seeds, args.patients, args.days)
    after = run_tree(ROOT, args.seeds, args.patients, args.days)
    rows = compare(before, after)
    print(
        f"{args.seeds} seeds, default config scaled to {args.patients:,} patients x {args.days} days; "
        f"before = {ref[:10]}, after = this working tree"
    )
    print(
        f"{'metric':36s} {'mean before':>12s} {'mean after':>12s} {'95% half':>10s} {'diff half':>10s} "
        f"{'max |d|':>10s}  verdict"
    )
    for r in rows:
        if "mean_before" not in r:
            print(f"{r['metric']:36s} {r['verdict']}")
            continue
        print(
            f"{r['metric']:36s} {r['mean_before']:12.5g} {r['mean_after']:12.5g} "
            f"{r['interval_half_width']:10.3g} {r['difference_half_width']:10.3g} "
            f"{r['max_paired_difference']:10.3g}  {r['verdict']}"
        )
    verdicts = [r["verdict"] for r in rows]
    fine = ("identical", "equivalent", "consistent")
    ok = all(v in fine for v in verdicts)
    print(
        f"\n{verdicts.count('identical')} identical, {verdicts.count('equivalent')} equivalent, "
        f"{verdicts.count('consistent')} consistent, "
        f"{sum(v not in fine for v in verdicts)} different: " + ("PASS" if ok else "FAIL")
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
