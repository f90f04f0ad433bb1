"""The dashboard in a real browser: Playwright driving Debian's chromium against a local server."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

pytest.importorskip("solara", reason="the dashboard extra is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium found (.ci/run installs Debian's chromium)"
)
ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "handover-abm")
CONFIG = {
    "name": "browser_test",
    "description": "small team for the browser test",
    "days": 60,
    "population": {"size": 3000, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    cfg = tmp_path_factory.mktemp("dash") / "small.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    port = _free_port()
    proc = subprocess.Popen(
        [CLI, "dashboard", str(cfg), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so teardown can stop every process in it
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("dashboard did not answer within 90 s")
        yield url
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group of `proc` (the CLI and its server), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_change_team_reset_step_and_render(server: str) -> None:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1500, "height": 1250})
        hosts: set[str] = set()
        page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
        page.goto(server, wait_until="networkidle")
        page.get_by_role("button", name="Reset").wait_for(timeout=60_000)
        page.get_by_text("Team: 5 posts").wait_for(timeout=30_000)

        # one more GP partner: the third slider (after play and render interval)
        slider = page.get_by_role("slider").nth(2)
        slider.focus()
        slider.press("ArrowRight")
        # booking rule: continuity_first
        page.get_by_text("preferred_within", exact=True).click()
        page.get_by_role("option", name="continuity_first").click()
        page.get_by_role("button", name="Reset").click()
        page.get_by_text("Team: 6 posts").wait_for(timeout=30_000)
        page.get_by_text("booking rule continuity_first").wait_for(timeout=30_000)

        for _ in range(4):
            page.get_by_role("button", name="Step").click()
            time.sleep(0.4)
        page.get_by_text(re.compile(r"Time: 4(\.0)?$")).wait_for(timeout=30_000)
        page.get_by_text("Day 4 of 60").wait_for(timeout=30_000)
        page.get_by_text("handovers_per_episode").first.wait_for(timeout=30_000)
        time.sleep(1.5)
        images = page.locator("img[src^='blob:']")
        assert images.count() >= 5  # network, three charts, continuity and flow
        widths = [img.evaluate("e => e.naturalWidth") for img in images.all()]
        assert all(w > 100 for w in widths), widths  # every figure actually rendered
        shot = ROOT / "results" / "dashboard.png"
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert hosts == {server.split("/")[2]}, hosts  # no request left 127.0.0.1
