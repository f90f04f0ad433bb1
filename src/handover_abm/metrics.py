"""Continuity indices and the run summary (headline metrics with units).

Continuity, for one patient with n >= 2 contacts, n_j of them with clinician j, and s
consecutive pairs of contacts with the same clinician (MODEL.md; Bice & Boxerman 1977;
Breslau & Reeb 1975; Steinwachs 1979):
    UPC   = max_j n_j / n
    COC   = (sum_j n_j^2 - n) / (n (n - 1))
    SECON = s / (n - 1)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from handover_abm.team import annual_cost, total_fte

if TYPE_CHECKING:
    from handover_abm.agents import Clinician
    from handover_abm.model import HandoverModel


def upc(contacts: Sequence[Hashable]) -> float:
    """Usual Provider of Care index: share of contacts with the most-seen clinician."""
    n = len(contacts)
    if n < 2:
        raise ValueError("UPC needs at least 2 contacts")
    return max(Counter(contacts).values()) / n


def coc(contacts: Sequence[Hashable]) -> float:
    """Bice-Boxerman Continuity of Care index."""
    n = len(contacts)
    if n < 2:
        raise ValueError("COC needs at least 2 contacts")
    return (sum(k * k for k in Counter(contacts).values()) - n) / (n * (n - 1))


def secon(contacts: Sequence[Hashable]) -> float:
    """Sequential continuity: share of consecutive contact pairs with the same clinician."""
    n = len(contacts)
    if n < 2:
        raise ValueError("SECON needs at least 2 contacts")
    return sum(a == b for a, b in pairwise(contacts)) / (n - 1)


# The booking-lead bands of NHS England's Appointments in General Practice (calendar days from
# booking to appointment, "Same Day" to "More than 28 Days"): (metric, first day, last day or None
# for no end, the band as published). The model's day 0 is the day of the request; a contact
# booked ahead at a previous contact counts from that day, as a booking does.
BOOKING_LEAD_BANDS: tuple[tuple[str, int, int | None, str], ...] = (
    ("same_day_share", 0, 0, "Same Day"),
    ("lead_1_day_share", 1, 1, "1 Day"),
    ("lead_2_to_7_days_share", 2, 7, "2 to 7 Days"),
    ("lead_8_to_14_days_share", 8, 14, "8 to 14 Days"),
    ("lead_15_to_21_days_share", 15, 21, "15 to 21 Days"),
    ("lead_22_to_28_days_share", 22, 28, "22 to 28 Days"),
    ("over_28_days_share", 29, None, "More than 28 Days"),
)


def in_band(days: int, first: int, last: int | None) -> bool:
    """Whether `days` lies in the band `first` to `last` (no end when `last` is None)."""
    return days >= first and (last is None or days <= last)


def band_share(waits: Counter[int], first: int, last: int | None, contacts: float) -> float:
    """Share of `contacts` seen `first` to `last` calendar days after the request (no end when
    `last` is None), from `waits` (calendar days -> contacts)."""
    return _ratio(sum(n for d, n in waits.items() if in_band(d, first, last)), contacts)


# name -> (unit, description). Order is the column order of summary.csv after the keys.
HEADLINE: dict[str, tuple[str, str]] = {
    "episodes_completed": ("episodes", "episodes of care completed"),
    "tasks_completed": ("tasks", "tasks completed (including rework and escalations)"),
    "handovers_per_episode": ("handovers/episode", "changes of clinician within an episode"),
    "miscommunications_per_episode": (
        "losses/episode",
        "information losses (handovers and sign-offs) per completed episode",
    ),
    "miscommunication_rate": ("losses/handover", "share of handovers that lost information"),
    "rework_tasks_per_episode": ("tasks/episode", "rework tasks caused by noticed losses"),
    "harm_risk_per_1000_episodes": ("events/1000 episodes", "hidden losses that became harm-risk events"),
    "acsc_admissions_per_1000_patients": (
        "admissions/1000 patients/year",
        "expected avoidable (ambulatory-care-sensitive) emergency admissions, rising as continuity falls",
    ),
    "failure_demand_per_episode": (
        "tasks/episode",
        "re-consultations with a GP after a task at the edge of another role's scope",
    ),
    "supervisor_load_index": ("ratio", "supervision minutes / protected minutes, mean over supervisor-days"),
    "supervisor_interruptions_per_day": ("interruptions/supervisor/day", "ad-hoc queries"),
    "supervisor_overload_days": ("days/supervisor", "days with load index above 1"),
    "upc_mean": ("0-1", "Usual Provider of Care, patients with 2+ contacts"),
    "coc_mean": ("0-1", "Bice-Boxerman continuity, patients with 2+ contacts"),
    "secon_mean": ("0-1", "sequential continuity, patients with 2+ contacts"),
    "same_day_share": ("fraction", "contacts seen on the day they were requested or booked"),
    "over_14_days_share": ("fraction", "contacts seen more than 14 calendar days after the request"),
    "over_21_days_share": ("fraction", "contacts seen more than 21 calendar days after the request"),
    "over_28_days_share": ("fraction", "contacts seen more than 28 calendar days after the request"),
    "days_to_appointment_median": ("calendar days", "median calendar days from request to contact"),
    "unmet_demand_per_1000_patients": (
        "requests/1000 patients/year",
        "requests that found no slot and went elsewhere (NHS 111, urgent treatment centre, A&E)",
    ),
    "gp_contact_share": ("fraction", "share of patient contacts with a GP"),
    "nurse_contact_share": ("fraction", "share of patient contacts with a nurse"),
    "preferred_clinician_share": (
        "fraction",
        "of contacts of patients who prefer a named clinician, the share with that clinician",
    ),
    "upc_gp_mean": (
        "ratio",
        "UPC over GP contacts only, patients with 2+ GP contacts (the measure of Barker et al., "
        "BMJ 2017: mean 0.61 in English practices over two years)",
    ),
    "contacts_per_patient_year": (
        "contacts/patient/year",
        "patient contacts per registered patient per year",
    ),
    "wait_days_mean": ("working days", "arrival to first completed task"),
    "episode_days_mean": ("working days", "arrival to episode completion"),
    "backlog_end": ("tasks", "tasks waiting at the end of the run"),
    "utilisation_mean": ("fraction", "clinical minutes worked / available, mean over posts"),
    "cost_per_episode": ("GBP/episode", "staff cost of the run / episodes completed"),
    "fragmentation_index": ("0-1", "(distinct clinicians - 1)/(tasks - 1), episodes of 2+ tasks"),
    "waiting_growth_per_month": (
        "tasks/month",
        "least-squares trend of the tasks waiting each day over the measured period, per month of "
        "21 working days (above zero: the team falls behind demand)",
    ),
}

EXTRA: dict[str, tuple[str, str]] = {
    **{
        name: ("fraction", f"contacts seen {first} to {last} calendar days after the request ({band})")
        for name, first, last, band in BOOKING_LEAD_BANDS
        if name.startswith("lead_")
    },
    "dna_share": (
        "fraction",
        "booked appointments the patient did not attend (each booked again), of all booked appointments",
    ),
    "episodes_arrived": ("episodes", "episodes that arrived"),
    "episodes_dropped": (
        "episodes",
        "episodes abandoned (a task waited too long or had no clinician in scope)",
    ),
    "tasks_created": ("tasks", "tasks created"),
    "tasks_dropped": ("tasks", "tasks dropped"),
    "handovers": ("handovers", "handovers in the run"),
    "escalations_per_episode": ("escalations/episode", "cases escalated to a supervisor"),
    "signoffs": ("sign-offs", "per-case reviews by supervisors"),
    "new_problem_same_day_share": (
        "fraction",
        "first contacts of new problems seen on the day requested (GP Patient Survey: about 40%)",
    ),
    "other_contact_share": ("fraction", "share of patient contacts with other staff (not GP or nurse)"),
    "episodes_elsewhere": ("episodes", "episodes that ended when the patient went elsewhere"),
    "upc_gp_chance_mean": (
        "ratio",
        "upc_gp_mean if each GP contact were with a GP of the practice drawn at random (benchmark)",
    ),
    "supervisees_per_supervisor": ("posts", "distinct supervisees per active supervisor"),
    "supervisor_open_cases": ("episodes", "open episodes a supervisor is accountable for"),
    "task_variety_mean": ("task types", "distinct task types done per post"),
    "mean_tie_strength_end": ("0-1", "mean tie strength over pairs of posts at the end"),
    "staff_turnover": ("leavers", "post-holders replaced during the run"),
    "waiting_mean": ("tasks", "tasks waiting at the end of a day, mean over the measured period"),
    "waiting_half_change": (
        "tasks",
        "mean tasks waiting in the second half of the measured period less in the first half",
    ),
    "wait_days_half_change": (
        "working days",
        "wait to first contact of episodes completed in the second half of the measured period less "
        "in the first half",
    ),
    "team_fte": ("FTE", "whole-time equivalents in the team"),
    "annual_staff_cost": ("GBP/year", "annual staff cost of the team"),
}

# Whether the measured period reached a steady state (`steady_state`): shown with the headline metrics.
STEADY_STATE_METRICS: list[str] = ["waiting_mean", "waiting_half_change", "wait_days_half_change"]
# changes over the measured period, which fall as well as rise: every other metric is non-negative
SIGNED_METRICS = ("waiting_growth_per_month", "waiting_half_change", "wait_days_half_change")

# What tables for people show: every headline metric, the steady-state checks, then the team's size
# and annual cost.
TABLE_METRICS: list[str] = [*HEADLINE, *STEADY_STATE_METRICS, "team_fte", "annual_staff_cost"]

UNITS: dict[str, str] = {k: v[0] for k, v in (HEADLINE | EXTRA).items()}


# The default warm-up: the model starts with empty books and no working ties, and in the default
# config handovers and contacts per day are within about 5% of their plateau after 80 working days
# (docs/model.md, "Warm-up"); the first 80 working days are therefore not counted by `run`/`compare`.
DEFAULT_WARMUP_DAYS = 80


def warmup_for(days: int, warmup_days: int | None = None) -> int:
    """The warm-up of a run of `days` working days: as given, else the default or half the run."""
    return min(DEFAULT_WARMUP_DAYS, days // 2) if warmup_days is None else warmup_days


# A measured period shorter than this (after the warm-up) gets a warning: too few days for stable rates.
MIN_MEASURED_DAYS = 60
# Fewer replicates than this get a warning: the t-interval is too wide or too unstable to trust.
MIN_REPLICATES = 5

# A month of working days, the unit of the trend of work waiting: 252 working days a year in England
# (Scenario.working_days_per_year, "England calendar") / 12 months.
WORKING_DAYS_PER_MONTH = 21


def trend_per_month(
    series: Sequence[float] | np.ndarray, days_per_month: float = WORKING_DAYS_PER_MONTH
) -> float:
    """Least-squares slope of a daily series per month of working days (NaN with fewer than 2 days).

    A team that keeps up with demand has work waiting that settles; a slope above zero over the
    whole measured period says it does not, and that its results depend on how long it runs.
    """
    y = np.asarray(series, dtype=float)
    if y.size < 2:
        return float("nan")
    x = np.arange(y.size, dtype=float)
    x -= x.mean()
    return float(days_per_month * (x @ (y - y.mean())) / (x @ x))


def halfway(days: int) -> int:
    """Days in the first half of a measured period of `days` working days (the second has the rest)."""
    return days // 2


def half_change(series: Sequence[float] | np.ndarray) -> float:
    """Mean of a daily series over the second half of its days less over the first half (`halfway`):
    near zero when it has settled (NaN with fewer than 2 days)."""
    y = np.asarray(series, dtype=float)
    h = halfway(y.size)
    if h < 1:
        return float("nan")
    return float(y[h:].mean() - y[:h].mean())


def steady_state(
    waiting: Sequence[float] | np.ndarray,
    totals: dict[str, float],
    midway: dict[str, float] | None,
    start: dict[str, float],
) -> dict[str, float]:
    """Whether work waiting and waits settled over the measured period.

    `waiting`: tasks waiting at the end of each measured day; `start`, `midway` and `totals`: the
    model's running totals at the start, the middle (`halfway`; None when the run was not split
    there) and the end of the measured period. The first-against-second-half changes are per run;
    their interval over replicates is the test (daily values within a run are autocorrelated, so
    a test within one run would overstate its certainty).
    """
    y = np.asarray(waiting, dtype=float)

    def wait(a: dict[str, float], b: dict[str, float]) -> float:
        done = b.get("episodes_completed", 0.0) - a.get("episodes_completed", 0.0)
        return _ratio(b.get("ep_wait_days", 0.0) - a.get("ep_wait_days", 0.0), done)

    return {
        "waiting_growth_per_month": trend_per_month(y),
        "waiting_mean": float(y.mean()) if y.size else float("nan"),
        "waiting_half_change": half_change(y),
        "wait_days_half_change": wait(midway, totals) - wait(start, midway) if midway else float("nan"),
    }


@dataclass(frozen=True)
class Snapshot:
    """The model's running counts at the end of the warm-up, which the summary subtracts.

    Every headline metric is computed from counts accumulated after this day; state at the end
    (work waiting, tie strength) is read as it is. Task variety counts the whole run.
    """

    day: int
    totals: dict[str, float]
    waits: Counter[int]
    unmet_by_band: Counter[int]
    history: tuple[int, ...]
    gp_history: tuple[int, ...]
    posts: tuple[tuple[float, float, int], ...]  # minutes worked, minutes available, tasks done
    supervisors: dict[int, tuple[float, int, int, int]]  # post -> load sum, overload, interrupts, days


def snapshot(model: HandoverModel) -> Snapshot:
    """The counts of a model now (call it at the end of the warm-up's last day)."""
    return Snapshot(
        day=model.steps,
        totals=dict(model.totals),
        waits=Counter(model.waits),
        unmet_by_band=Counter(model.unmet_by_band),
        history=tuple(model.pats.pt_contacts.tolist()),
        gp_history=tuple(model.pats.pt_gp_contacts.tolist()),
        posts=tuple((c.minutes_worked, c.minutes_available, c.tasks_done) for c in model.clinicians),
        supervisors={
            s.post: (s.load_index_sum, s.overload_days, s.interruptions_total, s.days_observed)
            for s in model.supervisors
        },
    )


class _Window:
    """The model's counts since a snapshot (or since the start when there is none)."""

    def __init__(self, model: HandoverModel, since: Snapshot | None) -> None:
        self.model = model
        self.since = since
        start = since.totals if since else {}
        self.totals: dict[str, float] = defaultdict(float)
        for k, v in model.totals.items():
            self.totals[k] = v - start.get(k, 0.0)
        self.days = model.steps - (since.day if since else 0)
        self.years = self.days / model.config.working_days_per_year
        self.waits = model.waits - since.waits if since else Counter(model.waits)
        self.unmet_by_band = model.unmet_by_band - since.unmet_by_band if since else model.unmet_by_band

    def histories(self, gp: bool = False) -> Histories:
        """Each patient's contacts (or GP contacts) after the snapshot."""
        codes, n = self.model.contacts_by_patient(gp)
        if self.since is None:
            return Histories(codes, n)
        first = np.asarray(self.since.gp_history if gp else self.since.history, dtype=np.int64)
        position = np.arange(codes.size) - np.repeat(np.cumsum(n) - n, n)  # within its patient
        return Histories(codes[position >= np.repeat(first, n)], n - first)

    def post(self, c: Clinician) -> tuple[float, float, int]:
        """(minutes worked, minutes available, tasks done) of a post after the snapshot."""
        w, a, n = self.since.posts[c.post] if self.since else (0.0, 0.0, 0)
        return c.minutes_worked - w, c.minutes_available - a, c.tasks_done - n

    def supervisor(self, c: Clinician) -> tuple[float, int, int, int]:
        """(load index sum, overload days, interruptions, days observed) after the snapshot."""
        now = (
            getattr(c, "load_index_sum", 0.0),
            getattr(c, "overload_days", 0),
            getattr(c, "interruptions_total", 0),
            getattr(c, "days_observed", 0),
        )
        then = self.since.supervisors.get(c.post, (0.0, 0, 0, 0)) if self.since else (0.0, 0, 0, 0)
        return now[0] - then[0], now[1] - then[1], now[2] - then[2], now[3] - then[3]


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


@dataclass(frozen=True)
class Histories:
    """Every patient's contacts as one array of person ids (patient after patient, each in order)
    and the number of contacts of each patient: the model's histories without a list per patient."""

    codes: np.ndarray
    n: np.ndarray

    def __len__(self) -> int:
        return int(self.n.size)


def continuity_indices(
    histories: Sequence[Sequence[Hashable]] | Histories,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UPC, COC and SECON of each history with at least two contacts, in order (numpy, no loop over
    patients: the same formulas as `upc`, `coc` and `secon`)."""
    if isinstance(histories, Histories):
        keep = histories.n >= 2
        if not keep.any():
            return np.empty(0), np.empty(0), np.empty(0)
        return _indices(histories.codes[np.repeat(keep, histories.n)], histories.n[keep])
    eligible = [h for h in histories if len(h) >= 2]
    if not eligible:
        return np.empty(0), np.empty(0), np.empty(0)
    n = np.fromiter(map(len, eligible), dtype=np.int64, count=len(eligible))
    _, codes = np.unique(np.array([c for h in eligible for c in h]), return_inverse=True)
    return _indices(codes.ravel(), n)


def _indices(codes: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UPC, COC and SECON of consecutive histories of lengths `n` (each >= 2) of integer `codes`."""
    from handover_abm.continuity import indices  # compiled: the command line starts without numba

    return indices(np.ascontiguousarray(codes, dtype=np.int64), np.ascontiguousarray(n, dtype=np.int64))


def continuity_means(histories: Sequence[Sequence[Hashable]] | Histories) -> tuple[float, float, float]:
    """Mean UPC, COC and SECON over patients with at least two contacts."""
    u, c, s = continuity_indices(histories)
    if not u.size:
        return float("nan"), float("nan"), float("nan")
    return float(u.mean()), float(c.mean()), float(s.mean())


def mean_upc(histories: Sequence[Sequence[int]] | Histories) -> float:
    """Mean UPC over histories with at least two contacts (NaN when there are none)."""
    u = continuity_indices(histories)[0]
    return float(u.mean()) if u.size else float("nan")


def median_of_counts(counts: Counter[int]) -> float:
    """Median of values given as value -> count."""
    total = sum(counts.values())
    if not total:
        return float("nan")
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen * 2 >= total:
            return float(value)
    raise AssertionError("unreachable")


def chance_upc(
    model: HandoverModel,
    histories: Sequence[Sequence[int]] | Histories,
    practices: Sequence[int] | np.ndarray,
    stream: int = 99,
) -> float:
    """Mean UPC if each patient's contacts (2 or more) were with GPs of their practice drawn at random.

    The benchmark continuity has to beat (Barker et al. compare against the same idea). It draws
    from its own generator (`stream` spawns it from the run's seed), so it never changes the run.
    """
    rng = np.random.default_rng(np.random.SeedSequence(model.seed, spawn_key=(stream,)))
    gps: dict[int, list[int]] = defaultdict(list)
    for c in model.clinicians:
        if c.is_gp and c.practice >= 0:
            gps[c.practice].append(c.post)
    n_practices = max([*gps, *practices], default=-1) + 1
    n_gps = np.array([len(gps.get(p, ())) for p in range(n_practices)], dtype=np.int64)
    table = np.full((n_practices, max(1, int(n_gps.max(initial=0)))), -1, dtype=np.int64)
    for p, posts in gps.items():
        table[p, : len(posts)] = posts
    if isinstance(histories, Histories):
        n = histories.n.astype(np.int64)
    else:
        n = np.fromiter(map(len, histories), dtype=np.int64, count=len(histories))
    practice = np.asarray(practices, dtype=np.int64)
    keep = (n >= 2) & (n_gps[practice] > 0)
    n, practice = n[keep], practice[keep]
    if not n.size:
        return float("nan")
    rows = np.repeat(practice, n)
    drawn = table[rows, (rng.random(int(n.sum())) * n_gps[rows]).astype(np.int64)]
    return float(_indices(drawn, n)[0].mean())


def chance_upc_gp(
    model: HandoverModel, gp_histories: Sequence[Sequence[int]] | Histories | None = None
) -> float:
    """`chance_upc` of each patient's GP contacts (default: their whole GP history)."""
    if gp_histories is None:
        gp_histories = Histories(*model.contacts_by_patient(gp=True))
    return chance_upc(model, gp_histories, model.pats.pt_practice)


def summarise(
    model: HandoverModel, since: Snapshot | None = None, midway: dict[str, float] | None = None
) -> dict[str, float]:
    """Every headline and extra metric of a finished run, counting only what happened after
    `since` (the end of the warm-up; None: the whole run); `midway` is the model's running totals
    halfway through that period (`halfway`), for the change in waits between its halves."""
    w = _Window(model, since)
    steady = steady_state(
        model.datacollector.model_vars["tasks_waiting"][since.day if since else 0 :],
        model.totals,
        midway,
        since.totals if since else {},
    )
    t = w.totals
    done = t["episodes_completed"]
    histories = w.histories()
    gp_histories = w.histories(gp=True)
    u, c, s = continuity_means(histories)
    posts = [(x, *w.post(x)) for x in model.clinicians]
    posts = [p for p in posts if p[2] > 0]
    sups = [w.supervisor(x) for x in model.supervisors]
    sup_days = sum(x[3] for x in sups)
    annual = annual_cost(model.config)
    contacts = t["contacts"]
    waits = w.waits
    years = w.years
    out = {
        "episodes_completed": done,
        "tasks_completed": t["tasks_completed"],
        "handovers_per_episode": _ratio(t["ep_handovers"], done),
        "miscommunications_per_episode": _ratio(t["ep_losses"], done),
        "miscommunication_rate": _ratio(t["miscommunications"] - t["signoff_losses"], t["handovers"]),
        "rework_tasks_per_episode": _ratio(t["ep_rework"], done),
        "harm_risk_per_1000_episodes": 1000 * _ratio(t["ep_harm"], done),
        "acsc_admissions_per_1000_patients": 1000
        * _ratio(t["acsc_admissions"], model.population.size * years),
        "failure_demand_per_episode": _ratio(t["failure_demand"], done),
        "supervisor_load_index": _ratio(sum(x[0] for x in sups), sup_days),
        "supervisor_interruptions_per_day": _ratio(sum(x[2] for x in sups), sup_days),
        "supervisor_overload_days": _ratio(sum(x[1] for x in sups), len(sups)),
        "upc_mean": u,
        "coc_mean": c,
        "secon_mean": s,
        **{name: band_share(waits, first, last, contacts) for name, first, last, _ in BOOKING_LEAD_BANDS},
        "over_14_days_share": band_share(waits, 15, None, contacts),
        "over_21_days_share": band_share(waits, 22, None, contacts),
        "days_to_appointment_median": median_of_counts(waits),
        "unmet_demand_per_1000_patients": 1000 * _ratio(t["requests_unmet"], model.population.size * years),
        "gp_contact_share": _ratio(t["contacts_gp"], contacts),
        "nurse_contact_share": _ratio(t["contacts_nurse"], contacts),
        "preferred_clinician_share": _ratio(t["preferred_contacts_with"], t["preferred_contacts"]),
        "upc_gp_mean": mean_upc(gp_histories),
        "contacts_per_patient_year": _ratio(contacts, model.population.size * years),
        "wait_days_mean": _ratio(t["ep_wait_days"], done),
        "episode_days_mean": _ratio(t["ep_days"], done),
        "backlog_end": model.waiting,
        "utilisation_mean": _ratio(sum(p[1] / p[2] for p in posts), len(posts)),
        "cost_per_episode": _ratio(annual * years, done),
        "fragmentation_index": _ratio(t["frag_sum"], t["frag_n"]),
        "waiting_growth_per_month": steady["waiting_growth_per_month"],
        "dna_share": _ratio(t["missed_appointments"], contacts + t["missed_appointments"]),
        "episodes_arrived": t["episodes_arrived"],
        "episodes_dropped": t["episodes_dropped"],
        "tasks_created": t["tasks_created"],
        "tasks_dropped": t["tasks_dropped"],
        "handovers": t["handovers"],
        "escalations_per_episode": _ratio(t["ep_escalations"], done),
        "signoffs": t["signoffs"],
        "new_problem_same_day_share": _ratio(t["new_problem_same_day"], t["new_problem_contacts"]),
        "other_contact_share": _ratio(t["contacts_other"], contacts),
        "episodes_elsewhere": t["episodes_elsewhere"],
        "upc_gp_chance_mean": chance_upc_gp(model, gp_histories),
        "supervisees_per_supervisor": _ratio(
            sum(len(x.supervisees) for x in model.supervisors), len(model.supervisors)
        ),
        "supervisor_open_cases": _ratio(sum(x.open_cases for x in model.supervisors), len(model.supervisors)),
        "task_variety_mean": _ratio(sum(len(p[0].task_types_done) for p in posts), len(posts)),
        "mean_tie_strength_end": model.network.mean_tie(),
        "staff_turnover": t["staff_turnover"],
        "waiting_mean": steady["waiting_mean"],
        "waiting_half_change": steady["waiting_half_change"],
        "wait_days_half_change": steady["wait_days_half_change"],
        "team_fte": total_fte(model.config),
        "annual_staff_cost": annual,
    }
    return {k: float(v) for k, v in out.items()}


def access_rows(model: HandoverModel, since: Snapshot | None = None) -> list[dict[str, object]]:
    """Per age band: patients, requests that went elsewhere, and that per 1,000 patients per year."""
    w = _Window(model, since)
    counts = np.bincount(model.population.age_band, minlength=len(model.config.population.age_bands))
    return [
        {
            "age_band": band.name,
            "patients": int(counts[k]),
            "requests_unmet": int(w.unmet_by_band[k]),
            "unmet_demand_per_1000_patients": 1000 * _ratio(w.unmet_by_band[k], counts[k] * w.years),
        }
        for k, band in enumerate(model.config.population.age_bands)
    ]


def staff_rows(model: HandoverModel, since: Snapshot | None = None) -> list[dict[str, object]]:
    """Per post: role, organisation, utilisation, tasks, task variety and supervision load."""
    w = _Window(model, since)
    rows = []
    for c in model.clinicians:
        worked, available, tasks = w.post(c)
        load, overload, interrupts, sup = w.supervisor(c)
        rows.append(
            {
                "post": c.post,
                "role": c.role_name,
                "staff_group": c.role.staff_group,
                "organisation": c.org_key,
                "site": c.site,
                "fte": c.fte,
                "supervisor": c.supervisor,
                "utilisation": _ratio(worked, available),
                "tasks_done": tasks,
                "task_variety": len(c.task_types_done),
                "supervisees": len(getattr(c, "supervisees", [])),
                "supervisor_load_index": _ratio(load, sup) if sup else float("nan"),
                "supervisor_overload_days": overload if sup else float("nan"),
                "interruptions_per_day": _ratio(interrupts, sup) if sup else float("nan"),
            }
        )
    return rows
