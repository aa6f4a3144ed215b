"""A home on ClickHouse in a real browser: ``routeledger demo --clickhouse --no-serve`` builds the
demo on the embedded engine (chdb) in processes of its own, then ``routeledger dashboard`` (which
refreshes the marts in a child process, so the server alone opens the engine) serves it, and three
pages (Overview, Cost, Data health) render in headless Chromium with no exception or error box.
That every page's figures equal DuckDB's is tests/clickhouse/test_backend.py's (AppTest); this
is the real server on the real engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAST_HEADING,
    PAGES,
    ROOT,
    _free_port,
    _need_chromium,
    assert_no_error,
    open_page,
    start_server,
    stop,
    wait_healthy,
)

pytest.importorskip("chdb")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def ch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    _need_chromium()
    home = tmp_path_factory.mktemp("ch-browser") / "demo"
    env = {**os.environ, "ROUTELEDGER_DEMO_REQUESTS": "600"}
    cmd = [sys.executable, "-m", "app.cli", "--home", str(home), "demo", "--clickhouse",
           "--no-serve"]  # fmt: skip
    built = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (home / "clickhouse").is_dir() and not (home / "warehouse.duckdb").exists()
    port = _free_port()
    proc = start_server(home, port)
    try:
        wait_healthy(proc, port)
        yield f"http://127.0.0.1:{port}", home
    finally:
        stop(proc)


def test_the_pages_render_on_clickhouse(ch_server: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, home = ch_server
    marker = json.loads((home / "demo.json").read_text(encoding="utf-8"))
    assert marker["backend"] == "clickhouse" and marker["ingested"]["attempts_loaded"] > 600
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            # three pages here (every page's figures are compared under AppTest)
            for path, title in [p for p in PAGES if p[0] in ("", "cost", "data_health")]:
                name = path or "overview"
                open_page(page, f"{url}/{path}", LAST_HEADING.get(title, title))
                assert_no_error(page, name)
                if name == "overview":
                    spend = page.locator('[data-testid="stMetric"]').first.inner_text()
                    assert "$" in spend and "$0.00" not in spend, spend
        finally:
            browser.close()
