"""The real dashboard in a real browser: `routeledger dashboard` as a subprocess on a free port,
every page opened in headless Chromium, no exception or error box, a screenshot of each page in
test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.warehouse_fixture import build

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# The pages as app/dashboard.py registers them: (url path, title); the default page is at "/".
_REGISTERED = re.findall(
    r'st\.Page\("views/(\w+)\.py", title="([^"]+)"([^)]*)\)',
    (ROOT / "app" / "dashboard.py").read_text(encoding="utf-8"),
)
PAGES = [("" if "default=True" in rest else path, title) for path, title, rest in _REGISTERED]
# A heading each page renders at its end, so the wait covers the whole body.
LAST_HEADING = {
    "Overview": "Top movers, week over week",
    "Cost per success": "Per model and task: cost per successful attempt",
    "Request explorer": "Attempt chain",
    "Tokens and cache": "Output tokens against each task's cap",
    "Latency": "Distribution",
    "Reliability": "Money spent on failed attempts, per model",
    "Prices": "Logged models without a price",
    "Data health": "Job runs",
}

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI=true but /usr/bin/chromium is missing (tests/browser/REQUIRES_CHROMIUM)"
            )
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium); CI runs this")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "app.cli", "--home", str(home), "dashboard", "--port", str(port)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_healthy(proc: subprocess.Popen[bytes], port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise AssertionError(f"the dashboard exited with {proc.returncode}:\n{out}")
        try:
            url = f"http://127.0.0.1:{port}/_stcore/health"
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"no HTTP 200 from /_stcore/health within {timeout:.0f}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_chromium()
    home = build(tmp_path_factory.mktemp("browser") / "home")
    port = _free_port()
    proc = start_server(home, port)
    try:
        wait_healthy(proc, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def open_page(page, url: str, heading: str, timeout_ms: int = 60_000) -> None:  # type: ignore[no-untyped-def]
    """Load a page and wait until its script finished: the heading it renders last is visible
    and the "Running..." status widget is gone."""
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )
    page.wait_for_timeout(500)  # charts lay out after the script ends


def assert_no_error(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """No exception and no error box on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0, name
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, f"{name}: {errors.all_inner_texts()}"


def full_page_screenshot(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Streamlit scrolls inside its main section: grow the viewport to its height first."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": max(800, min(int(height), 12000))})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})


def test_every_page_renders_in_chromium(server: str) -> None:
    from playwright.sync_api import sync_playwright

    assert {t for _, t in PAGES} >= set(LAST_HEADING), PAGES
    SHOTS.mkdir(parents=True, exist_ok=True)
    # a deep link first: a fresh server's first request must get the navigation and filters too
    ordered = sorted(PAGES, key=lambda p: p[0] == "")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            for path, title in ordered:
                name = path or "overview"
                open_page(page, f"{server}/{path}", LAST_HEADING.get(title, title))
                assert page.get_by_role("heading", name=title, exact=True).first.is_visible()
                full_page_screenshot(page, SHOTS / f"{name}.png")
                assert_no_error(page, name)
                assert page.get_by_text("Page not found").count() == 0, name
                assert page.get_by_role("heading", name="Filters").is_visible(), name
        finally:
            browser.close()


def _click_a_bar(page, chart) -> None:  # type: ignore[no-untyped-def]
    """Click the first bar of ``chart`` tall enough to hit."""
    for bar in chart.locator("g.trace.bars g.point path").all():
        box = bar.bounding_box()
        if box and box["height"] >= 8 and box["width"] >= 4:
            bar.click(force=True)
            return
    raise AssertionError("no bar to click")


def test_a_click_on_a_chart_opens_its_requests_in_the_explorer(server: str) -> None:
    """The way from a number to the requests behind it: a bar of the Overview's spend chart
    (a day, a provider) opens the request explorer narrowed to them."""
    from urllib.parse import parse_qs, urlparse

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            open_page(page, server + "/", LAST_HEADING["Overview"])
            chart = page.locator('[data-testid="stPlotlyChart"]').first
            chart.scroll_into_view_if_needed()
            _click_a_bar(page, chart)
            page.wait_for_url(re.compile(r".*/explorer\?.*"), timeout=60_000)
            page.get_by_role("heading", name="Attempt chain", exact=True).wait_for(timeout=60_000)
            query = parse_qs(urlparse(page.url).query)
            assert query["since"] == query["until"], query  # the bar's day
            assert len(query["provider"]) == 1, query  # the bar's provider (stacked by provider)
            assert page.locator('[data-testid="stException"]').count() == 0
            card = page.locator('[data-testid="stMetric"]').filter(has_text="Requests").first
            value = card.locator('[data-testid="stMetricValue"]').inner_text()
            assert int(value.replace(",", "")) > 0  # the bar's requests, listed
        finally:
            browser.close()
