"""Information loss at a handover or sign-off, and what a loss leads to.

The probability that a transfer of a case loses clinically relevant information is logistic in
documented factors:

    logit p = logit(p0)
              + ln(or_full_tie)              * tie              (0..1)
              + ln(or_shared_record)         * same_record      (0/1: one record, shared access)
              + ln(or_different_employer)    * other_employer   (0/1)
              + ln(or_colocated)             * same_site_today  (0/1)
              + ln(or_per_backlog_day)       * (min(backlog_s, cap) + min(backlog_r, cap))
              + ln(or_per_interruption)      * (interruptions_s + interruptions_r)
              + ln(or_holistic)              * holistic_view    (0/1)
              + ln(or_receiver_knows_patient) * f_r             (0..1)
              + ln(or_both_know_patient)     * min(f_s, f_r)    (0..1)

Record, employer and site are separate: practice and PCN staff share the GP record whoever employs
them, and PCN staff work sessions at particular practices, so whether two people share a site
depends on the day (`site_today`). f_s and f_r are the sender's and receiver's familiarity with
the patient (familiarity.py).

p0 is `base_loss_probability` for handovers and `signoff_base_loss_probability` for a
supervisor's per-case sign-off. A loss is noticed with probability p_detect (then: a rework task
for the receiver after `rework_delay_days`), or stays hidden; a hidden loss can be found later by
a usual clinician or care coordinator (p_reconcile) or, at the end of the episode, becomes a
harm-risk event with probability p_harm_per_unresolved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from handover_abm import familiarity
from handover_abm.config import Continuity, Handover
from handover_abm.network import strengthen, tie
from handover_abm.state import (
    D_HANDOVERS,
    D_MISCOMMUNICATIONS,
    EP_HANDOVERS,
    EP_HIDDEN,
    EP_HOLISTIC,
    EP_LOSSES,
    EP_PATIENT,
    RH,
    S_HANDOVER,
    State,
    inline_kernel,
    kernel,
    uniform,
)

if TYPE_CHECKING:
    from handover_abm.agents import Clinician


# log odds ratios of the loss model and the backlog cap, in this order, in `LossModel.coef`
COEFFICIENTS = (
    "record",
    "employer",
    "tie",
    "backlog",
    "interrupt",
    "holistic",
    "site",
    "knows",
    "both",
    "cap",
)
B_RECORD, B_EMPLOYER, B_TIE, B_BACKLOG, B_INTERRUPT, B_HOLISTIC, B_SITE, B_KNOWS, B_BOTH, CAP = range(10)


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return math.log(p / (1.0 - p))


@kernel
def loss_probability(
    coef,
    base_logit,
    same_record,
    other_employer,
    tie,
    backlog_s,
    backlog_r,
    interruptions,
    holistic,
    same_site,
    familiar_s,
    familiar_r,
):
    """The loss probability of one transfer: logistic in the factors of the module docstring."""
    cap = coef[CAP]
    structural = base_logit + coef[B_RECORD] * same_record + coef[B_EMPLOYER] * other_employer
    state = (
        coef[B_TIE] * tie
        + coef[B_BACKLOG]
        * ((backlog_s if backlog_s < cap else cap) + (backlog_r if backlog_r < cap else cap))
        + coef[B_INTERRUPT] * interruptions
        + coef[B_HOLISTIC] * holistic
        + coef[B_SITE] * same_site
        + coef[B_KNOWS] * familiar_r
        + coef[B_BOTH] * (familiar_s if familiar_s < familiar_r else familiar_r)
    )
    return 1.0 / (1.0 + math.exp(-(structural + state)))


@dataclass(frozen=True, slots=True)
class TransferFactors:
    """What is known about one transfer of a case between two people."""

    tie: float
    same_record: bool
    other_employer: bool
    same_site: bool
    backlog_sender: float
    backlog_receiver: float
    interruptions: int
    holistic: bool
    familiar_sender: float = 0.0
    familiar_receiver: float = 0.0


class LossModel:
    """Loss probabilities from a Handover parameter set (log odds ratios in `coef`, as the kernels use)."""

    def __init__(self, params: Handover, continuity: Continuity | None = None) -> None:
        continuity = continuity or Continuity()
        self.params = params
        self.coef = np.array(
            [
                math.log(params.or_shared_record),
                math.log(params.or_different_employer),
                math.log(params.or_full_tie),
                math.log(params.or_per_backlog_day),
                math.log(params.or_per_interruption),
                math.log(params.or_holistic),
                math.log(params.or_colocated),
                math.log(continuity.or_receiver_knows_patient),
                math.log(continuity.or_both_know_patient),
                float(params.backlog_cap_days),
            ]
        )

    def probability(self, base: float, f: TransferFactors) -> float:
        """Loss probability of a transfer with base probability `base` and factors `f`."""
        return float(
            loss_probability(
                self.coef,
                logit(base),
                float(f.same_record),
                float(f.other_employer),
                float(f.tie),
                float(f.backlog_sender),
                float(f.backlog_receiver),
                float(f.interruptions),
                float(f.holistic),
                float(f.same_site),
                float(f.familiar_sender),
                float(f.familiar_receiver),
            )
        )


def session_sites(c: Clinician, practices: int, per_pcn: int) -> list[int]:
    """Where a post works on each weekday (Monday..Friday): its own site, or, for network staff
    who work on practice sites, a weekly round of their network's practices (staggered by post)."""
    if c.practice >= 0 or c.site < 0:
        return [c.site] * 5
    first = c.pcn * per_pcn
    ours = list(range(first, min(first + per_pcn, practices)))
    return [ours[(c.post + w) % len(ours)] for w in range(5)]


@inline_kernel
def backlog_days(per_day, waiting, debt, queued, post):
    """Work without a slot waiting (and minutes owed) of `post`, in days of its time for it (the
    posts' arrays of those minutes per day, minutes waiting, minutes owed and tasks queued)."""
    if per_day[post] <= 0:
        return 1e9 if queued[post] > 0 else 0.0
    return (waiting[post] + debt[post]) / per_day[post]


@kernel
def backlog_all(per_day, waiting, debt, queued):
    """`backlog_days` of every post."""
    out = np.empty(per_day.size)
    for post in range(per_day.size):
        out[post] = backlog_days(per_day, waiting, debt, queued, post)
    return out


@kernel
def unbooked_days(S: State, post):
    """`backlog_days` of a post of the state."""
    return backlog_days(S.p_unbooked_per_day, S.p_unbooked_minutes, S.p_debt, S.p_qlen, post)


@kernel
def transfer_probability(S: State, base_logit, ep, a, b, day):
    """(loss probability, tie) of a transfer of episode `ep` from post `a` to post `b` on `day`."""
    t = tie(S.nw_floor, S.nw_x, S.nw_s, a, b)
    w = S.weekday[day]
    patient = S.E[ep, EP_PATIENT]
    fs = familiarity.get(S.fam, S.fam_f, S.ic, S.fam_retention, familiarity.pair(patient, S.p_person[a]), day)
    fr = familiarity.get(S.fam, S.fam_f, S.ic, S.fam_retention, familiarity.pair(patient, S.p_person[b]), day)
    p = loss_probability(
        S.loss_coef,
        base_logit,
        1.0 if S.p_record[a] == S.p_record[b] else 0.0,
        1.0 if S.p_org[a] != S.p_org[b] else 0.0,
        t,
        unbooked_days(S, a),
        unbooked_days(S, b),
        float(S.p_interruptions[a] + S.p_interruptions[b]),
        1.0 if S.E[ep, EP_HOLISTIC] else 0.0,
        1.0 if S.p_sites[a, w] == S.p_sites[b, w] else 0.0,
        fs,
        fr,
    )
    return p, t


@kernel
def transfer(S: State, ep, sender, receiver, day):
    """Count a handover and draw its loss: (lost, loss probability, tie)."""
    S.E[ep, EP_HANDOVERS] += 1
    S.today[D_HANDOVERS] += 1
    p, t = transfer_probability(S, S.lg_base, ep, sender, receiver, day)
    lost = uniform(S, S_HANDOVER) < p
    S.nw_handovers[sender, receiver] += 1
    k = S.ic[RH]
    S.rh[k, 0] = sender
    S.rh[k, 1] = receiver
    S.ic[RH] = k + 1
    strengthen(S.nw_floor, S.nw_x, S.nw_s, S.tie_growth, sender, receiver)
    return lost, p, t


@kernel
def lose(S: State, ep):
    """Information was lost: True when it is noticed (the caller books rework), else it stays hidden."""
    S.E[ep, EP_LOSSES] += 1
    S.today[D_MISCOMMUNICATIONS] += 1
    if uniform(S, S_HANDOVER) >= S.p_detect:
        S.E[ep, EP_HIDDEN] += 1
        return False
    return True


@kernel
def reconcile_one(S: State, ep):
    """A usual clinician or care coordinator looks at one hidden loss: True when it is found (it
    becomes a rework task today)."""
    if uniform(S, S_HANDOVER) < S.p_reconcile:
        S.E[ep, EP_HIDDEN] -= 1
        return True
    return False


@kernel
def harm_at_close(S: State, ep):
    """Hidden losses left when the episode closes that become harm-risk events."""
    harm = 0
    for _ in range(S.E[ep, EP_HIDDEN]):
        if uniform(S, S_HANDOVER) < S.p_harm:
            harm += 1
    return harm
