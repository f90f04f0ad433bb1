"""The compiled state: the day's kernels stop for room and go on, and the agents view its arrays."""

from __future__ import annotations

import numpy as np
import pytest

from handover_abm import lifecycle
from handover_abm import model as model_module
from handover_abm.demand import arrivals_from
from handover_abm.lifecycle import LOW_DRAWS, LOW_ROWS
from handover_abm.model import HandoverModel
from handover_abm.simulate import simulate
from handover_abm.state import EP_END, EP_NPERSONS, EP_PATIENT, EP_PEOPLE, N_FREE, N_USED, TK_EP, TK_POST
from tests.conftest import small_scenario


@pytest.mark.parametrize("per_network", [2, 1])  # one network; two, whose day lists are separate
def test_kernels_that_stop_for_room_and_resume_give_identical_results(
    monkeypatch: pytest.MonkeyPatch, per_network: int
) -> None:
    """With no room kept ahead of a day, every pool, log and random-number block fills up within
    days; the kernel stops, the state grows and the kernel goes on from where it stopped."""
    population = {"size": 8000, "practices": 2, "practices_per_pcn": per_network}
    scenario = small_scenario(days=60, population=population)
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


def test_an_episodes_people_beyond_its_row_go_to_nodes_and_each_counts_once() -> None:
    """The first EP_PEOPLE people who work on an episode are kept in its row, the rest in nodes; a
    person met again is not counted again, and freeing the episode frees its nodes."""
    m = HandoverModel(small_scenario(days=1), rng=1)
    S, A = m.S, m.A
    ep = lifecycle.new_episode(S, 0, 0, np.array([0, 1], dtype=np.int64), 0, 2, 0)
    people = list(range(1, EP_PEOPLE + 5))
    for person in people + people[::-1]:
        lifecycle._add_person(S, ep, person)
    assert A.E[ep, EP_NPERSONS] == len(people)
    assert list(A.E[ep, EP_END : EP_END + EP_PEOPLE]) == people[:EP_PEOPLE]
    assert A.ic[N_USED] - A.ic[N_FREE] == 4  # the four beyond the row
    assert list(A.e_rem[ep, :2]) == [1, 0]  # the task types to do sit after the people, untouched
    lifecycle._free_episode(S, ep)
    assert A.ic[N_USED] - A.ic[N_FREE] == 0


def test_a_day_goes_network_by_network_and_networks_share_no_clinician() -> None:
    """Each day list holds its networks' tasks in turn, and every task is booked with a clinician
    of its patient's network (networks are independent, so taking them in turn changes nothing)."""
    population = {"size": 4000, "practices": 4, "practices_per_pcn": 2}
    team = [
        {"role": "gp_partner", "count": 4, "fte": 0.8},
        {"role": "practice_nurse", "count": 4, "fte": 1.0},
        {"role": "clinical_pharmacist", "count": 2, "fte": 0.5, "organisation": "pcn"},
    ]
    m = HandoverModel(small_scenario(days=30, population=population, team=team), rng=5)
    for _ in range(10):
        m.step()
    seen: set[int] = set()
    for day in range(m.steps, m.book.n_days):
        rows = m.booked(day)
        nets = [int(m._patient_net[m.A.E[m.A.T[t, TK_EP], EP_PATIENT]]) for t in rows]
        assert nets == sorted(nets)
        assert all(m._post_net[m.A.T[t, TK_POST]] == n for t, n in zip(rows, nets, strict=True))
        seen.update(nets)
    assert seen == {0, 1}


def test_arrivals_go_network_by_network_urgent_first_within_each() -> None:
    rows = [
        (0, "a", ["x"], False),
        (3, "b", ["y", "z"], True),
        (1, "c", ["z"], True),
        (2, "d", ["x", "y"], False),
    ]
    network = np.array([1, 0, 0, 1])  # patient -> network
    out = arrivals_from(rows, ["x", "y", "z"]).urgent_first(network)
    assert out.patients.tolist() == [1, 2, 3, 0]  # network 0: urgent first; then network 1
    assert out.urgent.tolist() == [True, False, True, False]
    assert [out.tasks[a:b].tolist() for a, b in zip(out.offsets[:-1], out.offsets[1:], strict=True)] == [
        [2],
        [0, 1],
        [1, 2],
        [0],
    ]
