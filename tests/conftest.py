"""Shared fixtures: small scenarios that run in well under a second; hypothesis profiles.

Property tests run derandomized (the same examples on every machine and every run) unless
HYPOTHESIS_PROFILE=fuzz (`make test-fuzz`) asks for fresh random examples, and many more of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from handover_abm.config import Scenario, scenario_from_dict

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=60)
settings.register_profile("fuzz", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def small_scenario(**changes: Any) -> Scenario:
    """A 2-practice, 2,000-patient team with GPs, a nurse and a few ARRS roles."""
    data: dict[str, Any] = {
        "name": "small",
        "days": 40,
        "population": {"size": 2000, "practices": 2},
        "team": [
            {"role": "gp_partner", "count": 2, "fte": 0.8},
            {"role": "practice_nurse", "count": 1, "fte": 1.0},
            {"role": "clinical_pharmacist", "count": 1, "fte": 0.5, "organisation": "pcn"},
            {"role": "physician_associate", "count": 1, "fte": 0.5, "organisation": "pcn"},
            {"role": "care_coordinator", "count": 1, "fte": 0.5, "organisation": "pcn"},
        ],
    }
    data.update(changes)
    return scenario_from_dict(data)


@pytest.fixture
def small() -> Scenario:
    """The small scenario with defaults."""
    return small_scenario()
