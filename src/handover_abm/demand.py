"""The registered population and the arrival of episodes, drawn in bulk with numpy.

Arrivals: each patient i has an episode rate per working day
    lambda_i = episode_rate[age_band_i] * (1 + rate_multiplier_per_ltc * ltc_i)
               * (social_need_rate_multiplier if social_need_i) / working_days_per_year
and the day's arrivals are N ~ Poisson(sum_i lambda_i), each falling on patient i with
probability lambda_i / sum lambda (the same law as independent Poisson counts, at O(N log P)).
The episode type follows weights by conditions and social need (tasks.yaml). Work programmes
(episode types with a `rate_per_1000`: medication reviews, care-home rounds, care plans, ...)
arrive on top, each N_k ~ Poisson(rate_k / 1000 x registered patients / working days per year)
a day, on patients drawn uniformly from those it reaches (`eligible`). A new problem that is
not a planned review is urgent with probability `access.urgent_share`; optional task
groups and extra follow-ups for long-term conditions make complex patients' episodes longer.
Everything here draws only from the population and demand streams, so it is identical across
the teams compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handover_abm.catalogue import Catalogue, Eligible
from handover_abm.config import Scenario
from handover_abm.state import kernel
from handover_abm.streams import Stream


@dataclass(frozen=True)
class Population:
    """Patient attributes as arrays indexed by patient."""

    age_band: np.ndarray
    n_ltc: np.ndarray
    social_need: np.ndarray
    practice: np.ndarray
    daily_rate: np.ndarray

    @property
    def size(self) -> int:
        """Number of registered patients."""
        return int(self.age_band.size)


def build_population(scenario: Scenario, stream: Stream) -> Population:
    """Draw the registered population (age band, conditions, social need, practice)."""
    pop = scenario.population
    rng = stream.rng
    shares = np.array([b.share for b in pop.age_bands])
    age = rng.choice(len(shares), size=pop.size, p=shares / shares.sum())
    ltc_mean = np.array([b.ltc_mean for b in pop.age_bands])[age]
    n_ltc = np.minimum(rng.poisson(ltc_mean), pop.max_ltc)
    social = rng.random(pop.size) < pop.social_need_share
    practice = np.arange(pop.size) % pop.practices
    rng.shuffle(practice)
    dem = scenario.demand
    annual = (
        np.array([b.episode_rate for b in pop.age_bands])[age]
        * (1.0 + dem.rate_multiplier_per_ltc * n_ltc)
        * np.where(social, dem.social_need_rate_multiplier, 1.0)
    )
    return Population(
        age_band=age,
        n_ltc=n_ltc,
        social_need=social,
        practice=practice,
        daily_rate=annual / scenario.working_days_per_year,
    )


class DemandGenerator:
    """Draws each day's new episodes: which patients, which episode type, which tasks."""

    def __init__(
        self, scenario: Scenario, catalogue: Catalogue, population: Population, stream: Stream
    ) -> None:
        self.stream = stream
        self.population = population
        self.max_ltc = scenario.population.max_ltc
        codes = {name: k for k, name in enumerate(catalogue.task_types)}  # task type -> code
        self.follow_up = codes["follow_up"]
        self.extra_follow_up = scenario.demand.extra_follow_up_per_ltc
        self.types = list(catalogue.episode_types.items())
        self.urgent_share = scenario.access.urgent_share
        self.planned = np.array([ep.planned for _, ep in self.types])
        # each episode type's sequence as (tasks, probability of the group; None = always)
        self._steps = [
            [
                ((codes[item],), None)
                if isinstance(item, str)
                else (tuple(codes[t] for t in item.tasks), item.p)
                for item in ep.tasks
            ]
            for _, ep in self.types
        ]
        self._tables = _step_tables(self._steps)
        self.cum_rate = np.cumsum(population.daily_rate)
        self.total_rate = float(self.cum_rate[-1]) if self.cum_rate.size else 0.0
        # the mix of patients' requests: episode-type probabilities per class (n_ltc, social_need)
        self.mix = np.array([k for k, (_, ep) in enumerate(self.types) if not ep.programme], dtype=np.int64)
        max_ltc = scenario.population.max_ltc
        table = np.zeros((max_ltc + 1, 2, self.mix.size))
        for j, k in enumerate(self.mix):
            ep = self.types[k][1]
            for ltc in range(max_ltc + 1):
                for social in (0, 1):
                    table[ltc, social, j] = (
                        ep.weight + ep.weight_per_ltc * ltc + ep.weight_social_need * social
                    )
        sums = table.sum(axis=2, keepdims=True)
        if np.any(sums <= 0):
            raise ValueError("episode type weights are zero for some patients")
        self.cum_type = np.cumsum(table / sums, axis=2)
        # work programmes: each its own Poisson stream over the patients it reaches
        per_day = population.size / 1000 / scenario.working_days_per_year
        self.programmes = [
            (k, who, ep.rate_per_1000 * per_day if who.size else 0.0)
            for k, (_, ep) in enumerate(self.types)
            if ep.programme
            for who in [reached(population, ep.eligible)]
        ]

    def expected_per_day(self) -> float:
        """Expected number of new episodes per day (requests and work programmes)."""
        return self.total_rate + sum(rate for _, _, rate in self.programmes)

    def draw_day(self) -> Arrivals:
        """The day's new episodes: patients, episode types, urgency and task sequences (as codes)."""
        rng = self.stream.rng
        n = int(rng.poisson(self.total_rate))
        draws = rng.random(n) * self.total_rate
        order = np.argsort(draws)  # searched in order, the searches share their paths (in cache)
        patients = np.empty(n, dtype=np.int64)
        patients[order] = np.searchsorted(self.cum_rate, draws[order], side="right")
        patients = np.minimum(patients, self.cum_rate.size - 1)
        ltc = self.population.n_ltc[patients]
        social = self.population.social_need[patients].astype(int)
        u = rng.random(n)
        kinds = self.mix[np.minimum((self.cum_type[ltc, social] < u[:, None]).sum(axis=1), self.mix.size - 1)]
        if self.programmes:
            extra = [
                (k, who[rng.integers(who.size, size=rng.poisson(rate))]) for k, who, rate in self.programmes
            ]
            patients = np.concatenate([patients, *(p for _, p in extra)]).astype(np.int64)
            kinds = np.concatenate([kinds, *(np.full(p.size, k) for k, p in extra)]).astype(np.int64)
            ltc = self.population.n_ltc[patients]
            n = int(patients.size)
        if n == 0:
            return Arrivals.none()
        urgent = (rng.random(n) < self.urgent_share) & ~self.planned[kinds]
        kinds = kinds.astype(np.int64)
        ltc = ltc.astype(np.int64)
        t = self._tables
        u = self.stream.take(int((t.optional[kinds] + ltc).sum()))
        tasks = np.empty(int((t.longest[kinds] + ltc).sum()), dtype=np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        used = _sequences(
            kinds,
            ltc,
            u,
            t.kind_lo,
            t.kind_hi,
            t.p,
            t.lo,
            t.hi,
            t.tasks,
            self.extra_follow_up,
            self.follow_up,
            tasks,
            offsets,
        )
        return Arrivals(patients.astype(np.int64), kinds, urgent, self.planned[kinds], tasks[:used], offsets)

    def longest_episode(self) -> int:
        """The most tasks an episode can start with (every optional group, every extra follow-up)."""
        return int(self._tables.longest.max()) + self.max_ltc


def reached(population: Population, eligible: Eligible) -> np.ndarray:
    """The patients a work programme reaches (indices, ascending)."""
    ok = (population.n_ltc >= eligible.min_ltc) & (population.age_band >= eligible.min_age_band)
    if eligible.social_need:
        ok &= population.social_need
    return np.flatnonzero(ok).astype(np.int64)


@dataclass(frozen=True)
class Arrivals:
    """A day's new episodes as arrays: episode i's task types are tasks[offsets[i]:offsets[i + 1]]."""

    patients: np.ndarray
    kinds: np.ndarray
    urgent: np.ndarray
    planned: np.ndarray
    tasks: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return int(self.patients.size)

    def rows(self, task_types: list[str]) -> list[tuple[int, int, list[str], bool]]:
        """The episodes as (patient, episode type code, task type names, urgent), for people and tests."""
        tasks = self.tasks.tolist()
        bounds = self.offsets.tolist()
        return [
            (p, k, [task_types[t] for t in tasks[bounds[i] : bounds[i + 1]]], u)
            for i, (p, k, u) in enumerate(
                zip(self.patients.tolist(), self.kinds.tolist(), self.urgent.tolist(), strict=True)
            )
        ]

    @classmethod
    def none(cls) -> Arrivals:
        """No arrivals."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(
            empty, empty, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), empty, np.zeros(1, dtype=np.int64)
        )

    def urgent_first(self, network: np.ndarray) -> Arrivals:
        """The same episodes network by network (`network`: each patient's), urgent ones first within
        each (each group in its order): on-the-day slots go to them. Networks share no clinician, so
        taking them in turn changes nothing but keeps a day's work on one network's memory at a time."""
        order = np.lexsort((~self.urgent, network[self.patients]))  # stable: the order within a group
        lengths = np.diff(self.offsets)[order]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # each episode's tasks, moved from its old start to its new one
        shift = np.repeat(self.offsets[:-1][order] - offsets[:-1], lengths)
        tasks = self.tasks[np.arange(offsets[-1]) + shift]
        return Arrivals(
            self.patients[order],
            self.kinds[order],
            self.urgent[order],
            self.planned[order],
            tasks.astype(np.int64),
            offsets,
        )


def arrivals_from(rows: list[tuple[int, str, list[str], bool]], task_types: list[str]) -> Arrivals:
    """Arrivals from rows of (patient, episode type, task type names, urgent): for demand written by
    hand (validation.py's controlled experiments); none of them is a planned review."""
    code = {name: k for k, name in enumerate(task_types)}
    tasks = [code[t] for _, _, seq, _ in rows for t in seq]
    offsets = np.cumsum([0] + [len(seq) for _, _, seq, _ in rows])
    n = len(rows)
    return Arrivals(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        np.array([r[3] for r in rows], dtype=bool),
        np.zeros(n, dtype=bool),
        np.array(tasks, dtype=np.int64),
        offsets.astype(np.int64),
    )


@dataclass(frozen=True)
class _StepTables:
    """Episode types' task sequences as flat arrays for `_sequences`."""

    kind_lo: np.ndarray  # episode type -> its steps, [kind_lo, kind_hi)
    kind_hi: np.ndarray
    p: np.ndarray  # step -> probability of the group (-1: always)
    lo: np.ndarray  # step -> its task types, tasks[lo:hi]
    hi: np.ndarray
    tasks: np.ndarray
    optional: np.ndarray  # episode type -> groups drawn (one uniform each)
    longest: np.ndarray  # episode type -> tasks when every group is drawn


def _step_tables(steps: list[list[tuple[tuple[int, ...], float | None]]]) -> _StepTables:
    kind_lo, kind_hi, p, lo, hi, tasks, optional, longest = [], [], [], [], [], [], [], []
    for kind in steps:
        kind_lo.append(len(p))
        for group, prob in kind:
            p.append(-1.0 if prob is None else prob)
            lo.append(len(tasks))
            tasks.extend(group)
            hi.append(len(tasks))
        kind_hi.append(len(p))
        optional.append(sum(prob is not None for _, prob in kind))
        longest.append(sum(len(group) for group, _ in kind))
    ints = [np.array(x, dtype=np.int64) for x in (kind_lo, kind_hi)]
    return _StepTables(
        ints[0],
        ints[1],
        np.array(p, dtype=np.float64),
        np.array(lo, dtype=np.int64),
        np.array(hi, dtype=np.int64),
        np.array(tasks, dtype=np.int64),
        np.array(optional, dtype=np.int64),
        np.array(longest, dtype=np.int64),
    )


@kernel
def _sequences(kinds, ltc, u, kind_lo, kind_hi, p, lo, hi, tasks, extra, follow_up, out, offsets):
    """Each new episode's task types: every group of its type, an optional one when its uniform
    falls below its probability, then one extra follow-up per condition with probability `extra`
    (uniforms from `u`, in that order). Writes out[:n] and offsets; returns n."""
    j = 0
    n = 0
    for i in range(kinds.size):
        k = kinds[i]
        for s in range(kind_lo[k], kind_hi[k]):
            drawn = True
            if p[s] >= 0:
                drawn = u[j] < p[s]
                j += 1
            if drawn:
                for x in range(lo[s], hi[s]):
                    out[n] = tasks[x]
                    n += 1
        for _ in range(ltc[i]):
            if u[j] < extra:
                out[n] = follow_up
                n += 1
            j += 1
        offsets[i + 1] = n
    return n
