"""The team network: supervision links and working ties that grow with shared work and decay.

Tie strength w in [0, 1] for each pair of posts lives in a dense matrix (teams have tens of posts,
so this is cheap). Each shared piece of work closes a share `tie_growth` of the gap to 1; each day
the excess over the structural floor decays with half-life `tie_half_life_days`. The floor is
raised by co-location and by a shared record. When a post-holder leaves, the ties of that post
fall back to the floor: the newcomer has to build them again.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Sequence

import networkx as nx
import numpy as np

from handover_abm.config import Network as NetworkParams

RECENT_DAYS = 7


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
        self.floor = (
            params.colocation_tie_floor * same_site + params.shared_record_tie_floor * same_record
        ).clip(0.0, 1.0)
        np.fill_diagonal(self.floor, 0.0)
        start = self.floor + params.initial_tie_strength * (1.0 - self.floor)
        np.fill_diagonal(start, 0.0)
        self.w = start
        self.growth = params.tie_growth
        self.daily_retention = math.exp(-math.log(2.0) / params.tie_half_life_days)
        self.handovers = np.zeros((n, n), dtype=np.int64)
        self.supervisors = list(supervisors)
        self.recent: deque[Counter[tuple[int, int]]] = deque([Counter()], maxlen=RECENT_DAYS)

    def tie(self, i: int, j: int) -> float:
        """Current tie strength between posts i and j."""
        return float(self.w[i, j])

    def strengthen(self, i: int, j: int) -> None:
        """Shared work between i and j closes part of the gap to a full tie."""
        if i == j:
            return
        value = self.w[i, j]
        value += self.growth * (1.0 - value)
        self.w[i, j] = value
        self.w[j, i] = value

    def record_handover(self, i: int, j: int) -> None:
        """Count a handover from i to j and strengthen their tie."""
        self.handovers[i, j] += 1
        self.recent[-1][(min(i, j), max(i, j))] += 1
        self.strengthen(i, j)

    def decay(self) -> None:
        """One day without shared work: the excess over the floor shrinks."""
        self.w = self.floor + (self.w - self.floor) * self.daily_retention
        self.recent.append(Counter())

    def recent_handovers(self) -> Counter[tuple[int, int]]:
        """Handovers per pair of posts over the last RECENT_DAYS days (for live views)."""
        total: Counter[tuple[int, int]] = Counter()
        for day in self.recent:
            total.update(day)
        return total

    def reset_post(self, i: int) -> None:
        """A new post-holder starts with floor-level ties only."""
        self.w[i, :] = self.floor[i, :]
        self.w[:, i] = self.floor[:, i]

    def mean_tie(self) -> float:
        """Mean tie strength over all pairs of posts."""
        n = self.w.shape[0]
        return float(self.w.sum() / (n * (n - 1))) if n > 1 else 0.0

    def graph(self, attrs: Sequence[dict[str, object]] | None = None, min_tie: float = 0.0) -> nx.Graph:
        """A networkx snapshot: nodes are posts, edges carry tie, handovers and supervision."""
        n = self.w.shape[0]
        g = nx.Graph()
        for i in range(n):
            g.add_node(i, **(attrs[i] if attrs else {}))
        flows = self.handovers + self.handovers.T
        for i in range(n):
            for j in range(i + 1, n):
                if self.w[i, j] > min_tie or flows[i, j]:
                    g.add_edge(i, j, tie=float(self.w[i, j]), handovers=int(flows[i, j]), supervision=False)
        for i, s in enumerate(self.supervisors):
            if s >= 0:
                if g.has_edge(i, s):
                    g.edges[i, s]["supervision"] = True
                else:
                    g.add_edge(i, s, tie=float(self.w[i, s]), handovers=0, supervision=True)
        return g
