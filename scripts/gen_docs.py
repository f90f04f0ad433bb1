"""Regenerate docs/parameters.md from the scenario schema and the catalogue."""

from pathlib import Path

from handover_abm.paramdocs import parameters_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "parameters.md"
    target.write_text(parameters_markdown(), encoding="utf-8")
    print(f"wrote {target}")
