"""Every input or output a user can get wrong is one clear paragraph, never a traceback, and never a
lost or half-written file (issue 12): bad config bytes, YAML tags, non-finite numbers, sizes beyond
the documented bounds, unusable --out folders, a full disk, and interrupted commands."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from handover_abm.sweep import SweepOutcome
from tests.conftest import cli_main as main
from tests.conftest import dashboard_port, one_paragraph, snapshot

CLI = str(Path(sys.executable).parent / "handover-abm")
SMALL = {
    "name": "small",
    "days": 5,
    "population": {"size": 1500, "practices": 2},
    "team": [{"role": "gp_partner", "count": 2, "fte": 0.8}, {"role": "practice_nurse", "count": 1}],
}


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess:
    """Run the installed command in a subprocess."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300, **kwargs)


def config(tmp: Path, name: str = "small.yaml", **changes: object) -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump({**SMALL, **changes}, sort_keys=False), encoding="utf-8")
    return path


def sweep_spec(tmp: Path, name: str = "spec.yaml", **changes: object) -> Path:
    config(tmp, "base.yaml")
    spec = {
        "name": "s",
        "base": "base.yaml",
        "parameters": {"handover.p_detect": {"range": [0.1, 0.9], "steps": 10}},
        "replicates": 3,
        **changes,
    }
    path = tmp / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def tmpfs(where: Path, size: str, *options: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where` (needs root; the test is skipped with the reason if not)."""
    where.mkdir()
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({res.stderr.strip() or 'mount failed'})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill `disk` up to `leave` bytes of free space; return the filler file."""
    st = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


# ---------------------------------------------------------------- input errors: exit 2, nothing written


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (bytes(range(256)) * 4, "not UTF-8 text"),  # a binary file
        ("name: café\nteam: [{role: gp_partner}]\n".encode("latin-1"), "not UTF-8 text (byte 0xe9"),
        (b"team: [unclosed\n", "not valid YAML"),
        (b"name: x\nteam: !!python/object/apply:os.system [echo hi]\n", "not valid YAML"),
    ],
)
def test_unreadable_config_and_spec_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, needle: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(content)
    out = tmp_path / "out"
    for args in (
        ["run", str(bad), "--out", str(out)],
        ["validate", str(bad)],
        ["sweep", str(bad), "--out", str(out)],
    ):
        code, err = main(*args, capsys=capsys)
        assert code == 2
        one_paragraph(err, "bad.yaml", needle)
    spec = sweep_spec(tmp_path, base="bad.yaml")
    code, err = main("sweep", str(spec), "--out", str(out), capsys=capsys)
    assert code == 2
    one_paragraph(err, "bad.yaml", needle)
    assert not out.exists()


@pytest.mark.parametrize(
    ("sets", "needles"),
    [
        (["x=!!python/name:os.system"], ["--set 'x=!!python/name:os.system'", "YAML tags"]),
        (["team=!!python/object/apply:os.system [echo hi]"], ["--set", "not valid YAML"]),
        (["team=[unclosed"], ["--set 'team=[unclosed'", "not valid YAML"]),
        (["handover.or_full_tie=.inf"], ["handover.or_full_tie", "finite number"]),
        (["supervision.protected_minutes_per_day=inf"], ["supervision.protected_minutes_per_day", "finite"]),
        (["handover.p_detect=.nan"], ["handover.p_detect", "finite number"]),
        (["population.size=1000000000000"], ["population.size", "less than or equal to 5000000"]),
        (["days=1000000"], ["key 'days'", "less than or equal to 5000"]),
        (["population.practices=100000000"], ["population.practices", "10000"]),
        (["team.0.count=1000000"], ["team[0].count", "less than or equal to 5000"]),
        (["team.0.count=3000", "team.1.count=3000"], ["key 'team'", "6,000 posts", "at most 5,000"]),
    ],
)
def test_bad_overrides_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sets: list[str], needles: list[str]
) -> None:
    out = tmp_path / "out"
    args = [a for s in sets for a in ("--set", s)]
    for command in (["run", str(config(tmp_path)), "--out", str(out)], ["validate", str(config(tmp_path))]):
        code, err = main(*command, *args, capsys=capsys)
        assert code == 2
        one_paragraph(err, *needles)
    assert not out.exists()


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"population": {"size": 10**12}}, ["small.yaml", "population.size", "5000000"]),
        ({"handover": {"or_full_tie": float("inf")}}, ["small.yaml", "handover.or_full_tie", "finite"]),
        ({"work": {"minutes_per_fte_day": float("nan")}}, ["work.minutes_per_fte_day", "finite"]),
        ({"days": 10**6}, ["small.yaml", "key 'days'", "5000"]),
    ],
)
def test_non_finite_and_oversized_config_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict, needles: list[str]
) -> None:
    out = tmp_path / "out"
    code, err = main("run", str(config(tmp_path, **changes)), "--out", str(out), capsys=capsys)
    assert code == 2
    one_paragraph(err, *needles)
    assert not out.exists()


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"parameters": {"handover.p_detect": {"range": [0, float("inf")]}}}, ["range[1]", "finite"]),
        (
            {"parameters": {"handover.or_full_tie": {"values": [0.5, float("inf")]}}},
            ["or_full_tie", "finite"],
        ),
        ({"replicates": 10**9}, ["key 'replicates'", "10000"]),
        (
            {
                "parameters": {
                    f"handover.{k}": {"range": [0.1, 0.9], "steps": 10_000}
                    for k in ("p_detect", "p_reconcile")
                }
            },
            ["100,000,000 points x 3 replicates", "more than the 10,000,000 allowed"],
        ),
    ],
)
def test_non_finite_and_oversized_sweep_specs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict, needles: list[str]
) -> None:
    out = tmp_path / "out"
    code, err = main("sweep", str(sweep_spec(tmp_path, **changes)), "--out", str(out), capsys=capsys)
    assert code == 2
    one_paragraph(err, "spec.yaml", *needles)
    assert not out.exists()


def test_too_many_replicates_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = main(
        "run", str(config(tmp_path)), "--out", str(tmp_path / "o"), "--replicates", "10001", capsys=capsys
    )
    assert code == 2 and "--replicates" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- output errors: clear, nothing lost


def test_unusable_out_folders_exit_2_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(config(tmp_path))
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    cases = [(afile, "is a file"), (afile / "x", "lies under a file")]
    if Path("/proc/self").exists():
        cases.append((Path("/proc/handover-abm-test"), "cannot be created"))
    for out, why in cases:
        for command in (["run", cfg], ["sweep", str(sweep_spec(tmp_path))]):
            code, err = main(*command, "--out", str(out), capsys=capsys)
            assert code == 2
            one_paragraph(err, f"--out {out}", why)
    assert afile.read_text() == "keep me"


def test_read_only_out_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with tmpfs(tmp_path / "ro", "1m", "ro") as ro:
        for out in (ro, ro / "new"):
            code, err = main("run", str(config(tmp_path)), "--out", str(out), capsys=capsys)
            assert code == 2
            one_paragraph(err, f"--out {out}", "Read-only file system")


def test_existing_results_are_kept_unless_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, out = str(config(tmp_path)), tmp_path / "out"
    assert main("run", cfg, "--out", str(out), "--log-events", "--workers", "1", capsys=capsys)[0] == 0
    before = snapshot(out)
    code, err = main("run", cfg, "--out", str(out), "--seed", "3", capsys=capsys)
    assert code == 2
    one_paragraph(err, f"--out {out}", "already holds results", "--force")
    code, err = main("sweep", str(sweep_spec(tmp_path)), "--out", str(out), capsys=capsys)
    assert code == 2
    one_paragraph(err, "already holds results", "--resume")
    assert snapshot(out) == before
    assert (
        main("run", cfg, "--out", str(out), "--seed", "3", "--force", "--workers", "1", capsys=capsys)[0] == 0
    )
    after = snapshot(out)
    assert after["summary.csv"] != before["summary.csv"]
    assert "events.parquet" not in after  # not left over from the earlier run


def test_full_disk_leaves_earlier_results_whole(tmp_path: Path) -> None:
    cfg = str(config(tmp_path))
    with tmpfs(tmp_path / "disk", "2m") as disk:
        out = disk / "out"
        assert run("run", cfg, "--out", str(out), "--workers", "1").returncode == 0
        before = snapshot(out)
        fill(disk, leave=16 * 1024)
        res = run(
            "run", cfg, "--out", str(out), "--force", "--log-events", "--replicates", "3", "--workers", "1"
        )
        assert res.returncode == 1
        one_paragraph(res.stderr, str(out), "No space left on device", "free some space", "unchanged")
        assert snapshot(out) == before  # no file replaced, no temporary left


def test_full_disk_during_a_sweep_then_resume_gives_the_same_table(tmp_path: Path) -> None:
    spec = sweep_spec(tmp_path, replicates=1)  # 10 runs: enough to fill the disk part way
    reference = tmp_path / "reference"
    assert run("sweep", str(spec), "--out", str(reference), "--workers", "2").returncode == 0
    with tmpfs(tmp_path / "disk", "2m") as disk:
        out = disk / "sweep"
        filler = fill(disk, leave=40 * 1024)
        res = run("sweep", str(spec), "--out", str(out), "--workers", "2")
        assert res.returncode == 1
        assert "Traceback" not in res.stderr and "leaked" not in res.stderr
        assert "No space left on device" in res.stderr and "--resume" in res.stderr
        assert not (out / "sweep.parquet").exists()
        filler.unlink()
        res = run("sweep", str(spec), "--out", str(out), "--workers", "2", "--resume")
        assert res.returncode == 0, res.stderr
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / "sweep.parquet"), pd.read_parquet(reference / "sweep.parquet")
        )


# ---------------------------------------------------------------- processes end cleanly


def _alive(pgid: int) -> list[str]:
    """Processes still running (not zombies) in a process group."""
    ps = subprocess.run(["ps", "-o", "stat=,args=", "-g", str(pgid)], capture_output=True, text=True)
    return [line for line in ps.stdout.splitlines() if line.strip() and not line.strip().startswith("Z")]


@pytest.mark.parametrize("how", ["SIGINT to the group (Ctrl-C)", "SIGTERM to the process (kill)"])
def test_interrupted_sweep_stops_its_workers_and_says_how_to_resume(tmp_path: Path, how: str) -> None:
    spec = sweep_spec(tmp_path, replicates=1)  # 10 runs
    config(tmp_path, "base.yaml", population={"size": 20000, "practices": 2}, days=250)  # ~0.4 s a run
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [CLI, "sweep", str(spec), "--out", str(out), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_default,
    )
    journal = out / "runs.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (journal.exists() and journal.read_bytes().count(b"\n") >= 2):
        time.sleep(0.05)
    if how.startswith("SIGINT"):
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "leaked" not in err, err
    assert f"finish with: handover-abm sweep {spec} --out {out} --workers 2 --resume" in err
    assert not _alive(proc.pid)
    res = run("sweep", str(spec), "--out", str(out), "--workers", "2", "--resume")
    assert res.returncode == 0 and "10/10 runs ok" in res.stdout, res.stdout + res.stderr


def test_dashboard_stops_its_server_on_sigterm_and_sigint(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pytest.importorskip("solara", reason="the dashboard extra is not installed")
    for sig in (signal.SIGTERM, signal.SIGINT):
        with dashboard_port(tmp_path_factory) as port:
            proc = subprocess.Popen(
                [CLI, "dashboard", str(config(tmp_path)), "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
                preexec_fn=_ctrl_c_default,
            )
            try:
                deadline = time.time() + 90
                while time.time() < deadline and not _listening(port):
                    time.sleep(0.2)
                assert _listening(port), "the dashboard did not start"
                proc.send_signal(sig)  # to the CLI only, as `kill` does
                _, err = proc.communicate(timeout=30)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            assert "Traceback" not in err, err
            assert not _listening(port)
            assert not _alive(proc.pid)


def _ctrl_c_default() -> None:
    """In the child: Ctrl-C (SIGINT) as a terminal gives it. A shell starts background jobs with
    SIGINT ignored, and Python keeps an ignored SIGINT ignored, so without this the test would
    depend on how the test run itself was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_exit_codes_of_commands_reach_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep with failed runs exits 1 (typer returns, rather than raises, a command's exit code)."""
    sweep_module = importlib.import_module("handover_abm.sweep")  # the package's `sweep` is the function
    monkeypatch.setattr(sweep_module, "run_sweep", lambda *a, **k: SweepOutcome(2, 1, 1, 2, pd.DataFrame()))
    code, err = main(
        "sweep", str(sweep_spec(tmp_path)), "--out", str(tmp_path / "o"), "--backend", "serial", capsys=capsys
    )
    assert code == 1 and "1 run(s) failed" in err


# ---------------------------------------------------------------- issue 30: counts, YAML shapes, failed runs


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--posterior", "default", "--draws", "1000000000"], ["--draws", "5000"]),
        (["--posterior", "default", "--draws", "5000", "--replicates", "3"], ["15,000 runs", "10,000"]),
        (["--replicates", "10001"], ["--replicates", "10000"]),
        (["--seeds", str(2**64)], ["--seeds", "2^63 - 1"]),
        (["--seeds", ",".join(["1"] * 10_001)], ["10,001 seeds", "10,000"]),
        (["--seed", str(2**63)], ["--seed", "9223372036854775807"]),
        (["--workers", "100000"], ["--workers 100000", "per core"]),
    ],
)
def test_every_count_is_bounded_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needles: list[str]
) -> None:
    code, err = main("run", str(config(tmp_path)), "--out", str(tmp_path / "out"), *args, capsys=capsys)
    assert code == 2, err
    assert "Traceback" not in err and all(n in err for n in needles), err
    assert not (tmp_path / "out").exists()


def test_a_billion_draws_is_refused_within_seconds(tmp_path: Path) -> None:
    start = time.perf_counter()
    res = run(
        "run",
        str(config(tmp_path)),
        "--out",
        str(tmp_path / "o"),
        "--posterior",
        "default",
        "--draws",
        "1000000000",
    )
    assert res.returncode == 2 and "--draws" in res.stderr and "5000" in res.stderr, res.stderr
    assert time.perf_counter() - start < 3 and not (tmp_path / "o").exists()


def test_compare_bounds_configs_times_replicates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(config(tmp_path, f"c{i}.yaml")) for i in range(3)]
    code, err = main(
        "compare", *paths, "--out", str(tmp_path / "out"), "--replicates", "10000", capsys=capsys
    )
    one_paragraph(err, "3 config(s) x 10,000 replicate(s) = 30,000 runs", "20,000")
    assert code == 2 and not (tmp_path / "out").exists()


def test_sweep_with_too_many_draws_is_refused_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = sweep_spec(tmp_path, replicates=1000)  # 10 points x 1,000 replicates: allowed alone
    start = time.perf_counter()
    code, err = main(
        "sweep",
        str(spec),
        "--out",
        str(tmp_path / "out"),
        "--posterior",
        "default",
        "--draws",
        "5000",
        capsys=capsys,
    )
    one_paragraph(err, "50,000,000 runs", "10,000,000")
    assert code == 2 and time.perf_counter() - start < 10 and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("budget", "needle"),
    [
        ({"abc": {"population_size": 10**9}}, "abc.population_size"),
        ({"abc": {"population_size": 100_000, "generations": 100}}, "10,000,000 points"),
        ({"method": "optuna", "optuna": {"trials": 10**7}}, "optuna.trials"),
        ({"replicates": 10**6}, "replicates"),
        ({"predictive_draws": 10**6}, "predictive_draws"),
    ],
)
def test_calibration_budgets_are_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], budget: dict[str, object], needle: str
) -> None:
    config(tmp_path, "base.yaml")
    spec = {"base": "base.yaml", "parameters": {"demand.rate_multiplier_per_ltc": {"low": 0.1, "high": 0.5}}}
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump({**spec, "targets": ["upc"], **budget}), encoding="utf-8")
    code, err = main("calibrate", str(path), "--out", str(tmp_path / "out"), capsys=capsys)
    one_paragraph(err, str(path), needle)
    assert code == 2 and not (tmp_path / "out").exists()


def test_explain_of_configs_that_do_not_differ_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = config(tmp_path, "a.yaml"), config(tmp_path, "b.yaml", description="the same team")
    code, err = main("explain", str(a), str(b), "--out", str(tmp_path / "out"), capsys=capsys)
    one_paragraph(err, "do not differ", "no difference to explain")
    assert code == 2 and not (tmp_path / "out").exists()


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[" * 100_000, "nested deeper than 32 levels"),  # the parser's own recursion
        ("name: x\nteam: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels"),
        (_alias_bomb(), "more than 1,000,000 values"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "sweep", "calibrate"])
def test_yaml_that_would_exhaust_the_parser_or_memory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str, command: str
) -> None:
    path = tmp_path / "input.yaml"
    path.write_text(content, encoding="utf-8")
    out = [] if command == "validate" else ["--out", str(tmp_path / "out")]
    code, err = main(command, str(path), *out, capsys=capsys)
    one_paragraph(err, str(path), needle)
    assert code == 2 and not (tmp_path / "out").exists()


def test_deep_set_value_and_device_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = main("validate", str(config(tmp_path)), "--set", "name=" + "[" * 100_000, capsys=capsys)
    one_paragraph(err, "--set", "nested deeper")
    assert code == 2 and len(err) < 500  # the value is not echoed whole
    code, err = main("validate", "/dev/zero", capsys=capsys)
    one_paragraph(err, "/dev/zero", "not a regular file")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (11 * 2**20) + b"\n")
    code, err = main("validate", str(big), capsys=capsys)
    one_paragraph(err, str(big), "at most 10,485,760 bytes")


@pytest.mark.parametrize(
    ("kind", "content", "needles"),
    [
        (
            "sweep",
            {"parameters": {"days": {"values": [5], "bogus": 1}}},
            ["parameters.days.bogus", "values, range, steps"],
        ),
        ("sweep", {"parameters": {"days": {"values": [5]}}, "bogus": 1}, ["'bogus'", "design, samples"]),
        ("calibrate", {"abc": {"bogus": 1}}, ["abc.bogus", "population_size, generations"]),
        ("calibrate", {"bogus": 1}, ["'bogus'", "predictive_draws"]),
    ],
)
def test_unknown_spec_keys_list_the_keys_of_that_spec(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    content: dict[str, object],
    needles: list[str],
) -> None:
    config(tmp_path, "base.yaml")
    spec: dict[str, object] = {"base": "base.yaml"}
    if kind == "calibrate":
        spec |= {
            "parameters": {"demand.rate_multiplier_per_ltc": {"low": 0.1, "high": 0.5}},
            "targets": ["upc"],
        }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec | content), encoding="utf-8")
    code, err = main(kind, str(path), "--out", str(tmp_path / "out"), capsys=capsys)
    one_paragraph(err, str(path), *needles)
    assert code == 2 and "population, team" not in err  # not the config's keys


def test_api_sweep_with_failed_runs_raises_unless_asked_to_keep_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import handover_abm as ha
    from handover_abm.errors import RunsFailed

    sweep_module = importlib.import_module("handover_abm.sweep")  # the module, not ha.sweep

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(sweep_module, "simulate", broken)  # every run fails, in this process
    spec = sweep_spec(tmp_path, parameters={"handover.p_detect": {"values": [0.2, 0.4]}}, replicates=2)
    with pytest.raises(RunsFailed, match=r"4 of 4 sweep runs failed.*injected failure"):
        ha.sweep(spec, workers=1)
    result = ha.sweep(spec, workers=1, keep_going=True)
    assert result.failed == 4 and "failed=4" in repr(result) and result.to_frame().empty


def test_api_compare_with_a_failed_run_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import handover_abm as ha
    from handover_abm import runner
    from handover_abm.errors import RunsFailed

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(runner, "simulate", broken)
    with pytest.raises(RunsFailed, match=r"of config 'small' failed.*injected failure"):
        ha.compare([config(tmp_path), config(tmp_path, "b.yaml", days=6)], replicates=2, workers=1)


def test_a_lost_worker_is_a_failed_run_not_a_traceback() -> None:
    from concurrent.futures import Executor, Future
    from concurrent.futures.process import BrokenProcessPool

    from handover_abm.errors import RunsFailed
    from handover_abm.runner import Job, run_jobs

    class Broken(Executor):
        def submit(self, fn: object, /, *args: object, **kwargs: object) -> Future:
            fut: Future = Future()
            fut.set_exception(BrokenProcessPool("a worker died"))
            return fut

    job = Job({"name": "team"}, seed=7, replicate=0)
    with pytest.raises(RunsFailed, match=r"seed 7.*BrokenProcessPool.*worker process died"):
        run_jobs([job, job], executor=Broken())


@pytest.mark.parametrize("address", ["tcp://host:notaport", "bad url", "http://x:1"])
def test_a_malformed_scheduler_address_is_one_paragraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str
) -> None:
    pytest.importorskip("distributed")
    spec = sweep_spec(tmp_path)
    code, err = main(
        "sweep",
        str(spec),
        "--out",
        str(tmp_path / "out"),
        "--backend",
        "dask",
        "--scheduler",
        address,
        capsys=capsys,
    )
    one_paragraph(err, f"--scheduler {address}", "not a Dask scheduler address", "tcp://HOST:PORT")
    assert code == 2


def test_api_workers_are_bounded(tmp_path: Path) -> None:
    import handover_abm as ha
    from handover_abm.errors import ConfigError

    with pytest.raises(ConfigError, match="per core"):
        ha.compare([config(tmp_path), config(tmp_path, "b.yaml", days=6)], replicates=2, workers=10**6)
    with pytest.raises(ConfigError, match="per core"):
        ha.sweep(sweep_spec(tmp_path), workers=10**6)
