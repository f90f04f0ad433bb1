"""Familiarity: what a clinician knows of a patient, built by contacts and fading without them.

For clinician (person) j and patient i, familiarity f_ij in [0, 1] starts at 0; each contact
closes a share g = `continuity.familiarity_growth` of the gap to 1,

    f <- f + g (1 - f),

and between contacts f halves every `continuity.familiarity_half_life_days` working days. It
belongs to the person, not the post: a new post-holder knows none of the post's patients. Only
pairs that have met are stored (a hash table keyed by one integer per pair of person and patient,
decayed lazily when read), so a day costs nothing for patients without open work. Handovers read it
(handover.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from handover_abm.state import F_ORIGIN, H_COUNT, N_IC, PAIRS, kernel

if TYPE_CHECKING:
    from handover_abm.config import Continuity

RENORMALISE_HALF_LIVES = 500  # 2^-500 is far from a float's underflow
EMPTY = -1
_GOLDEN = np.uint64(11400714819323198485)  # Fibonacci hashing


@kernel
def _slot(hk, key):
    """The slot of `key` in the table, or the empty slot where it would go (linear probing)."""
    mask = np.uint64(hk.size - 1)
    i = np.int64(((np.uint64(key) * _GOLDEN) >> np.uint64(29)) & mask)
    while True:
        k = hk[i]
        if k == key or k == EMPTY:  # noqa: SIM109 (numba: no tuple membership)
            return i
        i = np.int64((np.uint64(i) + np.uint64(1)) & mask)


@kernel
def pair_row(hk, hv, key):
    """The row of a pair (person x n_patients + patient), or -1 when they have never met."""
    i = _slot(hk, key)
    return hv[i] if hk[i] == key else -1


@kernel
def get(hk, hv, pair_f, ic, retention, key, day):
    """Familiarity of the pair `key` on `day`."""
    r = pair_row(hk, hv, key)
    if r < 0:
        return 0.0
    return pair_f[r] * retention ** float(day - ic[F_ORIGIN])


@kernel
def contact(hk, hv, pair_f, pair_n, ic, growth, retention, horizon, key, day):
    """A contact of the pair `key` on `day` raises familiarity; returns the pair's contacts so far."""
    if day - ic[F_ORIGIN] > horizon:
        scale = retention ** float(day - ic[F_ORIGIN])
        for r in range(ic[PAIRS]):
            pair_f[r] *= scale
        ic[F_ORIGIN] = day
    decay = retention ** float(day - ic[F_ORIGIN])
    i = _slot(hk, key)
    if hk[i] == key:
        r = hv[i]
        f = pair_f[r] * decay
    else:
        r = ic[PAIRS]
        ic[PAIRS] = r + 1
        hk[i] = key
        hv[i] = r
        ic[H_COUNT] += 1
        f = 0.0
    pair_f[r] = (f + growth * (1.0 - f)) / decay
    pair_n[r] += 1
    return pair_n[r]


@kernel
def _rehash(hk, hv, new_k, new_v):
    for i in range(hk.size):
        if hk[i] != EMPTY:
            j = _slot(new_k, hk[i])
            new_k[j] = hk[i]
            new_v[j] = hv[i]


class Familiarity:
    """Familiarity of each clinician (person) with each patient they have seen.

    Stored compactly, as one float per pair that has met: f at its last contact divided by the
    decay since an origin day, s = f / R^(day - origin), so that f today is s R^(today - origin)
    and no contact day needs storing. The origin moves forward (every value rescaled) before the
    decay since it could underflow. The pair's number of contacts is kept beside it (the patient's
    count of contacts with that person, for the usual-provider index).
    """

    def __init__(self, params: Continuity, n_patients: int, ic: np.ndarray | None = None) -> None:
        self.growth = params.familiarity_growth
        self.retention = math.exp(-math.log(2.0) / params.familiarity_half_life_days)
        self.n_patients = n_patients  # pair key: person x n_patients + patient
        self.horizon = params.familiarity_half_life_days * RENORMALISE_HALF_LIVES
        self.ic = np.zeros(N_IC, dtype=np.int64) if ic is None else ic  # PAIRS, H_COUNT, F_ORIGIN
        self.hk = np.full(1024, EMPTY, dtype=np.int64)
        self.hv = np.zeros(1024, dtype=np.int64)
        self.pair_f = np.zeros(512)
        self.pair_n = np.zeros(512, dtype=np.int64)

    def reserve(self, more: int) -> bool:
        """Room for `more` new pairs (table at most half full); True when arrays were replaced."""
        pairs = int(self.ic[PAIRS]) + more
        grown = False
        if pairs > self.pair_f.size:
            size = max(2 * self.pair_f.size, pairs)
            self.pair_f = np.concatenate([self.pair_f, np.zeros(size - self.pair_f.size)])
            self.pair_n = np.concatenate([self.pair_n, np.zeros(size - self.pair_n.size, dtype=np.int64)])
            grown = True
        if 2 * (int(self.ic[H_COUNT]) + more) > self.hk.size:
            size = self.hk.size
            while 2 * (int(self.ic[H_COUNT]) + more) > size:
                size *= 2
            new_k, new_v = np.full(size, EMPTY, dtype=np.int64), np.zeros(size, dtype=np.int64)
            _rehash(self.hk, self.hv, new_k, new_v)
            self.hk, self.hv = new_k, new_v
            grown = True
        return grown

    def get(self, patient: int, person: int, day: int) -> float:
        """Familiarity of `person` with `patient` on `day`."""
        key = person * self.n_patients + patient
        return float(get(self.hk, self.hv, self.pair_f, self.ic, self.retention, key, day))

    def contact(self, patient: int, person: int, day: int) -> int:
        """A contact between `person` and `patient` on `day` raises familiarity (their contacts so far)."""
        self.reserve(1)
        key = person * self.n_patients + patient
        return int(
            contact(
                self.hk,
                self.hv,
                self.pair_f,
                self.pair_n,
                self.ic,
                self.growth,
                self.retention,
                self.horizon,
                key,
                day,
            )
        )

    def __len__(self) -> int:
        return int(self.ic[PAIRS])
