"""Information loss at a handover or sign-off, and what a loss leads to.

The probability that a transfer of a case loses clinically relevant information is logistic in
documented factors:

    logit p = logit(p0)
              + ln(or_full_tie)         * tie              (0..1)
              + ln(or_shared_record)    * same_record      (0/1)
              + ln(or_org_boundary)     * boundary         (0/1)
              + ln(or_colocated)        * same_site        (0/1)
              + ln(or_per_backlog_day)  * (min(backlog_s, cap) + min(backlog_r, cap))
              + ln(or_per_interruption) * (interruptions_s + interruptions_r)
              + ln(or_holistic)         * holistic_view    (0/1)

p0 is `base_loss_probability` for handovers and `signoff_base_loss_probability` for a
supervisor's per-case sign-off. A loss is noticed with probability p_detect (then: a rework task
for the receiver after `rework_delay_days`), or stays hidden; a hidden loss can be found later by
a usual clinician or care coordinator (p_reconcile) or, at the end of the episode, becomes a
harm-risk event with probability p_harm_per_unresolved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handover_abm.config import Handover


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class TransferFactors:
    """What is known about one transfer of a case between two people."""

    tie: float
    same_record: bool
    boundary: bool
    same_site: bool
    backlog_sender: float
    backlog_receiver: float
    interruptions: int
    holistic: bool


class LossModel:
    """Computes loss probabilities from a Handover parameter set (log odds ratios cached)."""

    def __init__(self, params: Handover) -> None:
        self.params = params
        self.b_tie = math.log(params.or_full_tie)
        self.b_record = math.log(params.or_shared_record)
        self.b_boundary = math.log(params.or_org_boundary)
        self.b_site = math.log(params.or_colocated)
        self.b_backlog = math.log(params.or_per_backlog_day)
        self.b_interrupt = math.log(params.or_per_interruption)
        self.b_holistic = math.log(params.or_holistic)
        self.cap = params.backlog_cap_days

    def probability(self, base: float, f: TransferFactors) -> float:
        """Loss probability of a transfer with base probability `base` and factors `f`."""
        z = (
            logit(base)
            + self.b_tie * f.tie
            + self.b_record * f.same_record
            + self.b_boundary * f.boundary
            + self.b_site * f.same_site
            + self.b_backlog * (min(f.backlog_sender, self.cap) + min(f.backlog_receiver, self.cap))
            + self.b_interrupt * f.interruptions
            + self.b_holistic * f.holistic
        )
        return 1.0 / (1.0 + math.exp(-z))
