"""Continuity indices on hand-worked contact sequences (definitions of MODEL.md; Bice & Boxerman 1977;
SECON of Steinwachs 1979; formulas as tabulated in BMC Health Serv Res 2022, Table 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from handover_abm.continuity import grouped
from handover_abm.metrics import chance_upc, coc, continuity_indices, continuity_means, secon, upc


@pytest.mark.parametrize(
    ("contacts", "expected"),
    [
        # n=3, A twice, B once: UPC 2/3; COC (2^2+1^2-3)/(3*2) = 2/6; one of two pairs same: SECON 1/2
        (["A", "A", "B"], (2 / 3, 1 / 3, 1 / 2)),
        # n=4 alternating: UPC 1/2; COC (4+4-4)/12 = 1/3; no consecutive pair same: SECON 0
        (["A", "B", "A", "B"], (1 / 2, 1 / 3, 0.0)),
        # n=4 blocks: same UPC and COC as alternating, but SECON 2/3: only sequence order differs
        (["A", "A", "B", "B"], (1 / 2, 1 / 3, 2 / 3)),
        # n=5, A3 B1 C1: UPC 3/5; COC (9+1+1-5)/20 = 6/20; pairs AA, AB, BA, AC -> 1/4
        (["A", "A", "B", "A", "C"], (3 / 5, 6 / 20, 1 / 4)),
        # all with one clinician: 1, 1, 1
        (["A"] * 6, (1.0, 1.0, 1.0)),
        # all different, n=4: UPC 1/4, COC 0, SECON 0
        (["A", "B", "C", "D"], (1 / 4, 0.0, 0.0)),
    ],
)
def test_indices_on_worked_examples(contacts: list[str], expected: tuple[float, float, float]) -> None:
    assert upc(contacts) == pytest.approx(expected[0])
    assert coc(contacts) == pytest.approx(expected[1])
    assert secon(contacts) == pytest.approx(expected[2])


def test_ten_visits_split_five_three_two() -> None:
    """Formula of Bice & Boxerman (Med Care 1977), as tabulated in the rapid review "Association between
    continuity of care (COC), healthcare use and costs: what can we learn from claims data?" (BMC Health
    Serv Res 2022, Table 2): 10 visits split 5, 3, 2 give COC = (25+9+4-10)/90 = 0.311 and UPC = 0.5
    (worked by hand: no published numeric example was found to copy)."""
    contacts = ["p1"] * 5 + ["p2"] * 3 + ["p3"] * 2
    assert coc(contacts) == pytest.approx(28 / 90)
    assert upc(contacts) == pytest.approx(0.5)


@pytest.mark.parametrize("fn", [upc, coc, secon])
def test_fewer_than_two_contacts_is_an_error(fn) -> None:
    with pytest.raises(ValueError):
        fn(["A"])


def test_means_skip_patients_with_fewer_than_two_contacts() -> None:
    u, c, s = continuity_means([["A", "A"], ["B"], [], ["A", "B"]])
    assert (u, c, s) == pytest.approx(((1 + 0.5) / 2, (1 + 0) / 2, (1 + 0) / 2))
    assert all(x != x for x in continuity_means([["A"], []]))  # NaN when nobody qualifies


@given(st.lists(st.lists(st.integers(0, 6), max_size=12), max_size=30))
def test_vectorised_indices_equal_the_definitions(histories: list[list[int]]) -> None:
    """The run summary's one-pass numpy indices agree with the per-patient definitions."""
    u, c, s = continuity_indices(histories)
    eligible = [h for h in histories if len(h) >= 2]
    assert u.tolist() == pytest.approx([upc(h) for h in eligible])
    assert c.tolist() == pytest.approx([coc(h) for h in eligible])
    assert s.tolist() == pytest.approx([secon(h) for h in eligible])


class _GP:
    def __init__(self, post: int, practice: int) -> None:
        self.post, self.practice, self.is_gp = post, practice, True


class _Run:
    def __init__(self) -> None:
        self.seed = 5
        self.clinicians = [_GP(0, 0), _GP(1, 1), _GP(2, 1), _GP(3, 1)]


def test_chance_continuity_is_one_with_one_gp_and_falls_with_more() -> None:
    """Chance UPC: 1 in a single-GP practice; about the expected max share with three GPs."""
    one = chance_upc(_Run(), [[9, 9, 8]] * 50, [0] * 50)  # type: ignore[arg-type]
    assert one == 1.0
    three = chance_upc(_Run(), [[9] * 6] * 4000, [1] * 4000)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    expected = np.mean([np.bincount(rng.integers(0, 3, 6), minlength=3).max() / 6 for _ in range(20000)])
    assert three == pytest.approx(expected, abs=0.01)
    assert chance_upc(_Run(), [[9], []], [1, 1]) != chance_upc(_Run(), [[9], []], [1, 1])  # NaN: nobody


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 50)), max_size=60))
def test_contacts_grouped_by_patient_keep_their_order(log: list[tuple[int, int]]) -> None:
    """The contact log grouped by patient (a counting sort) is each patient's contacts in order."""
    patients = np.array([p for p, _ in log], dtype=np.int64)
    persons = np.array([c for _, c in log], dtype=np.int64)
    codes, counts = grouped(patients, persons, 10)
    expected = [c for k in range(10) for p, c in log if p == k]
    assert codes.tolist() == expected
    assert counts.tolist() == [sum(p == k for p, _ in log) for k in range(10)]
