"""Two-year GP continuity of patients aged 65-79 from a run's contacts.parquet, against chance.

    python scripts/continuity_check.py results/DIR [--band 65-79]

UPC over GP contacts per patient with 2+ GP contacts (Barker et al., BMJ 2017: mean 0.61), per
replicate, and the chance benchmark: each patient's GP contacts redrawn at random from the GPs the
run's contacts show working for their practice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from handover_abm.metrics import upc


def continuity(contacts: pd.DataFrame, band: str, seed: int = 0) -> pd.DataFrame:
    """Observed and chance UPC over GP contacts, per config and replicate, for one age band."""
    rng = np.random.default_rng(seed)
    rows = []
    for (config, rep), run in contacts[contacts["staff_group"] == "gp"].groupby(["config", "replicate"]):
        gps = run.groupby("practice")["post"].unique()
        old = run[run["age_band"] == band]
        seen = old.groupby("patient")["person"].apply(list)
        seen = seen[seen.map(len) >= 2]
        practice = old.groupby("patient")["practice"].first()
        chance = [upc(rng.choice(gps[practice[p]], size=len(v)).tolist()) for p, v in seen.items()]
        rows.append(
            {
                "config": config,
                "replicate": rep,
                "patients": len(seen),
                "upc_gp": float(seen.map(upc).mean()),
                "upc_gp_chance": float(np.mean(chance)),
            }
        )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--band", default="65-79")
    args = parser.parse_args()
    frame = continuity(pd.read_parquet(args.run_dir / "contacts.parquet"), args.band)
    print(frame.to_string(index=False))
