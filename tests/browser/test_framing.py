"""Clickjacking (issue 15, item 1) in a real browser: a page on another origin (another
127.0.0.1 port) frames the dashboard's Routing page, where one click on Approve would write the
routing manifest.

* `routeledger dashboard` (app/dashboard_server.py): Chromium refuses the frame (X-Frame-Options
  and CSP frame-ancestors): the framed document is Chromium's error page, not the app, so there
  is no Approve to click; the same URL opened in a tab of its own shows Approve (the control).
* `streamlit run app/dashboard.py` by hand sends no such header, so the frame renders the app;
  the page itself sees it is framed and offers no decision (app/ui.py `not_framed`), while the
  same server opened in a tab of its own does (the control that the check is not just off).

Either way the manifest stays as it was and no decision is recorded.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from app.ui import FRAMED_MESSAGE
from collectors import config, pipeline
from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    _free_port,
    _need_chromium,
    start_server,
    stop,
    wait_healthy,
)
from tests.tuner import logs

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose manifest the tuner would change: the Routing page offers Approve."""
    _need_chromium()
    home = tmp_path_factory.mktemp("framing") / "home"
    logs.build_home(home, logs.scenario(), logs.MANIFEST)
    pipeline.update_marts(config.load(home))
    return home


def decisions(home: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        sql = "SELECT table_name FROM information_schema.tables"
        tables = {r[0] for r in con.execute(sql).fetchall()}
        if "manifest_decisions" not in tables:
            return []
        return con.execute("SELECT * FROM manifest_decisions").fetchall()


class Hostile:
    """Another origin (a second 127.0.0.1 port) serving a page that frames ``target``, almost
    invisibly, as the red team did."""

    def __init__(self, target: str) -> None:
        page = (
            "<!doctype html><html><body><h1>Win a prize: click the button</h1>"
            f'<iframe id="victim" src="{target}" width="1400" height="1000" '
            'style="opacity:0.01;position:absolute;top:0;left:0"></iframe></body></html>'
        ).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def routing_top_level(browser: Any, url: str) -> None:
    """The control: in a tab of its own the Routing page offers an enabled Approve."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, wait_until="domcontentloaded")
    approve = page.get_by_role("button", name="Approve", exact=True)
    approve.wait_for(timeout=TIMEOUT_MS)
    assert approve.is_enabled()
    assert page.get_by_text(FRAMED_MESSAGE).count() == 0
    page.close()


def test_the_dashboard_cannot_be_framed_by_another_origin(home: Path, browser: Any) -> None:
    manifest = home / "manifest.yaml"
    before = manifest.read_bytes()
    port = _free_port()
    proc = start_server(home, port)  # routeledger dashboard
    hostile: Hostile | None = None
    try:
        wait_healthy(proc, port)
        target = f"http://127.0.0.1:{port}/routing"
        routing_top_level(browser, target)

        hostile = Hostile(target)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(hostile.url, wait_until="load")
        page.wait_for_timeout(3000)  # time for an app that did load to render
        (victim,) = [f for f in page.frames if f != page.main_frame]
        # Chromium shows its own error page in a frame the headers refuse
        assert victim.url.startswith("chrome-error://"), victim.url
        assert victim.locator('[data-testid="stApp"]').count() == 0
        assert victim.get_by_role("button", name="Approve").count() == 0
        assert any("X-Frame-Options" in m or "frame-ancestors" in m for m in console), console
        page.close()
    finally:
        if hostile is not None:
            hostile.close()
        stop(proc)
    assert manifest.read_bytes() == before
    assert decisions(home) == []


def test_a_framed_page_of_a_bare_streamlit_run_offers_no_decision(home: Path, browser: Any) -> None:
    """No headers at all (`streamlit run app/dashboard.py`, as someone might by hand): the frame
    loads, and the page refuses to decide in it."""
    manifest = home / "manifest.yaml"
    before = manifest.read_bytes()
    port = _free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "dashboard.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = dict(os.environ, ROUTELEDGER_HOME=str(home))
    proc = subprocess.Popen(  # noqa: S603
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    hostile: Hostile | None = None
    try:
        wait_healthy(proc, port)
        target = f"http://127.0.0.1:{port}/routing"
        routing_top_level(browser, target)  # the check lets a page in a tab of its own act

        hostile = Hostile(target)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(hostile.url, wait_until="load")
        (victim,) = [f for f in page.frames if f != page.main_frame]
        assert victim.url == target  # nothing refused the frame: it is the app
        victim.get_by_role("heading", name="History").wait_for(timeout=TIMEOUT_MS)
        approve = victim.get_by_role("button", name="Approve", exact=True)
        # the page settles on one or the other: the refusal, or (unchecked) the button
        victim.get_by_text(FRAMED_MESSAGE).or_(approve).wait_for(timeout=TIMEOUT_MS)
        victim.wait_for_timeout(1000)
        assert approve.count() == 0
        assert victim.get_by_text(FRAMED_MESSAGE).is_visible()
        assert victim.get_by_role("button", name="Reject").count() == 0
        assert victim.get_by_role("button", name="Roll back to this version").count() == 0
        page.close()
    finally:
        if hostile is not None:
            hostile.close()
        stop(proc)
    assert manifest.read_bytes() == before
    assert decisions(home) == []
