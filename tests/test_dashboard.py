"""The dashboard in a real browser: Playwright driving Debian's chromium against a local server.
Its pure functions are tested without one in tests/test_dashboard_team.py."""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_dashboard_safety import dashboard

pytest.importorskip("solara", reason="the dashboard extra is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium found (.ci/run installs Debian's chromium)"
)
TOKEN = "browser-test-token"
CONFIG = {
    "name": "browser_test",
    "description": "small team for the browser test",
    "days": 60,
    "population": {"size": 1500, "practices": 2},
    "team": [
        {"role": "gp_partner", "count": 2, "fte": 0.8},
        {"role": "practice_nurse", "count": 1},
        {"role": "clinical_pharmacist", "count": 1, "organisation": "pcn"},
        {"role": "physician_associate", "count": 1, "organisation": "pcn"},
    ],
}
# the planner's own comparison team: more GPs, no ARRS roles
OTHER = {
    "name": "more_gps",
    "population": {"size": 1500, "practices": 2},
    "team": [{"role": "gp_partner", "count": 3, "fte": 0.8}, {"role": "practice_nurse", "count": 1}],
}
# Screenshots go to the test's folder; `make screenshots` sets this to results/ to refresh the README's.
SHOTS_ENV = "HANDOVER_ABM_SCREENSHOTS"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """The dashboard on the browser test's config, with an access token; yields (the address with
    its token, the configs' folder, the server's audit log of hosts looked up or connected to)."""
    folder = tmp_path_factory.mktemp("dash")
    cfg = folder / "small.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    (folder / "more_gps.yaml").write_text(yaml.safe_dump(OTHER, sort_keys=False))
    with dashboard(tmp_path_factory, TOKEN, str(cfg)) as (_, port, log):
        yield f"http://127.0.0.1:{port}/?token={TOKEN}", folder, log


def _browser(p: Any) -> Any:
    return p.chromium.launch(
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


def _cost(page: Any) -> str:
    return page.get_by_text(re.compile(r"^Team: \d+ posts")).inner_text()


@needs_browser
def test_edit_team_then_run_a_year_against_another_config(server: tuple[str, Path, Path]) -> None:
    """A planner's session: without the token the page refuses; with it, edit a role count and see
    the cost change, add a post of another role, see a team with no GP warned of, be refused the
    account list and a file nested too deeply, load their own config file, set the root seed, run a
    year for both teams with replicates, read the verdict, its chart and table with intervals and
    download the table; save the team, see the results marked out of date after a change, and load
    the saved team back as it was. No request leaves the machine, from the browser or the server."""
    url, folder, log = server
    shots = Path(os.environ.get(SHOTS_ENV) or folder)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1500, "height": 2000})
        hosts: set[str] = set()
        page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
        page.goto(url.replace(TOKEN, "wrong"), wait_until="networkidle")
        page.get_by_text(re.compile(r"needs the address with its access token")).wait_for(timeout=60_000)
        assert page.get_by_text("Config files").count() == 0 and "Team:" not in page.content()
        page.goto(url, wait_until="networkidle")
        page.get_by_text(re.compile(r"^Team: 5 posts")).wait_for(timeout=60_000)
        assert page.get_by_text("Play interval").count() == 0  # Mesa's controls are not shown
        assert page.get_by_text("Render interval").count() == 0
        before = _cost(page)
        assert "4.6 FTE" in before and "£" in before

        # one more GP partner: posts 2 -> 3; the team's FTE and annual cost follow at once
        posts = page.get_by_label("posts").first
        posts.fill("3")
        page.get_by_text(re.compile(r"^Team: 6 posts, 5\.4 FTE")).wait_for(timeout=30_000)
        after = _cost(page)
        assert _pounds(after) > _pounds(before)

        # a post of a role the team lacks: 1 post, whole-time, employed by the practice
        _choose(page, "Add a post of", "Advanced nurse practitioner")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_text(re.compile(r"^Team: 7 posts, 6\.4 FTE")).wait_for(timeout=30_000)
        assert page.get_by_text("Advanced nurse practitioner (practice)").count() == 1
        # no GP: still a team that runs, with warnings for it and for roles without their supervisor
        assert page.get_by_text(re.compile(r"^No GP in this team")).count() == 0
        posts.fill("0")
        page.get_by_text(re.compile(r"^No GP in this team")).wait_for(timeout=30_000)
        assert page.get_by_text(re.compile(r"^Physician associate needs a supervisor")).count() == 1
        assert page.get_by_text(re.compile(r"^Team: 4 posts")).count() == 1
        posts.fill("3")
        sync_api.expect(page.get_by_text(re.compile(r"^No GP in this team"))).to_have_count(0)

        # a file outside the configs' folders, and one inside nested too deeply: a one-line refusal
        page.get_by_label("Config file path").fill("/etc/shadow")
        page.get_by_role("button", name="Load", exact=True).click()
        page.get_by_text(re.compile(r"^Could not load /etc/shadow: outside the folders")).wait_for(
            timeout=30_000
        )
        assert "root:" not in page.inner_text("body")
        (folder / "deep.yaml").write_text("[" * 100_000)
        page.get_by_label("Config file path").fill(str(folder / "deep.yaml"))
        page.get_by_role("button", name="Load", exact=True).click()
        page.get_by_text(re.compile(r"deep\.yaml: not a config \(nested too deeply\)")).wait_for(
            timeout=30_000
        )
        shown = page.inner_text("body")
        assert "Traceback" not in shown and "RecursionError" not in shown and "Team: 7 posts" in shown

        # the planner's own config file, loaded by path, as the comparison team
        page.get_by_label("Config file path").fill(str(folder / "more_gps.yaml"))
        page.get_by_role("button", name="Load", exact=True).click()
        page.get_by_text(re.compile(r"^Loaded .*more_gps\.yaml")).wait_for(timeout=30_000)
        _choose(page, "Comparison team (config file)", re.compile(r"more_gps\.yaml"))

        teams = page.locator("table").filter(has_text="Posts (FTE)").filter(has_text="more_gps")
        teams.wait_for(timeout=30_000)  # the two teams side by side
        assert "3 (2.4 FTE)" in teams.inner_text()

        # a short "year" so the test is quick: 3 replicates, 15 measured days after 10 of warm-up
        page.get_by_label("Replicates").fill("10001")  # bounded as compare: 2 x 10,001 runs
        too_many = re.compile(r"^Replicates: 2 config\(s\) x 10,001 replicate\(s\) = 20,002 runs")
        page.get_by_text(too_many).wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Run a year").is_disabled()
        page.get_by_label("Replicates").fill("3")
        page.get_by_label("Working days measured").fill("15")
        page.get_by_label("Warm-up (working days, not counted)").fill("10")
        page.get_by_text(re.compile(r"6 runs in all")).wait_for(timeout=30_000)
        # the root seed: the command line's 0 until set, bounded as its --seed
        assert page.get_by_text(re.compile(r"same simulated patients, root seed 0\.")).count() == 1
        page.get_by_label("Root seed").fill("-1")
        page.get_by_text(re.compile(r"^Root seed -1: allowed 0 to")).wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Run a year").is_disabled()
        page.get_by_label("Root seed").fill("2")
        page.get_by_text(re.compile(r"root seed 2\. 6 runs in all")).wait_for(timeout=30_000)
        page.get_by_role("button", name="Run a year").click()
        verdict = page.get_by_text(re.compile(r"^browser_test \(edited\) against more_gps: "))
        verdict.wait_for(timeout=120_000)
        table = page.locator("table").filter(has_text="difference [95% interval]")
        table.wait_for(timeout=30_000)
        text = table.inner_text()
        assert "Seen the same day" in text and "Annual staff cost" in text
        assert re.search(r"\[[^\]]+, [^\]]+\]", text)  # intervals: [low, high]
        assert re.search(r"better|worse|no detectable difference", text)
        assert "Only 3 replicates" in page.content()  # the warning about too few replicates
        measured = re.compile(r"replicates per team on the same simulated patients, root seed 2\.$")
        assert page.get_by_text(measured).count() == 1
        chart = page.locator("img[src^='blob:'], img[src^='data:image']")  # the paired differences
        assert chart.count() == 1 and chart.evaluate("e => e.naturalHeight") > 300
        assert page.get_by_text(re.compile(r"^Out of date")).count() == 0
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
        with page.expect_download() as got:
            page.get_by_role("button", name="Download the table (CSV)").click()
        rows = list(csv.DictReader(Path(got.value.path()).read_text().splitlines()))
        mine = {r["metric"]: r for r in rows if r["config"] == "browser_test (edited)"}
        assert mine["annual_staff_cost"]["verdict"] == "worse"  # one more GP, an ANP and a PA
        assert float(mine["annual_staff_cost"]["diff"]) > 0 and mine["same_day_share"]["diff_ci_low"]

        # the team saved as a config file; a change marks the results out of date
        saved_cost = _cost(page)
        with page.expect_download() as got:
            page.get_by_role("button", name="Save the team (config file)").click()
        saved = folder / got.value.suggested_filename
        got.value.save_as(saved)
        assert saved.name == "browser_test_edited.yaml"
        page.get_by_label("posts").nth(1).fill("2")  # a second practice nurse
        page.get_by_text(re.compile(r"^Out of date: these results are for the team")).wait_for(timeout=30_000)
        assert verdict.count() == 1  # still shown, marked
        # ...and loaded back by path, it is the team as saved
        page.get_by_label("Config file path").fill(str(saved))
        page.get_by_role("button", name="Load", exact=True).click()
        page.get_by_text(re.compile(r"^Loaded .*browser_test_edited\.yaml")).wait_for(timeout=30_000)
        _choose(page, "My team starts from", re.compile(r"browser_test_edited\.yaml"))
        page.get_by_text(re.compile(r"^Team: 7 posts")).wait_for(timeout=30_000)
        assert _cost(page) == saved_cost

        # watch one run: axes in working days and dates
        page.get_by_role("tab", name="Watch a run").click()
        page.get_by_role("button", name="Start", exact=True).click()
        page.get_by_role("button", name="Next 20 days").click()
        page.get_by_text(re.compile(r"working day 20 of 60")).wait_for(timeout=60_000)
        assert page.get_by_text(re.compile(r"replicate 1 of root seed 2, as on the command line")).count()
        page.wait_for_timeout(1500)
        images = page.locator("img[src^='blob:'], img[src^='data:image']")
        assert images.count() >= 2  # network and daily series
        widths = [img.evaluate("e => e.naturalWidth") for img in images.all()]
        assert all(w > 100 for w in widths), widths
        page.screenshot(path=str(shots / "dashboard_watch.png"), full_page=True)
        browser.close()
    assert hosts == {url.split("/")[2]}, hosts  # no request left 127.0.0.1
    assert " OUTSIDE " not in log.read_text()  # nor did the server look up or contact another host


def _choose(page: Any, select: str, option: str | re.Pattern[str]) -> None:
    """Choose an option of one of the page's selects, by their labels."""
    page.get_by_label(select).click(force=True)
    page.get_by_role("option", name=option, exact=isinstance(option, str)).click()


def _pounds(text: str) -> float:
    return float(re.search(r"£([\d,]+)", text).group(1).replace(",", ""))  # type: ignore[union-attr]


def test_uploaded_config_is_validated_like_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dropped file is offered as a team when valid; an invalid one is named with its problem."""
    from handover_abm import app

    start = tmp_path / "small.yaml"
    start.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    monkeypatch.setenv(app.CONFIG_ENV, str(start))
    monkeypatch.chdir(tmp_path)  # no configs/ folder here
    (tmp_path / "notes.yaml").write_text("not: [a config]")  # beside it, not offered
    app.library.value = {}
    app.ensure_started()
    assert list(app.library.value) == ["small.yaml"] and app.my_name() == "browser_test"
    app.load_upload("mine.yaml", yaml.safe_dump(OTHER).encode())
    assert app.library.value["uploaded: mine.yaml"]["name"] == "more_gps"
    app.load_upload("broken.yaml", b"team: [{role: wizard}]")
    assert app.message.value.startswith("Could not load broken.yaml: invalid config")
    assert "wizard" in app.message.value and "uploaded: broken.yaml" not in app.library.value
    app.set_value(["team", 0, "count"], 3)
    assert app.my_name() == "browser_test (edited)"
    scenarios, problem = app.year_scenarios()
    assert problem == "" and [s.name for s in scenarios] == ["browser_test", "browser_test (edited)"]
    app.other.value = "uploaded: mine.yaml"
    (theirs, ours), _ = app.year_scenarios()
    assert (theirs.name, ours.name) == ("more_gps", "browser_test (edited)")
    assert theirs.population == ours.population  # the same patients
    assert theirs.days == ours.days == app.warmup_days.value + app.measured_days.value
