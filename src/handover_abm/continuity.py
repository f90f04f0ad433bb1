"""Continuity-of-care indices of many contact histories at once, compiled: one pass per patient.

A run's contact log holds every contact as (patient, clinician); the summary needs each patient's
contacts in order (`grouped`, a stable counting sort: linear in the contacts, where a comparison
sort of a million patients' contacts grows faster) and, from them, each history's Usual Provider
of Care index (UPC), Bice-Boxerman Continuity of Care index (COC) and sequential continuity
(SECON), the formulas of metrics.upc, metrics.coc and metrics.secon.
"""

from __future__ import annotations

import numpy as np

from handover_abm.state import kernel


@kernel
def grouped(keys, values, n_keys):
    """(values ordered by key, each key's count): the values of key 0, in their order, then key 1..."""
    counts = np.zeros(n_keys, dtype=np.int64)
    for k in keys:
        counts[k] += 1
    at = np.empty(n_keys, dtype=np.int64)
    total = 0
    for k in range(n_keys):
        at[k] = total
        total += counts[k]
    out = np.empty(keys.size, dtype=values.dtype)
    for i in range(keys.size):
        out[at[keys[i]]] = values[i]
        at[keys[i]] += 1
    return out, counts


@kernel
def indices(codes, n):
    """UPC, COC and SECON of consecutive histories of lengths `n` (each at least 2) of `codes`."""
    upc = np.empty(n.size)
    coc = np.empty(n.size)
    secon = np.empty(n.size)
    scratch = np.empty(max(1, n.max()) if n.size else 1, dtype=codes.dtype)
    start = 0
    for h in range(n.size):
        m = n[h]
        same = 0
        for i in range(m):  # insertion sort of the history (a few contacts) into scratch
            c = codes[start + i]
            if i and c == codes[start + i - 1]:
                same += 1
            j = i
            while j > 0 and scratch[j - 1] > c:
                scratch[j] = scratch[j - 1]
                j -= 1
            scratch[j] = c
        top, squares, run = 0, 0, 1
        for i in range(1, m + 1):  # runs of equal codes: contacts with each clinician
            if i < m and scratch[i] == scratch[i - 1]:
                run += 1
            else:
                top = max(top, run)
                squares += run * run
                run = 1
        upc[h] = top / m
        coc[h] = (squares - m) / (m * (m - 1))
        secon[h] = same / (m - 1)
        start += m
    return upc, coc, secon
