"""The dashboard is safe to run where planners work (issue 30): it reads configs only from the
folders it was given and echoes nothing of a file it could not load as one; its page needs the
access token the command set; it contacts nothing outside the machine; its server dies with the
command however the command ends; a bad address or a busy port is refused before anything starts.

The loader and the checks are tested as functions (fast); two servers are started, one ended by
SIGKILL and one by SIGHUP (a few seconds each)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from handover_abm.config import ConfigError
from handover_abm.serve import TOKEN_ENV, check_address, config_folders
from tests.conftest import CONFIGS, dashboard_port

pytest.importorskip("solara", reason="the dashboard extra is not installed")
psutil = pytest.importorskip("psutil", reason="psutil is not installed")

from handover_abm import app  # noqa: E402 (needs the dashboard extra)

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "handover-abm")
SECRET = "password: hunter2\napi_key: sk-1234-abcd\n"
# A Python audit hook, loaded by every process of the dashboard through PYTHONPATH's sitecustomize:
# it writes that the process started, then each host it looks up or connects to, and whether that
# is this machine.
AUDIT = """
import ipaddress, os, sys
def _write(text):
    with open(os.environ["HANDOVER_ABM_AUDIT"], "a") as fh:
        fh.write(f"{os.getpid()} {text}\\n")
def _local(host):
    if host in (None, "", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
def _hook(event, args):
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    host = host.decode() if isinstance(host, bytes) else host
    _write(f"{'local' if _local(host) else 'OUTSIDE'} {event} {host}")
_write("started")
sys.addaudithook(_hook)
"""


# ---------------------------------------------------------------- reading configs


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """An allowed folder with a config, a YAML that is not one and a link out; a folder outside."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "mixed.yaml").write_text((CONFIGS / "mixed.yaml").read_text())
    (allowed / "notes.yaml").write_text(SECRET + "team: [{role: hunter3, count: hunter4}]\n")
    (allowed / "roles.yaml").write_text(yaml.safe_dump({"team": [], "roles": {"hunter5": {"x": 1}}}))
    (outside / "secret.yaml").write_text(SECRET)
    (allowed / "link.yaml").symlink_to(outside / "secret.yaml")
    (allowed / "deep.yaml").write_text("[" * 100_000)
    return {"allowed": allowed, "outside": outside}


@pytest.fixture
def refusal(monkeypatch: pytest.MonkeyPatch) -> Callable[[str | Path, list[Path]], str]:
    """The message the dashboard shows for loading a path by name from the allowed folders, once
    checked that it loaded nothing."""

    def load(path: str | Path, allowed: list[Path]) -> str:
        monkeypatch.setenv(app.CONFIG_DIRS_ENV, os.pathsep.join(map(str, allowed)))
        app.library.value = {}
        app.message.value = ""
        app.load_path(str(path))
        assert app.library.value == {}, path
        return app.message.value

    return load


def lines_of(path: Path) -> list[str]:
    """The file's non-empty lines ([] when this user may not read it, e.g. /etc/shadow as non-root)."""
    try:
        return [line for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return []


@pytest.mark.parametrize("account_list", ["/etc/shadow", "/etc/passwd"])
def test_the_systems_account_list_is_refused_unread(
    account_list: str, folders: dict[str, Path], refusal: Callable[[str | Path, list[Path]], str]
) -> None:
    """Outside the allowed folders: refused, naming the folders, and not a line of it shown."""
    message = refusal(account_list, [folders["allowed"]])
    assert "outside the folders configs are loaded from" in message and str(folders["allowed"]) in message
    assert not any(line in message for line in lines_of(Path(account_list)))
    assert "root:" not in message and "\n" not in message


@pytest.mark.parametrize(
    "name",
    ["outside/secret.yaml", "allowed/link.yaml", "allowed/../outside/secret.yaml", "allowed/notes.yaml"],
)
def test_a_secret_looking_file_is_refused_without_its_contents(
    name: str, folders: dict[str, Path], refusal: Callable[[str | Path, list[Path]], str]
) -> None:
    """A file outside the folders, a link or '..' leading out of them, and a YAML inside them that
    is not a config: each refused with no key, value or line of the file in the message."""
    message = refusal(folders["allowed"].parent / name, [folders["allowed"]])
    assert message.startswith("Could not load ")
    for text in ("password", "hunter", "api_key", "sk-1234", *SECRET.splitlines()):
        assert text not in message, (text, message)
    if name == "allowed/notes.yaml":  # a config's own key names and positions may be named
        assert "not a config (it does not match the config schema" in message
        assert "at 'team[0].role'" in message and "a key that is not a config key at the top level" in message
    else:
        assert "outside the folders" in message


def test_a_mappings_keys_from_the_file_are_not_named(
    folders: dict[str, Path], refusal: Callable[[str | Path, list[Path]], str]
) -> None:
    """roles: {<a name from the file>: ...}: the key path is not shown, only that it is the file's."""
    message = refusal(folders["allowed"] / "roles.yaml", [folders["allowed"]])
    assert "hunter5" not in message and "under a key of the file" in message


def test_other_refusals_say_why_in_general_terms(
    folders: dict[str, Path], refusal: Callable[[str | Path, list[Path]], str]
) -> None:
    """Not .yaml, not a file, nested too deeply (one line, no RecursionError), too large."""
    allowed = folders["allowed"]
    (allowed / "notes.txt").write_text(SECRET)
    (allowed / "huge.yaml").write_text("name: x\n" + "#" * app.MAX_CONFIG_BYTES)
    assert "not a .yaml or .yml file" in refusal(allowed / "notes.txt", [allowed])
    assert "no such file" in refusal(allowed / "missing.yaml", [allowed])
    deep = refusal(allowed / "deep.yaml", [allowed])
    assert "not a config (nested too deeply)" in deep and "\n" not in deep and "[" not in deep
    assert "larger than 1,000,000 bytes" in refusal(allowed / "huge.yaml", [allowed])


def test_a_config_in_an_allowed_folder_loads(folders: dict[str, Path]) -> None:
    """A config by path through '..' that stays inside the folder loads, as does an upload; a
    nested-too-deeply upload is one line; an upload's problems are named in full (its sender's)."""
    allowed = folders["allowed"]
    data = app.read_config(allowed / ".." / "allowed" / "mixed.yaml", [allowed])
    assert data["name"] == "mixed" and data["team"]
    app.load_upload("deep.yaml", b"[" * 10_000)
    assert app.message.value == "Could not load deep.yaml: nested too deeply"
    app.load_upload("mine.yaml", b"password: hunter2\n")
    assert "unknown key 'password'" in app.message.value  # the sender's own file, shown in full


def test_the_folders_are_the_starting_configs_shipped_and_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--configs folders must exist; the starting config's folder and configs/ are always allowed."""
    start = tmp_path / "start.yaml"
    start.write_text((CONFIGS / "mixed.yaml").read_text())
    with pytest.raises(ConfigError, match=r"--configs .*missing: not a folder"):
        config_folders(start, [tmp_path / "missing"])
    monkeypatch.chdir(ROOT)
    assert config_folders(start, [CONFIGS, tmp_path / ".." / tmp_path.name]) == [tmp_path, CONFIGS]


def test_the_page_needs_the_token_when_one_is_set() -> None:
    assert app.token_ok(None, None) and app.token_ok("x=1", "")
    assert app.token_ok("x=1&token=a%2Bb", "a+b")
    assert not app.token_ok(None, "secret") and not app.token_ok("token=secreT", "secret")


# ---------------------------------------------------------------- address and port


def test_a_bad_address_or_busy_port_is_refused_before_starting() -> None:
    """One paragraph, exit 2, nothing started; the port is named."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--port {port}: already in use"):
            check_address("127.0.0.1", port)
        with pytest.raises(ConfigError, match="--host 'not a host': not an IP address or host name"):
            check_address("not a host", port)
        runs = [
            subprocess.run([CLI, "dashboard", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
            for args in (["--host", "999.1.1.1"], ["--port", str(port)])
        ]
    for run, expected in zip(runs, ["--host '999.1.1.1'", f"--port {port}"], strict=True):
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith(f"error: {expected}") and run.stderr.count("\n") == 1, run.stderr
        assert "Dashboard for" not in run.stderr and "Traceback" not in run.stderr
    assert check_address("127.0.0.1", port) is True  # loopback, and free again
    assert check_address("0.0.0.0", port) is False


# ---------------------------------------------------------------- the server


@contextlib.contextmanager
def dashboard(
    tmp_path_factory: pytest.TempPathFactory, token: str, *args: str
) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    """`handover-abm dashboard ARGS` on a free port, answering, with the token in its environment
    and the audit hook in every process it starts; yields (command, port, audit log). Stopped
    afterwards as by the terminal's Ctrl-C (SIGTERM to the command), then SIGKILL."""
    folder = tmp_path_factory.mktemp("audited")
    (folder / "sitecustomize.py").write_text(AUDIT)
    log = folder / "audit.log"
    env = {**os.environ, TOKEN_ENV: token, "HANDOVER_ABM_AUDIT": str(log)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    with dashboard_port(tmp_path_factory) as port, (folder / "stderr.txt").open("w") as err:
        proc = subprocess.Popen(
            [CLI, "dashboard", *args, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group, so that teardown reaches only it
        )
        try:
            deadline = time.monotonic() + 90
            while not _answers(port):
                assert proc.poll() is None, (folder / "stderr.txt").read_text()
                assert time.monotonic() < deadline, "the dashboard did not answer within 90 s"
                time.sleep(0.2)
            yield proc, port, log
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP], ids=["SIGKILL", "SIGHUP"])
def test_the_server_is_offline_and_ends_with_its_command(
    signum: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """While it runs: every host its processes looked up or connected to is this machine (Solara's
    version check and usage report are off; a page asset it lacks is not fetched from the CDN),
    every socket is loopback, and its token is in no process's command line. Then the command is
    killed (SIGKILL) or its terminal hangs up (SIGHUP): within 5 s no process it started is alive
    and the port is free."""
    token = f"tok-{signum}-{os.getpid()}"
    with dashboard(tmp_path_factory, token) as (proc, port, log):
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_solara/cdn/not-shipped@1.0.0/x.js", timeout=10)
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(tree) >= 2  # the command and its server
        audited = log.read_text().splitlines()
        assert f"{tree[1].pid} started" in audited  # the hook runs in the server
        assert [line for line in audited if " OUTSIDE " in line] == []
        for p in tree:
            assert all(not c.raddr or c.raddr.ip in ("127.0.0.1", "::1") for c in p.net_connections("inet"))
            assert token not in " ".join(p.cmdline())
        os.kill(proc.pid, signum)
        deadline = time.monotonic() + 5
        while (any(map(_alive, tree)) or not _port_free(port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [p.pid for p in tree if _alive(p)] == [] and _port_free(port)
        if signum == signal.SIGHUP:  # stopped as Ctrl-C stops it
            assert proc.wait(timeout=5) == 130
