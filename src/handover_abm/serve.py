"""Serving the planner's dashboard (`handover-abm dashboard`): what is checked before anything
starts, what the server is told, and how its life is tied to the command's.

The server is Solara's (`python -m solara run handover_abm.app:Page`) in a process of its own,
under a lifeline (handover_abm.lifeline): it ends when the command ends, however the command
ends (Ctrl-C, SIGTERM, SIGHUP, SIGKILL), so it never outlives it holding the port. It is told
through its environment, never its command line (which `ps` shows to every user), which config it
starts from, which folders it may read configs from and the access token its page requires. It
contacts nothing outside the machine: Solara's version check (pypi.org) and usage report
(api.ipify.org, api.mixpanel.com) are off, and a page asset missing from the solara-assets package
is a 404, never fetched from the CDN (cdn.jsdelivr.net).

This module stays light (no Solara, pandas or Mesa): the command line imports it to answer a bad
address or port at once.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import ipaddress
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from handover_abm import lifeline
from handover_abm.config import ConfigError, load_scenario

CONFIG_ENV = "HANDOVER_ABM_CONFIG"  # the config the page starts from
CONFIG_DIRS_ENV = "HANDOVER_ABM_CONFIG_DIRS"  # the folders it may load configs from (os.pathsep)
TOKEN_ENV = "HANDOVER_ABM_TOKEN"  # the token its address must carry (?token=...), if any
SHIPPED_CONFIGS = Path("configs")  # the repository's configs, beside the working directory
OFFLINE = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no usage report, no look-up of the public IP
    "SOLARA_ASSETS_PROXY": "True",  # the page's scripts and styles come from this server...
    "SOLARA_ASSETS_CDN": "offline:",  # ...and one it does not hold is not fetched (no such scheme)
}
HOST_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
STOP_TIMEOUT = 10.0  # seconds the server has to stop before it is killed


def serve(config: Path, host: str, port: int, config_dirs: list[Path], token: str | None) -> int:
    """Serve the dashboard until the server ends or the command is stopped; the exit code (130
    when stopped by Ctrl-C, SIGTERM or SIGHUP). ConfigError before anything starts for a bad
    config, folder, address or port. A token is generated when `host` is not loopback and none
    is given: an address other machines can reach never serves the page without one."""
    load_scenario(config)  # a bad config is refused here, with the usual message
    if importlib.util.find_spec("solara") is None:
        raise ConfigError("the dashboard needs the dashboard extra: pip install 'handover-abm[dashboard]'")
    if token is not None and not token.strip():
        raise ConfigError("--token: empty; give a token, or leave --token out")
    folders = config_folders(config, config_dirs)
    loopback = check_address(host, port)
    if token is None and not loopback:
        token = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    env |= OFFLINE | {CONFIG_ENV: str(config.resolve()), CONFIG_DIRS_ENV: os.pathsep.join(map(str, folders))}
    if token:
        env[TOKEN_ENV] = token
    where = f"[{host}]" if ":" in host else host
    url = f"http://{where}:{port}/" + (f"?token={quote(token, safe='')}" if token else "")
    if not loopback:
        print(
            f"warning: serving on {host}: the page has no log-in; anyone who can reach this address "
            "and has the address below (with its token) can use it and see every config in "
            f"{', '.join(map(str, folders))}.",
            file=sys.stderr,
        )
    print(f"Dashboard for {config} on {url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    argv = ["-m", "solara", "run", "handover_abm.app:Page", "--host", host, "--port", str(port)]
    argv += ["--production", "--no-open", "--no-check-version"]
    # its own process group, which the lifeline ends with it: Ctrl-C reaches the command only,
    # and stopping the group stops whatever the server started
    server = subprocess.Popen(lifeline.command(argv), env=env, process_group=0)
    try:
        return server.wait()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM or SIGHUP (cli.main turns them into this)
        _stop(server)
        print("dashboard stopped", file=sys.stderr)
        return 130


def config_folders(config: Path, config_dirs: list[Path]) -> list[Path]:
    """The folders the page may load configs from, resolved: the starting config's, the shipped
    configs/ (when there is one) and each --configs folder (ConfigError if not a folder)."""
    for folder in config_dirs:
        if not folder.is_dir():
            raise ConfigError(f"--configs {folder}: not a folder; give a folder that holds config files")
    found = [config.resolve().parent]
    if SHIPPED_CONFIGS.is_dir():
        found.append(SHIPPED_CONFIGS.resolve())
    found += [folder.resolve() for folder in config_dirs]
    return list(dict.fromkeys(found))


def check_address(host: str, port: int) -> bool:
    """Whether `host` is loopback only, after checking that the server can listen on host:port by
    binding every address it names as the server will (ConfigError, naming the host or the port,
    if not). A name is looked up only if it is a well-formed host name."""
    if not _is_ip(host) and not _is_host_name(host):
        raise ConfigError(
            f"--host {host!r}: not an IP address or host name; give 127.0.0.1 (this machine only), "
            "0.0.0.0 (every network interface) or an address of this machine"
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host}: no such host ({exc.strerror}); give an address of this machine"
        ) from None
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise ConfigError(_bind_problem(host, port, exc)) from None
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    """Why the server could not listen on host:port, in one sentence with what to do."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"--port {port}: already in use on {host} (by another dashboard or server); stop it or "
            "choose another port with --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host}: not an address of this machine; give 127.0.0.1 or one of its addresses"
    if exc.errno == errno.EACCES:
        return f"--port {port}: not allowed for this user (ports below 1024 need privileges); choose another"
    return f"--host {host} --port {port}: cannot listen there ({exc.strerror})"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_host_name(host: str) -> bool:
    """A name of labels (letters, digits, hyphens) whose last one is not all digits, so that a
    mistyped address such as 999.1.1.1 is refused as one, not looked up as a name."""
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(HOST_LABEL.fullmatch(p) for p in labels) and not labels[-1].isdigit()


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it has not stopped in STOP_TIMEOUT (a
    group already gone is left alone)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
