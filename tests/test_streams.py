"""Random streams and the run loop's garbage-collector setting: fast paths that must not change results."""

from __future__ import annotations

import gc

import numpy as np

from handover_abm.model import HandoverModel
from handover_abm.streams import RandomStreams, Stream


def test_uniform_draws_are_the_generators_blocks_in_order() -> None:
    """Scalar draws are rng.random(block) values in order, a block drawn only when the last runs out."""
    stream = Stream(np.random.SeedSequence(11), buffer=7)
    reference = np.random.default_rng(np.random.SeedSequence(11))
    first = [stream.uniform() for _ in range(10)]  # one block and 3 of the next
    expected = reference.random(7).tolist() + reference.random(7).tolist()
    assert first == expected[:10]
    # direct use of the generator in between happens after the second block was drawn
    assert stream.rng.random() == reference.random()
    rest = [stream.uniform() for _ in range(5)]  # the 4 left of block two, then a new block
    assert rest == expected[10:] + reference.random(7).tolist()[:1]


def test_streams_are_independent_and_reproducible() -> None:
    a, b = RandomStreams(3), RandomStreams(3)
    draws_a = [a["access"].uniform() for _ in range(5000)]
    assert draws_a == [b["access"].uniform() for _ in range(5000)]
    assert draws_a[:5] != [a["handover"].uniform() for _ in range(5)]
    assert all(0.0 <= u < 1.0 for u in draws_a)


def test_run_pauses_cyclic_gc_only_while_it_runs() -> None:
    assert gc.isenabled()
    seen: list[bool] = []
    model = HandoverModel(
        {
            "days": 3,
            "population": {"size": 800, "practices": 1},
            "team": [{"role": "salaried_gp", "count": 1, "fte": 1.0}],
        },
        rng=1,
    )
    original = model._start_day

    def start_day(day: int) -> None:
        seen.append(gc.isenabled())
        original(day)

    model._start_day = start_day  # type: ignore[method-assign]
    model.run()
    assert seen and not any(seen)
    assert gc.isenabled()
