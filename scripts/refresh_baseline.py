"""Rewrite tests/baseline/expected.json from the current model (`make baseline`).

Run this only when a change to model outputs is intended, and commit the diff of expected.json
with the change that caused it, saying why the numbers moved.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import baseline


def main() -> None:
    """Recompute every baseline run and report which summaries changed."""
    new = baseline.compute()
    old = baseline.read() if baseline.EXPECTED.exists() else {}
    changed = sorted(
        f"{run}: {key} {old.get(run, {}).get(key)} -> {value}"
        for run, summary in new.items()
        for key, value in summary.items()
        if old.get(run, {}).get(key) != value
    )
    baseline.write(new)
    print("\n".join(changed) or "no change")
    print(f"wrote {baseline.EXPECTED} ({len(new)} runs)")


if __name__ == "__main__":
    main()
