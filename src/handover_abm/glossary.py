"""The one glossary: every metric's human label, unit, one-line meaning and better direction, and a
human label for every config parameter path.

The report, figures, terminal tables, dashboard and notebook API show people these words, never
code names or config paths. `better` is data, not judgement baked into code: "lower" or "higher"
says which direction of a difference a verdict calls better; None means the metric describes the
run (volume, mix) and is never called better or worse. `kind` says how a value is shown and
which interval suits it: "share" (0-1, shown as a percentage, logit-scale interval), "count"
(>= 0, log-scale interval) or "real" (any sign, plain t interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

Better = Literal["lower", "higher"] | None
Kind = Literal["share", "count", "real"]


@dataclass(frozen=True)
class Metric:
    """What a metric means to a reader."""

    label: str
    unit: str
    meaning: str
    better: Better = None
    kind: Kind = "count"
    board: str | None = None  # the board-table group it belongs to, if any


M = Metric
METRICS: dict[str, Metric] = {
    # headline
    "episodes_completed": M("Episodes of care completed", "episodes", "problems seen through to the end"),
    "tasks_completed": M("Tasks completed", "tasks", "clinical tasks done, including rework and escalations"),
    "handovers_per_episode": M(
        "Handovers per episode",
        "handovers per episode",
        "times care of one problem passed to a different clinician",
        "lower",
    ),
    "miscommunications_per_episode": M(
        "Information lost per episode",
        "losses per episode",
        "handovers and sign-offs in which information was lost",
        "lower",
        board="safety",
    ),
    "miscommunication_rate": M(
        "Handovers that lost information",
        "% of handovers",
        "share of handovers in which information was lost",
        "lower",
        "share",
    ),
    "rework_tasks_per_episode": M(
        "Rework per episode",
        "extra tasks per episode",
        "tasks repeated because a loss of information was noticed",
        "lower",
    ),
    "harm_risk_per_1000_episodes": M(
        "Harm-risk events",
        "per 1,000 episodes",
        "unnoticed losses of information that could harm the patient",
        "lower",
        board="safety",
    ),
    "acsc_admissions_per_1000_patients": M(
        "Avoidable emergency admissions",
        "per 1,000 patients a year",
        "expected emergency admissions for ambulatory-care-sensitive conditions, more likely when "
        "patients see many different clinicians (Barker et al., BMJ 2017)",
        "lower",
    ),
    "failure_demand_per_episode": M(
        "Referred back to a GP",
        "extra GP contacts per episode",
        "patients who had to see a GP again because a task was at the edge of another role's scope",
        "lower",
    ),
    "supervisor_load_index": M(
        "Supervisor load",
        "x protected time",
        "supervision asked of supervising GPs as a multiple of their protected time (1 = all used)",
        "lower",
        board="supervisor load",
    ),
    "supervisor_interruptions_per_day": M(
        "Supervisor interruptions",
        "per supervisor per day",
        "ad-hoc questions that interrupt a supervising GP",
        "lower",
    ),
    "supervisor_overload_days": M(
        "Supervisor overload days",
        "days per supervisor",
        "days on which supervision needed more than the protected time",
        "lower",
        board="supervisor load",
    ),
    "upc_mean": M(
        "Continuity: usual clinician (UPC)",
        "% of contacts",
        "share of a patient's contacts with the clinician they see most (patients with 2+ contacts)",
        "higher",
        "share",
    ),
    "coc_mean": M(
        "Continuity: concentration of care (COC)",
        "index 0-1",
        "Bice-Boxerman index: 1 when every contact is with one clinician (patients with 2+ contacts)",
        "higher",
        "share",
    ),
    "secon_mean": M(
        "Continuity: same clinician next time (SECON)",
        "% of consecutive contacts",
        "share of consecutive contacts with the same clinician (patients with 2+ contacts)",
        "higher",
        "share",
    ),
    "same_day_share": M(
        "Seen the same day",
        "% of contacts",
        "contacts seen on the day they were requested or booked",
        "higher",
        "share",
        "access",
    ),
    "over_14_days_share": M(
        "Waited over 2 weeks",
        "% of contacts",
        "contacts seen more than 14 calendar days after the request",
        "lower",
        "share",
        "access",
    ),
    "over_21_days_share": M(
        "Waited over 3 weeks",
        "% of contacts",
        "contacts seen more than 21 calendar days after the request",
        "lower",
        "share",
    ),
    "lead_1_day_share": M(
        "Seen the next day", "% of contacts", "contacts seen 1 calendar day after the request", None, "share"
    ),
    "lead_2_to_7_days_share": M(
        "Seen in 2 to 7 days",
        "% of contacts",
        "contacts seen 2 to 7 calendar days after the request",
        None,
        "share",
    ),
    "lead_8_to_14_days_share": M(
        "Seen in 8 to 14 days",
        "% of contacts",
        "contacts seen 8 to 14 calendar days after the request",
        None,
        "share",
    ),
    "lead_15_to_21_days_share": M(
        "Seen in 15 to 21 days",
        "% of contacts",
        "contacts seen 15 to 21 calendar days after the request",
        None,
        "share",
    ),
    "lead_22_to_28_days_share": M(
        "Seen in 22 to 28 days",
        "% of contacts",
        "contacts seen 22 to 28 calendar days after the request",
        None,
        "share",
    ),
    "dna_share": M(
        "Did not attend",
        "% of booked appointments",
        "booked appointments the patient missed (each is booked again)",
        "lower",
        "share",
    ),
    "over_28_days_share": M(
        "Waited over 4 weeks",
        "% of contacts",
        "contacts seen more than 28 calendar days after the request",
        "lower",
        "share",
    ),
    "days_to_appointment_median": M(
        "Median wait for an appointment",
        "calendar days",
        "median calendar days from request to contact",
        "lower",
    ),
    "unmet_demand_per_1000_patients": M(
        "Requests that went elsewhere",
        "per 1,000 patients a year",
        "requests that found no slot and went to NHS 111, an urgent treatment centre or A&E",
        "lower",
        board="access",
    ),
    "gp_contact_share": M(
        "Contacts with a GP", "% of contacts", "share of patient contacts with a GP", None, "share"
    ),
    "nurse_contact_share": M(
        "Contacts with a nurse", "% of contacts", "share of patient contacts with a nurse", None, "share"
    ),
    "preferred_clinician_share": M(
        "Saw the clinician they prefer",
        "% of contacts",
        "of contacts of patients who prefer a named clinician, the share with that clinician",
        "higher",
        "share",
        "continuity",
    ),
    "upc_gp_mean": M(
        "GP continuity (UPC of GP contacts)",
        "% of GP contacts",
        "share of a patient's GP contacts with their most-seen GP (Barker et al., BMJ 2017: 61%)",
        "higher",
        "share",
        "continuity",
    ),
    "contacts_per_patient_year": M(
        "Contacts per patient a year", "contacts", "patient contacts per registered patient per year"
    ),
    "wait_days_mean": M(
        "Wait to first contact", "working days", "from a new problem to its first completed task", "lower"
    ),
    "episode_days_mean": M(
        "Time to finish an episode", "working days", "from a new problem to its last task", "lower"
    ),
    "backlog_end": M("Work waiting at the end", "tasks", "tasks waiting when the run ended", "lower"),
    "utilisation_mean": M(
        "Clinical time used",
        "% of available time",
        "minutes worked / minutes available, mean over posts",
        None,
        "share",
    ),
    "cost_per_episode": M(
        "Staff cost per episode",
        "£ per episode",
        "staff cost of the period / episodes completed",
        "lower",
        board="cost",
    ),
    "fragmentation_index": M(
        "Fragmentation of episodes",
        "index 0-1",
        "0: one clinician sees an episode through; 1: a new clinician for every task",
        "lower",
        "share",
    ),
    "waiting_growth_per_month": M(
        "Growth of work waiting",
        "tasks a month",
        "trend of the tasks waiting each day over the measured period, per month of 21 working days: "
        "above zero, the team falls further behind demand the longer it runs",
        "lower",
        "real",
    ),
    # extra
    "episodes_arrived": M("Episodes that arrived", "episodes", "new problems brought to the practice"),
    "episodes_dropped": M(
        "Episodes abandoned", "episodes", "a task waited too long or no clinician could do it"
    ),
    "tasks_created": M("Tasks created", "tasks", "tasks of every kind created"),
    "tasks_dropped": M("Tasks dropped", "tasks", "tasks abandoned before they were done"),
    "handovers": M("Handovers", "handovers", "changes of clinician within an episode"),
    "escalations_per_episode": M(
        "Escalations per episode", "escalations per episode", "cases a supervisor had to see", "lower"
    ),
    "signoffs": M("Sign-offs", "sign-offs", "per-case reviews by supervisors"),
    "new_problem_same_day_share": M(
        "New problems seen the same day",
        "% of first contacts",
        "first contacts of new problems seen on the day requested (GP Patient Survey: about 40%)",
        "higher",
        "share",
    ),
    "other_contact_share": M(
        "Contacts with other staff",
        "% of contacts",
        "contacts with staff who are not GPs or nurses",
        None,
        "share",
    ),
    "episodes_elsewhere": M(
        "Episodes that went elsewhere",
        "episodes",
        "episodes that ended when the patient went elsewhere",
        "lower",
    ),
    "upc_gp_chance_mean": M(
        "GP continuity by chance",
        "% of GP contacts",
        "GP continuity if every GP contact were with a GP of the practice drawn at random",
        None,
        "share",
    ),
    "supervisees_per_supervisor": M(
        "Supervisees per supervisor", "posts", "posts each supervising GP supervises"
    ),
    "supervisor_open_cases": M(
        "Open cases per supervisor", "episodes", "open episodes a supervising GP is accountable for"
    ),
    "task_variety_mean": M("Task variety", "task types", "distinct task types done per post"),
    "mean_tie_strength_end": M(
        "Team familiarity",
        "index 0-1",
        "mean working-tie strength between posts at the end",
        "higher",
        "share",
    ),
    "staff_turnover": M("Staff turnover", "leavers", "post-holders replaced during the period", "lower"),
    "waiting_mean": M(
        "Work waiting, mean", "tasks", "tasks waiting at the end of a day, mean over the period", "lower"
    ),
    "waiting_half_change": M(
        "Work waiting, second half less first",
        "tasks",
        "mean work waiting over the second half of the period less over the first: near zero once "
        "the team has settled",
        None,
        "real",
    ),
    "wait_days_half_change": M(
        "Wait to first contact, second half less first",
        "working days",
        "wait to first contact of episodes finished in the second half of the period less in the "
        "first: near zero once the team has settled",
        None,
        "real",
    ),
    "team_fte": M("Team size", "FTE", "whole-time equivalents in the team"),
    "annual_staff_cost": M(
        "Annual staff cost", "£ a year", "the team's staff cost for a year", "lower", "real", "cost"
    ),
}

# Daily series (daily.parquet): label and unit for plots and the dashboard.
DAILY: dict[str, tuple[str, str]] = {
    "episodes_arrived": ("New episodes", "episodes per day"),
    "tasks_created": ("Tasks created", "tasks per day"),
    "tasks_completed": ("Tasks completed", "tasks per day"),
    "tasks_waiting": ("Work waiting", "tasks"),
    "tasks_dropped": ("Tasks dropped", "tasks per day"),
    "contacts": ("Patient contacts", "contacts per day"),
    "requests_unmet": ("Requests that went elsewhere", "requests per day"),
    "handovers": ("Handovers", "handovers per day"),
    "miscommunications": ("Information lost", "losses per day"),
    "rework_tasks": ("Rework", "tasks per day"),
    "harm_risk_events": ("Harm-risk events", "events per day"),
    "escalations": ("Escalations", "per day"),
    "supervisor_load_index": ("Supervisor load", "x protected time"),
    "supervisor_interruptions": ("Supervisor interruptions", "per day"),
    "supervisors_overloaded": ("Supervisors over protected time", "supervisors"),
    "supervisor_open_cases": ("Open cases per supervisor", "episodes"),
    "mean_tie_strength": ("Team familiarity", "index 0-1"),
    "utilisation": ("Clinical time used", "share of available time"),
    "staff_turnover": ("Staff turnover", "leavers per day"),
}

# The outcomes a board reads first, in order: group -> metrics shown in the board table.
BOARD: dict[str, tuple[str, ...]] = {
    "access": ("same_day_share", "over_14_days_share", "unmet_demand_per_1000_patients"),
    "safety": ("harm_risk_per_1000_episodes", "miscommunications_per_episode"),
    "supervisor load": ("supervisor_load_index", "supervisor_overload_days"),
    "continuity": ("upc_gp_mean", "preferred_clinician_share"),
    "cost": ("annual_staff_cost", "cost_per_episode"),
}


def metric(name: str) -> Metric:
    """The glossary entry of a metric (KeyError names the metric: every metric must have one)."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(
            f"metric {name!r} has no glossary entry (add it to handover_abm/glossary.py)"
        ) from None


def label(name: str) -> str:
    """Human label of a metric or daily series."""
    if name in METRICS:
        return METRICS[name].label
    if name in DAILY:
        return DAILY[name][0]
    return name.replace("_", " ")


def axis_label(name: str) -> str:
    """'Label (unit)' for an axis."""
    if name in METRICS:
        return f"{METRICS[name].label} ({METRICS[name].unit})"
    if name in DAILY:
        return f"{DAILY[name][0]} ({DAILY[name][1]})"
    return label(name)


def _plain(x: float, digits: int = 3) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def interval_diff(name: str, d: float, low: float, high: float) -> str:
    """'+2.3 [+1.2, +3.4] pts': a difference and its interval, the unit once (no interval if NaN
    or exact)."""
    if math.isnan(low) or low == high:
        return fmt_diff(name, d)
    m = METRICS.get(name)
    pts = " pts" if m and m.kind == "share" and "%" in m.unit else ""
    return f"{fmt_diff(name, d, False)} [{fmt_diff(name, low, False)}, {fmt_diff(name, high, False)}]{pts}"


def interval(name: str, mean: float, low: float, high: float) -> str:
    """'43.1% [42.0%, 44.2%]': a mean and its interval in natural units."""
    if math.isnan(low):
        return fmt(name, mean)
    return f"{fmt(name, mean)} [{fmt(name, low)}, {fmt(name, high)}]"


def display_name(name: str) -> str:
    """Label with its unit when the value does not carry it (%, £) and the label does not say it."""
    m = METRICS[name]
    if "%" in m.unit or "£" in m.unit or m.unit.split()[0].lower() in m.label.lower():
        return m.label
    return f"{m.label} ({m.unit})"


def scale(name: str) -> float:
    """Multiplier from the stored value to the shown unit (100 for a share shown in %)."""
    m = METRICS.get(name)
    return 100.0 if m and m.kind == "share" and "%" in m.unit else 1.0


def unit(name: str) -> str:
    """The unit a value is shown in ('' when unknown)."""
    if name in METRICS:
        return METRICS[name].unit
    return DAILY[name][1] if name in DAILY else ""


def fmt(name: str, x: float | None) -> str:
    """A value in its natural unit: shares as percentages, pounds with £, others to 3 figures."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    m = METRICS.get(name)
    if m and m.kind == "share" and "%" in m.unit:
        return f"{100 * x:.1f}%"
    if m and "£" in m.unit:
        return f"£{x:,.0f}" if abs(x) >= 100 else f"£{x:,.2f}"
    return _plain(x)


def fmt_diff(name: str, d: float | None, unit: bool = True) -> str:
    """A signed difference in natural units: percentage points ('pts') for shares, £ for money."""
    if d is None or (isinstance(d, float) and math.isnan(d)):
        return "–"
    m = METRICS.get(name)
    sign = "+" if d > 0 else "−" if d < 0 else "±"
    if m and m.kind == "share" and "%" in m.unit:
        return f"{sign}{abs(100 * d):.1f}{' pts' if unit else ''}"
    if m and "£" in m.unit:
        return f"{sign}£{abs(d):,.0f}" if abs(d) >= 100 else f"{sign}£{abs(d):,.2f}"
    return f"{sign}{_plain(abs(d))}"


# ---------------------------------------------------------------- parameters

SECTIONS = {
    "population": "Population",
    "demand": "Demand",
    "work": "Working time",
    "calendar": "Calendar",
    "leave": "Leave",
    "access": "Access",
    "routing": "Booking",
    "handover": "Handovers",
    "supervision": "Supervision",
    "network": "Team network",
    "turnover": "Turnover",
    "costs": "Staff costs",
    "continuity": "Continuity",
    "referral": "Referral back to a GP",
    "interventions": "Intervention",
}
TEAM_FIELDS = {"count": "posts", "fte": "FTE per post", "organisation": "employer", "colocated": "on site"}
PARAMETERS: dict[str, str] = {
    "config": "Team (config file)",
    "days": "Run length (working days)",
    "supervision.protected_minutes_per_day": "Protected supervision time (minutes a day)",
    "routing.policy": "Booking rule",
    "interventions.shared_record": "Shared record across organisations",
    "interventions.colocate_all": "Everyone on a practice site",
    "handover.or_different_employer": "Extra information loss across employers (odds ratio)",
    "supervision.new_starter_multiplier": "Supervision a new starter needs (x an established one)",
    "continuity.acsc_rate_ratio_per_0_2_upc": "Avoidable admissions per 0.2 more continuity (rate ratio)",
    "referral.probability_at_edge": "Chance of referral back to a GP at the edge of scope",
    "turnover.overload_rate_ratio": "Leaving when always overloaded (rate ratio)",
    "turnover.variety_rate_ratio": "Leaving with every kind of task (rate ratio)",
}


def _field_text(model: type[BaseModel], parts: list[str]) -> tuple[str, str] | None:
    """(description, unit) of the schema field at `parts` below `model`, if it is one."""
    field = model.model_fields.get(parts[0])
    if field is None:
        return None
    if len(parts) == 1:
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        return field.description or parts[0].replace("_", " "), str(extra.get("unit", ""))
    ann: Any = field.annotation
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return _field_text(ann, parts[1:])
    return None


CASE_MIX_FIELDS = {  # the arrival weights of an episode type (config `episodes.<type>.<field>`)
    "weight": "base weight",
    "weight_per_ltc": "weight per long-term condition",
    "weight_social_need": "weight for social need",
    "rate_per_1000": "episodes per 1,000 patients a year",
}


def episode_label(episode_type: str) -> str:
    """Catalogue label of an episode type ('blood_test' -> 'Blood test')."""
    from handover_abm.catalogue import load_catalogue

    types = load_catalogue().episode_types
    return types[episode_type].label if episode_type in types else episode_type.replace("_", " ")


def role_label(role: str) -> str:
    """Catalogue label of a role ('physician_associate' -> 'Physician associate')."""
    from handover_abm.catalogue import load_catalogue

    roles = load_catalogue().roles
    return roles[role].label if role in roles else role.replace("_", " ")


def task_label(task_type: str) -> str:
    """Catalogue label of a task type ('gp_review' -> 'GP sees a case referred back ...')."""
    from handover_abm.catalogue import load_catalogue

    task = load_catalogue().task_types.get(task_type)
    return task.label if task and task.label else task_type.replace("_", " ")


def parameter_label(path: str, team_roles: list[str] | None = None) -> str:
    """Human label of a config key path, e.g. 'team.physician_associate.count' ->
    'Physician associate posts'. `team_roles` (the role of each team entry, in order) names
    positional team paths ('team.7.count') by role."""
    if path in PARAMETERS:
        return PARAMETERS[path]
    parts = path.split(".")
    if parts[0] == "team" and len(parts) == 3:
        who = parts[1]
        if who.isdigit():
            k = int(who)
            who = team_roles[k] if team_roles and k < len(team_roles) else f"team entry {k}"
        return f"{role_label(who)} {TEAM_FIELDS.get(parts[2], parts[2].replace('_', ' '))}"
    if parts[0] == "roles" and len(parts) >= 3:
        return f"{role_label(parts[1])}: {' '.join(parts[2:]).replace('_', ' ')}"
    if parts[0] == "episodes" and len(parts) == 3:
        what = CASE_MIX_FIELDS.get(parts[2], parts[2].replace("_", " "))
        return f"Case mix, {episode_label(parts[1]).lower()}: {what}"
    from handover_abm.config import Scenario

    found = _field_text(Scenario, parts)
    if found is None:
        return path.replace("_", " ").replace(".", ": ")
    text, unit = found
    section = SECTIONS.get(parts[0], "")
    text = text[0].upper() + text[1:] if not section else text
    out = f"{section}: {text}" if section else text
    return f"{out} ({unit})" if unit and unit not in out else out


# ---------------------------------------------------------------- mechanism groups (explain)

RESIDUAL_GROUP = "residual"
# Human labels of the groups of data/mechanism_groups.yaml that `handover-abm explain` switches.
MECHANISM_GROUPS: dict[str, str] = {
    "capacity": "Clinical capacity (minutes)",
    "team_mix": "Role mix (at the same minutes)",
    "team_capacity": "Team mix and capacity",  # one group before 2026-12; --groups files may name it
    "pay": "Pay",
    "speed": "Speed in scope",
    "scope_edge": "Edge of scope",
    "booking": "Booking and access",
    "employer": "Employer (boundaries)",
    "site": "Working on site",
    "record": "Shared record",
    "handover_other": "Other handover-loss factors",
    "supervision_needs": "Supervision needs",
    "supervision_structure": "Supervision structure",
    "continuity": "Working ties and familiarity",
    "failure_demand": "Referral back to a GP",
    "turnover": "Staff turnover",
    "population": "Population and demand",
    "calendar": "Run length and calendar",
    RESIDUAL_GROUP: "Structure that cannot be switched",
}


def group_label(name: str) -> str:
    """Human label of a mechanism group."""
    return MECHANISM_GROUPS.get(name, name.replace("_", " "))


# Booking rules (routing.policy) as a planner reads them.
POLICIES: dict[str, str] = {
    "preferred_within": "own GP if free within the patient's wait, else first free",
    "first_available": "first free clinician",
    "personal_list": "personal lists: every patient waits for their own GP",
    "continuity_first": "last clinician of the episode first",
    "specialist_first": "quickest role for the task first",
}
