"""Verdicts in words: each config against the first, per headline outcome and per board group.

A difference is "better" or "worse" only when its paired 95% interval excludes zero; which
direction is better is the glossary's `better` (data, not code). Everything here reads a
comparison table (stats.comparison_table), so the report, terminal, dashboard and notebook API
say the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from handover_abm.dates import Calendar
from handover_abm.glossary import BOARD, METRICS, fmt, interval_diff
from handover_abm.metrics import MIN_MEASURED_DAYS, MIN_REPLICATES

if TYPE_CHECKING:
    import pandas as pd

BETTER, WORSE, SAME = "better", "worse", "no detectable difference"


@dataclass(frozen=True)
class Call:
    """One outcome of one config against the baseline config."""

    metric: str
    label: str
    verdict: str  # better / worse / no detectable difference / higher / lower (no better direction)
    mean: float
    base: float
    diff: float
    low: float
    high: float

    @property
    def text(self) -> str:
        """'Seen the same day: +3.1 [+1.2, +5.0] pts'."""
        return f"{self.label}: {interval_diff(self.metric, self.diff, self.low, self.high)}"


def call(metric: str, mean: float, base: float, diff: float, low: float, high: float) -> Call:
    """The verdict on one paired difference (interval spanning zero: no detectable difference)."""
    g = METRICS[metric]
    exact = metric == "annual_staff_cost"  # set by the team, the same in every replicate
    if math.isnan(diff) or diff == 0 or (not exact and (math.isnan(low) or low <= 0 <= high)):
        verdict = SAME
    elif g.better is None:
        verdict = "higher" if diff > 0 else "lower"
    else:
        verdict = BETTER if (diff < 0) == (g.better == "lower") else WORSE
    return Call(metric, g.label, verdict, mean, base, diff, low, high)


def calls(table: pd.DataFrame, config: str, metrics: list[str] | None = None) -> list[Call]:
    """Every call of `config` against the table's baseline, in the table's metric order."""
    part = table[table["config"] == config]
    base = table[table["config"] == table["baseline"].iloc[0]].set_index("metric")["mean"]
    out = []
    for r in part.itertuples():
        if metrics is not None and r.metric not in metrics:
            continue
        out.append(
            call(r.metric, r.mean, base.get(r.metric, math.nan), r.diff, r.diff_ci_low, r.diff_ci_high)
        )
    return out


def group_verdict(group_calls: list[Call]) -> str:
    """A board group's verdict: better/worse if every detectable difference agrees, else mixed."""
    seen = {c.verdict for c in group_calls if c.verdict in (BETTER, WORSE)}
    if not seen:
        return SAME
    return seen.pop() if len(seen) == 1 else "mixed"


@dataclass(frozen=True)
class Verdict:
    """One config against the baseline: per board group and per headline outcome."""

    config: str
    baseline: str
    groups: dict[str, tuple[str, list[Call]]]
    outcomes: list[Call]
    cost_difference: float

    def sentence(self) -> str:
        """The plain-English verdict, e.g. 'generalist against default: better on access, ...'."""
        by: dict[str, list[str]] = {}
        for group, (verdict, _) in self.groups.items():
            if group != "cost":
                by.setdefault(verdict, []).append(group)
        parts = []
        for verdict in (BETTER, WORSE, "mixed", SAME):
            if by.get(verdict):
                on = _join(by[verdict])
                parts.append(f"{verdict} on {on}" if verdict != SAME else f"no detectable difference in {on}")
        d = self.cost_difference
        cost = (
            "the same annual staff cost"
            if abs(d) < 0.5
            else f"costs {fmt('annual_staff_cost', abs(d))} a year {'more' if d > 0 else 'less'}"
        )
        return f"{self.config} against {self.baseline}: {'; '.join(parts)}; {cost}."


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def verdicts(table: pd.DataFrame) -> list[Verdict]:
    """The verdict of every config after the first against the first.

    `table` must hold the board metrics (stats.comparison_table with BOARD_METRICS).
    """
    configs = list(dict.fromkeys(table["config"]))
    baseline = configs[0]
    out = []
    for cfg in configs[1:]:
        all_calls = {c.metric: c for c in calls(table, cfg)}
        groups = {
            group: (group_verdict(gc), gc)
            for group, names in BOARD.items()
            for gc in [[all_calls[m] for m in names if m in all_calls]]
        }
        cost = all_calls.get("annual_staff_cost")
        out.append(
            Verdict(
                config=cfg,
                baseline=baseline,
                groups=groups,
                outcomes=[c for m, c in all_calls.items() if m != "annual_staff_cost"],
                cost_difference=cost.diff if cost else math.nan,
            )
        )
    return out


def warnings_for(replicates: int, days: int, warmup_days: int) -> list[str]:
    """Why intervals may not be trusted: too few replicates, or a run too short after warm-up."""
    out = []
    if replicates < 2:
        out.append(
            f"One replicate: no interval can be formed, so no difference can be called detectable. "
            f"Use {MIN_REPLICATES} or more replicates (--replicates)."
        )
    elif replicates < MIN_REPLICATES:
        out.append(
            f"Only {replicates} replicates: intervals are wide and unstable. Use {MIN_REPLICATES} or "
            f"more (--replicates) before acting on a difference."
        )
    measured = days - warmup_days
    if measured < MIN_MEASURED_DAYS:
        out.append(
            f"The measured period is {measured} working days (a run of {days} less a warm-up of "
            f"{warmup_days}): shorter than {MIN_MEASURED_DAYS}, so rates are noisy. Lengthen --days."
        )
    if warmup_days == 0:
        out.append(
            "No warm-up: the first weeks, when books start empty and the team has no working "
            "ties, are counted and flatter every team. Use --warmup-days (default 80)."
        )
    return out


def period_text(start: date, days: int, warmup_days: int, per_year: int = 252) -> str:
    """The measured period in calendar time, e.g. '4 Jun 2025 to 2 Jun 2026 (252 working days,
    1.0 years), after a warm-up of 80 working days from 6 Jan 2025'."""
    cal = Calendar(start, days)
    first, last = cal.dates[warmup_days + 1], cal.dates[days]
    measured = days - warmup_days
    text = (
        f"{first:%-d %b %Y} to {last:%-d %b %Y} ({measured} working days, "
        f"{measured / per_year:.2g} years of working days)"
    )
    if warmup_days:
        text += f", after a warm-up of {warmup_days} working days from {cal.dates[1]:%-d %b %Y}"
    return text
