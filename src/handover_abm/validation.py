"""The validation suite: checks with known answers (exact limits, the loss mechanism alone,
conservation, queueing) and pattern checks against published figures, each with the expected value,
the observed value with a confidence interval over replicates, the tolerance, and pass or fail.

`handover-abm validate-model` (and `make validate`) runs it and writes docs/VALIDATION.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from handover_abm.config import Scenario, scenario_from_dict
from handover_abm.model import HandoverModel
from handover_abm.stats import mean_ci
from handover_abm.streams import replicate_seeds


@dataclass
class Check:
    """One validation check and its verdict."""

    name: str
    expected: str
    why: str
    observed: float
    ci: tuple[float, float]
    tolerance: str
    passed: bool


@dataclass(frozen=True)
class Size:
    """How big the validation runs are (CI uses the reduced size)."""

    replicates: int
    days: int
    patients: int


FULL = Size(replicates=10, days=252, patients=20_000)
REDUCED = Size(replicates=4, days=90, patients=4_000)
NEUTRAL_LOSS = {
    "or_shared_record": 1.0,
    "or_org_boundary": 1.0,
    "or_full_tie": 1.0,
    "or_colocated": 1.0,
    "or_per_backlog_day": 1.0,
    "or_per_interruption": 1.0,
    "or_holistic": 1.0,
}


def _run(
    data: dict[str, Any], seed: int, demand: Callable[[HandoverModel], Callable[[], list]] | None = None
) -> HandoverModel:
    model = HandoverModel(scenario_from_dict(data), rng=seed)
    if demand is not None:
        model.demand.draw_day = demand(model)  # type: ignore[method-assign]
    model.run()
    return model


def _ci(values: list[float]) -> tuple[float, float, float]:
    return mean_ci(values)


def check_single_generalist(size: Size) -> Check:
    """One generalist, no supervision, no turnover: no handovers and perfect continuity."""
    data = {
        "days": size.days,
        "population": {"size": max(300, size.patients // 40), "practices": 1},
        "team": [{"role": "gp_partner", "count": 1}],
        "turnover": {"enabled": False},
    }
    worst = 0.0
    for seed in replicate_seeds(1, size.replicates):
        m = _run(data, seed)
        s = m.totals
        from handover_abm.metrics import continuity_means

        u, c, q = continuity_means([p.history for p in m.patients])
        worst = max(worst, s["handovers"], abs(1 - u), abs(1 - c), abs(1 - q))
    return Check(
        "single generalist",
        "handovers = 0 and UPC = COC = SECON = 1",
        "every task is done by the same person",
        worst,
        (worst, worst),
        "exact (0)",
        worst == 0,
    )


SPECIALIST_CHAIN = ["msk_assessment", "medication_review", "social_prescribing", "mental_health_support"]


def _chain_demand(k: int) -> Callable[[HandoverModel], Callable[[], list]]:
    def make(model: HandoverModel) -> Callable[[], list]:
        rng = model.streams["demand"].rng

        def draw() -> list:
            patients = rng.integers(0, model.population.size, size=int(rng.poisson(20)))
            return [(int(p), "chain", SPECIALIST_CHAIN[:k]) for p in patients]

        return draw

    return make


def check_specialist_chain(size: Size, k: int = 4) -> Check:
    """Episodes of k tasks, each task type done by exactly one specialist: exactly k - 1 handovers."""
    data = {
        "days": size.days,
        "population": {"size": 1000, "practices": 1},
        "turnover": {"enabled": False},
        "supervision": {"escalation_share": 0.0},
        "team": [
            {"role": "gp_partner", "count": 1, "tasks": ["escalation_review"]},
            {"role": "first_contact_physiotherapist", "count": 1, "organisation": "pcn"},
            {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
            {"role": "social_prescribing_link_worker", "count": 1, "organisation": "pcn"},
            {"role": "mental_health_practitioner", "count": 1, "organisation": "pcn"},
        ],
    }
    per_episode = []
    for seed in replicate_seeds(2, size.replicates):
        t = _run(data, seed, _chain_demand(k)).totals
        per_episode.append(t["ep_handovers"] / t["episodes_completed"])
    mean, lo, hi = _ci(per_episode)
    ok = all(v == k - 1 for v in per_episode)
    return Check(
        f"specialist chain (k = {k})",
        f"handovers per episode = {k - 1}",
        "each task goes to a different person, nothing else moves the case",
        mean,
        (lo, hi),
        "exact",
        ok,
    )


def check_loss_alone(size: Size, p: float = 0.2) -> Check:
    """Every loss factor switched off: the miscommunication rate per handover is binomial(p)."""
    data = {
        "days": size.days,
        "population": {"size": size.patients, "practices": 2},
        "handover": {"base_loss_probability": p, **NEUTRAL_LOSS},
        "team": [
            {"role": "gp_partner", "count": 3},
            {"role": "practice_nurse", "count": 3},
            {"role": "clinical_pharmacist", "count": 2, "organisation": "pcn"},
        ],
    }
    losses = handovers = 0.0
    rates = []
    for seed in replicate_seeds(3, size.replicates):
        t = _run(data, seed).totals
        lost = t["miscommunications"] - t["signoff_losses"]
        losses += lost
        handovers += t["handovers"]
        rates.append(lost / t["handovers"])
    lo, hi = stats.binom.interval(0.99, int(handovers), p)
    rate = losses / handovers
    _, clo, chi = _ci(rates)
    return Check(
        "loss mechanism alone",
        f"miscommunication rate = p = {p}",
        "with all odds ratios 1 each handover loses information with probability p",
        rate,
        (clo, chi),
        f"binomial 99% interval [{lo / handovers:.4f}, {hi / handovers:.4f}] "
        f"over {int(handovers):,} handovers",
        lo <= losses <= hi,
    )


def check_conservation(size: Size) -> Check:
    """Tasks created = completed + waiting + dropped, every day."""
    data = {
        "days": size.days,
        "population": {"size": size.patients, "practices": 2},
        "work": {"abandon_after_days": 5},
        "team": [{"role": "gp_partner", "count": 1, "fte": 0.5}, {"role": "paramedic", "count": 1}],
    }
    worst = 0
    for seed in replicate_seeds(4, size.replicates):
        f = _run(data, seed).datacollector.model_vars
        gap = (
            np.cumsum(f["tasks_created"])
            - np.cumsum(f["tasks_completed"])
            - np.asarray(f["tasks_waiting"])
            - np.cumsum(f["tasks_dropped"])
        )
        worst = max(worst, int(np.abs(gap).max()))
    return Check(
        "conservation of tasks",
        "created - completed - waiting - dropped = 0 every day",
        "no task is created or lost outside the model's accounts (an overloaded team that drops "
        "work is used)",
        worst,
        (worst, worst),
        "exact (0)",
        worst == 0,
    )


def _offered_minutes_per_day(scenario: Scenario, seed: int, days: int = 400) -> tuple[float, float]:
    """Offered work of the demand alone (Monte Carlo of the demand stream, no team): minutes per
    day and mean minutes per episode, all tasks at GP time."""
    m = HandoverModel(scenario, rng=seed)
    minutes = m.catalogue.task_types
    total = episodes = 0.0
    for _ in range(days):
        for _, _, seq in m.demand.draw_day():
            total += sum(minutes[t].minutes for t in seq)
            episodes += 1
    return total / days, total / episodes


def _gp_only(size: Size, fte: float, **extra: Any) -> dict[str, Any]:
    return {
        "days": size.days,
        "population": {"size": size.patients, "practices": 1},
        "turnover": {"enabled": False},
        "routing": {"same_session_continuation": True},
        "handover": {"p_detect": 0.0, "p_reconcile": 0.0},
        "team": [{"role": "gp_partner", "count": 1, "fte": fte}],
        **extra,
    }


def _gp_team(size: Size, load: float, **extra: Any) -> tuple[dict[str, Any], float]:
    """GP-only team whose capacity is offered work / load (reference offered work: seed 99)."""
    scenario = scenario_from_dict(_gp_only(size, 1.0))
    offered, _ = _offered_minutes_per_day(scenario, 99)
    capacity = offered / load
    fte = capacity / scenario.work.minutes_per_fte_day
    count = math.ceil(fte / 1.5)
    data = _gp_only(size, 1.0, **extra)
    data["team"] = [{"role": "gp_partner", "count": count, "fte": fte / count}]
    return data, capacity


def check_queue_light(size: Size) -> Check:
    """Capacity well above demand: waits near zero, utilisation = offered work / capacity.

    Each replicate's offered work is measured on its own demand stream (the same seed gives the same
    patients and arrivals: common random numbers), so the comparison is paired.
    """
    data, capacity = _gp_team(size, load=1 / 3)
    scenario = scenario_from_dict(data)
    diffs, util, waits = [], [], []
    for seed in replicate_seeds(5, size.replicates):
        m = _run(data, seed)
        daily = np.asarray(m.datacollector.model_vars["utilisation"], dtype=float)
        observed = float(daily[len(daily) // 2 :].mean())  # steady state: lead times filled in
        offered, _ = _offered_minutes_per_day(scenario, seed)
        util.append(observed)
        diffs.append(observed - offered / capacity)
        waits.append(m.totals["ep_wait_days"] / m.totals["episodes_completed"])
    mean, lo, hi = _ci(util)
    d_mean, d_lo, d_hi = _ci(diffs)
    tol = max(0.02, (d_hi - d_lo) / 2)
    ok = abs(d_mean) <= tol and max(waits) < 0.05
    return Check(
        "queue, capacity above demand",
        f"utilisation = offered work / capacity ({mean - d_mean:.3f}), waits ~ 0 days",
        "every task fits in the day; offered work measured on each replicate's own demand stream",
        mean,
        (lo, hi),
        f"paired difference {d_mean:+.4f}, within +-{tol:.3f}; mean wait < 0.05 days (max {max(waits):.3f})",
        ok,
    )


def _arrived_minutes_by_day(scenario: Scenario, seed: int, days: int) -> np.ndarray:
    """Minutes of work (GP time) of the episodes arriving each day: the run's own arrivals (CRN)."""
    m = HandoverModel(scenario, rng=seed)
    minutes = m.catalogue.task_types
    return np.array(
        [sum(minutes[t].minutes for _, _, seq in m.demand.draw_day() for t in seq) for _ in range(days)]
    )


def check_queue_overload(size: Size) -> Check:
    """Demand above capacity: the backlog of work grows at the rate of the excess."""
    data, capacity = _gp_team(size, load=1 / 0.6, work={"abandon_after_days": 10_000})
    scenario = scenario_from_dict(data)
    slopes, diffs = [], []
    for seed in replicate_seeds(6, size.replicates):
        m = _run(data, seed)
        f = m.datacollector.model_vars
        arrived = _arrived_minutes_by_day(scenario, seed, size.days)
        worked = np.asarray(f["utilisation"], dtype=float) * capacity
        backlog = np.cumsum(arrived - worked)  # minutes of arrived work not yet done
        start = size.days // 3  # once every episode type has work queued
        x = np.arange(size.days)[start:]
        slope = float(np.polyfit(x, backlog[start:], 1)[0])
        excess = float(arrived[start:].mean()) - capacity
        slopes.append(slope)
        diffs.append(slope / excess - 1)
    mean, lo, hi = _ci(slopes)
    d_mean, d_lo, d_hi = _ci(diffs)
    tol = max(0.1, (d_hi - d_lo) / 2)
    return Check(
        "queue, demand above capacity",
        "backlog of work grows at offered - capacity (minutes/day)",
        "a saturated server works its full capacity; arrived work measured on each replicate's own "
        "demand stream",
        mean,
        (lo, hi),
        f"relative paired difference {d_mean:+.3f}, within +-{tol:.3f} (95% CI half-width, at least 10%)",
        abs(d_mean) <= tol,
    )


def check_consultation_rate(size: Size) -> Check:
    """Pattern: patient contacts per person per year near the published consultation rate."""
    from handover_abm.config import load_scenario
    from handover_abm.metrics import summarise

    data = load_scenario("configs/default.yaml").model_dump(mode="json")
    data["days"] = size.days
    data["population"]["size"] = size.patients
    rates = [
        summarise(_run(data, s))["contacts_per_patient_year"] for s in replicate_seeds(7, size.replicates)
    ]
    mean, lo, hi = _ci(rates)
    return Check(
        "consultation rate (pattern)",
        "5.16 contacts per patient-year in 2013/14, more since",
        "Hobbs et al., Lancet 2016 (CPRD, GP and nurse consultations); default config",
        mean,
        (lo, hi),
        "4.6 to 6.5 (5.16 -10% to +25%)",
        4.6 <= mean <= 6.5,
    )


def check_gp_continuity(size: Size) -> Check:
    """Pattern: continuity with GPs, measured as Barker et al. did, near the English mean."""
    from handover_abm.config import load_scenario
    from handover_abm.metrics import summarise
    from handover_abm.team import scaled

    # One practice of the default PCN (its team scaled to 8,000 patients), a full year whatever
    # the suite's size: UPC depends on the window, and a short one overstates it.
    data = scaled(load_scenario("configs/default.yaml").model_dump(mode="json"), 8_000)
    data["days"] = 252
    values = [summarise(_run(data, s))["upc_gp_mean"] for s in replicate_seeds(11, size.replicates)]
    mean, lo, hi = _ci(values)
    return Check(
        "continuity with GPs (pattern)",
        "UPC over GP consultations 0.61 (English practices; 0.70 small, 0.59 large)",
        "Barker et al., BMJ 2017 (CPRD, 2 years); default team at one practice of 8,000 patients, "
        "first-available booking, 252 days, patients with 2+ GP contacts",
        mean,
        (lo, hi),
        "0.51 to 0.71 (0.61 +-0.10: our window is 1 year, theirs 2)",
        0.51 <= mean <= 0.71,
    )


CHECKS: list[Callable[[Size], Check]] = [
    check_single_generalist,
    check_specialist_chain,
    check_loss_alone,
    check_conservation,
    check_queue_light,
    check_queue_overload,
    check_consultation_rate,
    check_gp_continuity,
]


def run_suite(size: Size = REDUCED) -> list[Check]:
    """Run every check at the given size."""
    return [check(size) for check in CHECKS]


def report_markdown(checks: list[Check], size: Size) -> str:
    """docs/VALIDATION.md."""
    lines = [
        "# Validation",
        "",
        "Written by `make validate` (`handover-abm validate-model`); do not edit by hand. Size: "
        f"{size.replicates} replicates, {size.days} days, up to {size.patients:,} patients "
        f"({'full' if size == FULL else 'reduced'} size; `handover-abm validate-model --full` for "
        "the full size).",
        "",
        "| check | expected | why | observed [95% CI] | tolerance | result |",
        "|---|---|---|---|---|---|",
    ]
    for c in checks:
        ci = "" if c.ci[0] == c.ci[1] or any(map(math.isnan, c.ci)) else f" [{c.ci[0]:.4g}, {c.ci[1]:.4g}]"
        lines.append(
            f"| {c.name} | {c.expected} | {c.why} | {c.observed:.4g}{ci} | {c.tolerance} | "
            f"{'pass' if c.passed else '**FAIL**'} |"
        )
    passed = sum(c.passed for c in checks)
    lines += ["", f"{passed} of {len(checks)} checks pass.", ""]
    return "\n".join(lines)
