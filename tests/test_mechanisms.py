"""Each mechanism alone: ties, information loss, booking, supervision demand, demand generation.

The booking rules and the book have their own files (test_booking.py, test_book.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from handover_abm.booking import make_rule
from handover_abm.config import ROUTING_POLICIES, ConfigError, Handover, Network, Supervision
from handover_abm.demand import DemandGenerator, build_population
from handover_abm.handover import LossModel, TransferFactors, logit
from handover_abm.model import HandoverModel
from handover_abm.network import TeamNetwork
from handover_abm.streams import RandomStreams
from handover_abm.supervision import assign_supervisors, expected_weekly_minutes, query_probability
from tests.conftest import small_scenario

# ------------------------------------------------------------------ ties


def _net(**kw: float) -> TeamNetwork:
    params = Network(**kw)
    return TeamNetwork(sites=[0, 0, 1], records=["gp", "gp", "mh"], supervisors=[-1, 0, 0], params=params)


def test_tie_grows_by_share_of_gap() -> None:
    net = _net(tie_growth=0.1, colocation_tie_floor=0.0, shared_record_tie_floor=0.0)
    net.strengthen(0, 2)
    assert net.tie(0, 2) == pytest.approx(0.1) and net.tie(2, 0) == pytest.approx(0.1)
    net.strengthen(0, 2)
    assert net.tie(0, 2) == pytest.approx(0.1 + 0.1 * 0.9)


def test_tie_decays_to_floor_with_half_life() -> None:
    net = _net(tie_growth=0.5, tie_half_life_days=10, colocation_tie_floor=0.2, shared_record_tie_floor=0.1)
    floor = net.tie(0, 1)
    assert floor == pytest.approx(0.3)  # same site (0.2) + same record (0.1)
    net.strengthen(0, 1)
    excess = net.tie(0, 1) - floor
    for _ in range(10):
        net.decay()
    assert net.tie(0, 1) - floor == pytest.approx(excess / 2)
    for _ in range(500):
        net.decay()
    assert net.tie(0, 1) == pytest.approx(floor)


def test_colocation_and_shared_record_raise_the_floor() -> None:
    net = _net(colocation_tie_floor=0.2, shared_record_tie_floor=0.1)
    assert net.tie(0, 1) > net.tie(0, 2) == 0.0


def test_turnover_resets_ties_to_floor() -> None:
    net = _net(tie_growth=0.5)
    for _ in range(5):
        net.strengthen(0, 2)
        net.strengthen(1, 2)
    net.reset_post(2)
    assert net.tie(0, 2) == net.floor[0, 2] and net.tie(1, 2) == net.floor[1, 2]
    assert net.tie(0, 1) == net.floor[0, 1]  # untouched pair keeps its value (still at floor here)


def test_graph_carries_handovers_and_supervision() -> None:
    net = _net()
    net.handovers[0, 2] += 1  # two handovers, one each way, as the kernels count them
    net.handovers[2, 0] += 1
    g = net.graph([{"role": "a"}, {"role": "b"}, {"role": "c"}])
    assert g.edges[0, 2]["handovers"] == 2
    assert g.edges[0, 1]["supervision"] and g.edges[0, 2]["supervision"]
    assert g.nodes[1]["role"] == "b"


# ------------------------------------------------------------------ information loss

NEUTRAL = TransferFactors(
    tie=0.0,
    same_record=False,
    other_employer=False,
    same_site=False,
    backlog_sender=0.0,
    backlog_receiver=0.0,
    interruptions=0,
    holistic=False,
)


def _odds(p: float) -> float:
    return p / (1 - p)


def test_neutral_transfer_has_the_base_probability() -> None:
    loss = LossModel(Handover())
    assert loss.probability(0.1, NEUTRAL) == pytest.approx(0.1)
    assert logit(0.5) == 0


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"tie": 1.0}, "or_full_tie"),
        ({"same_record": True}, "or_shared_record"),
        ({"other_employer": True}, "or_different_employer"),
        ({"same_site": True}, "or_colocated"),
        ({"holistic": True}, "or_holistic"),
    ],
)
def test_each_factor_multiplies_the_odds_by_its_ratio(change: dict, param: str) -> None:
    params = Handover()
    loss = LossModel(params)
    factors = TransferFactors(**{f: getattr(NEUTRAL, f) for f in NEUTRAL.__slots__} | change)
    ratio = _odds(loss.probability(0.1, factors)) / _odds(0.1)
    assert ratio == pytest.approx(getattr(params, param))


def test_load_and_interruptions_raise_loss_and_backlog_is_capped() -> None:
    params = Handover(or_per_backlog_day=1.2, backlog_cap_days=2.0)
    loss = LossModel(params)
    base = NEUTRAL.__slots__
    f = {k: getattr(NEUTRAL, k) for k in base}
    p1 = loss.probability(0.1, TransferFactors(**f | {"backlog_sender": 1.0}))
    p_cap = loss.probability(0.1, TransferFactors(**f | {"backlog_sender": 2.0}))
    p_big = loss.probability(0.1, TransferFactors(**f | {"backlog_sender": 50.0}))
    assert _odds(p1) / _odds(0.1) == pytest.approx(1.2)
    assert p_big == pytest.approx(p_cap) and p_cap > p1
    p_int = loss.probability(0.1, TransferFactors(**f | {"interruptions": 3}))
    assert _odds(p_int) / _odds(0.1) == pytest.approx(params.or_per_interruption**3)
    assert 0 < loss.probability(0.999, TransferFactors(**f | {"interruptions": 100})) < 1


# ------------------------------------------------------------------ routing


def _model(**changes: object) -> HandoverModel:
    return HandoverModel(small_scenario(**changes), rng=1)


def test_work_without_a_slot_goes_to_the_least_loaded_in_days() -> None:
    m = _model()
    elig = m.eligible[0]["prescribing"]
    posts = sorted(elig)
    for k, p in enumerate(posts):
        m.clinicians[p].unbooked_minutes = 100.0 * (k + 1)
        m.clinicians[p].unbooked_per_day = 50.0
    # least in days, not minutes: give the last post much more time for such work
    m.clinicians[posts[-1]].unbooked_per_day = 1e6
    m.rule.set_tiebreak([0.0] * len(m.clinicians))
    assert m.rule.choose_unbooked(-1, elig) == posts[-1]


def test_continuity_first_keeps_work_without_a_slot_with_the_last_clinician() -> None:
    m = _model(routing={"policy": "continuity_first"})
    elig = m.eligible[0]["prescribing"]
    a = sorted(elig)[0]
    m.clinicians[a].unbooked_minutes = 1e4
    assert m.rule.choose_unbooked(a, elig) == a
    assert m.rule.choose_unbooked(-1, elig) != a


def test_specialist_first_gives_work_without_a_slot_to_the_quickest_role() -> None:
    m = _model(routing={"policy": "specialist_first"})
    elig = m.eligible[0]["medication_review"]
    chosen = m.rule.choose_unbooked(-1, elig)
    assert m.clinicians[chosen].role_name == "clinical_pharmacist"
    assert elig[chosen] == min(elig.values())


def test_usual_clinician_first_is_refused_naming_the_new_rules() -> None:
    with pytest.raises(ConfigError, match="preferred_within or personal_list"):
        small_scenario(routing={"policy": "usual_clinician_first"})


def test_every_policy_name_builds() -> None:
    m = _model()
    for name in ROUTING_POLICIES:
        assert make_rule(name, m.book, m.posts).name == name
    assert m.rule.name == m.config.routing.policy


def test_care_navigation_books_core_scope_first() -> None:
    m = _model()
    for practice in range(m.config.population.practices):
        for ttype, posts in m.navigated[practice].items():
            assert set(posts) <= set(m.eligible[practice][ttype])
            assert all(m.clinicians[p].scope[ttype][1] <= m.config.routing.navigation_max_edge for p in posts)


def test_practice_staff_only_serve_their_practice() -> None:
    m = _model()
    for practice, table in enumerate(m.eligible):
        for posts in table.values():
            assert all(m.clinicians[p].practice in (-1, practice) for p in posts)


# ------------------------------------------------------------------ supervision


def test_supervisors_are_assigned_balanced_within_practice() -> None:
    m = HandoverModel(
        small_scenario(
            team=[
                {"role": "gp_partner", "count": 4},
                {"role": "practice_nurse", "count": 6},
                {"role": "physician_associate", "count": 3, "organisation": "pcn"},
            ]
        ),
        rng=1,
    )
    sup = assign_supervisors(m.clinicians)
    assert sup == assign_supervisors(m.clinicians)  # deterministic
    for c in m.clinicians:
        if c.role.supervision.required:
            assert sup[c.post] >= 0
            if c.practice >= 0:
                assert m.clinicians[sup[c.post]].practice == c.practice
        else:
            assert sup[c.post] == -1
    weight = {c.post: expected_weekly_minutes(c) for c in m.clinicians if sup[c.post] >= 0}
    pas = [sup[c.post] for c in m.clinicians if c.role_name == "physician_associate"]
    assert len(set(pas)) == len(pas)  # the heaviest supervisees spread first
    loads = [sum(weight[p] for p in s.supervisees) for s in m.supervisors]
    assert max(loads) - min(loads) <= max(weight.values())  # greedy balance of expected minutes


def test_query_probability_rises_to_the_edge_and_is_capped() -> None:
    assert query_probability(0.1, 0.0, 4.0) == pytest.approx(0.1)
    assert query_probability(0.1, 1.0, 4.0) == pytest.approx(0.5)
    assert query_probability(0.5, 1.0, 4.0) == 1.0


def test_supervision_demand_reaches_supervisors() -> None:
    """A PA (case review) generates sign-offs; debriefs and queries load the supervisor."""
    m = _model(days=20)
    m.run()
    assert m.totals["signoffs"] > 0 and m.totals["queries"] > 0 and m.totals["debrief_minutes"] > 0
    assert sum(s.load_index_sum for s in m.supervisors) > 0
    lone = HandoverModel(small_scenario(team=[{"role": "gp_partner", "count": 2}], days=5), rng=1)
    lone.run()
    assert not lone.supervisors and lone.totals["queries"] == 0


def test_more_protected_time_lowers_load_and_overload() -> None:
    lo = _model(days=30, supervision=Supervision(protected_minutes_per_day=10).model_dump())
    hi = _model(days=30, supervision=Supervision(protected_minutes_per_day=120).model_dump())
    lo.run()
    hi.run()
    assert sum(s.overload_days for s in lo.supervisors) > sum(s.overload_days for s in hi.supervisors)


# ------------------------------------------------------------------ demand


def test_population_matches_configured_shares() -> None:
    s = small_scenario(population={"size": 20000, "practices": 4})
    pop = build_population(s, RandomStreams(5)["population"])
    n = pop.size
    for k, band in enumerate(s.population.age_bands):
        share = float(np.mean(pop.age_band == k))
        se = math.sqrt(band.share * (1 - band.share) / n)
        assert abs(share - band.share) < 4 * se, band.name
    p = s.population.social_need_share
    assert abs(pop.social_need.mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert np.bincount(pop.practice).tolist() == [5000] * 4


def test_daily_arrivals_match_the_expected_rate() -> None:
    s = small_scenario(population={"size": 5000, "practices": 2})
    streams = RandomStreams(9)
    pop = build_population(s, streams["population"])
    gen = DemandGenerator(s, _catalogue(), pop, streams["demand"])
    days = 300
    counts = [len(gen.draw_day()) for _ in range(days)]
    lam = gen.expected_per_day()
    # Poisson: the mean of `days` counts has standard error sqrt(lam / days)
    assert abs(np.mean(counts) - lam) < 4 * math.sqrt(lam / days)


def test_patients_with_more_conditions_have_more_and_longer_episodes() -> None:
    s = small_scenario(population={"size": 20000, "practices": 2})
    streams = RandomStreams(3)
    pop = build_population(s, streams["population"])
    gen = DemandGenerator(s, _catalogue(), pop, streams["demand"])
    names = list(_catalogue().task_types)
    arrivals = [a for _ in range(200) for a in gen.draw_day().rows(names)]
    ltc = pop.n_ltc
    per_patient = np.bincount([a[0] for a in arrivals], minlength=pop.size)
    assert per_patient[ltc >= 3].mean() > 1.5 * per_patient[ltc == 0].mean()
    lengths = np.array([len(a[2]) for a in arrivals])
    arr_ltc = ltc[[a[0] for a in arrivals]]
    assert lengths[arr_ltc >= 3].mean() > lengths[arr_ltc == 0].mean()
    known = set(_catalogue().task_types)
    assert all(t in known for a in arrivals for t in a[2])


def test_demand_is_identical_across_teams_with_the_same_seed() -> None:
    a = HandoverModel(small_scenario(), rng=21)
    b = HandoverModel(
        small_scenario(team=[{"role": "gp_partner", "count": 5}], routing={"policy": "continuity_first"}),
        rng=21,
    )
    for _ in range(15):
        assert a.demand.draw_day().rows(a.task_type_names) == b.demand.draw_day().rows(b.task_type_names)


def _catalogue():
    from handover_abm.catalogue import load_catalogue

    return load_catalogue()
