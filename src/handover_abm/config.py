"""The scenario schema: a typed, validated team-mix config, loaded from YAML with --set overrides.

Unknown keys, wrong types, out-of-range or non-finite numbers, sizes beyond the documented bounds,
unknown roles and unknown task types are refused with a `ConfigError` whose message names the file,
the key path and what is allowed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from handover_abm.catalogue import Catalogue, catalogue_with, load_catalogue
from handover_abm.errors import ConfigError
from handover_abm.limits import (
    MAX_DAYS,
    MAX_POPULATION,
    MAX_POSTS,
    MAX_PRACTICES,
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_VALUES,
)
from handover_abm.params import param

RoutingPolicyName = Literal[
    "preferred_within", "first_available", "personal_list", "continuity_first", "specialist_first"
]
ROUTING_POLICIES: tuple[str, ...] = get_args(RoutingPolicyName)
RENAMED_POLICIES = {"usual_clinician_first": "preferred_within or personal_list"}
# config keys that were replaced: the unknown-key error says what to use instead
REPLACED_KEYS = {
    "work.paid_hours_per_fte_day": "costs.hours_per_fte_year, the working hours of a whole-time "
    "year over which hourly costs are spread (1,574 by default, as PSSRU Unit Costs 2024 count them)",
}

# Upper bounds on sizes, checked before anything is allocated: generous (a whole integrated care
# board, decades of working days) but within a large machine's memory (about 2 KiB per patient).


class Organisation(StrEnum):
    """Employing organisation of a clinician. Practice and PCN staff share the GP record."""

    PRACTICE = "practice"
    PCN = "pcn"
    COMMUNITY_TRUST = "community_trust"
    MENTAL_HEALTH_TRUST = "mental_health_trust"
    SOCIAL_CARE = "social_care"
    COMMUNITY_PHARMACY = "community_pharmacy"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class AgeBand(_Section):
    """One age band of the registered population."""

    name: str = Field(description="label of the band, e.g. 65-79")
    share: float = param(
        0.2,
        "share of the registered population in this band",
        unit="fraction",
        source="ONS mid-year population estimates, England (rounded)",
        ge=0,
        le=1,
    )
    ltc_mean: float = param(
        0.5,
        "mean number of long-term conditions (Poisson)",
        unit="conditions",
        source="assumption informed by Cassell et al., BJGP 2018 (27% multimorbid)",
        ge=0,
    )
    episode_rate: float = param(
        1.5,
        "episodes of care per patient-year with no long-term condition and no social need",
        unit="episodes/patient/year",
        source="calibrated by hand to 5.8 appointments per patient per year in 2024 (Institute for "
        "Government, Performance Tracker) from 5.16 consultations/person/year (Hobbs et al., Lancet "
        "2016) and the age gradient there; with the treatment-room episodes of tasks.yaml the default "
        "team delivers about 5.4 contacts per patient-year over two years",
        ge=0,
    )
    preference_share: float = param(
        0.4,
        "share of patients in this band (with no long-term condition) who prefer their named GP",
        unit="fraction",
        source="assumption (range 0.1-0.7): about half of patients have a GP they prefer to see, "
        "more among older patients (GP Patient Survey, second-hand); 68% of non-urgent requests "
        "asked for a particular doctor (Fishbacher and Robertson, J R Coll Gen Pract 1986)",
        ge=0,
        le=1,
    )


def _default_age_bands() -> list[AgeBand]:
    rows = [
        ("0-17", 0.21, 0.1, 3.25, 0.2),
        ("18-44", 0.36, 0.4, 2.86, 0.25),
        ("45-64", 0.25, 1.1, 3.14, 0.4),
        ("65-79", 0.13, 2.2, 3.47, 0.45),
        ("80+", 0.05, 3.0, 4.29, 0.5),
    ]
    return [
        AgeBand(name=n, share=s, ltc_mean=m, episode_rate=r, preference_share=q) for n, s, m, r, q in rows
    ]


class Population(_Section):
    """The registered patients of the network; identical across configs that share this section."""

    size: int = param(
        40_000,
        "registered patients in the network",
        unit="patients",
        source="PCN policy size 30,000-50,000 (NHS England; BJGP 2020)",
        ge=1,
        le=MAX_POPULATION,
    )
    practices: int = param(
        5, "member practices", unit="practices", source="assumption (typical PCN)", ge=1, le=MAX_PRACTICES
    )
    practices_per_pcn: int = param(
        5,
        "practices per primary care network: staff employed above practice level (PCN, trusts) serve "
        "the practices of their own network, so a run of many practices is many PCNs (an ICB)",
        unit="practices",
        source="about 6,300 practices in about 1,250 PCNs in England, 5 each (NHS England, second-hand)",
        ge=1,
        le=MAX_PRACTICES,
    )
    age_bands: list[AgeBand] = Field(default_factory=_default_age_bands, min_length=1)
    max_ltc: int = param(6, "cap on long-term conditions per patient", unit="conditions", ge=0, le=100)
    social_need_share: float = param(0.2, "share of patients with a social need", unit="fraction", ge=0, le=1)
    usual_clinician_share: float = param(
        0.8, "share of patients with a named usual clinician", unit="fraction", ge=0, le=1
    )

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Population:
        total = sum(b.share for b in self.age_bands)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"age_bands shares must sum to 1, they sum to {total:.4f}")
        return self


class Demand(_Section):
    """How patient attributes drive episode arrivals and episode length."""

    rate_multiplier_per_ltc: float = param(
        0.13,
        "relative rise of the episode rate per long-term condition",
        unit="per condition",
        source="calibrated: weighted posterior mean of experiments/calibrate_default.yaml (ABC-SMC, 60 "
        "particles, 7 generations) fitted to 5.8 appointments per patient-year and 18% of them more "
        "than 14 days after booking (data/targets.yaml); 95% credible interval 0.05-0.30; the "
        "posterior ships as data/posterior_default.parquet (--posterior default)",
        ge=0,
    )
    social_need_rate_multiplier: float = param(
        1.3, "episode-rate multiplier for social need", unit="ratio", ge=0
    )
    extra_follow_up_per_ltc: float = param(
        0.18,
        "chance, per long-term condition, that an episode gets one more follow-up task",
        unit="probability",
        source="calibrated: weighted posterior mean of experiments/calibrate_default.yaml (see "
        "rate_multiplier_per_ltc); 95% credible interval 0.01-0.31 (weakly identified)",
        ge=0,
        le=1,
    )


class TeamEntry(_Section):
    """A group of identical posts in the team."""

    role: str = Field(description="a role from the role catalogue")
    id: str | None = Field(
        None,
        description="name of this entry in key paths (team.<id>.count) where its role appears twice",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
    )
    count: int = param(1, "number of posts", unit="posts", ge=0, le=MAX_POSTS)
    fte: float = param(1.0, "whole-time equivalent of each post", unit="FTE", ge=0, le=1.5)
    organisation: Organisation = Field(Organisation.PRACTICE, description="employing organisation")
    colocated: bool = Field(True, description="works on a practice site (else remote/hub)")
    supervises: bool | None = Field(None, description="acts as supervisor; default from catalogue")
    tasks: list[str] | None = Field(None, description="restrict the role's scope to these tasks")

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        roles = load_catalogue().roles
        if value not in roles:
            raise ValueError(f"unknown role {value!r}; allowed roles: {', '.join(roles)}")
        return value

    @model_validator(mode="after")
    def _tasks_in_scope(self) -> TeamEntry:
        if self.tasks is not None:
            scope = load_catalogue().roles[self.role].scope
            bad = [t for t in self.tasks if t not in scope]
            if bad:
                raise ValueError(
                    f"task types {bad} are not in the scope of role {self.role!r}; "
                    f"allowed task types: {', '.join(scope)}"
                )
        return self

    @property
    def acts_as_supervisor(self) -> bool:
        """Whether these posts supervise (explicit flag, else the catalogue's can_supervise)."""
        can = load_catalogue().roles[self.role].can_supervise
        return can if self.supervises is None else self.supervises and can


CATALOGUE = "role catalogue (unset: the catalogue's value)"


class ScopeOverride(_Section):
    """How a role does one task type, replacing the catalogue's figures."""

    time: float | None = param(
        None, "multiplier of the GP reference minutes", unit="x GP time", source=CATALOGUE, gt=0
    )
    edge: float | None = param(
        None, "0 = core competence .. 1 = edge of scope", unit="0-1", source=CATALOGUE, ge=0, le=1
    )


class RoleSupervisionOverride(_Section):
    """A role's supervision needs, replacing the catalogue's figures."""

    debrief_minutes_per_week: float | None = param(
        None, "scheduled supervision, from supervisor and supervisee", unit="min/week", source=CATALOGUE, ge=0
    )
    query_rate: float | None = param(
        None, "chance of an ad-hoc query per core-scope task", unit="per task", source=CATALOGUE, ge=0, le=1
    )
    review_minutes: float | None = param(
        None,
        "supervisor minutes per case review (roles whose tasks need sign-off)",
        unit="min",
        source=CATALOGUE,
        ge=0,
    )


class RoleOverride(_Section):
    """Catalogue figures of one role replaced for this scenario (unset keys keep the catalogue's)."""

    hourly_cost: float | None = param(
        None,
        "employer cost per working hour (replaces the cost derived from the salary)",
        unit="GBP/hour",
        source=CATALOGUE,
        gt=0,
    )
    salary: float | None = param(
        None, "annual salary of one whole-time post", unit="GBP/year", source=CATALOGUE, gt=0
    )
    annual_turnover: float | None = param(
        None, "share of post-holders who leave in a year", unit="per year", source=CATALOGUE, ge=0, le=1
    )
    supervision: RoleSupervisionOverride | None = None
    scope: dict[str, ScopeOverride] = Field(default_factory=dict, description="task type -> time/edge")


CASE_MIX = "task catalogue, data/tasks.yaml (unset: the catalogue's value; an assumption, see docs/model.md)"


class EpisodeOverride(_Section):
    """Arrival weights of one episode type replaced for this scenario (the case mix; unset keys keep
    the catalogue's). An arrival's type is drawn with probability proportional to weight +
    weight_per_ltc x conditions + weight_social_need x social need."""

    weight: float | None = param(
        None,
        "arrival weight for a patient with no condition and no social need",
        unit="weight",
        source=CASE_MIX,
        ge=0,
    )
    weight_per_ltc: float | None = param(
        None, "added weight per long-term condition", unit="weight/condition", source=CASE_MIX, ge=0
    )
    weight_social_need: float | None = param(
        None, "added weight for a patient with a social need", unit="weight", source=CASE_MIX, ge=0
    )
    rate_per_1000: float | None = param(
        None,
        "a work programme's episodes per 1,000 registered patients a year, falling on the "
        "patients it reaches (only for the programme types of tasks.yaml, which arrive at their "
        "own rate, not in the mix)",
        unit="episodes/1,000 patients/year",
        source="the catalogue's rate_source for each programme (docs/parameters.md, Case mix)",
        ge=0,
    )


class Work(_Section):
    """Clinical time and queues."""

    minutes_per_fte_day: float = param(
        403,
        "clinical minutes per whole-time-equivalent working day",
        unit="minutes/FTE/day",
        source="calibrated: weighted posterior mean of experiments/calibrate_default.yaml (see "
        "demand.rate_multiplier_per_ltc); 95% credible interval 374-423. A contracted 7.5-hour day "
        "at 80% clinical time would be 360: general practice staff are widely reported to work "
        "beyond their contracted sessions",
        gt=0,
    )
    abandon_after_days: int = param(
        60,
        "work without a slot (results, prescriptions, letters) waiting longer than this is dropped "
        "with its episode (unmet need)",
        unit="working days",
        ge=1,
    )
    non_appointment_share: float = param(
        0.17,
        "share of each post's clinical minutes kept for work without a slot (results, prescriptions, "
        "letters, admin); unfilled appointment time is also used for it",
        unit="fraction",
        source="assumption (range 0.1-0.3), set by hand so that time without slots roughly matches "
        "the model's results, prescriptions and letters",
        ge=0,
        lt=1,
    )


class Costs(_Section):
    """Employer costs of staff: one basis for hourly and annual costs (team.py)."""

    on_cost_rate: float = param(
        0.33,
        "employer on-costs (National Insurance, NHS Pension employer contribution) as a share of salary",
        unit="fraction of salary",
        source="PSSRU Unit Costs of Health and Social Care 2024, Table 8.2.1: on-costs 31% of salary "
        "at band 4 (GBP 8,165 on 26,399) to 34% at band 7 (GBP 16,016 on 47,336); range 0.30-0.35",
        ge=0,
        le=1,
    )
    overhead_rate: float = param(
        0.588,
        "overheads (management, administration, estates, non-staff, capital) as a share of salary "
        "plus on-costs",
        unit="fraction",
        source="PSSRU Unit Costs of Health and Social Care 2024, Table 8.2.1: management, "
        "administration and estates plus non-staff overheads 0.57 of salary plus on-costs at band 7, "
        "capital about GBP 7,700 a year more (0.69 in all at band 7, 0.79 at band 4). 0.588 puts "
        "every role's cost per working hour within 5% of PSSRU's with the catalogue's 2024/25 "
        "salaries (PSSRU's prices are 2023/24, about 5% lower); range 0.45-0.8",
        ge=0,
        le=2,
    )
    hours_per_fte_year: float = param(
        1574,
        "working hours of a whole-time post in a year, net of annual leave, bank holidays, training "
        "and sickness: the hours an hourly cost is spread over",
        unit="hours/FTE/year",
        source="PSSRU Unit Costs of Health and Social Care 2024, Table 8.2.1 (210 working days of "
        "7.5 hours; 1,545 for nurses in Table 9.2.1); range 1,545-1,890 (paid hours without leave)",
        gt=0,
    )


class CalendarParams(_Section):
    """Dates: the run starts on the first working day on or after `start_date`."""

    start_date: date = Field(
        date(2024, 4, 1),
        description="first day of the run (weekends and English bank holidays are not worked)",
    )


_AFC_LEAVE = "NHS Terms and Conditions (Agenda for Change) handbook, section 13: 29 days after 5 years"


class Leave(_Section):
    """Annual and study leave by staff group, per whole-time year, excluding bank holidays.

    Taken in blocks of `block_days` consecutive weekdays (whole weeks from a Monday when a multiple
    of five, otherwise from any weekday), the remainder and study leave as single days; a block
    removes the working days of the post it covers, so part-time leave is pro rata. A bank holiday
    inside a block is given back as a single day, and single days fall outside blocks, so a
    whole-time post is away exactly annual + study working days a year at every block length.
    """

    gp_annual_days: float = param(
        30,
        "GP annual leave",
        unit="working days/year",
        source="BMA salaried GP model contract: six weeks (second-hand, unconfirmed; range 25-35)",
        ge=0,
        le=100,
    )
    gp_study_days: float = param(
        5, "GP study leave", unit="working days/year", source="assumption (range 0-10): a week", ge=0, le=50
    )
    nurse_annual_days: float = param(
        29, "nurse annual leave", unit="working days/year", source=_AFC_LEAVE, ge=0, le=100
    )
    nurse_study_days: float = param(
        3, "nurse study leave", unit="working days/year", source="assumption (range 0-10)", ge=0, le=50
    )
    other_annual_days: float = param(
        29, "annual leave of other staff", unit="working days/year", source=_AFC_LEAVE, ge=0, le=100
    )
    other_study_days: float = param(
        3,
        "study leave of other staff",
        unit="working days/year",
        source="assumption (range 0-10)",
        ge=0,
        le=50,
    )
    block_days: int = param(
        5,
        "leave is taken in blocks of this many consecutive weekdays (5 = whole weeks, Monday to "
        "Friday; 10 = fortnights; others start on any weekday), the rest as single days",
        unit="days",
        source="assumption (range 1-10)",
        ge=1,
        le=10,
    )

    def days_for(self, group: str) -> tuple[float, float]:
        """(annual, study) leave days of a staff group: gp, nurse or other."""
        return getattr(self, f"{group}_annual_days"), getattr(self, f"{group}_study_days")


class Access(_Section):
    """The appointment book and what patients do when they ask for an appointment."""

    urgent_share: float = param(
        0.5,
        "share of new problems (not planned reviews) the patient or triage treats as urgent: "
        "same day or elsewhere",
        unit="fraction",
        source="assumption (range 0.3-0.7); about 40% of patients with a new problem were seen the "
        "same day (GP Patient Survey 2017, via QualityWatch)",
        ge=0,
        le=1,
    )
    on_the_day_share: float = param(
        0.4,
        "share of each clinician's appointment minutes released on the morning of the day",
        unit="fraction",
        source="assumption (range 0.2-0.7)",
        ge=0,
        le=1,
    )
    horizon_days: int = param(
        30,
        "booking horizon: how far ahead pre-bookable slots are open",
        unit="working days",
        source="assumption (range 20-40; 4-6 weeks is common practice)",
        ge=1,
        le=250,
    )
    follow_up_prebooked_share: float = param(
        0.6,
        "share of follow-up and review contacts booked at the previous contact for their due date "
        "(the rest are booked by the patient when due)",
        unit="fraction",
        source="assumption (range 0.3-0.9)",
        ge=0,
        le=1,
    )
    lead_time_shape: float = param(
        3.0,
        "shape of the log-logistic distribution of the lead time of an episode's next step (a "
        "follow-up, a result, a referral's first contact) around its task type's lead days, the "
        "median, truncated at the booking horizon (access.horizon_days): at 3, before truncation, "
        "half fall between 0.69 and 1.44 times the median and 1 in 28 beyond 3 times it "
        "(clinicians ask to see a patient again in days or weeks); 0 gives every step exactly its "
        "median",
        unit="dimensionless",
        source="assumption (range 2-6), chosen before comparing with the booking-lead bands, not "
        "fitted to them; no published distribution of follow-up intervals in English general "
        "practice was found",
        ge=0,
        le=20,
    )
    planned_lead_days: float = param(
        18.0,
        "mean working days ahead that a planned review (long-term condition or medication review) "
        "is booked when the patient is invited (exponential)",
        unit="working days",
        source="assumption (range 5-20)",
        ge=0,
        le=120,
    )
    dna_same_day: float = param(
        0.019,
        "chance a patient does not attend an appointment booked the same day",
        unit="probability",
        source="NHS Digital Appointments in General Practice, about 2019: 1.9% of same-day "
        "appointments missed (reported by GPonline, second-hand)",
        ge=0,
        le=1,
    )
    dna_next_day: float = param(
        0.05,
        "chance a patient does not attend an appointment booked the day before",
        unit="probability",
        source="as dna_same_day: 5.0% of appointments booked a day ahead missed",
        ge=0,
        le=1,
    )
    dna_2_to_7_days: float = param(
        0.068,
        "chance a patient does not attend an appointment booked 2 to 7 calendar days ahead",
        unit="probability",
        source="as dna_same_day: 6.8% of appointments booked 2-7 days ahead missed",
        ge=0,
        le=1,
    )
    dna_8_days_or_more: float = param(
        0.085,
        "chance a patient does not attend an appointment booked 8 or more calendar days ahead",
        unit="probability",
        source="as dna_same_day: 8.2-8.9% of appointments booked more than 7 days ahead missed",
        ge=0,
        le=1,
    )
    p_elsewhere_urgent: float = param(
        0.5,
        "chance an urgent request with no slot today goes elsewhere (NHS 111, urgent treatment "
        "centre, A&E) instead of calling back next day",
        unit="probability",
        source="assumption (range 0.2-0.8)",
        ge=0,
        le=1,
    )
    p_elsewhere_routine: float = param(
        0.2,
        "chance a routine request with no slot within the horizon goes elsewhere instead of "
        "trying again later",
        unit="probability",
        source="assumption (range 0.05-0.4); 5.3% told to contact again another day (Health "
        "Insight Survey 2024, second-hand)",
        ge=0,
        le=1,
    )
    retry_days_routine: int = param(
        5,
        "working days before a routine request is tried again",
        unit="working days",
        source="assumption (range 1-10)",
        ge=1,
        le=60,
    )
    max_attempts: int = param(
        3,
        "requests after which a patient with no slot goes elsewhere",
        unit="attempts",
        source="assumption (range 2-5)",
        ge=1,
        le=20,
    )
    preference_share_per_ltc: float = param(
        0.05,
        "rise of the share of patients who prefer their named GP per long-term condition",
        unit="fraction per condition",
        source="assumption (range 0-0.1)",
        ge=0,
        le=1,
    )
    routine_choice_days: float = param(
        2.0,
        "mean working days after the earliest day they are offered that a patient making a "
        "routine request asks for, to fit a day that suits them (exponential; booked when they "
        "call; the earliest when nothing is free then)",
        unit="working days",
        source="assumption (range 0-5): 68% of non-urgent requests asked for a particular doctor "
        "or time, and longer waits came mostly from that choice, not from a lack of appointments "
        "(Fishbacher and Robertson, J R Coll Gen Pract 1986, one practice); 0 takes the earliest",
        ge=0,
        le=60,
    )
    wait_for_preferred_days: float = param(
        5.0,
        "mean working days a patient with a preferred GP will wait for them on a routine request "
        "(exponential)",
        unit="working days",
        source="assumption (range 2-12); longer waits came mostly from asking for a particular "
        "doctor (Fishbacher and Robertson 1986)",
        ge=0,
        le=250,
    )
    wait_for_preferred_days_per_ltc: float = param(
        1.0,
        "extra mean willingness to wait per long-term condition",
        unit="working days per condition",
        source="assumption (range 0-3)",
        ge=0,
        le=50,
    )


class Routing(_Section):
    """Booking rules: which clinician and which day each task gets."""

    policy: RoutingPolicyName = Field(
        "preferred_within",
        description="preferred_within books a patient's preferred GP when they have a slot within "
        "the patient's willingness to wait, else the earliest slot with anyone in scope; "
        "first_available books the earliest slot with anyone in scope, ignoring preferences; "
        "personal_list gives every patient a named GP whose list they book into first; "
        "specialist_first books the quickest role for each task; "
        "continuity_first books the episode's last clinician, then the preferred GP",
    )
    same_session_continuation: bool = Field(
        True,
        description="work without a slot due the same day (a prescription after a consultation) "
        "stays with the clinician who did the previous task when it is in their scope",
    )

    navigation_max_edge: float = param(
        0.3,
        "care navigation: a request is first booked only with clinicians for whom the task is at most "
        "this far from the core of their scope (0 = core, 1 = edge); others are booked when none of "
        "those has a slot",
        unit="0-1",
        source="assumption (range 0.2-1.0; 1 = book anyone in scope)",
        ge=0,
        le=1,
    )

    @field_validator("policy", mode="before")
    @classmethod
    def _renamed(cls, value: Any) -> Any:
        if value in RENAMED_POLICIES:
            raise ValueError(
                f"booking rule {value!r} was replaced: use {RENAMED_POLICIES[value]}; "
                f"allowed: {', '.join(ROUTING_POLICIES)}"
            )
        return value


class Handover(_Section):
    """Information loss at handovers and sign-offs (a logistic model of documented factors)."""

    base_loss_probability: float = param(
        0.10,
        "chance a handover loses clinically relevant information between strangers, same "
        "organisation, separate records, not co-located, no load",
        unit="probability",
        source="assumption between Bhabra et al. 2007 (3.1%/handover with notes) and Kripalani "
        "et al. 2007 (25% of follow-ups affected across organisations)",
        gt=0,
        lt=1,
    )
    or_shared_record: float = param(
        0.25,
        "odds ratio of loss when both use the same record with shared access (practice and PCN staff "
        "share the GP record)",
        unit="odds ratio",
        source="transferred from surgical ward handover: Bhabra et al., Ann R Coll Surg Engl 2007 "
        "(information kept over 5 handovers 2.5% verbal only vs 85.5% with notes, i.e. written notes "
        "cut loss about 17-fold; 0.25 is deliberately conservative; range 0.1-0.6)",
        gt=0,
    )
    or_different_employer: float = param(
        1.3,
        "odds ratio of loss when sender and receiver have different employers (separate policies, "
        "line management and escalation routes) over and above record and site",
        unit="odds ratio",
        source="assumption (range 1.0-2.5): the 2.5 upper end is Kripalani et al., JAMA 2007 "
        "(missing discharge information affected about 25% of follow-up visits), transferred from "
        "hospital-to-GP discharge, which mixes a different record, a different employer and a "
        "different site in one figure",
        gt=0,
    )
    or_full_tie: float = param(
        0.4,
        "odds ratio of loss at full tie strength (tie = 1)",
        unit="odds ratio",
        source="assumption (range 0.2-0.8): working relationships ease handover (no figure found)",
        gt=0,
    )
    or_colocated: float = param(
        0.7,
        "odds ratio of loss when sender and receiver work on the same site that day",
        unit="odds ratio",
        source="assumption (range 0.5-1.0): a corridor conversation fills gaps in the note",
        gt=0,
    )
    or_per_backlog_day: float = param(
        1.1,
        "odds ratio of loss per day of work without a slot (results, prescriptions, letters) waiting "
        "for the sender and for the receiver",
        unit="odds ratio per day",
        source="assumption (range 1.0-1.3): load and time pressure raise errors (no figure found)",
        gt=0,
    )
    backlog_cap_days: float = param(
        5.0, "queued days beyond this add no more load", unit="days", source="assumption (range 2-10)", ge=0
    )
    or_per_interruption: float = param(
        1.127,
        "odds ratio of loss per interruption the sender or receiver had that day",
        unit="odds ratio per interruption",
        source="Westbrook et al., Arch Intern Med 2010 (12.7% more errors per interruption)",
        gt=0,
    )
    or_holistic: float = param(
        0.6,
        "odds ratio of loss once a usual clinician or care "
        "coordinator holds the holistic view of the episode",
        unit="odds ratio",
        source="assumption (range 0.3-1.0)",
        gt=0,
    )
    p_detect: float = param(
        0.6,
        "chance a loss is noticed by the receiver (leads to rework and delay rather than staying hidden)",
        unit="probability",
        source="assumption (range 0.3-0.9)",
        ge=0,
        le=1,
    )
    rework_time_fraction: float = param(
        0.5,
        "time of a rework task as a share of the task it repeats",
        unit="fraction",
        source="assumption (range 0.25-0.75)",
        gt=0,
    )
    rework_delay_days: int = param(
        1,
        "delay before the rework (re-contact) can happen",
        unit="days",
        source="assumption (range 0-2)",
        ge=0,
    )
    p_harm_per_unresolved: float = param(
        0.1,
        "chance that an information loss still hidden at the end of the episode is a harm-risk event",
        unit="probability",
        source="assumption; communication failure is a factor in 30% of malpractice claims "
        "(CRICO Strategies 2015)",
        ge=0,
        le=1,
    )
    p_reconcile: float = param(
        0.8,
        "chance a usual clinician or care coordinator finds each hidden loss when working on the episode",
        unit="probability",
        source="assumption (range 0.4-1.0)",
        ge=0,
        le=1,
    )


class Supervision(_Section):
    """Supervision demand and the supervisor's cognitive load."""

    protected_minutes_per_day: float = param(
        30,
        "protected supervision time per supervising GP per day",
        unit="minutes/day",
        source="assumption; RCGP (2024) asks for protected time without a figure",
        gt=0,
    )
    query_minutes: float = param(
        5, "supervisor time per ad-hoc query", unit="minutes", source="assumption (range 2.5-7.5)", ge=0
    )
    edge_query_factor: float = param(
        4.0,
        "query rate multiplier at the edge of scope: rate x (1 + factor x edge)",
        unit="ratio",
        source="assumption (range 1-8)",
        ge=0,
    )
    escalation_share: float = param(
        0.25,
        "share of queries where the supervisor must see the case (escalation)",
        unit="fraction",
        source="assumption (range 0.125-0.375)",
        ge=0,
        le=1,
    )
    overload_answer_delay_days: int = param(
        1,
        "delay to the episode when a query reaches a supervisor already past protected time",
        unit="days",
        source="assumption (range 0-2)",
        ge=0,
    )
    signoff_base_loss_probability: float = param(
        0.03,
        "base chance a per-case sign-off misses information (same factors as handovers)",
        unit="probability",
        source="assumption (range 0.015-0.045)",
        gt=0,
        lt=1,
    )
    debrief_interval_days: int = param(
        5, "days between scheduled debriefs (5 = weekly)", unit="days", source="assumption (range 2-8)", ge=1
    )
    new_starter_multiplier: float = param(
        2.0,
        "supervision needs (debriefs, queries, case review) of a new post-holder relative to an "
        "established one; the excess halves every learning_half_life_days",
        unit="ratio",
        source="assumption (range 1-4), bounded by HEE's GP registrar analogue: about 10 minutes of "
        "trainer time per patient at first, tapering to a 30-minute debrief per session; the Nuffield "
        "Trust (2023) describes ARRS supervision falling from 'entry point' to 'steady state'",
        ge=1,
        le=10,
    )
    learning_half_life_days: float = param(
        60,
        "working days for the excess supervision need of a new post-holder to halve",
        unit="working days",
        source="assumption (range 20-250)",
        gt=0,
    )
    initial_tenure_days: float = param(
        250,
        "working days each post-holder has been in post when the run starts",
        unit="working days",
        source="assumption (range 0-1000; 250 is a year)",
        ge=0,
    )


class Network(_Section):
    """Working ties between clinicians."""

    initial_tie_strength: float = param(
        0.0,
        "tie strength above the structural floor at day 0 (0 = a new team)",
        unit="0-1",
        source="assumption (range 0-0.5)",
        ge=0,
        le=1,
    )
    tie_growth: float = param(
        0.01,
        "share of the gap to 1 closed by one shared piece of work",
        unit="fraction per interaction",
        source="assumption (range 0.005-0.1)",
        ge=0,
        le=1,
    )
    tie_half_life_days: float = param(
        120,
        "half-life of a tie's strength above its floor without shared work",
        unit="days",
        source="assumption (range 30-365)",
        gt=0,
    )
    colocation_tie_floor: float = param(
        0.15,
        "floor of tie strength between staff on one site",
        unit="0-1",
        source="assumption (range 0.075-0.225)",
        ge=0,
        le=1,
    )
    shared_record_tie_floor: float = param(
        0.05,
        "floor of tie strength between staff on one record",
        unit="0-1",
        source="assumption (range 0.025-0.075)",
        ge=0,
        le=1,
    )


class Turnover(_Section):
    """Staff leaving and being replaced: a role's rate, raised by sustained overload, lowered by variety.

    Daily hazard of a post = annual_turnover x rate_multiplier / working_days_per_year
    x overload_rate_ratio ** overload x variety_rate_ratio ** (variety - variety_reference),
    where overload (0-1) is the post's recent share of overloaded working days and variety (0-1)
    the share of the catalogue's task types in its scope (turnover.py).
    """

    enabled: bool = Field(True, description="staff leave and are replaced during the run")
    rate_multiplier: float = param(
        1.0, "multiplier on every role's annual turnover", unit="ratio", source="assumption (0.5-1.5)", ge=0
    )
    overload_backlog_days: float = param(
        3.0,
        "a working day counts as overloaded when the post's work without a slot waiting exceeds this "
        "many days of its time for it (supervisors: also when supervision exceeds protected time)",
        unit="days",
        source="assumption (range 1-10)",
        gt=0,
    )
    overload_half_life_days: float = param(
        60,
        "half-life of the memory of overloaded days: overload is their exponentially weighted share",
        unit="working days",
        source="assumption (range 20-250): sustained, not single, overloaded days lead to leaving",
        gt=0,
    )
    overload_rate_ratio: float = param(
        2.0,
        "turnover rate ratio of a post overloaded on every recent day against one never overloaded",
        unit="rate ratio",
        source="assumption (range 1-3): high workload is the most cited reason GPs and practice "
        "staff plan to leave (National GP Worklife Surveys), not a published rate ratio",
        gt=0,
    )
    variety_rate_ratio: float = param(
        0.7,
        "turnover rate ratio of a post doing every task type in the catalogue against one doing none "
        "(task variety makes work more rewarding)",
        unit="rate ratio",
        source="assumption (range 0.5-1.0): the seed reports warn fragmented work may make for less "
        "rewarding work; no rate ratio published",
        gt=0,
    )
    variety_reference: float = param(
        0.5,
        "share of the catalogue's task types at which the role's annual turnover applies unchanged",
        unit="fraction",
        source="assumption (range 0.2-0.8)",
        ge=0,
        le=1,
    )


class Continuity(_Section):
    """What relational continuity does: familiarity with a patient and avoidable admissions.

    Familiarity f in [0, 1] of a clinician with a patient grows with each contact (closing a share
    familiarity_growth of the gap to 1) and halves every familiarity_half_life_days without one
    (familiarity.py). A handover loses less when the receiver knows the patient and less again when
    both do. Each episode of a patient with a long-term condition carries, from its arrival, an
    expected avoidable (ambulatory-care-sensitive) emergency admission risk that falls with the
    patient's UPC.
    """

    familiarity_growth: float = param(
        0.3,
        "share of the gap to full familiarity closed by one contact",
        unit="fraction per contact",
        source="assumption (range 0.1-0.6)",
        ge=0,
        le=1,
    )
    familiarity_half_life_days: float = param(
        250,
        "working days for a clinician's familiarity with a patient to halve without a contact",
        unit="working days",
        source="assumption (range 60-1000): Sandvik et al., BJGP 2022 found benefits growing over "
        "years with the same GP, so memory of a patient lasts long",
        gt=0,
    )
    or_receiver_knows_patient: float = param(
        0.7,
        "odds ratio of loss when the receiver fully knows the patient (f = 1; scaled by f)",
        unit="odds ratio",
        source="assumption (range 0.4-1.0)",
        gt=0,
    )
    or_both_know_patient: float = param(
        0.8,
        "further odds ratio of loss when sender and receiver both fully know the patient "
        "(scaled by the smaller familiarity)",
        unit="odds ratio",
        source="assumption (range 0.5-1.0)",
        gt=0,
    )
    acsc_risk_per_episode: float = param(
        0.005,
        "expected avoidable (ambulatory-care-sensitive) emergency admissions per episode of "
        "a patient with a long-term condition, at the reference continuity",
        unit="admissions/episode",
        source="assumption (range 0.0025-0.01), set so the default network has an ACSC admission rate "
        "of the order of the 8 per 1,000 people a year in England (NHS Outcomes Framework 2.3.i, "
        "second-hand, unconfirmed)",
        ge=0,
        le=1,
    )
    acsc_rate_ratio_per_0_2_upc: float = param(
        0.94,
        "rate ratio of ACSC admissions for each 0.2 rise in the patient's UPC (all contacts)",
        unit="rate ratio per 0.2 UPC",
        source="Barker et al., BMJ 2017 (+0.2 UPC of GP contacts, about 6% fewer ACSC admissions); "
        "transferred to continuity with any clinician (range 0.85-1.0)",
        gt=0,
    )
    upc_reference: float = param(
        0.61,
        "UPC at which acsc_risk_per_episode applies; patients with fewer than two contacts count as this",
        unit="0-1",
        source="Barker et al., BMJ 2017: mean UPC 0.61 in English practices",
        ge=0,
        le=1,
    )


class Referral(_Section):
    """Work that depends on who does it: referral back to a GP from the edge of a role's scope."""

    probability_at_edge: float = param(
        0.05,
        "chance a task done at the very edge of a clinician's scope (edge = 1) needs the patient seen "
        "again by a GP; the chance is this times the task's edge (0 at the core of scope)",
        unit="probability",
        source="assumption (range 0-0.3): Drennan et al., BJGP 2015 found re-consultation after a "
        "physician associate 1.24 times that after a GP (95% CI 0.86-1.79); at 0.05 a PA's tasks "
        "(mean edge about 0.35) add about 2 re-consultations per 100, within that interval for a "
        "GP re-consultation rate of about 20%; the validation's long-wait pattern (over 14 days) "
        "is sensitive to it because GP books are the bottleneck",
        ge=0,
        le=1,
    )
    task: str = Field("gp_review", description="task type of the re-consultation (catalogue)")

    @field_validator("task")
    @classmethod
    def _known_task(cls, value: str) -> str:
        types = load_catalogue().task_types
        if value not in types:
            raise ValueError(f"unknown task type {value!r}; allowed: {', '.join(types)}")
        return value


class Interventions(_Section):
    """Switches for the interventions a planner may test."""

    shared_record: bool = Field(False, description="every organisation shares one record")
    colocate_all: bool = Field(False, description="every post works on a practice site")


class Scenario(_Section):
    """A complete, validated scenario: population, team and every mechanism's parameters."""

    name: str = Field("scenario", description="label used in outputs (default: the file name)")
    description: str = Field("", description="free text, kept in the manifest")
    days: int = param(365, "simulated working days", unit="working days", ge=1, le=MAX_DAYS)
    working_days_per_year: int = param(
        252,
        "working days in a year (5 x 52 less 8 bank holidays)",
        unit="days/year",
        source="England calendar",
        ge=1,
        le=366,
    )
    population: Population = Field(default_factory=Population)
    demand: Demand = Field(default_factory=Demand)
    team: list[TeamEntry] = Field(min_length=1, description="the posts of the team (see team[] below)")
    work: Work = Field(default_factory=Work)
    calendar: CalendarParams = Field(default_factory=CalendarParams)
    leave: Leave = Field(default_factory=Leave)
    access: Access = Field(default_factory=Access)
    routing: Routing = Field(default_factory=Routing)
    handover: Handover = Field(default_factory=Handover)
    supervision: Supervision = Field(default_factory=Supervision)
    network: Network = Field(default_factory=Network)
    turnover: Turnover = Field(default_factory=Turnover)
    costs: Costs = Field(default_factory=Costs)
    continuity: Continuity = Field(default_factory=Continuity)
    referral: Referral = Field(default_factory=Referral)
    interventions: Interventions = Field(default_factory=Interventions)
    episodes: dict[str, EpisodeOverride] = Field(
        default_factory=dict,
        description="episode type -> arrival weights replaced for this scenario (see episodes.<type> below)",
    )
    roles: dict[str, RoleOverride] = Field(
        default_factory=dict,
        description="role -> catalogue figures replaced for this scenario (see roles.<role> below)",
    )

    @field_validator("team")
    @classmethod
    def _team_size(cls, value: list[TeamEntry]) -> list[TeamEntry]:
        posts = sum(e.count for e in value)
        if posts > MAX_POSTS:
            raise ValueError(f"{posts:,} posts in all; a team has at most {MAX_POSTS:,}")
        return value

    @field_validator("roles")
    @classmethod
    def _overrides_name_known_roles(cls, value: dict[str, RoleOverride]) -> dict[str, RoleOverride]:
        roles = load_catalogue().roles
        for name, override in value.items():
            if name not in roles:
                raise ValueError(f"unknown role {name!r}; allowed roles: {', '.join(roles)}")
            bad = [t for t in override.scope if t not in roles[name].scope]
            if bad:
                raise ValueError(
                    f"task types {bad} are not in the scope of role {name!r}; "
                    f"allowed task types: {', '.join(roles[name].scope)}"
                )
        return value

    @field_validator("episodes")
    @classmethod
    def _overrides_name_known_episodes(cls, value: dict[str, EpisodeOverride]) -> dict[str, EpisodeOverride]:
        types = load_catalogue().episode_types
        for name, override in value.items():
            if name not in types:
                raise ValueError(f"unknown episode type {name!r}; allowed episode types: {', '.join(types)}")
            weights = [k for k in ("weight", "weight_per_ltc", "weight_social_need") if getattr(override, k)]
            if types[name].programme and weights:
                raise ValueError(
                    f"episode type {name!r} is a work programme that arrives at its own rate: set its "
                    f"rate_per_1000, not {', '.join(weights)}"
                )
            if not types[name].programme and override.rate_per_1000 is not None:
                raise ValueError(
                    f"episode type {name!r} arrives in the mix of requests: set its weights, not "
                    "rate_per_1000 (only work programmes have one)"
                )
        return value

    def catalogue(self) -> Catalogue:
        """The catalogue with this scenario's `roles` and `episodes` overrides applied."""
        if not self.roles and not self.episodes:
            return load_catalogue()
        overrides = {
            section: {k: v.model_dump(exclude_none=True) for k, v in table.items()}
            for section, table in (("roles", self.roles), ("episode_types", self.episodes))
            if table
        }
        return catalogue_with(json.dumps(overrides, sort_keys=True))

    @model_validator(mode="after")
    def _case_mix_has_weight(self) -> Scenario:
        if self.episodes and sum(e.weight for e in self.catalogue().episode_types.values()) <= 0:
            raise ValueError(
                "episodes: every episode type's weight is 0, so a patient with no condition and no "
                "social need could have no episode; keep at least one weight above 0"
            )
        return self

    @model_validator(mode="after")
    def _team_is_workable(self) -> Scenario:
        if sum(e.count * e.fte for e in self.team) <= 0:
            raise ValueError("team has no clinical time: every entry has count 0 or fte 0")
        needs = any(load_catalogue().roles[e.role].supervision.required and e.count for e in self.team)
        if needs and not any(e.acts_as_supervisor and e.count for e in self.team):
            raise ValueError(
                "team has roles that need supervision but no supervisor "
                "(add a GP, or set supervises: true on a GP entry)"
            )
        return self

    def digest(self) -> str:
        """sha256 of the resolved scenario (canonical JSON)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- loading and error messages


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def model_at(loc: tuple[Any, ...], root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    """The schema class that holds the key at `loc` of a `root` schema (default: the config's), to
    list the keys allowed there."""
    cls: Any = root or Scenario
    keyed = False  # the previous part named a mapping: this part is one of its keys
    for part in loc[:-1]:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        field = cls.model_fields.get(part) if isinstance(cls, type) else None
        if field is None:
            return None
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        keyed = get_origin(ann) is dict
        cls = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if cls is None:
            return None
    return cls


def _describe(err: dict[str, Any], root: type[BaseModel], docs: str) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    if err["type"] == "extra_forbidden":
        owner = model_at(loc, root)
        allowed = ", ".join(owner.model_fields) if owner else f"see {docs}"
        replaced = REPLACED_KEYS.get(_loc_text(loc))
        instead = f"; it was replaced by {replaced}" if replaced else ""
        return f"unknown key '{_loc_text(loc)}'{instead}; allowed keys here: {allowed}"
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
    return f"key '{_loc_text(loc)}'{shown}: {msg}"


def validation_message(
    source: str,
    exc: ValidationError,
    schema: type[BaseModel] | None = None,
    kind: str = "config",
    docs: str = "docs/parameters.md",
) -> str:
    """One paragraph naming the file, each bad key path and what is allowed there: the keys of the
    `schema` the file was read as (default: a config's), or the document that describes it."""
    problems = "; ".join(_describe(e, schema or Scenario, docs) for e in exc.errors())
    return f"{source}: invalid {kind}: {problems}."


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML parser error on one line: what went wrong and where."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem is None:
        return " ".join(str(exc).split())
    where = (
        f" at line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}"
        if exc.problem_mark
        else ""
    )
    return f"{exc.context + ': ' if exc.context else ''}{exc.problem}{where}"


def parse_override(text: str) -> tuple[list[str | int], Any]:
    """Split 'a.b.0.c=value' into a key path and a YAML-parsed value."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected key.path=value")
    key, raw = text.split("=", 1)
    path: list[str | int] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    if not key.strip() or any(p == "" for p in path):
        raise ConfigError(f"--set {text!r}: empty key path")
    hint = "give a number, true/false, text or a [list] (YAML tags such as !!python/... are not allowed)"
    shown = text if len(text) <= 100 else f"{text[:97]}..."
    return path, parse_yaml(raw, f"--set {shown!r}", hint) if raw.strip() else ""


def team_index(data: dict[str, Any], name: str, source: str) -> int:
    """Position of the team entry named `name`: its `id`, else its role if only one entry has it."""
    team = data.get("team") if isinstance(data.get("team"), list) else []
    entries = [e if isinstance(e, dict) else {} for e in team]
    by_id = [k for k, e in enumerate(entries) if e.get("id") == name]
    by_role = [k for k, e in enumerate(entries) if e.get("role") == name]
    if len(by_id) == 1 or (not by_id and len(by_role) == 1):
        return (by_id or by_role)[0]
    names = sorted({str(e.get("id") or e.get("role")) for e in entries})
    if len(by_role) > 1:
        raise ConfigError(
            f"{source}: key 'team.{name}': role {name} appears in {len(by_role)} team entries; give "
            f"each an 'id' (e.g. id: {name}_pcn) and use team.<id>.count, or use team.<position>.count"
        )
    raise ConfigError(
        f"{source}: key 'team.{name}': no team entry has that role or id; allowed: {', '.join(names)} "
        f"(or a position 0-{len(entries) - 1})"
    )


def positional_team_notes(data: dict[str, Any], keys: Iterable[str], source: str) -> list[str]:
    """One line for each key that names a team entry by position (team.<k>.<key>), saying which role
    that entry holds in `data`: positions drift whenever a config is rebuilt, so a reader must see
    what the key resolved to (team.<role or id>.<key> names the entry whatever its position)."""
    team = data.get("team") if isinstance(data.get("team"), list) else []
    entries = [e if isinstance(e, dict) else {} for e in team]
    notes = []
    for key in keys:
        parts = key.strip().split(".")
        if len(parts) < 3 or parts[0] != "team" or not parts[1].isdigit() or int(parts[1]) >= len(entries):
            continue
        entry = entries[int(parts[1])]
        role = str(entry.get("role", "?"))
        name = entry.get("id") or role
        unique = entry.get("id") or sum(e.get("role") == role for e in entries) == 1
        instead = (
            f"write team.{name}.{'.'.join(parts[2:])} to name it whatever its position"
            if unique
            else f"give it an id (several entries are {role}) and write team.<id>.{'.'.join(parts[2:])}"
        )
        notes.append(f"{source}: {key.strip()} is team entry {parts[1]}, {role}; {instead}")
    return notes


def apply_override(data: dict[str, Any], path: list[str | int], value: Any, source: str) -> None:
    """Set data[path] = value, creating missing mapping levels (validation then checks the key).

    Team entries may be named by role or id: team.physician_associate.count = team.<k>.count.
    """
    if len(path) > 2 and path[0] == "team" and isinstance(path[1], str):
        path = ["team", team_index(data, path[1], source), *path[2:]]
    node: Any = data
    for i, part in enumerate(path[:-1]):
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise ConfigError(
                    f"{source}: --set {'.'.join(map(str, path))}: "
                    f"'{part}' is not an index of a list of {len(node)}"
                )
            node = node[part]
        elif not isinstance(node, dict):
            raise ConfigError(
                f"{source}: --set {'.'.join(map(str, path))}: '{path[i - 1]}' holds a value, not keys"
            )
        else:
            node = node.setdefault(part, {} if not isinstance(path[i + 1], int) else [])
    last = path[-1]
    if isinstance(node, list) and (not isinstance(last, int) or last >= len(node)):
        raise ConfigError(
            f"{source}: --set {'.'.join(map(str, path))}: '{last}' is not an index of a list of {len(node)}"
        )
    if not isinstance(node, (dict, list)):
        raise ConfigError(f"{source}: --set {'.'.join(map(str, path))}: '{path[-2]}' holds a value, not keys")
    node[last] = value


def scenario_from_dict(data: dict[str, Any], source: str = "<config>") -> Scenario:
    """Validate a mapping into a Scenario, raising ConfigError with a readable message."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a config must be a YAML mapping of keys to values")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_message(source, exc)) from None


def read_yaml(path: Path, what: str) -> Any:
    """Parse a YAML file; ConfigError naming the file if it is missing, unreadable, binary or not
    UTF-8 text, or not YAML (`what` names the kind of file in the message)."""
    if not path.exists():
        raise ConfigError(f"{path}: {what} not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a {what}")
    if not path.is_file():
        raise ConfigError(f"{path}: is not a regular file (a device or a pipe); a {what} is a YAML file")
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError(f"{path}: {size:,} bytes; a {what} is at most {MAX_YAML_BYTES:,} bytes of YAML")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            f"a {what} must be YAML saved as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, where: str, hint: str = "") -> Any:
    """Parse YAML text (safe: no tags that build objects); ConfigError naming `where` if it is not
    YAML, nests deeper than MAX_YAML_DEPTH levels, or holds more than MAX_YAML_VALUES values once
    its aliases are expanded (a few lines of `*alias` can stand for billions of values). `hint`
    ends the message for text that is not YAML."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        then = f"; {hint}" if hint else ""
        raise ConfigError(f"{where}: not valid YAML: {_yaml_problem(exc)}{then}") from None
    except RecursionError:  # the parser recurses once per level of nesting
        data = None
        depth = MAX_YAML_DEPTH + 1
    else:
        depth = _yaml_shape(data, where)
    if depth > MAX_YAML_DEPTH:
        raise ConfigError(
            f"{where}: nested deeper than {MAX_YAML_DEPTH} levels of lists and mappings; a config or spec "
            f"needs a few"
        )
    return data


def _yaml_shape(data: Any, where: str) -> int:
    """The nesting depth of parsed YAML (walked without recursion, stopping at the first level past
    MAX_YAML_DEPTH); ConfigError past MAX_YAML_VALUES values, counting each alias's expansion."""
    stack, deepest, seen = [(data, 1)], 0, 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_YAML_VALUES:
            raise ConfigError(
                f"{where}: holds more than {MAX_YAML_VALUES:,} values once its aliases (*name) are "
                f"expanded; a config or spec needs far fewer"
            )
        deepest = max(deepest, depth)
        if depth > MAX_YAML_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_config_data(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping (ConfigError if missing or not YAML)."""
    p = Path(path)
    data = read_yaml(p, "config file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a config must be a YAML mapping of keys to values")
    return data


def load_scenario(
    path: str | Path, overrides: list[str] | tuple[str, ...] = (), days: int | None = None
) -> Scenario:
    """Load, override (--set key.path=value, --days) and validate a config file."""
    data = read_config_data(path)
    data.setdefault("name", Path(path).stem)
    for text in overrides:
        key_path, value = parse_override(text)
        apply_override(data, key_path, value, str(path))
    if days is not None:
        data["days"] = days
    return scenario_from_dict(data, str(path))
