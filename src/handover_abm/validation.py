"""The validation suite: checks with known answers (exact limits, the loss mechanism alone,
conservation, the appointment book at light load and at overload) and pattern checks against
published figures, each with the expected value, the observed value with a confidence interval
over replicates, the tolerance, and pass or fail.

`handover-abm validate-model` (and `make validate`) runs it and writes docs/VALIDATION.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from handover_abm.config import Scenario, scenario_from_dict
from handover_abm.demand import arrivals_from
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
    basis: str = "verification"  # a key of BASES: what the check is evidence of


BASES = {
    "verification": (
        "Verification: the mechanisms against exact or analytic answers",
        "No published data: each check sets up a case whose answer is known and asks the model for "
        "it. Nothing was fitted to these.",
    ),
    "fitted": (
        "Fitted: targets used for calibration (in-sample)",
        "These figures are targets of the shipped calibration (experiments/calibrate_default.yaml, "
        "src/handover_abm/data/targets.yaml): `handover-abm calibrate` fits demand per long-term "
        "condition and clinical minutes per FTE day to them, and the defaults are the posterior "
        "means. A pass shows the fit holds at this size and run length, not that the model predicts them.",
    ),
    "tuned": (
        "Tuned by hand: not fitted formally, but not out-of-sample either",
        "Assumed parameters were chosen with these figures in view (each row says which), so they "
        "are not independent tests of the model.",
    ),
    "out_of_sample": (
        "Out-of-sample: published figures nothing was fitted or tuned to",
        "No parameter was fitted to or chosen for these figures: they test the model's predictions.",
    ),
}


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
    "or_different_employer": 1.0,
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
        draw = demand(model)
        model.demand.draw_day = lambda: arrivals_from(draw(), model.task_type_names)  # type: ignore[method-assign]
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

        u, c, q = continuity_means(m.histories())
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
            return [(int(p), "chain", SPECIALIST_CHAIN[:k], False) for p in patients]

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
        "continuity": {"or_receiver_knows_patient": 1.0, "or_both_know_patient": 1.0},
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
        for arrival in m.demand.draw_day().rows(m.task_type_names):
            total += sum(minutes[t].minutes for t in arrival[2])
            episodes += 1
    return total / days, total / episodes


NO_LEAVE = {f"{group}_{kind}_days": 0 for group in ("gp", "nurse", "other") for kind in ("annual", "study")}


def _gp_only(size: Size, fte: float, **extra: Any) -> dict[str, Any]:
    """GP-only team, one practice, nobody on leave, no time kept without slots, no preferences."""
    data: dict[str, Any] = {
        "days": size.days,
        "population": {"size": size.patients, "practices": 1},
        "turnover": {"enabled": False},
        "leave": NO_LEAVE,
        "work": {"non_appointment_share": 0.0},
        "routing": {"policy": "first_available", "same_session_continuation": True},
        "access": {
            "follow_up_prebooked_share": 0.0,
            "planned_lead_days": 0.0,
            "routine_choice_days": 0.0,
            **{f"dna_{band}": 0.0 for band in ("same_day", "next_day", "2_to_7_days", "8_days_or_more")},
        },
        "handover": {"p_detect": 0.0, "p_reconcile": 0.0},
        "team": [{"role": "gp_partner", "count": 1, "fte": fte, "supervises": False}],
    }
    for key, value in extra.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and key in data else value
    return data


def _gp_team(size: Size, load: float, **extra: Any) -> tuple[dict[str, Any], float]:
    """GP-only team whose capacity is offered work / load (reference offered work: seed 99)."""
    scenario = scenario_from_dict(_gp_only(size, 1.0, **extra))
    offered, _ = _offered_minutes_per_day(scenario, 99)
    capacity = offered / load
    fte = capacity / scenario.work.minutes_per_fte_day
    count = math.ceil(fte / 1.5)
    data = _gp_only(size, 1.0, **extra)
    data["team"] = [{"role": "gp_partner", "count": count, "fte": fte / count, "supervises": False}]
    return data, capacity


def check_book_light(size: Size) -> Check:
    """Capacity well above demand, no preferences, nothing booked ahead: nobody is turned away,
    every new problem is seen the day it is raised, and utilisation = offered work / capacity.

    Each replicate's offered work is measured on its own demand stream (the same seed gives the same
    patients and arrivals: common random numbers), so the comparison is paired.
    """
    data, capacity = _gp_team(size, load=1 / 3)
    scenario = scenario_from_dict(data)
    diffs, util, new_same_day, same_day, unmet, late = [], [], [], [], [], []
    for seed in replicate_seeds(5, size.replicates):
        m = _run(data, seed)
        t = m.totals
        daily = np.asarray(m.datacollector.model_vars["utilisation"], dtype=float)
        observed = float(daily[len(daily) // 2 :].mean())  # steady state: lead times filled in
        offered, _ = _offered_minutes_per_day(scenario, seed)
        util.append(observed)
        diffs.append(observed - offered / capacity)
        new_same_day.append(t["new_problem_same_day"] / t["new_problem_contacts"])
        same_day.append(m.waits[0] / t["contacts"])
        unmet.append(t["requests_unmet"])
        # a contact booked by work without a slot (a diagnosis after results) waits for the next
        # working day's book, which is at most 4 calendar days away (a bank-holiday weekend)
        late.append(sum(n for w, n in m.waits.items() if w > 4))
    mean, lo, hi = _ci(new_same_day)
    d_mean, d_lo, d_hi = _ci(diffs)
    tol = max(0.02, (d_hi - d_lo) / 2)
    ok = abs(d_mean) <= tol and min(new_same_day) == 1.0 and max(unmet) == 0 and max(late) == 0
    return Check(
        "book, capacity above demand",
        "every new problem seen the day it is raised, nobody turned away, utilisation = offered "
        f"work / capacity ({float(np.mean(util)) - d_mean:.3f})",
        "first-available booking, nothing pre-booked, no leave; offered work measured on each "
        "replicate's own demand stream",
        mean,
        (lo, hi),
        f"exact (1) with 0 requests unmet (max {max(unmet):.0f}) and no wait over 4 calendar days "
        f"(max {max(late)} contacts); all contacts same day {float(np.mean(same_day)):.3f}; "
        f"utilisation paired difference {d_mean:+.4f}, within +-{tol:.3f}",
        ok,
    )


OVERLOAD_TASK = "minor_illness"  # one task type, one contact per episode: a request is its minutes


def _single_task_demand(
    per_day: float, offered: list[float]
) -> Callable[[HandoverModel], Callable[[], list]]:
    """Poisson(per_day) one-contact episodes, urgent with the config's share; minutes are logged."""

    def make(model: HandoverModel) -> Callable[[], list]:
        rng = model.streams["demand"].rng
        share = model.config.access.urgent_share
        minutes = model.catalogue.task_types[OVERLOAD_TASK].minutes

        def draw() -> list:
            n = int(rng.poisson(per_day))
            patients = rng.integers(0, model.population.size, size=n).tolist()
            urgent = (rng.random(n) < share).tolist()
            offered.append(n * minutes)
            return [(p, OVERLOAD_TASK, [OVERLOAD_TASK], u) for p, u in zip(patients, urgent, strict=True)]

        return draw

    return make


def book_overload_runs(size: Size, load: float = 1.1, gps: int = 3) -> list[tuple[float, float]]:
    """(unmet, excess) minutes per working day in the steady state of each replicate, for a team of
    `gps` whole-time GPs offered `load` times their appointment minutes of one-contact episodes.

    Excess is the replicate's own offered minutes (common random numbers) less the appointment
    minutes of the book in whole slots (on the day, a day's on-the-day and pre-bookable minutes
    pool, and they hold a whole number of the task's slots: the remainder, up to 1-2% of the
    minutes, cannot be booked, which is 10-20% of a 10% excess); unmet is requests that went
    elsewhere times the task's minutes.
    """
    data = _gp_only(size, 1.0, population={"size": 1000})
    data["team"] = [{"role": "gp_partner", "count": gps, "fte": 1.0, "supervises": False}]
    scenario = scenario_from_dict(data)
    minutes = scenario.catalogue().task_types[OVERLOAD_TASK].minutes
    per_day = load * gps * scenario.work.minutes_per_fte_day / minutes
    out = []
    for seed in replicate_seeds(6, size.replicates):
        offered: list[float] = []
        m = _run(data, seed, _single_task_demand(per_day, offered))
        slots = np.floor(np.asarray(m.appointment_minutes) / minutes + 1e-9)
        capacity = (slots * minutes).sum(axis=0)[1 : size.days + 1]
        unmet = np.asarray(m.datacollector.model_vars["requests_unmet"], dtype=float) * minutes
        start = size.days // 3  # once the book has filled
        excess = np.asarray(offered[start:]) - capacity[start:]
        out.append((float(unmet[start:].mean()), float(excess.mean())))
    return out


def check_book_overload(size: Size) -> Check:
    """Demand 10% above capacity: the book is full and the excess goes elsewhere."""
    runs = book_overload_runs(size)
    unmet = [u for u, _ in runs]
    diffs = [u / e - 1 for u, e in runs]
    mean, lo, hi = _ci(unmet)
    d_mean, d_lo, d_hi = _ci(diffs)
    tol = max(0.1, (d_hi - d_lo) / 2)
    excess = float(np.mean([e for _, e in runs]))
    return Check(
        "book, demand 10% above capacity",
        f"unmet demand = offered - capacity ({excess:.0f} minutes/day)",
        "a full book works all its appointment minutes and every request it cannot take goes "
        "elsewhere in the end; one-contact episodes, GP-only team, offered work measured on each "
        "replicate's own demand stream",
        mean,
        (lo, hi),
        f"relative paired difference {d_mean:+.3f}, within +-{tol:.3f} (95% CI half-width, at least 10%)",
        abs(d_mean) <= tol,
    )


def check_consultation_rate(size: Size) -> Check:
    """Pattern: patient contacts per person per year near the published appointment rate."""
    from handover_abm.config import load_scenario
    from handover_abm.metrics import DEFAULT_WARMUP_DAYS
    from handover_abm.simulate import simulate
    from handover_abm.team import scaled

    # The team scaled with the population (FTE per patient kept): the published rate is what the
    # national workforce delivers, not what a team many times too big for the patients would.
    # Measured after the default warm-up, as `run` and `compare` measure: books start empty and planned
    # work is booked weeks ahead, so the first weeks deliver only part of the steady rate.
    data = scaled(load_scenario("configs/default.yaml").model_dump(mode="json"), size.patients)
    data["days"] = DEFAULT_WARMUP_DAYS + size.days
    scenario = scenario_from_dict(data)
    rates = [
        simulate(scenario, s, warmup_days=DEFAULT_WARMUP_DAYS).summary["contacts_per_patient_year"]
        for s in replicate_seeds(7, size.replicates)
    ]
    mean, lo, hi = _ci(rates)
    return Check(
        "consultation rate (pattern)",
        "5.8 appointments per patient-year in 2024 (5.16 consultations in 2013/14)",
        "Institute for Government Performance Tracker; Hobbs et al., Lancet 2016; default team scaled to "
        f"{size.patients:,} patients (FTE per patient kept), after a {DEFAULT_WARMUP_DAYS}-day warm-up. "
        "Fitted: experiments/calibrate_default.yaml calibrates demand per long-term condition and "
        "clinical minutes per FTE day to it (defaults: the posterior means)",
        mean,
        (lo, hi),
        "5.2 to 6.4",
        5.2 <= mean <= 6.4,
        "fitted",
    )


CONTINUITY_BAND = "65-79"
CONTINUITY_PATIENTS = 25_000  # half the default PCN: two practices of 12,500, the default team scaled


def _gp_histories(model: HandoverModel, band: int) -> list[list[int]]:
    """GP contacts (person ids) of the patients of one age band with 2+ GP contacts."""
    return [
        h
        for h, p in zip(model.histories(gp=True), model.patients, strict=True)
        if p.age_band == band and len(h) >= 2
    ]


@functools.cache
def _default_pcn(replicates: int) -> tuple[tuple[dict[str, float], float, float], ...]:
    """(summary, GP UPC of patients 65-79, its lift above chance) per replicate of the default PCN at
    CONTINUITY_PATIENTS over two years (504 working days): the runs the pattern checks share."""
    from handover_abm.config import load_scenario
    from handover_abm.metrics import chance_upc, mean_upc, summarise
    from handover_abm.team import scaled

    # Two years whatever the suite's size: UPC depends on the window, and a short one overstates it.
    data = scaled(load_scenario("configs/default.yaml").model_dump(mode="json"), CONTINUITY_PATIENTS)
    data["days"] = 504
    out = []
    for seed in replicate_seeds(11, replicates):
        m = _run(data, seed)
        band = [b.name for b in m.config.population.age_bands].index(CONTINUITY_BAND)
        histories = _gp_histories(m, band)
        gp_seen = m.pats.pt_gp_contacts
        practices = [p.practice for p in m.patients if p.age_band == band and gp_seen[p.index] >= 2]
        observed = mean_upc(histories)
        out.append((summarise(m), observed, observed - chance_upc(m, histories, practices, stream=98)))
    return tuple(out)


_PCN = f"default team and booking rule at {CONTINUITY_PATIENTS:,} patients, 504 working days"


def _pcn_mean(metric: str, size: Size) -> tuple[float, float, float]:
    """Mean and 95% CI of a summary metric over the default PCN's replicates (_default_pcn)."""
    return _ci([r[0][metric] for r in _default_pcn(size.replicates)])


def check_gp_continuity(size: Size) -> Check:
    """Pattern: two-year continuity with GPs of patients aged 65-79, as Barker et al. measured it,
    in the published range and clearly above the chance benchmark."""
    runs = _default_pcn(size.replicates)
    mean, lo, hi = _ci([r[1] for r in runs])
    lift, lift_lo, _ = _ci([r[2] for r in runs])
    return Check(
        "continuity with GPs (pattern)",
        f"UPC over GP contacts, patients {CONTINUITY_BAND}, 2 years: 0.61 (Barker et al.), "
        "above the chance benchmark",
        f"Barker et al., BMJ 2017 (CPRD, 2 years, patients 65-79); {_PCN}. Partly set by hand: the "
        "preference shares and the willingness to wait (assumptions) were chosen with this range in "
        "view; the lift above chance emerges from booking",
        mean,
        (lo, hi),
        f"0.55 to 0.67, and at least 0.05 above chance (observed lift {lift:+.3f}, 95% CI from "
        f"{lift_lo:+.3f})",
        0.55 <= mean <= 0.67 and lift_lo >= 0.05,
        "tuned",
    )


ACCESS_PATTERNS = [  # metric, expected, source and what was set by hand, (low, high), basis
    (
        "same_day_share",
        "38-45% of appointments on the day booked",
        "NHS England Appointments in General Practice, 2023-24 (second-hand). Partly set by hand: "
        "urgent_share and on_the_day_share (assumptions) were chosen with it in view",
        (0.35, 0.55),
        "tuned",
    ),
    (
        "over_14_days_share",
        "about 18% of appointments more than 14 days after booking",
        "NHS England Appointments in General Practice, Apr 2024 (82% within two weeks, second-hand). "
        "Fitted: a calibration target (with the consultation rate it tells more demand from more "
        "capacity); non_appointment_share and the willingness to wait, also set with it in view, "
        "are assumptions",
        (0.10, 0.28),
        "fitted",
    ),
    (
        "over_28_days_share",
        "3-4% of appointments more than 28 days after booking",
        "NHS England Appointments in General Practice, 2018 and 2022 (second-hand). Set by hand: "
        "planned_lead_days (how far ahead reviews are booked) was chosen for it",
        (0.01, 0.08),
        "tuned",
    ),
    (
        "gp_contact_share",
        "GPs 40-45% of appointments",
        "NHS England Appointments in General Practice, 2024 (second-hand). GP FTE is the national "
        "4.36 per 10,000 patients (data/workforce.yaml); set by hand: care navigation "
        "(navigation_max_edge) was chosen with it in view",
        (0.38, 0.50),
        "tuned",
    ),
    (
        "nurse_contact_share",
        "nurses 23% of appointments (sd 3 points)",
        "NHS England Appointments in General Practice, October 2024 (23.2%, second-hand). Nurse FTE "
        "is the national 2.61 per 10,000 patients (data/workforce.yaml); no parameter was fitted to "
        "or chosen for this share",
        (0.17, 0.29),
        "out_of_sample",
    ),
]


def _access_check(
    metric: str, expected: str, why: str, bounds: tuple[float, float], basis: str
) -> Callable[[Size], Check]:
    def check(size: Size) -> Check:
        mean, lo, hi = _pcn_mean(metric, size)
        return Check(
            f"{metric.replace('_', ' ')} (pattern)",
            expected,
            f"{why}; {_PCN}",
            mean,
            (lo, hi),
            f"{bounds[0]} to {bounds[1]}",
            bounds[0] <= mean <= bounds[1],
            basis,
        )

    check.__name__ = f"check_{metric}"
    return check


# Published figures (data/targets.yaml) that no calibration fits and no parameter was chosen for:
# out-of-sample. The booking-lead bands (metrics.BOOKING_LEAD_BANDS), and the share of appointments
# missed (its chances by lead band are inputs; the overall share follows from the model's leads).
# The same-day and more-than-28-day
# shares are checked above (tuned); the 14-day share is a calibration target.
OUT_OF_SAMPLE_TARGETS = (
    "lead_1_day_share",
    "lead_2_to_7_days_share",
    "lead_8_to_14_days_share",
    "lead_15_to_21_days_share",
    "lead_22_to_28_days_share",
    "over_21_days_share",
    "dna_share",
    "preferred_gp_seen",
)


def _target_check(name: str) -> Callable[[Size], Check]:
    """An out-of-sample check of the default PCN against a published figure of data/targets.yaml:
    it passes when the model's mean is within 1.96 of the figure's sd, or within 10% of it."""
    from handover_abm.targets import load_targets

    target = load_targets()[name]
    sd = target.uncertainty.sd or target.uncertainty.tolerance

    def check(size: Size) -> Check:
        mean, lo, hi = _pcn_mean(target.metric, size)
        gap = abs(mean - target.value)
        return Check(
            f"{target.name.replace('_', ' ')} (pattern)",
            f"{target.value:g} ({target.year})",
            f"{target.source.publisher}: {target.source.table}; committed before the calibration "
            f"that sets the defaults, not fitted, no parameter chosen for it; {_PCN}",
            mean,
            (lo, hi),
            f"within 1.96 sd ({1.96 * sd:.3g}) or 10% of {target.value:g}",
            gap <= 1.96 * sd or gap <= 0.1 * abs(target.value),
            "out_of_sample",
        )

    check.__name__ = f"check_{name}"
    return check


CHECKS: list[Callable[[Size], Check]] = [
    check_single_generalist,
    check_specialist_chain,
    check_loss_alone,
    check_conservation,
    check_book_light,
    check_book_overload,
    check_consultation_rate,
    check_gp_continuity,
    *(_access_check(*pattern) for pattern in ACCESS_PATTERNS),
    *(_target_check(name) for name in OUT_OF_SAMPLE_TARGETS),
]


def must_pass(check: Check) -> bool:
    """Whether a failed check is a defect that stops `validate-model` (exit 1): verification,
    fitted and tuned checks. An out-of-sample figure the model misses is a finding, reported in
    docs/VALIDATION.md with the share reproduced, never dropped to pass."""
    return check.basis != "out_of_sample"


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
    ]
    for basis, (title, text) in BASES.items():
        chosen = [c for c in checks if c.basis == basis]
        lines += ["", f"## {title}", "", text, ""]
        if not chosen:
            lines.append("None at present.")
            continue
        lines += [
            "| check | expected | why | observed [95% CI] | tolerance | result |",
            "|---|---|---|---|---|---|",
        ]
        for c in chosen:
            bare = c.ci[0] == c.ci[1] or any(map(math.isnan, c.ci))
            ci = "" if bare else f" [{c.ci[0]:.4g}, {c.ci[1]:.4g}]"
            lines.append(
                f"| {c.name} | {c.expected} | {c.why} | {c.observed:.4g}{ci} | {c.tolerance} | "
                f"{'pass' if c.passed else '**FAIL**'} |"
            )
    passed = sum(c.passed for c in checks)
    lines += ["", f"{passed} of {len(checks)} checks pass.", ""]
    unseen = [c for c in checks if c.basis == "out_of_sample"]
    if unseen:
        hits = sum(c.passed for c in unseen)
        verdict = (
            "at least two thirds"
            if 3 * hits >= 2 * len(unseen)
            else "fewer than two thirds: the model does not yet reproduce what it was not fitted to"
        )
        lines += [f"Out of sample: {hits} of {len(unseen)} figures reproduced, {verdict}.", ""]
    return "\n".join(lines)
