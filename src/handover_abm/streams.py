"""One random stream per stochastic process, spawned from the run's seed.

Common random numbers: every config run with seed s draws its population and its demand from the
same streams, so two teams compared on replicate r see identical patients and episodes, and the
differences between them are paired rather than stream noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

import numpy as np

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
MAX_REPLICATES = 10_000  # per config or design point (the seeds are allocated up front)


class Stream:
    """A numpy Generator plus a block of pre-drawn uniforms for cheap scalar draws on hot paths.

    `uniform()` is the C-level `__next__` of an iterator chained over blocks of `buffer` uniforms,
    each drawn from `rng` when the previous block is used up (the same values, in the same order,
    as one `rng.random(buffer)` call per block), so a draw costs no Python frame.
    """

    __slots__ = ("_size", "rng", "uniform")

    def __init__(self, seed_seq: np.random.SeedSequence, buffer: int = 4096) -> None:
        self.rng = np.random.default_rng(seed_seq)
        self._size = buffer
        self.uniform: Callable[[], float] = chain.from_iterable(self._blocks()).__next__
        """One U(0, 1) draw, served from a pre-drawn block (refilled from `rng` when used up)."""

    def _blocks(self) -> Iterator[list[float]]:
        while True:
            yield self.rng.random(self._size).tolist()


class RandomStreams:
    """Named, independent streams for one run, derived with numpy SeedSequence."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        children = np.random.SeedSequence(seed).spawn(len(PROCESSES))
        self._streams = {name: Stream(ss) for name, ss in zip(PROCESSES, children, strict=True)}

    def __getitem__(self, name: str) -> Stream:
        return self._streams[name]


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """Per-replicate seeds derived from a root seed (replicate r gets the same seed in every config)."""
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
