"""The weekly report at phone width in headless Chromium: at 420 px the page is no wider than
the screen (wide tables scroll inside their own wrapper), the summary is the first thing on it,
and screenshots at desktop and phone width go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.reports import weekly
from collectors import config
from tests.reports.data import WEEK, make_home

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
BUDGETS = "\n[budget]\nmonthly_usd = 5.0\n\n[budget.teams]\nsearch = 1.0\nsupport = 0.5\n"

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but /usr/bin/chromium is missing (tests/browser/REQUIRES_CHROMIUM)"
            )
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium); CI runs this")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("report-width") / "home"
    make_home(home, BUDGETS)
    return weekly(config.load(home), WEEK).files["html"]


# (name, viewport width): a desktop mail client and a phone
WIDTHS = [("desktop", 1280), ("phone", 420)]


@pytest.mark.parametrize(("name", "width"), WIDTHS)
def test_the_report_fits_the_screen(report_html: Path, name: str, width: int) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"weekly-report-{name}.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(report_html.as_uri(), wait_until="load")
            # the document is no wider than the viewport: nothing to scroll sideways
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{name}: the page is {scroll} px wide at {width} px"
            assert page.evaluate("document.body.scrollWidth") <= width
            # every element ends inside the viewport, except inside a table's scroll wrapper
            outside = page.evaluate(
                """(w) => [...document.querySelectorAll('body *')].filter(e => {
                    for (let p = e.parentElement; p; p = p.parentElement) {
                        if (getComputedStyle(p).overflowX === 'auto') return false;
                    }
                    return e.getBoundingClientRect().right > w + 0.5;
                }).map(e => e.tagName + ': ' + e.textContent.slice(0, 40))""",
                width,
            )
            assert outside == [], outside
            # the summary is the first thing after the title, above the key figures
            body = page.inner_text("body")
            assert body.index("Spend $") < body.index("Why: ") < body.index("Do first: ")
            assert body.index("Do first: ") < body.index("Succeeded")
            assert "Expected by now" in body and "Pace" not in body
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
