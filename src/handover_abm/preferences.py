"""Who has a named GP, who prefers to see them, and how long each will wait for them.

Every patient of a practice with a usual-clinician role is given a named clinician with
probability `population.usual_clinician_share` (all of them under `personal_list`), drawn in
proportion to the holders' FTE. A patient prefers to see that clinician with probability
    min(1, preference_share[age band] + preference_share_per_ltc * n_ltc)
(every patient under `personal_list`). On a routine request a patient who prefers will wait up to
floor(Exponential(mean)) working days for them, mean = wait_for_preferred_days +
wait_for_preferred_days_per_ltc * n_ltc; urgent requests wait for nobody (today only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from handover_abm.config import Scenario
from handover_abm.demand import Population
from handover_abm.state import S_PREFERENCE, State, kernel, uniform


def named_clinicians(
    scenario: Scenario,
    population: Population,
    holders_by_practice: Sequence[Sequence[tuple[int, float]]],
    everyone: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Named clinician (post) of each patient, or -1; holders are (post, fte) per practice."""
    share = 1.0 if everyone else scenario.population.usual_clinician_share
    named = np.full(population.size, -1)
    for p, holders in enumerate(holders_by_practice):
        members = np.flatnonzero(population.practice == p)
        if not holders or members.size == 0:
            continue
        posts = np.array([h[0] for h in holders])
        weights = np.array([h[1] for h in holders])
        has = rng.random(members.size) < share
        picks = rng.choice(len(holders), size=members.size, p=weights / weights.sum())
        named[members[has]] = posts[picks][has]
    return named


def who_prefers(
    scenario: Scenario, population: Population, named: np.ndarray, everyone: bool, rng: np.random.Generator
) -> np.ndarray:
    """Boolean per patient: prefers to see their named clinician."""
    band_share = np.array([b.preference_share for b in scenario.population.age_bands])
    p = band_share[population.age_band] + scenario.access.preference_share_per_ltc * population.n_ltc
    draws = rng.random(population.size)
    return (named >= 0) & (everyone | (draws < np.minimum(p, 1.0)))


@kernel
def willingness(S: State, n_ltc):
    """Working days a patient will wait for their preferred clinician on a routine request:
    floor(Exponential(mean)) by inverse CDF from the preference stream."""
    mean = S.wait_base + S.wait_per_ltc * n_ltc
    if mean <= 0:
        return 0
    return int(-mean * math.log1p(-uniform(S, S_PREFERENCE)))
