"""Lead times of an episode's next steps: a log-logistic spread around each task type's median
(access.lead_time_shape), and what it does to the wait distribution of a whole run."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover_abm.config import scenario_from_dict
from handover_abm.lifecycle import log_logistic_days
from handover_abm.metrics import BOOKING_LEAD_BANDS, band_share
from handover_abm.model import HandoverModel


@given(
    median=st.integers(1, 60),
    shape=st.floats(0.5, 20),
    u=st.floats(0, 1, exclude_max=True),
    v=st.floats(0, 1, exclude_max=True),
)
@settings(max_examples=200, deadline=None)
def test_lead_is_monotone_in_the_draw_truncated_and_centred_on_the_median(
    median: int, shape: float, u: float, v: float
) -> None:
    most = 60  # the booking horizon: leads are truncated there
    a, b = log_logistic_days(median, shape, u, most), log_logistic_days(median, shape, v, most)
    assert 0 <= a <= most and 0 <= b <= most
    assert (a <= b) if u <= v else (a >= b)
    assert log_logistic_days(median, shape, 0.5, 10**9) == median  # untruncated: the median
    assert log_logistic_days(median, shape, 0.5, most) <= median  # truncation moves it down


def test_quartiles_at_shape_three_are_as_documented() -> None:
    """docs/model.md and docs/parameters.md: at shape 3 half the leads lie between 0.69 and 1.44
    times the median, and 1 in 28 beyond 3 times it."""
    assert log_logistic_days(1000, 3.0, 0.25, 10**6) == round(1000 * (1 / 3) ** (1 / 3))  # 693
    assert log_logistic_days(1000, 3.0, 0.75, 10**6) == round(1000 * 3 ** (1 / 3))  # 1442
    beyond = 1 - 27 / 28  # P(L > 3 x median) = 1 / (1 + 3^3)
    assert log_logistic_days(1000, 3.0, 1 - beyond + 1e-4, 10**6) > 3000
    assert log_logistic_days(1000, 3.0, 1 - beyond - 1e-4, 10**6) < 3000
    assert math.isclose(beyond, 1 / 28)


def _waits(shape: float) -> Counter[int]:
    """A one-practice team of GPs and a nurse whose work is all new problems, half of them with a
    follow-up whose median lead is 10 working days (14 calendar days); 200 working days."""
    data = {
        "name": f"shape_{shape}",
        "days": 200,
        "population": {"size": 3000, "practices": 1},
        "team": [{"role": "gp_partner", "count": 3, "fte": 1.0}, {"role": "practice_nurse", "count": 2}],
        "access": {"lead_time_shape": shape, "follow_up_prebooked_share": 1.0},
    }
    model = HandoverModel(scenario_from_dict(data), rng=11)
    model.run()
    return Counter(model.waits)


@pytest.fixture(scope="module")
def spikes() -> tuple[Counter[int], Counter[int]]:
    return _waits(0.0), _waits(3.0)


def test_fixed_lead_times_pile_contacts_on_one_day_and_spread_ones_do_not(
    spikes: tuple[Counter[int], Counter[int]],
) -> None:
    """Every follow-up due exactly 10 working days later puts a spike on day 14; the log-logistic
    spread leaves no day after the first with more than a small share (the most on day 7, a week
    after booking on the same weekday), and the share seen after 13
    days differs much less from the share seen after 15 days (issue 32 asks for at most 5 points in
    the default PCN: 4.5-4.9 there, docs/model.md; this one full practice of GPs keeps more)."""
    fixed, spread = spikes

    def share(w: Counter[int], day: int) -> float:
        return w[day] / sum(w.values())

    assert share(fixed, 14) > 0.1  # 14% of contacts on one day
    assert max(share(spread, d) for d in range(2, 60)) < 0.07  # the most, a week after booking
    total = sum(spread.values())
    gap = band_share(spread, 14, None, total) - band_share(spread, 16, None, total)
    fixed_total = sum(fixed.values())
    fixed_gap = band_share(fixed, 14, None, fixed_total) - band_share(fixed, 16, None, fixed_total)
    assert fixed_gap > 0.15 and gap < fixed_gap / 2  # 21 points -> 7 here (5 in the default PCN)


def test_the_published_bands_cover_every_day_once() -> None:
    days = Counter({d: 1 for d in range(0, 400)})
    shares = [band_share(days, first, last, 400) for _, first, last, _ in BOOKING_LEAD_BANDS]
    assert math.isclose(sum(shares), 1.0)


def _routine_waits(choice: float) -> tuple[float, float]:
    """(mean calendar days to a routine new problem's first contact, same-day share of urgent
    ones) in a lightly loaded practice, where the earliest offer is usually today."""
    data = {
        "name": f"choice_{choice}",
        "days": 120,
        "population": {"size": 2000, "practices": 1},
        "team": [{"role": "gp_partner", "count": 3, "fte": 1.0}, {"role": "practice_nurse", "count": 2}],
        "access": {"routine_choice_days": choice},
    }
    model = HandoverModel(scenario_from_dict(data), rng=21, log_events=True)
    model.run()
    from handover_abm.model import CONTACT_COLUMNS

    rows = [dict(zip(CONTACT_COLUMNS, r, strict=True)) for r in model.contact_log]
    first = [r for r in rows if r["task_type"] in ("assessment", "minor_illness", "msk_assessment")]
    routine = [r["day_seen"] - r["day_requested"] for r in first if r["urgency"] == "routine"]
    urgent = [r["day_seen"] == r["day_requested"] for r in first if r["urgency"] == "urgent"]
    return sum(routine) / len(routine), sum(urgent) / len(urgent)


def test_a_routine_request_is_booked_after_the_earliest_offer_by_the_patients_choice() -> None:
    """With capacity to spare a routine request is seen about `routine_choice_days` working days
    after the earliest offer (exponential, floored: mean 1/(e^(1/m) - 1) whole days); urgent
    requests are not delayed."""
    none, urgent_none = _routine_waits(0.0)
    chosen, urgent_chosen = _routine_waits(3.0)
    floored = 1 / (math.exp(1 / 3) - 1)  # E[floor(Exp(mean 3))] = 2.53 working days
    assert none < 0.5
    assert chosen - none == pytest.approx(floored, rel=0.2)
    assert urgent_none > 0.95 and urgent_chosen > 0.95
