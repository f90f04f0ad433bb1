"""The compiled state: the day's kernels stop for room and go on, and the agents view its arrays."""

from __future__ import annotations

import pytest

from handover_abm import model as model_module
from handover_abm.lifecycle import LOW_DRAWS, LOW_ROWS
from handover_abm.model import HandoverModel
from handover_abm.simulate import simulate
from tests.conftest import small_scenario


def test_kernels_that_stop_for_room_and_resume_give_identical_results(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no room kept ahead of a day, every pool, log and random-number block fills up within
    days; the kernel stops, the state grows and the kernel goes on from where it stopped."""
    scenario = small_scenario(days=60, population={"size": 8000, "practices": 2})
    normal = simulate(scenario, 3).summary
    real = HandoverModel._reserve
    asked: list[bool] = []

    def only_when_asked(self: HandoverModel, grow: bool = False) -> None:
        asked.append(grow)
        if grow:
            real(self, grow=True)

    monkeypatch.setattr(HandoverModel, "_reserve", only_when_asked)
    monkeypatch.setattr(model_module, "ROOM_ROWS", LOW_ROWS // 4)  # grow by little at a time
    monkeypatch.setattr(model_module, "ROOM_DRAWS", LOW_DRAWS // 4)
    monkeypatch.setattr(model_module, "ROOM_PER_TASK", 0)
    squeezed = simulate(scenario, 3).summary
    assert asked.count(True) >= 3  # the kernels stopped for room, mid-day, more than once
    assert squeezed == normal


def test_agents_read_and_write_the_state_the_kernels_use() -> None:
    m = HandoverModel(small_scenario(days=15), rng=2)
    m.run()
    c = m.clinicians[0]
    assert c.tasks_done == int(m.posts.p_tasks_done[0]) > 0
    c.debt = 12.5
    assert m.A.p_debt[0] == 12.5  # the same array the kernels read
    seen = [p for p in m.patients if p.top_count]
    assert seen and all(p.top_count == max(p.history.count(x) for x in p.history) for p in seen[:50])
    assert sum(len(h) for h in m.histories()) == m.totals["contacts"]
