"""Config schema: readable errors, overrides, digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from handover_abm.config import ConfigError, apply_override, load_scenario, parse_override, scenario_from_dict
from handover_abm.model import HandoverModel
from tests.conftest import CONFIGS, small_scenario


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (
            {"team": [{"role": "gp_partner"}], "population": {"age_bands": [{"name": "all", "share": 0.5}]}},
            "sum to 1",
        ),
        ({"team": [{"role": "practice_nurse"}]}, "no supervisor"),
        ({"team": []}, "team"),
        ({"team": [{"role": "gp_partner"}], "routing": {"policy": "random"}}, "continuity_first"),
        ({"team": [{"role": "gp_partner"}], "handover": {"p_detect": 1.5}}, "handover.p_detect"),
        ({"team": [{"role": "gp_partner"}], "routing": {"policy": "usual_clinician_first"}}, "personal_list"),
        ({"team": [{"role": "gp_partner"}], "access": {"on_the_day_share": 1.5}}, "access.on_the_day_share"),
        ({"team": [{"role": "gp_partner"}], "access": {"horizon_days": 0}}, "access.horizon_days"),
        ({"team": [{"role": "gp_partner"}], "calendar": {"start_date": "someday"}}, "calendar.start_date"),
        ({"team": [{"role": "gp_partner"}], "routing": {"max_backlog_days": 3}}, "max_backlog_days"),
        (
            {"team": [{"role": "gp_partner"}], "work": {"paid_hours_per_fte_day": 7.5}},
            "it was replaced by costs.hours_per_fte_year",
        ),
    ],
)
def test_invalid_scenarios_are_refused(data: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=r"f\.yaml") as info:
        scenario_from_dict(data, "f.yaml")
    assert needle in str(info.value)


def test_invalid_yaml_and_non_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("team: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_scenario(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_scenario(bad)


def test_override_values_are_parsed_as_yaml() -> None:
    assert parse_override("a.b=3") == (["a", "b"], 3)
    assert parse_override("a.b=0.25") == (["a", "b"], 0.25)
    assert parse_override("x=true") == (["x"], True)
    assert parse_override("team.0.role=gp_partner") == (["team", 0, "role"], "gp_partner")
    with pytest.raises(ConfigError):
        parse_override("no-equals")
    data: dict = {"team": [{"role": "gp_partner"}]}
    apply_override(data, ["team", 0, "count"], 4, "s")
    apply_override(data, ["handover", "p_detect"], 0.3, "s")
    assert data == {"team": [{"role": "gp_partner", "count": 4}], "handover": {"p_detect": 0.3}}
    with pytest.raises(ConfigError, match="index"):
        apply_override(data, ["team", 5, "count"], 1, "s")


def test_keyword_overrides_reach_the_model() -> None:
    m = HandoverModel(small_scenario(), rng=1, routing__policy="continuity_first", team__0__count=3)
    assert m.rule.name == "continuity_first" and m.config.routing.policy == "continuity_first"
    assert sum(c.role_name == "gp_partner" for c in m.clinicians) == 3


def test_digest_is_stable_and_sensitive() -> None:
    a = load_scenario(CONFIGS / "default.yaml")
    assert a.digest() == load_scenario(CONFIGS / "default.yaml").digest()
    b = load_scenario(CONFIGS / "default.yaml", ["handover.p_detect=0.61"])
    assert a.digest() != b.digest()


def test_shipped_configs_share_one_population() -> None:
    pops = {load_scenario(p).population.model_dump_json() for p in CONFIGS.glob("*.yaml")}
    demands = {load_scenario(p).demand.model_dump_json() for p in CONFIGS.glob("*.yaml")}
    assert len(pops) == 1 and len(demands) == 1
