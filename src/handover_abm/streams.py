"""One random stream per stochastic process, spawned from the run's seed.

Common random numbers: every config run with seed s draws its population and its demand from the
same streams, so two teams compared on replicate r see identical patients and episodes, and the
differences between them are paired rather than stream noise.
"""

from __future__ import annotations

import numpy as np

from handover_abm.limits import MAX_REPLICATES, check_count, check_seed

# Order matters: it fixes which child of the SeedSequence each process gets. Append only.
PROCESSES = (
    "population",
    "demand",
    "allocation",
    "routing",
    "handover",
    "supervision",
    "turnover",
    "rota",
    "preference",
    "access",
    "referral",
)


class Stream:
    """A numpy Generator plus a block of pre-drawn uniforms for scalar draws.

    Uniforms are served from blocks of `buffer` values, each drawn from `rng` when the previous
    block is used up (the same values, in the same order, as one `rng.random(buffer)` call per
    block), one at a time (`uniform`) or many at once (`take`): the two give the same sequence.
    """

    __slots__ = ("_block", "_pos", "_size", "rng")

    def __init__(self, seed_seq: np.random.SeedSequence, buffer: int = 4096) -> None:
        self.rng = np.random.default_rng(seed_seq)
        self._size = buffer
        self._block = np.zeros(0)
        self._pos = 0

    def uniform(self) -> float:
        """One U(0, 1) draw."""
        if self._pos == self._block.size:
            self._block, self._pos = self.rng.random(self._size), 0
        self._pos += 1
        return float(self._block[self._pos - 1])

    def take(self, n: int) -> np.ndarray:
        """The next `n` U(0, 1) draws, in order."""
        parts = []
        while n > 0:
            if self._pos == self._block.size:
                self._block, self._pos = self.rng.random(self._size), 0
            k = min(n, self._block.size - self._pos)
            parts.append(self._block[self._pos : self._pos + k])
            self._pos += k
            n -= k
        return np.concatenate(parts) if parts else np.zeros(0)


class RandomStreams:
    """Named, independent streams for one run, derived with numpy SeedSequence."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        children = np.random.SeedSequence(seed).spawn(len(PROCESSES))
        self._streams = {name: Stream(ss) for name, ss in zip(PROCESSES, children, strict=True)}

    def __getitem__(self, name: str) -> Stream:
        return self._streams[name]


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """Per-replicate seeds derived from a root seed (replicate r gets the same seed in every config);
    at most MAX_REPLICATES, refused before any is allocated."""
    check_seed(root_seed)
    check_count(f"{replicates:,} replicates", replicates, MAX_REPLICATES, "use fewer replicates or draws")
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
