"""The notebook API in a plain script with no `if __name__ == "__main__":` guard, run from a file and
from stdin: worker processes do not run the script again, the numbers equal those of one process,
and the figure saves to PNG and SVG. A local Dask cluster, whose workers do run the script again,
is refused at once outside the guard."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

import handover_abm as ha

ROOT = Path(__file__).resolve().parents[1]
TEAM = {
    "name": "team_a",
    "days": 30,
    "population": {"size": 1500, "practices": 1},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
    ],
}
OTHER = TEAM | {"name": "team_b", "team": [*TEAM["team"], {"role": "physician_associate", "count": 1}]}
CALL = f"ha.compare([{TEAM!r}, {OTHER!r}], replicates=2, seed=3, warmup_days=10, workers=2)"
# no main guard: before the fix every worker ran this again and died
SCRIPT = f"""
import json
import psutil
import handover_abm as ha
print("script started", flush=True)
result = {CALL}
fig = result.plot()
fig.savefig("x.png")
fig.savefig("x.svg")
pool = any("forkserver" in " ".join(p.cmdline()) for p in psutil.Process().children())
print("runs", json.dumps(result.summary().select_dtypes("number").to_numpy().tolist()))
print("pool", pool)
"""


def assert_valid_images(png: Path, svg: Path, text: str) -> None:
    """png decodes to a non-empty RGBA image; svg is an SVG document that holds `text` as text."""
    pixels = matplotlib.image.imread(png)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 100, pixels.shape
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert text in "".join(root.itertext())


@pytest.fixture(scope="module")
def in_process() -> np.ndarray:
    """The same call in this process, one worker: the reference numbers."""
    result = eval(CALL.replace("workers=2", "workers=1"), {"ha": ha})
    return result.summary().select_dtypes("number").to_numpy()


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_script_without_a_main_guard_runs_on_workers(
    source: str, tmp_path: Path, in_process: np.ndarray
) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    args, stdin = ([script.name], None) if source == "file" else (["-"], SCRIPT)
    proc = subprocess.run(
        [sys.executable, *args], input=stdin, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines.count("script started") == 1, proc.stdout  # no worker ran the script again
    assert "pool True" in lines  # the runs went to worker processes
    runs = np.array(json.loads(next(line for line in lines if line.startswith("runs "))[5:]))
    np.testing.assert_array_equal(runs, in_process)  # identical to one process, to the last bit
    assert_valid_images(tmp_path / "x.png", tmp_path / "x.svg", "Seen the same day")


# Dask starts its workers with "spawn", which runs the script again: a local cluster needs the guard
DASK_SCRIPT = """
from handover_abm.backends import _unguarded_main, open_backend
from handover_abm.config import ConfigError
if __name__ == "__main__":
    print("guarded:", _unguarded_main())
try:
    with open_backend("dask", workers=1):
        print("started")
except ConfigError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_local_dask_cluster_outside_a_main_guard_is_refused_at_once(source: str, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    script = tmp_path / "script.py"
    script.write_text(DASK_SCRIPT, encoding="utf-8")
    args, stdin = ([script.name], None) if source == "file" else (["-"], DASK_SCRIPT)
    proc = subprocess.run(
        [sys.executable, *args], input=stdin, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "started" not in proc.stdout, proc.stdout + proc.stderr[-2000:]
    guarded, refused = proc.stdout.splitlines()
    refusal = 'put the call under `if __name__ == "__main__":`' if source == "stdin" else "line 7"
    assert refusal in refused and refused.endswith("or a running scheduler's address"), refused
    # under the guard a script file may start one; a script on stdin never can (no file to run)
    assert (guarded == "guarded: None") == (source == "file"), guarded
