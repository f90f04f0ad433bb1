"""docs/parameters.md is generated from the code and lists every parameter with unit and source."""

from pydantic import BaseModel

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
