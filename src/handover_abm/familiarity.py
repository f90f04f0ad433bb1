"""Familiarity: what a clinician knows of a patient, built by contacts and fading without them.

For clinician (person) j and patient i, familiarity f_ij in [0, 1] starts at 0; each contact
closes a share g = `continuity.familiarity_growth` of the gap to 1,

    f <- f + g (1 - f),

and between contacts f halves every `continuity.familiarity_half_life_days` working days. It
belongs to the person, not the post: a new post-holder knows none of the post's patients. Only
pairs that have met are stored (a dict keyed by patient and person, decayed lazily when read), so
a day costs nothing for patients without open work. Handovers read it (handover.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handover_abm.config import Continuity


class Familiarity:
    """Familiarity of each clinician (person) with each patient they have seen."""

    def __init__(self, params: Continuity) -> None:
        self.growth = params.familiarity_growth
        self.retention = math.exp(-math.log(2.0) / params.familiarity_half_life_days)
        self._f: dict[tuple[int, int], tuple[float, int]] = {}  # (patient, person) -> (f, day set)

    def get(self, patient: int, person: int, day: int) -> float:
        """Familiarity of `person` with `patient` on `day`."""
        got = self._f.get((patient, person))
        if got is None:
            return 0.0
        f, since = got
        return f * self.retention ** (day - since)

    def contact(self, patient: int, person: int, day: int) -> None:
        """A contact between `person` and `patient` on `day` raises familiarity."""
        f = self.get(patient, person, day)
        self._f[(patient, person)] = (f + self.growth * (1.0 - f), day)

    def __len__(self) -> int:
        return len(self._f)
