"""Issue 14 mechanisms: supervision by profession, boundaries as they are, continuity's
consequences, costs on one basis, referral back to a GP and turnover that follows the work."""

from __future__ import annotations

from collections import Counter

import pytest

from handover_abm.admissions import acsc_risk, patient_upc
from handover_abm.catalogue import load_catalogue
from handover_abm.config import Continuity, Handover, Turnover
from handover_abm.familiarity import Familiarity
from handover_abm.handover import LossModel, TransferFactors
from handover_abm.model import HandoverModel
from handover_abm.referral import referral_probability
from handover_abm.supervision import learning_multiplier
from handover_abm.team import employer_annual_cost, hourly_cost, team_table
from handover_abm.turnover import daily_hazard
from tests.conftest import small_scenario

# ------------------------------------------------------------------ supervision by profession


def _team_model(team: list[dict], **changes: object) -> HandoverModel:
    return HandoverModel(small_scenario(team=team, **changes), rng=3)


def test_supervisors_come_from_the_right_profession() -> None:
    m = _team_model(
        [
            {"role": "gp_partner", "count": 2},
            {"role": "advanced_nurse_practitioner", "count": 2},
            {"role": "practice_nurse", "count": 2},
            {"role": "senior_clinical_pharmacist", "count": 1, "organisation": "pcn"},
            {"role": "clinical_pharmacist", "count": 2, "organisation": "pcn"},
            {"role": "pharmacy_technician", "count": 1, "organisation": "pcn"},
            {"role": "mental_health_practitioner", "count": 1, "organisation": "mental_health_trust"},
        ]
    )
    role_of = {c.post: c.role_name for c in m.clinicians}
    for c in m.clinicians:
        if c.role_name in ("clinical_pharmacist", "pharmacy_technician"):
            assert role_of[c.supervisor] == "senior_clinical_pharmacist"
        elif c.role_name == "practice_nurse":
            assert role_of[c.supervisor] == "advanced_nurse_practitioner"
        elif c.role_name in ("advanced_nurse_practitioner", "senior_clinical_pharmacist"):
            assert m.clinicians[c.supervisor].is_gp  # the supervisors have a GP supervisor
        elif c.role_name == "mental_health_practitioner":
            assert c.supervisor == -1  # supervised by the trust that employs them


def test_without_the_preferred_supervisor_a_gp_supervises() -> None:
    m = _team_model([{"role": "gp_partner", "count": 2}, {"role": "clinical_pharmacist", "count": 1}])
    assert all(m.clinicians[c.supervisor].is_gp for c in m.clinicians if c.role_name != "gp_partner")


def test_supervision_need_falls_with_tenure_and_resets_for_a_new_post_holder() -> None:
    assert learning_multiplier(0, 2.0, 60) == pytest.approx(2.0)
    assert learning_multiplier(60, 2.0, 60) == pytest.approx(1.5)
    assert learning_multiplier(10_000, 2.0, 60) == pytest.approx(1.0)
    m = _team_model(
        [{"role": "gp_partner", "count": 2}, {"role": "physician_associate", "count": 1}],
        supervision={"initial_tenure_days": 500},
    )
    pa = next(c for c in m.clinicians if c.role_name == "physician_associate")
    assert m.supervision.need(pa.post, 1) == pytest.approx(1.0, abs=0.01)
    m.staff_turnover.replace(pa.post, 5)
    assert m.supervision.need(pa.post, 5) == pytest.approx(2.0)


def test_new_starters_ask_for_more_supervision() -> None:
    team = [{"role": "gp_partner", "count": 2}, {"role": "physician_associate", "count": 2, "fte": 1.0}]
    kw = {"days": 30, "turnover": {"enabled": False}}
    old = _team_model(team, supervision={"initial_tenure_days": 1000}, **kw)
    new = _team_model(team, supervision={"initial_tenure_days": 0, "learning_half_life_days": 1000}, **kw)
    old.run()
    new.run()
    assert new.totals["queries"] > old.totals["queries"]
    assert new.totals["debrief_minutes"] > old.totals["debrief_minutes"] * 1.5


def test_catalogue_refuses_a_supervisor_role_that_cannot_supervise() -> None:
    data = load_catalogue().model_dump()
    data["roles"]["practice_nurse"]["supervision"]["supervised_by"] = ("healthcare_assistant",)
    with pytest.raises(ValueError, match="cannot supervise"):
        type(load_catalogue()).model_validate(data)


# ------------------------------------------------------------------ boundaries as they are


def _factors(**change: object) -> TransferFactors:
    base: dict[str, object] = {
        "tie": 0.0,
        "same_record": False,
        "other_employer": False,
        "same_site": False,
        "backlog_sender": 0.0,
        "backlog_receiver": 0.0,
        "interruptions": 0,
        "holistic": False,
    }
    return TransferFactors(**(base | change))  # type: ignore[arg-type]


def _odds(p: float) -> float:
    return p / (1 - p)


def test_record_employer_and_site_are_separate_factors() -> None:
    h = Handover()
    loss = LossModel(h)
    base = loss.probability(0.1, _factors())
    for change, ratio in (
        ({"same_record": True}, h.or_shared_record),
        ({"other_employer": True}, h.or_different_employer),
        ({"same_site": True}, h.or_colocated),
    ):
        assert _odds(loss.probability(0.1, _factors(**change))) / _odds(base) == pytest.approx(ratio)


def test_network_staff_share_a_site_with_a_practice_only_on_their_days_there() -> None:
    m = _team_model(
        [
            {"role": "gp_partner", "count": 2},
            {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
        ]
    )
    gp0 = next(c for c in m.clinicians if c.practice == 0)
    gp1 = next(c for c in m.clinicians if c.practice == 1)
    pharm = next(c for c in m.clinicians if c.role_name == "clinical_pharmacist")
    sites = m.posts.p_sites  # post x weekday: where the loss model places each post (handover.py)
    assert set(sites[pharm.post].tolist()) == {0, 1}  # a weekly round of the network's two practices
    days = range(1, 11)
    weekday = m.calendar.weekday

    def together(a: int, b: int, d: int) -> bool:
        return bool(sites[a, weekday[d]] == sites[b, weekday[d]])

    with0 = {d for d in days if together(pharm.post, gp0.post, d)}
    with1 = {d for d in days if together(pharm.post, gp1.post, d)}
    assert with0 and with1 and not with0 & with1 and with0 | with1 == set(days)
    assert gp0.record == pharm.record  # practice and PCN staff share the GP record


# ------------------------------------------------------------------ continuity's consequences


def test_familiarity_grows_with_contacts_and_fades() -> None:
    f = Familiarity(Continuity(familiarity_growth=0.5, familiarity_half_life_days=10), patients=3)
    assert f.get(1, 7, 0) == 0.0
    f.contact(1, 7, 0)
    assert f.get(1, 7, 0) == pytest.approx(0.5)
    f.contact(1, 7, 0)
    assert f.get(1, 7, 0) == pytest.approx(0.75)
    assert f.get(1, 7, 10) == pytest.approx(0.375)
    assert f.get(2, 7, 0) == 0.0 and f.get(1, 8, 0) == 0.0


def test_familiarity_counts_each_pairs_contacts_through_the_tables_growth() -> None:
    """Pairs and their contact counts survive the table's growth (rows are moved to a larger table)."""
    f = Familiarity(Continuity(familiarity_growth=0.5, familiarity_half_life_days=10), patients=2000)
    first = f.table.shape[0]
    for rep in range(3):
        for patient in range(2000):
            for person in (1, 2, 3, 4, 5 + patient % 5):
                assert f.contact(patient, person, 0) == rep + 1
    assert len(f) == 10_000 and f.table.shape[0] >= 20_000 > first  # grown, at most half full
    assert f.get(1999, 5 + 1999 % 5, 0) == pytest.approx(0.875)
    assert f.get(5, 9, 0) == 0.0  # never met


def test_familiarity_stays_exact_over_thousands_of_half_lives() -> None:
    """Stored values are rescaled before the decay since the origin could underflow."""
    f = Familiarity(Continuity(familiarity_growth=0.5, familiarity_half_life_days=1), patients=3)
    f.contact(1, 7, 0)
    f.contact(2, 7, 0)
    for day in range(100, 3001, 100):  # 30 moves of the origin at most
        f.contact(1, 7, day)
        assert f.get(1, 7, day) == pytest.approx(0.5 + 0.5 * 0.5 * 2.0**-100)
        assert f.get(1, 7, day + 3) == pytest.approx(f.get(1, 7, day) / 8)
    assert f.get(2, 7, 3000) == 0.0  # faded to nothing, without overflow or NaN


def test_knowing_the_patient_lowers_loss() -> None:
    c = Continuity(or_receiver_knows_patient=0.5, or_both_know_patient=0.8)
    loss = LossModel(Handover(), c)
    p0 = loss.probability(0.1, _factors())
    p_r = loss.probability(0.1, _factors(familiar_receiver=1.0))
    p_both = loss.probability(0.1, _factors(familiar_receiver=1.0, familiar_sender=1.0))
    assert _odds(p_r) / _odds(p0) == pytest.approx(0.5)
    assert _odds(p_both) / _odds(p_r) == pytest.approx(0.8)
    assert loss.probability(0.1, _factors(familiar_sender=1.0)) == pytest.approx(p0)


def test_acsc_risk_follows_barker() -> None:
    c = Continuity()
    assert acsc_risk(c.upc_reference, c) == pytest.approx(c.acsc_risk_per_episode)
    assert acsc_risk(c.upc_reference + 0.2, c) / acsc_risk(c.upc_reference, c) == pytest.approx(0.94)
    assert patient_upc(2, 4, 0.61) == pytest.approx(0.5)
    assert patient_upc(1, 1, 0.61) == pytest.approx(0.61)


def test_running_upc_counts_match_the_histories() -> None:
    """The model keeps each patient's most-seen count as contacts happen: it equals a recount."""
    m = HandoverModel(rng=3, days=40, population={"size": 3000, "practices": 1})
    m.run()
    seen = [p for p in m.patients if p.history]
    assert len(seen) > 500
    assert all(p.top_count == max(Counter(p.history).values()) for p in seen)
    assert all(p.top_count == 0 for p in m.patients if not p.history)


def test_lower_continuity_means_more_avoidable_admissions() -> None:
    kw = {"days": 60, "turnover": {"enabled": False}}
    team = [{"role": "gp_partner", "count": 4}]
    cont = HandoverModel(small_scenario(team=team, routing={"policy": "personal_list"}, **kw), rng=2)
    frag = HandoverModel(small_scenario(team=team, routing={"policy": "first_available"}, **kw), rng=2)
    cont.run()
    frag.run()
    per_episode = [m.totals["acsc_admissions"] / m.totals["episodes_arrived"] for m in (cont, frag)]
    assert per_episode[1] > per_episode[0] > 0


# ------------------------------------------------------------------ costs on one basis


def test_hourly_and_annual_costs_use_the_same_working_hours() -> None:
    s = small_scenario()
    hours = s.costs.hours_per_fte_year
    roles = load_catalogue().roles
    for row in team_table(s):
        role = roles[str(row["role"])]
        assert row["annual_cost"] == pytest.approx(row["fte"] * employer_annual_cost(role, s))  # type: ignore[operator]
        assert hourly_cost(role, s) * hours == pytest.approx(employer_annual_cost(role, s))
    longer = small_scenario(costs={"hours_per_fte_year": 1890.0})
    assert hourly_cost(roles["practice_nurse"], longer) < hourly_cost(roles["practice_nurse"], s)
    assert employer_annual_cost(roles["practice_nurse"], longer) == employer_annual_cost(
        roles["practice_nurse"], s
    )


def test_partner_is_costed_as_a_salaried_gp_and_costs_include_on_costs_and_overheads() -> None:
    s = small_scenario(costs={"on_cost_rate": 0.3, "overhead_rate": 0.25})
    roles = load_catalogue().roles
    assert employer_annual_cost(roles["gp_partner"], s) == employer_annual_cost(roles["salaried_gp"], s)
    assert employer_annual_cost(roles["practice_nurse"], s) == pytest.approx(41150 * 1.3 * 1.25)
    assert all(r.cost_source for r in roles.values())


# ------------------------------------------------------------------ referral back to a GP


def test_referral_rises_with_the_edge_and_makes_failure_demand() -> None:
    assert referral_probability(0.0, 0.2) == 0.0
    assert referral_probability(0.5, 0.2) == pytest.approx(0.1)
    team = [{"role": "gp_partner", "count": 2}, {"role": "physician_associate", "count": 2}]
    kw = {"days": 30, "turnover": {"enabled": False}}
    none = _team_model(team, referral={"probability_at_edge": 0.0}, **kw)
    many = _team_model(team, referral={"probability_at_edge": 1.0}, **kw)
    gps = _team_model([{"role": "gp_partner", "count": 4}], referral={"probability_at_edge": 1.0}, **kw)
    for m in (none, many, gps):
        m.run()
    assert none.totals["failure_demand"] == 0 and gps.totals["failure_demand"] == 0
    assert many.totals["failure_demand"] > 0
    assert many.totals["ep_tasks"] / many.totals["episodes_completed"] > (
        none.totals["ep_tasks"] / none.totals["episodes_completed"]
    )


# ------------------------------------------------------------------ rewarding work


def test_hazard_rises_with_overload_and_falls_with_variety() -> None:
    t = Turnover()
    base = daily_hazard(0.2, 252, 0.0, t.overload_rate_ratio, 1.0)
    assert base == pytest.approx(0.2 / 252)
    assert daily_hazard(0.2, 252, 1.0, 2.0, 1.0) == pytest.approx(2 * base)
    m = _team_model([{"role": "gp_partner", "count": 2}, {"role": "healthcare_assistant", "count": 1}])
    varied = m.staff_turnover.variety_factor[0]
    narrow = m.staff_turnover.variety_factor[2]
    assert varied < 1.0 < narrow  # a GP's 18 task types against an HCA's 3


def test_sustained_overload_drives_people_away() -> None:
    team = [{"role": "gp_partner", "count": 1, "fte": 0.3}, {"role": "practice_nurse", "count": 1}]
    kw = {"days": 80, "population": {"size": 4000, "practices": 1}}
    calm = _team_model(team, turnover={"overload_rate_ratio": 1.0, "rate_multiplier": 20.0}, **kw)
    hot = _team_model(
        team,
        turnover={"overload_rate_ratio": 50.0, "rate_multiplier": 20.0, "overload_backlog_days": 0.5},
        **kw,
    )
    calm.run()
    hot.run()
    assert hot.totals["staff_turnover"] > calm.totals["staff_turnover"]
