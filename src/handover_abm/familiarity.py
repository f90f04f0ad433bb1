"""Familiarity: what a clinician knows of a patient, built by contacts and fading without them.

For clinician (person) j and patient i, familiarity f_ij in [0, 1] starts at 0; each contact
closes a share g = `continuity.familiarity_growth` of the gap to 1,

    f <- f + g (1 - f),

and between contacts f halves every `continuity.familiarity_half_life_days` working days. It
belongs to the person, not the post: a new post-holder knows none of the post's patients. Only
pairs that have met are stored (a hash table keyed by one integer per pair of patient and person,
decayed lazily when read), so a day costs nothing for patients without open work. Handovers read it
(handover.py). A patient's pairs lie side by side in the table (its rows start where the patient's
share of the table does), so the several reads of one patient's pairs in a task (the clinician who
sees them, the one a task is handed to, the candidates of a booking rule) fetch one stretch of memory.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from handover_abm.state import F_ORIGIN, F_PATIENTS, LINE, N_IC, PAIRS, inline_kernel, kernel, prefetch

if TYPE_CHECKING:
    from handover_abm.config import Continuity

RENORMALISE_HALF_LIVES = 500  # 2^-500 is far from a float's underflow
KEY, VALUE = 0, 1  # a row of the table: the key and the pair's contacts, and the value (as a float)
PERSON_BITS = 24  # a pair's key: patient x 2^24 + person (at most 16,777,216 people in a run)
PATIENT_BITS = 24  # at most 16,777,216 patients: a key takes the low 48 bits of its row's first word
CONTACT = 1 << (PERSON_BITS + PATIENT_BITS)  # the pair's contacts are counted in the bits above
KEY_MASK = CONTACT - 1
MOST_CONTACTS = (1 << (63 - PERSON_BITS - PATIENT_BITS)) - 1
EMPTY = 0  # no pair has key 0: people are numbered from 1


@inline_kernel
def pair(patient, person):
    """The key of the pair (patient, person); people are numbered from 1, patients from 0."""
    if person <= 0 or person >> PERSON_BITS or patient >> PATIENT_BITS:
        raise ValueError("a person outside 1..2^24 or more than 2^24 patients: not a familiarity key")
    return (patient << PERSON_BITS) | person


@inline_kernel
def _slot(table, ic, key):
    """The row of `key` in the table, or the empty row where it would go (linear probing)."""
    mask = np.uint64(table.shape[0] - 1)
    i = _home(table, ic, key)
    while True:
        k = table[i, KEY]
        if k & KEY_MASK == key or k == EMPTY:
            return i
        i = np.int64((np.uint64(i) + np.uint64(1)) & mask)


@inline_kernel
def _home(table, ic, key):
    """The row where linear probing for `key` starts: the start of its patient's share of the table
    (patients in order, `ic[F_PATIENTS]` of them), so that a patient's pairs are neighbours."""
    patient = key >> PERSON_BITS
    return (patient * table.shape[0] // max(ic[F_PATIENTS], 1)) & (table.shape[0] - 1)


@inline_kernel
def ahead(table, ic, key):
    """Start reading the rows of the pair `key`'s patient into the cache (see state.prefetch): the
    two cache lines from where its pairs start, which hold the pairs of most patients."""
    home = _home(table, ic, key)
    prefetch(table, home)
    prefetch(table, home + LINE // (table.shape[1] * 8))


@inline_kernel
def get(table, values, ic, retention, key, day):
    """Familiarity of the pair `key` (see `pair`) on `day`; `values` is the
    table read as floats (the same memory)."""
    i = _slot(table, ic, key)
    if table[i, KEY] == EMPTY:
        return 0.0
    return values[i, VALUE] * retention ** float(day - ic[F_ORIGIN])


@kernel
def contact(table, values, ic, growth, retention, horizon, key, day):
    """A contact of the pair `key` on `day` raises familiarity; returns the pair's contacts so far."""
    if day - ic[F_ORIGIN] > horizon:
        scale = retention ** float(day - ic[F_ORIGIN])
        for r in range(table.shape[0]):
            if table[r, KEY] != EMPTY:
                values[r, VALUE] *= scale
        ic[F_ORIGIN] = day
    decay = retention ** float(day - ic[F_ORIGIN])
    i = _slot(table, ic, key)
    if table[i, KEY] != EMPTY:
        f = values[i, VALUE] * decay
    else:
        table[i, KEY] = key
        ic[PAIRS] += 1
        f = 0.0
    values[i, VALUE] = (f + growth * (1.0 - f)) / decay
    if table[i, KEY] >> (PERSON_BITS + PATIENT_BITS) == MOST_CONTACTS:
        raise ValueError("more contacts of one pair than familiarity's table counts")
    table[i, KEY] += CONTACT
    return table[i, KEY] >> (PERSON_BITS + PATIENT_BITS)


@kernel
def _rehash(table, new, ic):
    for i in range(table.shape[0]):
        if table[i, KEY] != EMPTY:
            j = _slot(new, ic, table[i, KEY] & KEY_MASK)
            new[j, :] = table[i, :]


def _empty_table(rows: int) -> np.ndarray:
    return np.zeros((rows, 2), dtype=np.int64)  # 16 bytes a row, four to a cache line; EMPTY is 0


class Familiarity:
    """Familiarity of each clinician (person) with each patient they have seen.

    Stored compactly, as one row per pair that has met in an open-addressing hash table keyed by
    patient and person (`pair`): f at its last contact divided by the decay since an origin day,
    s = f / R^(day - origin), so that f today is s R^(today - origin) and no contact day needs
    storing, and the pair's number of contacts (the patient's count of contacts with that person,
    for the usual-provider index). The origin moves forward (every value rescaled) before the decay
    since it could underflow.
    """

    def __init__(self, params: Continuity, patients: int, ic: np.ndarray | None = None) -> None:
        self.growth = params.familiarity_growth
        self.retention = math.exp(-math.log(2.0) / params.familiarity_half_life_days)
        self.horizon = params.familiarity_half_life_days * RENORMALISE_HALF_LIVES
        self.ic = np.zeros(N_IC, dtype=np.int64) if ic is None else ic  # PAIRS, F_ORIGIN, F_PATIENTS
        self.ic[F_PATIENTS] = patients
        self.table = _empty_table(1024)
        self.values = self.table.view(np.float64)

    def reserve(self, more: int) -> bool:
        """Room for `more` new pairs (the table at most half full); True when the table was replaced."""
        rows = self.table.shape[0]
        while 2 * (int(self.ic[PAIRS]) + more) > rows:
            rows *= 2
        if rows == self.table.shape[0]:
            return False
        new = _empty_table(rows)
        _rehash(self.table, new, self.ic)
        self.table, self.values = new, new.view(np.float64)
        return True

    def get(self, patient: int, person: int, day: int) -> float:
        """Familiarity of `person` with `patient` on `day`."""
        key = pair(patient, person)
        return float(get(self.table, self.values, self.ic, self.retention, key, day))

    def contact(self, patient: int, person: int, day: int) -> int:
        """A contact between `person` and `patient` on `day` raises familiarity (their contacts so far)."""
        self.reserve(1)
        key = pair(patient, person)
        return int(
            contact(self.table, self.values, self.ic, self.growth, self.retention, self.horizon, key, day)
        )

    def __len__(self) -> int:
        return int(self.ic[PAIRS])
