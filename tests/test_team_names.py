"""Team entries are addressed by role or id (`team.physician_associate.count`), in --set and in
sweep specs, so reordering a config never changes what a sweep varies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handover_abm.config import ConfigError, load_scenario
from handover_abm.sweep import load_sweep, run_sweep
from tests.conftest import small_scenario


def _write(tmp_path: Path, team: list[dict]) -> Path:
    data = small_scenario(days=12).model_dump(mode="json")
    data["team"] = team
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


TEAM = [
    {"role": "gp_partner", "count": 2, "fte": 0.8},
    {"role": "practice_nurse", "count": 1, "fte": 1.0},
    {"role": "physician_associate", "count": 1, "fte": 1.0, "organisation": "pcn"},
]


def _count(scenario, role: str) -> int:
    return sum(e.count for e in scenario.team if e.role == role)


def test_set_by_role_changes_that_entry_wherever_it_sits(tmp_path: Path) -> None:
    path = _write(tmp_path, TEAM)
    assert _count(load_scenario(path, ["team.physician_associate.count=3"]), "physician_associate") == 3
    _write(tmp_path, list(reversed(TEAM)))  # same team, another order
    assert _count(load_scenario(path, ["team.physician_associate.count=3"]), "physician_associate") == 3
    assert _count(load_scenario(path, ["team.physician_associate.count=3"]), "gp_partner") == 2


def test_a_role_in_two_entries_needs_an_id(tmp_path: Path) -> None:
    twice = [*TEAM, {"role": "gp_partner", "count": 1, "fte": 0.5}]
    path = _write(tmp_path, twice)
    with pytest.raises(ConfigError, match=r"role gp_partner appears in 2 team entries; give each an 'id'"):
        load_scenario(path, ["team.gp_partner.count=4"])
    twice[-1]["id"] = "locum_partner"
    _write(tmp_path, twice)
    s = load_scenario(path, ["team.locum_partner.count=4"])
    assert [e.count for e in s.team if e.role == "gp_partner"] == [2, 4]


def test_an_unknown_role_names_what_is_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, TEAM)
    with pytest.raises(ConfigError, match=r"team\.paramedic.*allowed: gp_partner, physician_associate"):
        load_scenario(path, ["team.paramedic.count=1"])


def test_a_sweep_varies_a_role_by_name(tmp_path: Path) -> None:
    _write(tmp_path, TEAM)
    spec = {
        "base": "base.yaml",
        "parameters": {"team.physician_associate.count": {"values": [0, 2]}},
        "warmup_days": 2,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    table = run_sweep(load_sweep(tmp_path / "spec.yaml"), tmp_path / "out", workers=1).table
    fte = table.set_index("team.physician_associate.count")["team_fte"]
    assert fte[2] - fte[0] == pytest.approx(2.0)


def test_a_warmup_as_long_as_the_run_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, TEAM)
    spec = {"base": "base.yaml", "parameters": {"team.gp_partner.count": {"values": [1, 2]}}}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({**spec, "warmup_days": 12}))
    with pytest.raises(ConfigError, match=r"key 'warmup_days' is 12 .* runs 12 working days"):
        load_sweep(tmp_path / "spec.yaml")
