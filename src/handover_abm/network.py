"""The team network: supervision links and working ties that grow with shared work and decay.

Tie strength w in [0, 1] for each pair of posts is the structural floor plus an excess built by
shared work. Each shared piece of work closes a share `tie_growth` of the gap to 1; each day the
excess decays with half-life `tie_half_life_days`. The floor is raised by co-location and by a
shared record. When a post-holder leaves, the ties of that post fall back to the floor: the
newcomer has to build them again.

The daily decay is lazy, so a day costs O(1) whatever the team's size (an ICB of many PCNs has
thousands of posts): the excess is stored divided by the running decay factor R^t, so
w = floor + x * R^t, and the sum of x is kept up to date for the mean tie.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Sequence

import networkx as nx
import numpy as np

from handover_abm.config import Network as NetworkParams
from handover_abm.state import aligned_zeros, inline_kernel

RECENT_DAYS = 7
RENORMALISE_BELOW = 1e-100  # fold the decay factor into the stored excess before it underflows
SCALE, XSUM = 0, 1  # the lazy decay factor and the sum of the stored excess, in `TeamNetwork.s`
FLOOR, EXCESS, COUNT, CELL = 0, 1, 2, 4  # a pair's cell: floor, stored excess, handovers; its size


@inline_kernel
def tie(floor, x, s, i, j):
    """Current tie strength between posts i and j."""
    return floor[i, j] + x[i, j] * s[SCALE]


@inline_kernel
def strengthen(floor, x, s, growth, i, j):
    """Shared work between i and j closes part of the gap to a full tie."""
    if i == j:
        return
    scale = s[SCALE]
    old = x[i, j]
    value = floor[i, j] + old * scale
    value += growth * (1.0 - value)
    new = (value - floor[i, j]) / scale
    x[i, j] = new
    x[j, i] = new
    s[XSUM] += 2.0 * (new - old)


class TeamNetwork:
    """Tie strengths, handover counts and supervision links between posts."""

    def __init__(
        self, sites: Sequence[int], records: Sequence[str], supervisors: Sequence[int], params: NetworkParams
    ) -> None:
        n = len(sites)
        site = np.asarray(sites)
        record = np.asarray(records)
        same_site = site[:, None] == site[None, :]
        same_record = record[:, None] == record[None, :]
        # One 32-byte cell a pair (floor, stored excess, handovers, spare), aligned to cache lines:
        # a handover reads and writes all three of its pair's at one wait for memory, not three.
        cells = aligned_zeros((n, n, CELL), np.float64)
        self.floor = cells[:, :, FLOOR]
        self._x = cells[:, :, EXCESS]  # excess over the floor / scale
        self.handovers = cells.view(np.int64)[:, :, COUNT]
        self.floor[...] = (
            params.colocation_tie_floor * same_site + params.shared_record_tie_floor * same_record
        ).clip(0.0, 1.0)
        np.fill_diagonal(self.floor, 0.0)
        self._x[...] = params.initial_tie_strength * (1.0 - self.floor)
        np.fill_diagonal(self._x, 0.0)
        self.s = np.array([1.0, float(self._x.sum())])  # [SCALE, XSUM], shared with the kernels
        self._floor_sum = float(self.floor.sum())
        self.growth = params.tie_growth
        self.daily_retention = math.exp(-math.log(2.0) / params.tie_half_life_days)
        self.supervisors = list(supervisors)
        # the last RECENT_DAYS days' handovers, as arrays of (from post, to post) pairs
        self.recent: deque[np.ndarray] = deque([np.zeros((0, 2), dtype=np.int64)], maxlen=RECENT_DAYS)

    @property
    def w(self) -> np.ndarray:
        """The matrix of tie strengths now (a copy: change ties through the methods)."""
        return self.floor + self._x * self.s[SCALE]

    def tie(self, i: int, j: int) -> float:
        """Current tie strength between posts i and j."""
        return float(tie(self.floor, self._x, self.s, i, j))

    def strengthen(self, i: int, j: int) -> None:
        """Shared work between i and j closes part of the gap to a full tie."""
        strengthen(self.floor, self._x, self.s, self.growth, i, j)

    def decay(self) -> None:
        """One day without shared work: the excess over the floor shrinks (O(1): lazy)."""
        self.s[SCALE] *= self.daily_retention
        if self.s[SCALE] < RENORMALISE_BELOW:
            self._x *= self.s[SCALE]
            self.s[XSUM] = float(self._x.sum())
            self.s[SCALE] = 1.0
        self.recent.append(np.zeros((0, 2), dtype=np.int64))

    def record_day(self, pairs: np.ndarray) -> None:
        """The day's handovers as (from post, to post) pairs (counted by the kernels), for live views."""
        self.recent[-1] = pairs

    def recent_handovers(self) -> Counter[tuple[int, int]]:
        """Handovers per pair of posts over the last RECENT_DAYS days (for live views)."""
        total: Counter[tuple[int, int]] = Counter()
        for day in self.recent:
            total.update((i, j) if i < j else (j, i) for i, j in day.tolist())
        return total

    def reset_post(self, i: int) -> None:
        """A new post-holder starts with floor-level ties only."""
        self.s[XSUM] -= 2.0 * float(self._x[i, :].sum())
        self._x[i, :] = 0.0
        self._x[:, i] = 0.0

    def mean_tie(self) -> float:
        """Mean tie strength over all pairs of posts."""
        n = self.floor.shape[0]
        return (
            (self._floor_sum + float(self.s[XSUM]) * float(self.s[SCALE])) / (n * (n - 1)) if n > 1 else 0.0
        )

    def graph(self, attrs: Sequence[dict[str, object]] | None = None) -> nx.Graph:
        """A networkx snapshot: nodes are posts; an edge where two posts have built a tie above the
        floor by shared work, handed over, or supervise: it carries tie, handovers and supervision."""
        n = self.floor.shape[0]
        w = self.w
        g = nx.Graph()
        g.add_nodes_from((i, attrs[i] if attrs else {}) for i in range(n))
        flows = self.handovers + self.handovers.T
        upper = np.triu((self._x > 0) | (flows > 0), k=1)
        g.add_edges_from(
            (int(i), int(j), {"tie": float(w[i, j]), "handovers": int(flows[i, j]), "supervision": False})
            for i, j in zip(*np.nonzero(upper), strict=True)
        )
        for i, s in enumerate(self.supervisors):
            if s >= 0:
                if g.has_edge(i, s):
                    g.edges[i, s]["supervision"] = True
                else:
                    g.add_edge(i, s, tie=float(w[i, s]), handovers=0, supervision=True)
        return g
