"""A typed parameter: a pydantic Field that also carries its unit and its source.

Every number in a scenario is declared with `param`, so docs/parameters.md can be generated from
the schema and can never drift from the code.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

ASSUMPTION = "assumption"


def param(
    default: Any,
    description: str,
    *,
    unit: str = "",
    source: str = ASSUMPTION,
    **bounds: float,
) -> Any:
    """Declare a scenario parameter with bounds (ge, gt, le, lt), unit and source."""
    return Field(
        default,
        description=description,
        json_schema_extra={"unit": unit, "source": source},
        **bounds,
    )
