"""The tuner's whole loop on the demo, as a person meets it: the demo home (its month lived in
two parts around an approval, app/demo/build.py) through the CLI and the Routing page in
Chromium. The approval made on the month's first part is verified, forecast against actual;
the exploration it started runs as a weighted split and is followed from the logs; and the
tuner proposes again on the whole month."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.demo import build
from app.tuner import verify
from app.views.routing_tasks import EXPERIMENT_STATES
from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SHOTS,
    _free_port,
    _need_chromium,
    full_page_screenshot,
    open_page,
    start_server,
    stop,
    wait_healthy,
)
from tests.demo.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> build.BuildResult:
    """The demo at its default size: enough traffic for the tuner to change chains."""
    return build.build(tmp_path_factory.mktemp("loop") / "home", now=NOW)


def cli(home: Path, *args: str) -> dict:
    cmd = [sys.executable, "-m", "app.cli", "--home", str(home), *args, "--json"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_the_demo_approval_is_verified_and_its_experiment_followed(
    demo: build.BuildResult,
) -> None:
    home = Path(demo.home)
    approval = demo.approval
    assert approval["version"] == 2 and approval["changed"], approval
    assert approval["experiments"], approval  # the approval started an exploration
    # verification: each changed task's forecast against the requests since the approval
    checks = cli(home, "manifest", "verify")["checks"]
    assert {c["task"] for c in checks} == set(approval["changed"])
    for c in checks:
        assert c["verdict"] in verify.VERDICTS and c["verdict"] != "too_early", c
        assert c["actual"]["requests"] >= 30 and c["days"], c
        f = c["forecast"]
        assert f["success_low"] <= f["success"] <= f["success_high"], f
        assert c["approved_at"].startswith(approval["decided_at"][:10]), c
        assert (c["rollback_to"] == 1) == (c["verdict"] == "worse"), c
    # the exploration: read back from the logs, with its progress
    tune = cli(home, "tune")
    followed = [
        t["experiment"] for t in tune["tasks"] if (t.get("experiment") or {}).get("started")
    ]
    assert {e["task"] for e in followed} == set(approval["experiments"]), followed
    states = {e["state"] for e in followed}
    assert states <= {"running", "adopted", "qualified", "stopped"} and states, followed
    # and a proposal on the whole month that saves money
    assert tune["savings"]["savings_usd"] > 0.01 * tune["savings"]["current_spend_usd"]


def test_the_routing_page_shows_the_loop_in_chromium(demo: build.BuildResult) -> None:
    from playwright.sync_api import sync_playwright

    _need_chromium()
    home = Path(demo.home)
    checks = cli(home, "manifest", "verify")["checks"]
    states = [
        EXPERIMENT_STATES[t["experiment"]["state"]]
        for t in cli(home, "tune")["tasks"]
        if (t.get("experiment") or {}).get("started")
    ]
    assert states
    port = _free_port()
    proc = start_server(home, port)
    try:
        wait_healthy(proc, port)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                open_page(page, f"http://127.0.0.1:{port}/routing", "Decisions", 180_000)
                assert page.locator('[data-testid="stException"]').count() == 0
                heading = "After approval: forecast against actual"
                # waited for, not read at once: on a busy machine (the suite runs on every
                # core) the section may render after open_page's heading
                page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=60_000)
                badge = {
                    "as_forecast": "as forecast",
                    "better": "better than forecast",
                    "worse": "worse than forecast",
                    "drifted": "a model changed",
                }
                for c in checks:  # each verdict as the CLI gave it
                    line = page.get_by_text(badge[c["verdict"]], exact=True).first
                    line.wait_for(state="attached", timeout=30_000)
                for title in states:  # each experiment under way, as the tuner concluded it
                    line = page.get_by_text(title, exact=True).first
                    line.wait_for(state="attached", timeout=30_000)
                SHOTS.mkdir(parents=True, exist_ok=True)
                full_page_screenshot(page, SHOTS / "routing-loop.png")
            finally:
                browser.close()
    finally:
        stop(proc)
