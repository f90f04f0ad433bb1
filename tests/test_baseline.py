"""Seeded regression baseline: the summaries of a few small runs match the committed ones.

A failure means model outputs changed. If that was intended, run `make baseline` and commit the
diff of tests/baseline/expected.json with the change, saying why the numbers moved.
"""

from __future__ import annotations

import pytest

from tests import baseline


def test_seeded_runs_match_the_committed_baseline() -> None:
    expected = baseline.read()
    got = baseline.compute()
    assert sorted(got) == sorted(expected), "baseline runs differ: run `make baseline`"
    for run, summary in expected.items():
        assert sorted(got[run]) == sorted(summary), f"{run}: metrics added or removed: run `make baseline`"
        for key, value in summary.items():
            # identical streams give identical numbers; the tolerance only absorbs float summation
            # order on other platforms
            assert got[run][key] == pytest.approx(value, rel=1e-9, abs=1e-12), f"{run}: {key}"
