"""docs/parameters.md is generated from the code and lists every parameter with unit and source;
figures the other docs quote from specs and the catalogue match them."""

import yaml
from pydantic import BaseModel

from handover_abm.catalogue import load_catalogue
from handover_abm.config import Scenario, TeamEntry
from handover_abm.paramdocs import parameters_markdown
from tests.conftest import ROOT


def _numeric_fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, dict]]:
    out = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_numeric_fields(ann, f"{prefix}{name}."))
        elif ann in (int, float):
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            out.append((f"{prefix}{name}", extra))
    return out


def test_parameters_doc_is_up_to_date() -> None:
    """Regenerate with `make docs` when this fails."""
    current = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert current == parameters_markdown()


def test_every_numeric_parameter_has_unit_and_source() -> None:
    fields = _numeric_fields(Scenario) + _numeric_fields(TeamEntry, "team[].")
    assert len(fields) > 40
    missing = [name for name, extra in fields if not extra.get("unit") or not extra.get("source")]
    assert not missing, f"parameters without unit or source: {missing}"
    doc = parameters_markdown()
    undocumented = [name for name, _ in fields if f"`{name}`" not in doc and "team[]" not in name]
    assert not undocumented


def _spec_parameters(name: str) -> int:
    return len(
        yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text(encoding="utf-8"))["parameters"]
    )


def test_counts_in_the_docs_match_the_specs_and_the_catalogue() -> None:
    """Figures the README and experiments/README quote from a spec or the catalogue are those of
    today's spec and catalogue (they drifted before: '7 assumptions' against 32 in the spec)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    experiments = (ROOT / "experiments" / "README.md").read_text(encoding="utf-8")
    roles = load_catalogue().roles
    assert f"({len(roles)} roles:" in readme
    listed = readme.split(f"({len(roles)} roles:", 1)[1].split(")", 1)[0]
    assert len([r for r in listed.replace("\n", " ").split(",") if r.strip()]) == len(roles), listed
    assert f"all {_spec_parameters('sensitivity_all')} numeric parameters" in experiments
    assert f"| {_spec_parameters('sensitivity_assumptions')} assumptions," in experiments
    assert f"| {_spec_parameters('sensitivity_roles')} ARRS role figures" in experiments
    assert (
        f"every non-zero arrival weight of the episode types ({_spec_parameters('sensitivity_case_mix')} "
        in experiments
    )
