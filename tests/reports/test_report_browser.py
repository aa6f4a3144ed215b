"""A rendered weekly report opened in headless Chromium: it lays out, shows the logged HTML as
text, runs no script, and is screenshotted to test-artifacts/screenshots/weekly-report.png."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from app.reports import weekly
from collectors import config
from tests.reports.data import IMG_TASK, SCRIPT_MODEL, WEEK

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "test-artifacts" / "screenshots" / "weekly-report.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but /usr/bin/chromium is missing (tests/browser/REQUIRES_CHROMIUM)"
            )
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium); CI runs this")


def test_the_report_renders_in_chromium_and_runs_no_script(
    make_cfg: Callable[[str], config.Config],
) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    cfg = make_cfg("\n[budget]\nmonthly_usd = 5.0\n\n[budget.teams]\nsearch = 1.0\n")
    res = weekly(cfg, WEEK)
    dialogs: list[str] = []
    requests: list[str] = []
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1200})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(res.files["html"].as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            assert page.title() == f"RouteLedger weekly cost report {WEEK}"
            body = page.inner_text("body")
            assert SCRIPT_MODEL in body and IMG_TASK in body  # shown as text
            assert page.evaluate("document.scripts.length") == 0
            assert page.evaluate("document.images.length") == 0
            assert page.get_by_role("heading", name="Spend by model").is_visible()
            page.screenshot(path=str(SHOT), full_page=True)
        finally:
            browser.close()
    assert dialogs == [], "a script ran"
    assert requests == [res.files["html"].as_uri()], "the report loads nothing else"
    assert SHOT.stat().st_size > 10_000
