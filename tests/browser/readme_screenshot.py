"""Take the README's dashboard screenshot (not a test):

    .venv/bin/python -m tests.browser.readme_screenshot HOME [OUT]

HOME is a RouteLedger home with data (e.g. one `routeledger demo` built); OUT defaults to
docs/screenshots/overview.png. Starts `routeledger dashboard` on a free port, opens the
Overview in headless Chromium, waits for the page to finish and saves a full-page PNG.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAST_HEADING,
    ROOT,
    _free_port,
    full_page_screenshot,
    open_page,
    start_server,
    stop,
    wait_healthy,
)


def main(home: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    proc = start_server(home, port)
    try:
        wait_healthy(proc, port)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            open_page(page, f"http://127.0.0.1:{port}/", LAST_HEADING["Overview"])
            out.parent.mkdir(parents=True, exist_ok=True)
            full_page_screenshot(page, out)
            browser.close()
    finally:
        stop(proc)
    print(out)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    main(Path(args[0]), Path(args[1]) if len(args) > 1 else ROOT / "docs/screenshots/overview.png")
