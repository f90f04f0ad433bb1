"""The validation suite passes, and its checks fail when the mechanism they test is broken."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from handover_abm import handover, metrics, state, validation
from handover_abm import model as model_module
from handover_abm.book import AppointmentBook
from handover_abm.model import HandoverModel
from handover_abm.validation import Size, run_suite

SMALL = Size(replicates=3, days=60, patients=3000)


@pytest.fixture(scope="module")
def kept_runs() -> Callable[..., HandoverModel]:
    """`validation._run` that keeps each finished model by (config, seed) for this module's suite.

    A run with the model's own demand is a pure function of its config and seed, so a test that only
    changes how finished runs are read can reuse them: the default PCN over two years (25,000 patients,
    the pattern checks' runs, the bulk of the suite's time) is run once, not again for the GP-continuity test.
    Tests that change the model itself must not use it."""
    real = validation._run
    models: dict[tuple[str, int], HandoverModel] = {}

    def run(data: dict[str, Any], seed: int, demand: Any = None) -> HandoverModel:
        if demand is not None:
            return real(data, seed, demand)
        key = (json.dumps(data, sort_keys=True, default=str), seed)
        if key not in models:
            models[key] = real(data, seed)
        return models[key]

    return run


@pytest.fixture(scope="module")
def small_suite(kept_runs: Callable[..., HandoverModel]) -> list:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(validation, "_run", kept_runs)
        return run_suite(SMALL)


@pytest.fixture
def fresh_pcn_cache() -> Iterator[None]:
    """`_default_pcn` caches its summaries per replicate count: a test that changes how they are
    computed must neither read another test's nor leave its own behind."""
    validation._default_pcn.cache_clear()
    yield
    validation._default_pcn.cache_clear()


def test_verification_checks_pass_at_small_size(small_suite: list) -> None:
    """Analytic limits, the loss mechanism, conservation and queueing: the code does what it says."""
    checks = [c for c in small_suite if "(pattern)" not in c.name]
    assert len(checks) >= 6
    assert [c.name for c in checks if not c.passed] == []


def test_published_patterns_are_reproduced_at_small_size(small_suite: list) -> None:
    """Fitted and tuned patterns must hold; out-of-sample figures are reported whether or not the
    model reproduces them (docs/VALIDATION.md says how many), each against its published value."""
    from handover_abm.targets import load_targets

    checks = [c for c in small_suite if "(pattern)" in c.name and validation.must_pass(c)]
    assert len(checks) >= 5
    assert [c.name for c in checks if not c.passed] == []
    unseen = [c for c in small_suite if c.basis == "out_of_sample"]
    assert len(unseen) >= 8
    targets = load_targets()
    for name in validation.OUT_OF_SAMPLE_TARGETS:
        (c,) = [c for c in unseen if c.name == f"{name.replace('_', ' ')} (pattern)"]
        assert c.expected.startswith(f"{targets[name].value:g} ({targets[name].year})")


# The life cycle is compiled (lifecycle.py): faults are injected where Python still holds the
# numbers, in what the kernels are given and in what they report each evening.


def test_loss_check_fails_when_loss_probability_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_module, "logit", lambda p: handover.logit(p) + 0.3)
    assert not validation.check_loss_alone(SMALL).passed


def test_conservation_check_fails_when_drops_are_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    real = HandoverModel._end_day

    def leaky(self: HandoverModel, day: int) -> None:
        self.A.today[state.D_DROPPED] = 0.0  # the day's dropped tasks vanish from the accounts
        real(self, day)

    monkeypatch.setattr(HandoverModel, "_end_day", leaky)
    assert not validation.check_conservation(SMALL).passed


def test_single_generalist_check_fails_with_a_wrong_index(monkeypatch: pytest.MonkeyPatch) -> None:
    real = metrics.continuity_indices

    def wrong_coc(histories):
        u, c, s = real(histories)
        return u, c * 0 + 0.99, s

    monkeypatch.setattr(metrics, "continuity_indices", wrong_coc)
    assert not validation.check_single_generalist(SMALL).passed


def test_chain_check_fails_when_handovers_are_double_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    real = HandoverModel._end_day

    def twice(self: HandoverModel, day: int) -> None:
        self.A.tot[state.K_EP_HANDOVERS] += self.A.today[state.D_HANDOVERS]  # each handover counted again
        real(self, day)

    monkeypatch.setattr(HandoverModel, "_end_day", twice)
    assert not validation.check_specialist_chain(SMALL).passed


def test_gp_continuity_check_fails_when_gp_contacts_are_not_told_apart(
    monkeypatch: pytest.MonkeyPatch,
    small_suite: list,
    kept_runs: Callable[..., HandoverModel],
    fresh_pcn_cache: None,
) -> None:
    """If every contact counted as a GP contact, GP-only UPC would fall towards all-role UPC.

    Only how the finished runs are read changes, so the two replicates are the suite's first two
    (replicate seeds are a prefix of the suite's three), not run again."""
    monkeypatch.setattr(validation, "_run", kept_runs)
    monkeypatch.setattr(
        validation,
        "_gp_histories",
        lambda model, band: [
            h
            for h, p in zip(model.histories(), model.patients, strict=True)
            if p.age_band == band and model.pats.pt_gp_contacts[p.index] >= 2
        ],
    )
    assert not validation.check_gp_continuity(Size(replicates=2, days=60, patients=3000)).passed


def test_light_load_check_fails_when_same_day_bookings_slip_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """A book with no room today for today's requests cannot see new problems the same day."""
    real = HandoverModel._start_day

    def late(self: HandoverModel, day: int) -> None:
        real(self, day)
        self.book.pre[:, day] = self.book.otd[:, day] = 0.0

    monkeypatch.setattr(HandoverModel, "_start_day", late)
    assert not validation.check_book_light(SMALL).passed


def test_overload_check_fails_when_booked_time_is_counted_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A book that holds half the minutes the rota gives it turns away far more than the excess."""
    real = AppointmentBook.__init__

    def halved(self: AppointmentBook, minutes: np.ndarray, share: float, horizon: int) -> None:
        real(self, minutes / 2.0, share, horizon)

    monkeypatch.setattr(AppointmentBook, "__init__", halved)
    assert not validation.check_book_overload(SMALL).passed


def test_report_separates_fitted_tuned_and_out_of_sample_checks() -> None:
    """Every check says what it is evidence of, and the report groups them under those headings."""
    names = {check.__name__: check for check in validation.CHECKS}
    assert "check_nurse_contact_share" in names
    fake = [
        validation.Check("a", "e", "w", 1.0, (1.0, 1.0), "t", True, basis)
        for basis in ("verification", "fitted", "tuned", "out_of_sample")
    ]
    text = validation.report_markdown(fake, SMALL)
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert [h.split(":")[0] for h in heads] == [
        "## Verification",
        "## Fitted",
        "## Tuned by hand",
        "## Out-of-sample",
    ]
    assert "in-sample" in heads[1] and "not out-of-sample" in heads[2]
    assert set(validation.BASES) == {"verification", "fitted", "tuned", "out_of_sample"}
