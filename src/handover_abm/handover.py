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
from typing import TYPE_CHECKING, Any

from handover_abm.config import Continuity, Handover
from handover_abm.episodes import Episode, Task, TaskKind

if TYPE_CHECKING:
    from handover_abm.agents import Clinician
    from handover_abm.model import HandoverModel


def logit(p: float) -> float:
    """log(p / (1 - p))."""
    return math.log(p / (1.0 - p))


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
    """Computes loss probabilities from a Handover parameter set (log odds ratios cached)."""

    def __init__(self, params: Handover, continuity: Continuity | None = None) -> None:
        continuity = continuity or Continuity()
        self.params = params
        self.b_tie = math.log(params.or_full_tie)
        self.b_record = math.log(params.or_shared_record)
        self.b_employer = math.log(params.or_different_employer)
        self.b_site = math.log(params.or_colocated)
        self.b_backlog = math.log(params.or_per_backlog_day)
        self.b_interrupt = math.log(params.or_per_interruption)
        self.b_holistic = math.log(params.or_holistic)
        self.b_knows = math.log(continuity.or_receiver_knows_patient)
        self.b_both = math.log(continuity.or_both_know_patient)
        self.cap = params.backlog_cap_days

    def structural_logit(self, base: float, same_record: bool, other_employer: bool) -> float:
        """The part of logit p fixed by who the two posts are (record, employer)."""
        return logit(base) + self.b_record * same_record + self.b_employer * other_employer

    def state_logit(
        self,
        tie: float,
        backlog_s: float,
        backlog_r: float,
        interruptions: int,
        holistic: bool,
        same_site: bool = False,
        familiar_s: float = 0.0,
        familiar_r: float = 0.0,
    ) -> float:
        """The part of logit p that changes from day to day (tie, load, interruptions, holistic
        view, where the two work today, what they know of the patient)."""
        cap = self.cap
        return (
            self.b_tie * tie
            + self.b_backlog
            * ((backlog_s if backlog_s < cap else cap) + (backlog_r if backlog_r < cap else cap))
            + self.b_interrupt * interruptions
            + self.b_holistic * holistic
            + self.b_site * same_site
            + self.b_knows * familiar_r
            + self.b_both * (familiar_s if familiar_s < familiar_r else familiar_r)
        )

    def probability(self, base: float, f: TransferFactors) -> float:
        """Loss probability of a transfer with base probability `base` and factors `f`."""
        z = self.structural_logit(base, f.same_record, f.other_employer) + self.state_logit(
            f.tie,
            f.backlog_sender,
            f.backlog_receiver,
            f.interruptions,
            f.holistic,
            f.same_site,
            f.familiar_sender,
            f.familiar_receiver,
        )
        return 1.0 / (1.0 + math.exp(-z))


def session_sites(c: Clinician, practices: int, per_pcn: int) -> list[int]:
    """Where a post works on each weekday (Monday..Friday): its own site, or, for network staff
    who work on practice sites, a weekly round of their network's practices (staggered by post)."""
    if c.practice >= 0 or c.site < 0:
        return [c.site] * 5
    first = c.pcn * per_pcn
    ours = list(range(first, min(first + per_pcn, practices)))
    return [ours[(c.post + w) % len(ours)] for w in range(5)]


class Handovers:
    """A change of person within an episode: counted, loss drawn, and the loss's consequences.

    Consequences: a noticed loss makes a rework task for the receiver after `rework_delay_days`
    and the task waits behind it; a hidden loss stays with the episode until a usual clinician or
    care coordinator finds it (`p_reconcile`) or the episode closes (`p_harm_per_unresolved`).
    """

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.handover
        self.loss_model = LossModel(self.params, model.config.continuity)
        self.stream = model.streams["handover"]
        self._structural: dict[tuple[int, int], float] = {}  # (sender post, receiver post) -> logit part
        pop = model.config.population
        self.sites = [session_sites(c, pop.practices, pop.practices_per_pcn) for c in model.clinicians]
        self.weekday = model.calendar.weekday.tolist()

    def same_site_today(self, a: Clinician, b: Clinician, day: int) -> bool:
        """Whether `a` and `b` work on the same site on `day` (network staff move between practices)."""
        w = self.weekday[day]
        return self.sites[a.post][w] == self.sites[b.post][w]

    def factors(self, ep: Episode, a: Clinician, b: Clinician, day: int) -> TransferFactors:
        """What is known about a transfer of `ep` from `a` to `b` on `day`."""
        fam = self.model.familiarity
        return TransferFactors(
            tie=self.model.network.tie(a.post, b.post),
            same_record=a.record == b.record,
            other_employer=a.org_key != b.org_key,
            same_site=self.same_site_today(a, b, day),
            backlog_sender=a.unbooked_days(),
            backlog_receiver=b.unbooked_days(),
            interruptions=a.interruptions_today + b.interruptions_today,
            holistic=ep.holistic,
            familiar_sender=fam.get(ep.patient, a.person, day),
            familiar_receiver=fam.get(ep.patient, b.person, day),
        )

    def transfer(self, ep: Episode, sender: Clinician, receiver: Clinician, task: Task, day: int) -> bool:
        """Count a handover and draw its loss. True when the task now waits behind a rework task."""
        model = self.model
        ep.handovers += 1
        model.today["handovers"] += 1
        key = (sender.post, receiver.post)
        structural = self._structural.get(key)
        if structural is None:
            structural = self._structural[key] = self.loss_model.structural_logit(
                self.params.base_loss_probability,
                sender.record == receiver.record,
                sender.org_key != receiver.org_key,
            )
        tie = model.network.tie(sender.post, receiver.post)
        fam = model.familiarity
        z = structural + self.loss_model.state_logit(
            tie,
            sender.unbooked_days(),
            receiver.unbooked_days(),
            sender.interruptions_today + receiver.interruptions_today,
            ep.holistic,
            self.same_site_today(sender, receiver, day),
            fam.get(ep.patient, sender.person, day),
            fam.get(ep.patient, receiver.person, day),
        )
        p = 1.0 / (1.0 + math.exp(-z))
        lost = self.stream.uniform() < p
        model.network.record_handover(sender.post, receiver.post)
        outcome = self.lose(ep, receiver.post, task, day, blocking=True) if lost else "none"
        if model.log_events:
            model.events.append(_event(day, ep, task, sender, receiver, tie, p, lost, outcome))
        return outcome == "rework"

    def lose(self, ep: Episode, post: int, task: Task, day: int, blocking: bool) -> str:
        """Information was lost: noticed (rework after a delay) or hidden (harm risk later)."""
        ep.losses += 1
        self.model.today["miscommunications"] += 1
        if self.stream.uniform() >= self.params.p_detect:
            ep.hidden_losses += 1
            return "hidden"
        when = day + self.params.rework_delay_days
        self.rework(ep, post, task.type, day, when)
        if blocking:
            self.model.defer(task, day, when, post)
        return "rework"

    def rework(self, ep: Episode, post: int, ttype: str, day: int, when: int) -> None:
        """A rework task for `post`: the lost step done again (a re-contact when it is a contact)."""
        ep.rework += 1
        self.model.today["rework_tasks"] += 1
        task = Task(ep, ttype, TaskKind.REWORK, day)
        task.checked = True
        self.model.create(task, day, when, pinned=post)

    def rebuild_holistic_view(self, ep: Episode, post: int, ttype: str, day: int) -> None:
        """A usual clinician or care coordinator sees the whole episode: hidden losses may surface."""
        ep.holistic = True
        for _ in range(ep.hidden_losses):
            if self.stream.uniform() < self.params.p_reconcile:
                ep.hidden_losses -= 1
                self.rework(ep, post, ttype, day, day)

    def harm_at_close(self, ep: Episode) -> int:
        """Hidden losses left when the episode closes that become harm-risk events."""
        if not ep.hidden_losses:
            return 0
        p = self.params.p_harm_per_unresolved
        return sum(self.stream.uniform() < p for _ in range(ep.hidden_losses))


def _event(
    day: int,
    ep: Episode,
    task: Task,
    a: Clinician,
    b: Clinician,
    tie: float,
    p: float,
    lost: bool,
    outcome: str,
) -> dict[str, Any]:
    return {
        "day": day,
        "episode": ep.id,
        "patient": ep.patient,
        "kind": "handover",
        "task_type": task.type,
        "from_post": a.post,
        "from_person": a.person,
        "from_role": a.role_name,
        "from_org": a.org_key,
        "to_post": b.post,
        "to_person": b.person,
        "to_role": b.role_name,
        "to_org": b.org_key,
        "tie_strength": tie,
        "loss_probability": p,
        "information_lost": lost,
        "outcome": outcome,
    }
