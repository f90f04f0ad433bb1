"""Familiarity: what a clinician knows of a patient, built by contacts and fading without them.

For clinician (person) j and patient i, familiarity f_ij in [0, 1] starts at 0; each contact
closes a share g = `continuity.familiarity_growth` of the gap to 1,

    f <- f + g (1 - f),

and between contacts f halves every `continuity.familiarity_half_life_days` working days. It
belongs to the person, not the post: a new post-holder knows none of the post's patients. Only
pairs that have met are stored (a dict keyed by one integer per pair of person and patient, decayed
lazily when read), so a day costs nothing for patients without open work. Handovers read it
(handover.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handover_abm.config import Continuity


class Familiarity:
    """Familiarity of each clinician (person) with each patient they have seen.

    Stored compactly, as one float per pair that has met: f at its last contact divided by the
    decay since an origin day, s = f / R^(day - origin), so that f today is s R^(today - origin)
    and no contact day needs storing. The origin moves forward (every value rescaled) before the
    decay since it could underflow.
    """

    RENORMALISE_HALF_LIVES = 500  # 2^-500 is far from a float's underflow

    def __init__(self, params: Continuity, n_patients: int) -> None:
        self.growth = params.familiarity_growth
        self.retention = math.exp(-math.log(2.0) / params.familiarity_half_life_days)
        self.n_patients = n_patients  # pair key: person x n_patients + patient (no tuple per lookup)
        self._f: dict[int, float] = {}  # pair key -> f / R^(day of last contact - origin)
        self._origin = 0
        self._horizon = params.familiarity_half_life_days * self.RENORMALISE_HALF_LIVES

    def get(self, patient: int, person: int, day: int) -> float:
        """Familiarity of `person` with `patient` on `day`."""
        s = self._f.get(person * self.n_patients + patient)
        return 0.0 if s is None else s * self.retention ** (day - self._origin)

    def contact(self, patient: int, person: int, day: int) -> None:
        """A contact between `person` and `patient` on `day` raises familiarity."""
        if day - self._origin > self._horizon:
            self._move_origin(day)
        key = person * self.n_patients + patient
        decay = self.retention ** (day - self._origin)
        s = self._f.get(key)
        f = 0.0 if s is None else s * decay
        self._f[key] = (f + self.growth * (1.0 - f)) / decay

    def _move_origin(self, day: int) -> None:
        scale = self.retention ** (day - self._origin)
        self._f = {key: s * scale for key, s in self._f.items()}
        self._origin = day

    def __len__(self) -> int:
        return len(self._f)
