"""Verdicts in words: each config against the first, per headline outcome and per board group.

A difference is "better" or "worse" only when its paired 95% interval excludes zero; which
direction is better is the glossary's `better` (data, not code). Everything here reads a
comparison table (stats.comparison_table), so the report, terminal, dashboard and notebook API
say the same thing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from handover_abm.dates import Calendar
from handover_abm.glossary import BOARD, METRICS, fmt, interval_diff
from handover_abm.metrics import MIN_MEASURED_DAYS, MIN_REPLICATES

if TYPE_CHECKING:
    import pandas as pd

    from handover_abm.config import Scenario

BETTER, WORSE, SAME = "better", "worse", "no detectable difference"

# A team "does not keep up with demand" when its work waiting grows over the measured period by more
# than this share of its mean level a month, with the 95% interval of the growth over replicates
# above zero. 2.5% a month compounds to a third more work waiting in a year (1.025^12 = 1.34): a
# queue no planner would call steady. Assumption; plausible range 1-5% a month.
KEEP_UP_SHARE_PER_MONTH = 0.025
# Growth below that, but above this share a month with its interval above zero, still gets a note
# that the team has not settled: 0.5% a month is 6% a year. Assumption; plausible range 0.25-1%.
SETTLED_SHARE_PER_MONTH = 0.005


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


# Outcomes set by the team, the same in every replicate (no interval), and the difference below
# which two teams count as the same: half the precision in which configs give them (FTE per post to
# three decimals, e.g. 0.872; costs to the pound), so that rounding is never a verdict.
EXACT_TOLERANCE = {"annual_staff_cost": 0.5, "team_fte": 0.005}


def call(metric: str, mean: float, base: float, diff: float, low: float, high: float) -> Call:
    """The verdict on one paired difference (interval spanning zero: no detectable difference)."""
    g = METRICS[metric]
    exact = metric in EXACT_TOLERANCE
    rounding = exact and abs(diff) < EXACT_TOLERANCE[metric]
    if rounding or math.isnan(diff) or diff == 0 or (not exact and (math.isnan(low) or low <= 0 <= high)):
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


def _about(x: float) -> str:
    """A number to two significant figures, e.g. 926.3 -> '930', 0.4567 -> '0.46'."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{float(f'{x:.2g}'):,.{max(0, 1 - math.floor(math.log10(abs(x))))}f}"


@dataclass(frozen=True)
class Backlog:
    """Whether a config's work waiting settled over the measured period: its growth a month (mean
    and 95% interval over replicates) against its mean level (from a comparison table)."""

    config: str
    growth: float  # tasks a month
    low: float
    high: float
    level: float  # tasks waiting at the end of a day, mean over the period

    @property
    def share(self) -> float:
        """Growth a month as a share of the mean level of work waiting."""
        return self.growth / self.level if self.level > 0 else math.nan

    @property
    def rising(self) -> bool:
        """The growth interval lies above zero (with one replicate, no interval: the mean does)."""
        return (self.growth if math.isnan(self.low) else self.low) > 0

    @property
    def keeps_up(self) -> bool:
        """False when work waiting grows by more than KEEP_UP_SHARE_PER_MONTH of its level a month."""
        return not (self.rising and self.share > KEEP_UP_SHARE_PER_MONTH)

    @property
    def settled(self) -> bool:
        """False when work waiting still grows by more than SETTLED_SHARE_PER_MONTH a month."""
        return not (self.rising and self.share > SETTLED_SHARE_PER_MONTH)

    def growth_text(self) -> str:
        """'waiting work grows by about 920 tasks a month (95% interval 830 to 1,000; 4.9% of its mean
        level of 19,000 tasks)'."""
        if math.isnan(self.low):
            spread = "one replicate, no interval"
        else:
            spread = f"95% interval {_about(self.low)} to {_about(self.high)}"
        return (
            f"waiting work grows by about {_about(self.growth)} tasks a month ({spread}; "
            f"{100 * self.share:.1f}% of its mean level of {_about(self.level)} tasks)"
        )

    def note(self) -> str | None:
        """What a reader must be told, if anything: the team does not keep up, or has not settled."""
        if not self.keeps_up:
            return (
                f"{self.config}: {self.growth_text()}: this team does not keep up with demand; "
                "results depend on how long it runs."
            )
        if not self.settled:
            return (
                f"{self.config}: {self.growth_text()}, below the {100 * KEEP_UP_SHARE_PER_MONTH:g}% a "
                "month taken as not keeping up with demand, but it has not settled after the warm-up: "
                "results depend somewhat on how long it runs."
            )
        return None


def backlogs(table: pd.DataFrame) -> dict[str, Backlog]:
    """Each config's Backlog, from a comparison table holding the growth and the mean level of work
    waiting (an empty mapping for a table without them, e.g. of an older output folder)."""
    by = table.set_index(["config", "metric"])
    out = {}
    for cfg in dict.fromkeys(table["config"]):
        if (cfg, "waiting_growth_per_month") in by.index and (cfg, "waiting_mean") in by.index:
            g = by.loc[(cfg, "waiting_growth_per_month")]
            level = float(by.loc[(cfg, "waiting_mean"), "mean"])
            out[cfg] = Backlog(cfg, float(g["mean"]), float(g["ci_low"]), float(g["ci_high"]), level)
    return out


def keep_up_notes(table: pd.DataFrame) -> list[str]:
    """One note per config whose work waiting does not settle (Backlog.note), in table order."""
    return [n for b in backlogs(table).values() if (n := b.note()) is not None]


@dataclass(frozen=True)
class Verdict:
    """One config against the baseline: per board group and per headline outcome, and which of the
    two does not keep up with demand (its access then depends on how long the runs are)."""

    config: str
    baseline: str
    groups: dict[str, tuple[str, list[Call]]]
    outcomes: list[Call]
    cost_difference: float
    behind: tuple[Backlog, ...] = ()

    def group_note(self, group: str) -> str:
        """What the board's row of `group` adds to its verdict: for access, who does not keep up."""
        if group != "access":
            return ""
        return "; ".join(
            f"{b.config} does not keep up with demand (waiting work grows by about "
            f"{_about(b.growth)} tasks a month)"
            for b in self.behind
        )

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
        behind = "".join(
            f" {b.config} does not keep up with demand: waiting work grows by about "
            f"{_about(b.growth)} tasks a month, so its access depends on how long it runs."
            for b in self.behind
        )
        return f"{self.config} against {self.baseline}: {'; '.join(parts)}; {cost}.{behind}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def verdicts(table: pd.DataFrame) -> list[Verdict]:
    """The verdict of every config after the first against the first.

    `table` must hold the board metrics (stats.comparison_table with BOARD_METRICS).
    """
    configs = list(dict.fromkeys(table["config"]))
    baseline = configs[0]
    queues = backlogs(table)
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
                behind=tuple(queues[c] for c in (cfg, baseline) if c in queues and not queues[c].keeps_up),
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


def measured_text(scenario: Scenario, warmup_days: int, replicates: int, seeds: str) -> str:
    """What a set of results measured, said wherever they are shown: 'Measured: 4 Jun 2025 to ...;
    5 replicates per team on the same simulated patients, root seed 0.' (`seeds` names the seeds)."""
    period = period_text(
        scenario.calendar.start_date, scenario.days, warmup_days, scenario.working_days_per_year
    )
    runs = "1 replicate per team" if replicates == 1 else f"{replicates} replicates per team"
    return f"Measured: {period}; {runs} on the same simulated patients, {seeds}."


# How many replicate seeds a text lists before it stops ('seeds 1, 2, 3, 4, 5, ...').
SEEDS_SHOWN = 5


def seeds_text(seeds: Sequence[int], root_seed: int | None = None) -> str:
    """'root seed 0' when the replicate seeds derive from `root_seed` (streams.replicate_seeds, as
    every command does unless given --seeds), else the seeds themselves."""
    from handover_abm.streams import replicate_seeds

    seeds = list(seeds)
    if root_seed is not None and (not seeds or seeds == replicate_seeds(root_seed, len(seeds))):
        return f"root seed {root_seed}"
    more = ", ..." if len(seeds) > SEEDS_SHOWN else ""
    return f"seeds {', '.join(map(str, seeds[:SEEDS_SHOWN]))}{more}"
