"""Output folders are safe where planners work (issue 30): replaced as a whole (a kill at any step
of the swap leaves the complete old or the complete new set), checked against the SHA-256 their
manifest gives each file, written by one command at a time, never holding files that are not ours
after --force, and never left new, empty or half-written by a command that fails."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from handover_abm import results
from handover_abm.errors import OutputError
from handover_abm.folders import KILL_AFTER_STEP, verified_manifest, writing_into
from handover_abm.sensitivity import run_sensitivity
from handover_abm.sweep import load_sweep, run_sweep
from handover_abm.sweep_store import SweepStore
from tests.conftest import cli_main as main
from tests.conftest import one_paragraph, snapshot

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "handover-abm")
SMALL = {
    "name": "small",
    "days": 20,
    "population": {"size": 2000, "practices": 1},
    "team": [{"role": "gp_partner", "count": 2, "fte": 0.8}, {"role": "practice_nurse", "count": 1}],
}
TINY = ["--workers", "1"]
RUN_FILES = {"manifest.json", "summary.csv", "daily.parquet", "staff.parquet", "network.json"}
RUN_FILES |= {"waits.csv", "access.csv"}


def cli_run(*args: str | bytes, **kwargs: object) -> subprocess.CompletedProcess:
    """The installed command in a subprocess."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, **kwargs)


def beside(folder: Path) -> list[str]:
    """Hidden entries next to `folder` that belong to it (staging, old set, lock)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}."))


def root_seed_of_whole_set(folder: Path) -> int:
    """The root seed of a folder that holds one complete, verified run (seeds agree throughout)."""
    data = verified_manifest(folder)
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    assert pd.read_csv(folder / "summary.csv")["seed"].tolist() == data["seeds"]
    assert pd.read_parquet(folder / "daily.parquet")["seed"].unique().tolist() == data["seeds"]
    return int(data["root_seed"])


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config, two runs of it (root seeds 1 and 2) and a finished sweep of it."""
    where = tmp_path_factory.mktemp("made")
    (where / "small.yaml").write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    for seed in (1, 2):
        res = cli_run(
            "run", str(where / "small.yaml"), "--out", str(where / f"run{seed}"), "--seed", str(seed), *TINY
        )
        assert res.returncode == 0, res.stderr
    spec = {"name": "s", "base": "small.yaml", "parameters": {"handover.p_detect": {"values": [0.2, 0.8]}}}
    (where / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (where / "other.yaml").write_text(yaml.safe_dump({**spec, "seed": 5}), encoding="utf-8")
    res = cli_run("sweep", str(where / "spec.yaml"), "--out", str(where / "sweep"), "--backend", "serial")
    assert res.returncode == 0, res.stderr
    return where


def copy(made: Path, name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(made / name, tmp_path / "out"))


# ---------------------------------------------------------------- the swap


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_a_kill_at_any_step_of_the_swap_leaves_the_old_or_the_new_set(
    made: Path, tmp_path: Path, step: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Steps: 1 a first new file written, 2 the new set complete beside the folder, 3 the folder
    moved aside (the commit point), 4 the new set moved in, 5 the old set partly deleted."""
    out = copy(made, "run1", tmp_path)
    cfg = str(made / "small.yaml")
    env = {**os.environ, KILL_AFTER_STEP: str(step)}
    killed = cli_run("run", cfg, "--out", str(out), "--seed", "2", "--force", *TINY, env=env)
    assert killed.returncode == -signal.SIGKILL
    assert beside(out)  # the swap was left unfinished (and its lock file behind)
    code, err = main("run", cfg, "--out", str(out), *TINY, capsys=capsys)  # the next command: refused
    assert code == 2
    one_paragraph(err, "already holds results", "--force")
    assert beside(out) == []  # repaired: no staging, old set or lock left
    assert root_seed_of_whole_set(out) == (1 if step < 3 else 2)


def test_report_after_a_kill_between_the_renames_reads_the_new_set(made: Path, tmp_path: Path) -> None:
    out = copy(made, "run1", tmp_path)
    env = {**os.environ, KILL_AFTER_STEP: "3"}  # the folder moved aside, the new set not yet in
    killed = cli_run(
        "run", str(made / "small.yaml"), "--out", str(out), "--seed", "2", "--force", *TINY, env=env
    )
    assert killed.returncode == -signal.SIGKILL and not out.exists()
    res = cli_run("report", str(out))
    assert res.returncode == 0, res.stderr
    assert "root seed 2;" in (out / "report.html").read_text(encoding="utf-8")
    assert beside(out) == []
    shutil.rmtree(out / "figures")
    (out / "report.html").unlink()
    assert root_seed_of_whole_set(out) == 2


def test_report_and_plot_refuse_a_folder_that_mixes_two_runs(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy(made, "run1", tmp_path)
    for name in ("summary.csv", "daily.parquet"):  # what a kill between two renames used to leave
        shutil.copy(made / "run2" / name, out / name)
    for command in ("report", "plot"):
        code, err = main(command, str(out), capsys=capsys)
        assert code == 2
        one_paragraph(err, "summary.csv does not match manifest.json", "--force")
    shutil.copy(made / "run1" / "summary.csv", out / "summary.csv")
    shutil.copy(made / "run1" / "daily.parquet", out / "daily.parquet")
    shutil.copy(made / "run2" / "summary.csv", out / "comparison.csv")  # a data file no manifest names
    code, err = main("report", str(out), capsys=capsys)
    assert code == 2
    one_paragraph(err, "comparison.csv is not named in manifest.json")
    assert not (out / "report.html").exists() and not (out / "figures").exists()


# ---------------------------------------------------------------- one writer at a time


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(made: Path, tmp_path: Path) -> None:
    cfg, out = str(made / "small.yaml"), tmp_path / "out"
    with writing_into(out):  # a writer in this process
        for args in (["run", cfg, "--out", str(out), *TINY], ["report", str(out)]):
            res = cli_run(*args)
            assert res.returncode == 2
            one_paragraph(res.stderr, "another handover-abm command", f"process {os.getpid()}")
    assert not out.exists()
    holder = subprocess.Popen(  # a writer in another process, then killed: the kernel frees its lock
        [sys.executable, "-c", f"from handover_abm.folders import writing_into\nfrom pathlib import Path\n"
         f"with writing_into(Path({str(out)!r})):\n    print('held', flush=True)\n    input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        res = cli_run("sweep", str(made / "spec.yaml"), "--out", str(out), "--backend", "serial")
        assert res.returncode == 2
        one_paragraph(res.stderr, "another handover-abm command", f"process {holder.pid}")
    finally:
        holder.kill()
        holder.wait()
    res = cli_run("run", cfg, "--out", str(out), *TINY)
    assert res.returncode == 0, res.stderr
    assert {p.name for p in out.iterdir()} == RUN_FILES and beside(out) == []


# ---------------------------------------------------------------- resuming only what the manifest names


def test_sweep_resume_without_a_manifest_or_with_another_spec_is_refused(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy(made, "sweep", tmp_path)
    (out / "manifest.json").unlink()
    before = snapshot(out)
    code, err = main("sweep", str(made / "spec.yaml"), "--out", str(out), "--resume", capsys=capsys)
    assert code == 2
    one_paragraph(err, "has no manifest.json", "cannot be resumed", "new or empty folder")
    assert snapshot(out) == before
    shutil.copy(made / "sweep" / "manifest.json", out / "manifest.json")
    before = snapshot(out)
    code, err = main("sweep", str(made / "other.yaml"), "--out", str(out), "--resume", capsys=capsys)
    assert code == 2
    one_paragraph(err, "different spec", "other.yaml")
    assert snapshot(out) == before


def test_calibrate_resume_without_a_manifest_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "abc.db").write_bytes(b"")  # a calibration's database, its manifest lost
    spec = ROOT / "experiments" / "calibrate_default_quick.yaml"
    code, err = main("calibrate", str(spec), "--out", str(out), "--resume", capsys=capsys)
    assert code == 2
    one_paragraph(err, "has no manifest.json", "cannot be resumed")
    assert [p.name for p in out.iterdir()] == ["abc.db"]


def test_sweep_and_sensitivity_manifests_name_their_final_files(made: Path, tmp_path: Path) -> None:
    data = verified_manifest(made / "sweep")
    assert data["status"] == "complete" and set(data["files"]) == {"sweep.parquet"}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    spec = {
        "name": "m",
        "base": "small.yaml",
        "days": 10,
        "parameters": {
            "handover.p_detect": {"range": [0.1, 0.9]},
            "handover.p_reconcile": {"range": [0.1, 0.9]},
        },
        "samples": 2,
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "sens"
    run_sensitivity(tmp_path / "m.yaml", "morris", out, workers=1)
    assert set(verified_manifest(out)["files"]) == {"sweep.parquet", "indices.csv"}
    with (out / "indices.csv").open("a", encoding="utf-8") as fh:
        fh.write("\n")  # changed after the manifest vouched for it
    res = cli_run("report", str(out))
    assert res.returncode == 2
    one_paragraph(
        res.stderr, "indices.csv does not match manifest.json", "sensitivity SPEC --out DIR --resume"
    )


# ---------------------------------------------------------------- only our files are replaced


def test_run_force_into_a_sweep_folder_replaces_it_whole(made: Path, tmp_path: Path) -> None:
    out = copy(made, "sweep", tmp_path)
    res = cli_run("run", str(made / "small.yaml"), "--out", str(out), "--seed", "2", "--force", *TINY)
    assert res.returncode == 0, res.stderr
    assert root_seed_of_whole_set(out) == 2  # no runs.jsonl, parts/ or sweep.parquet left
    assert beside(out) == []


def test_force_refuses_a_folder_holding_a_file_that_is_not_ours(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy(made, "run1", tmp_path)
    (out / "figures").mkdir()
    (out / "figures" / "my notes.docx").write_text("keep me", encoding="utf-8")
    before = snapshot(out)
    code, err = main("run", str(made / "small.yaml"), "--out", str(out), "--force", *TINY, capsys=capsys)
    assert code == 2
    one_paragraph(err, "figures/my notes.docx", "not one of handover-abm's outputs")
    assert snapshot(out) == before and beside(out) == []


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize("out", ["", "."])
def test_the_current_folder_is_refused_as_out(
    made: Path,
    tmp_path: Path,
    out: str,
    command: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "mine.txt").write_text("keep me", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    given = str(made / ("small.yaml" if command == "run" else "spec.yaml"))
    code, err = main(command, given, "--out", out, *TINY, capsys=capsys)
    assert code == 2
    one_paragraph(err, "is the current folder")
    assert snapshot(tmp_path) == {"mine.txt": b"keep me"}


def test_temporaries_of_a_killed_command_are_cleaned_and_no_others(made: Path, tmp_path: Path) -> None:
    out = copy(made, "sweep", tmp_path)
    ours = [out / ".sweep.parquet.k2x9_q7a.tmp", out / "parts" / ".part-000001.parquet.abcd1234.tmp"]
    ours.append(out / ".probe.z9y8x7w6")
    for path in ours:
        path.write_bytes(b"half")
    (out / ".x.tmp").write_text("not ours", encoding="utf-8")
    res = cli_run("sweep", str(made / "spec.yaml"), "--out", str(out), "--resume", "--backend", "serial")
    assert res.returncode == 0, res.stderr
    assert not any(p.exists() for p in ours) and (out / ".x.tmp").read_text(encoding="utf-8") == "not ours"
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "complete"


# ---------------------------------------------------------------- names and failures


def test_an_out_named_in_another_encoding_works_for_run_plot_and_report(made: Path, tmp_path: Path) -> None:
    name = b"r\xe9sultats"  # Latin-1, not UTF-8
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}  # as a UTF-8 terminal: no lone surrogates
    res = cli_run(b"run", os.fsencode(made / "small.yaml"), b"--out", name, *TINY, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert "Wrote r\ufffdsultats/" in res.stdout
    for command in (b"plot", b"report"):
        res = cli_run(command, name, cwd=tmp_path, env=env)
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr and "r\ufffdsultats/" in res.stdout
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), name)))
    assert (folder / "figures" / "daily.png").is_file() and (folder / "report.html").is_file()
    assert "output folder r\ufffdsultats;" in (folder / "report.html").read_text(encoding="utf-8")


def test_a_failed_run_or_sweep_leaves_no_new_folder(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(frame: pd.DataFrame) -> results.Writer:
        def write(fh: object) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        return write

    out = tmp_path / "new" / "deeper" / "out"
    monkeypatch.setattr(results, "parquet_writer", full_disk)
    code, err = main("run", str(made / "small.yaml"), "--out", str(out), *TINY, capsys=capsys)
    assert code == 1
    one_paragraph(err, "No space left on device", "daily.parquet")
    assert list(tmp_path.iterdir()) == []  # no folder, no parent, no staging or lock left
    res = cli_run("run", str(made / "small.yaml"), "--out", str(out), "--seeds", str(2**64), *TINY)
    assert res.returncode != 0 and list(tmp_path.iterdir()) == []

    def refused(self: SweepStore, row: dict) -> None:
        raise OutputError("runs.jsonl: could not be written (No space left on device)")

    monkeypatch.setattr(SweepStore, "append", refused)
    with pytest.raises(OutputError):
        run_sweep(load_sweep(made / "spec.yaml"), out, workers=1)
    assert list(tmp_path.iterdir()) == []
