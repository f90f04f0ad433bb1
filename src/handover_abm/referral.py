"""Work that depends on who does it: re-consultation with a GP after a task at the edge of scope.

When a clinician finishes a task whose edge of scope is e (0 = core, 1 = edge), the patient needs
to be seen again by a GP with probability

    p = referral.probability_at_edge x e,

so a role working at its core rarely refers back, and a GP never does (a GP's edge only steers care
navigation: treatment-room work sits at a GP's edge so that it is booked with nurses first). The
re-consultation (`referral.task`, a GP-only contact) is put at the front of the episode's remaining
tasks: one more task and usually one more handover. Each is counted as failure demand
(`failure_demand_per_episode`: demand caused by the care not being finished first time).
"""

from __future__ import annotations

from handover_abm.state import EP_NREM, EP_PRACTICE, K_FAILURE, NORMAL, S_REFERRAL, State, kernel, uniform


def referral_probability(edge: float, at_edge: float) -> float:
    """Chance that a task at `edge` of the doer's scope needs a GP to see the patient again."""
    return at_edge * edge


@kernel
def after_task(S: State, c, ttype, kind, ep):
    """A normal task is done: perhaps the patient must see a GP again (before what is left).

    `S.referral_p[c, ttype]` is `referral_probability` for the post and task type."""
    if kind != NORMAL:
        return
    p = S.referral_p[c, ttype]
    if p <= 0.0 or uniform(S, S_REFERRAL) >= p:
        return
    practice = S.E[ep, EP_PRACTICE]
    if S.el_end[practice, S.ref_type] <= S.el_start[practice, S.ref_type]:
        return  # no GP in reach: nobody to refer to
    n = S.E[ep, EP_NREM]
    S.e_rem[ep, n] = S.ref_type  # next (the stack's end is its front)
    S.E[ep, EP_NREM] = n + 1
    S.tot[K_FAILURE] += 1
