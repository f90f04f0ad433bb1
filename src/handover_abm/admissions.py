"""Avoidable emergency admissions: the consequence of low relational continuity for patients.

Each episode of a patient with at least one long-term condition adds, when it arrives, an expected
ambulatory-care-sensitive (ACSC) emergency admission risk

    r = acsc_risk_per_episode x acsc_rate_ratio_per_0_2_upc ** ((UPC - upc_reference) / 0.2)

where UPC is the Usual Provider of Care index of the patient's contacts so far (patients with
fewer than two contacts count at `upc_reference`): a problem arising in a patient whose care has
been fragmented is likelier to end in an avoidable admission. Counting at arrival, not at the
close, keeps the count independent of how many episodes a team finishes within the run (arrivals
are the same for every team under common random numbers). Barker et al. (BMJ 2017) found 6% fewer ACSC
admissions for each 0.2 rise in UPC of GP contacts; here it is applied to contacts with any
clinician. The expected value is summed (no random draw), so the outcome carries no extra noise;
`acsc_admissions_per_1000_patients` is that sum per 1,000 registered patients per year.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handover_abm.config import Continuity
    from handover_abm.episodes import Episode
    from handover_abm.model import HandoverModel


def acsc_risk(upc_value: float, params: Continuity) -> float:
    """Expected ACSC admissions of one episode of a patient with a long-term condition."""
    return params.acsc_risk_per_episode * params.acsc_rate_ratio_per_0_2_upc ** (
        (upc_value - params.upc_reference) / 0.2
    )


def patient_upc(top_count: int, n: int, reference: float) -> float:
    """UPC of `n` contacts, `top_count` of them with the clinician seen most; `reference` when there
    are fewer than two contacts. The model keeps both counts as contacts happen (no scan per episode)."""
    return top_count / n if n >= 2 else reference


class AvoidableAdmissions:
    """Adds each completed episode's expected ACSC admission risk to the run's totals."""

    def __init__(self, model: HandoverModel) -> None:
        self.model = model
        self.params = model.config.continuity

    def at_arrival(self, ep: Episode) -> None:
        """A new episode: its expected avoidable admissions, from the patient's continuity so far."""
        patient = self.model.patients[ep.patient]
        if patient.n_ltc < 1:
            return
        u = patient_upc(patient.top_count, len(patient.history), self.params.upc_reference)
        self.model.totals["acsc_admissions"] += acsc_risk(u, self.params)
