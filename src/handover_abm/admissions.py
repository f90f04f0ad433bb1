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

from handover_abm.state import K_ACSC, PT_CONTACTS, PT_LTC, PT_TOP, State, inline_kernel, kernel

if TYPE_CHECKING:
    from handover_abm.config import Continuity


@inline_kernel
def _expected(risk, rate_ratio, reference, upc_value):
    return risk * rate_ratio ** ((upc_value - reference) / 0.2)


@inline_kernel
def _upc(top_count, n, reference):
    return top_count / n if n >= 2 else reference


def acsc_risk(upc_value: float, params: Continuity) -> float:
    """Expected ACSC admissions of one episode of a patient with a long-term condition."""
    return float(
        _expected(
            params.acsc_risk_per_episode, params.acsc_rate_ratio_per_0_2_upc, params.upc_reference, upc_value
        )
    )


def patient_upc(top_count: int, n: int, reference: float) -> float:
    """UPC of `n` contacts, `top_count` of them with the clinician seen most; `reference` when there
    are fewer than two contacts. The model keeps both counts as contacts happen (no scan per episode)."""
    return float(_upc(top_count, n, reference))


@kernel
def at_arrival(S: State, patient):
    """A new episode of `patient`: its expected avoidable admissions, from their continuity so far."""
    if S.P[patient, PT_LTC] < 1:
        return
    u = _upc(S.P[patient, PT_TOP], S.P[patient, PT_CONTACTS], S.upc_reference)
    S.tot[K_ACSC] += _expected(S.acsc_risk, S.acsc_rr, S.upc_reference, u)
