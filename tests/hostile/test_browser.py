"""The hostile corpus in a real browser: a home holding the hostile logs, prices, a manifest with
markup names and the week's report, served by the real dashboard and opened in headless
Chromium. On every page and in the report, no payload runs: ``window.__pwned`` stays undefined
(in every frame, the report preview's iframe included), the title is never rewritten, no dialog
opens, no element a payload would create exists, and nothing is fetched from elsewhere (a
Markdown image rendered as markup would)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGES,
    _free_port,
    _need_chromium,
    open_page,
    start_server,
    stop,
    wait_healthy,
)
from tests.hostile.conftest import make_home, run_json
from tests.hostile.payloads import CORPUS, RICH, SCRIPT, TITLE, WEEK

pytestmark = pytest.mark.browser

LOGS = ("routeledger.jsonl", "routeledger.csv", "litellm_slp.jsonl", "otel_spans.jsonl")
PRICES = {
    "openrouter": "openrouter_hostile.json",
    "openai": "openai_hostile.md",
    "deepseek": "deepseek_hostile.html",
}
LAST_HEADING = {  # the heading each page renders last, so the wait covers its whole body
    "Overview": "Top movers, week over week",
    "Cost per success": "Per model and task: cost per successful attempt",
    "Request explorer": "Attempt chain",
    "Tokens and cache": "Output tokens against each task's cap",
    "Reports": "Budget alerts",
    "Routing": "History",
    "Latency": "Distribution",
    "Reliability": "Money spent on failed attempts, per model",
    "Prices": "Logged models without a price",
    "Data health": "Job runs",
    "Reconciliation": "Per day, provider and model",
}
# Elements a payload would have created had it been parsed as markup, in this document and in
# every same-origin frame (Streamlit's components iframe holds the report preview).
PROBE = """() => {
  const bad = [];
  const walk = (doc, where) => {
    for (const el of doc.querySelectorAll(
        'script, img[onerror], svg[onload], iframe[srcdoc], details[ontoggle], a[href^="javascript:"]')) {
      const text = (el.outerHTML || '').slice(0, 300);
      if (/__pwned|alert\\(5\\)|document\\.title=/.test(text)) bad.push(where + ': ' + text);
    }
    for (const el of doc.querySelectorAll('a[href], img[src]')) {
      // a name rendered as a link or image: one that goes to the payload's host. A link of
      // ours that carries the name as data (an explorer link's percent-encoded ?model=) is not.
      let host = '';
      try { host = new URL(el.getAttribute('href') || el.getAttribute('src'), location.href).hostname; }
      catch (e) { continue; }
      if (host === 'example.invalid' || host.endsWith('.example.invalid')) {
        bad.push(where + ': ' + el.outerHTML.slice(0, 300));
      }
    }
    for (const f of doc.querySelectorAll('iframe')) {
      try { if (f.contentDocument) walk(f.contentDocument, where + ' > iframe'); } catch (e) {}
    }
  };
  walk(document, 'page');
  return bad;
}"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_chromium()
    root = tmp_path_factory.mktemp("hostile-browser")
    home = make_home(root / "home")
    logs = root / "logs"
    logs.mkdir()
    for name in LOGS:
        shutil.copyfile(CORPUS / "logs" / name, logs / name)
    summary = run_json(home, "ingest", *(str(logs / n) for n in LOGS))  # auto-detected
    assert summary["attempts_loaded"] > 20 and not summary["failed_files"], summary
    args = ["prices", "refresh"]
    for source, name in PRICES.items():
        args += ["--source", source, "--from-file", f"{source}={CORPUS / 'prices' / name}"]
    run_json(home, *args)
    shutil.copyfile(CORPUS / "manifests" / "script_names.yaml", home / "manifest.yaml")
    # a provider's cost export with payloads in its labels: one row kept (its workspace is a
    # payload), one quarantined (its model is one), shown on Reconciliation and Data health
    header = "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,"
    header += "cost_usd,list_price_usd,cost_type"
    bill = root / "anthropic_cost.csv"
    rows = [
        f'2025-09-02,Claude Haiku 4.5,"{TITLE.replace(chr(34), chr(34) * 2)}",k,message,x,'
        "input_no_cache,0.05,0.05,token",
        f"2025-09-02,{SCRIPT},w,k,message,x,output,0.02,0.02,token",
    ]
    bill.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    imported = run_json(home, "bills", "import", str(bill))
    assert "quarantined" in json.dumps(imported), imported
    report = run_json(home, "report", "weekly", "--week", WEEK)
    assert Path(report["files"]["html"]).is_file()
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    port = _free_port()
    proc = start_server(home, port)
    try:
        wait_healthy(proc, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


class Watch:
    """What a page did that only a payload would: dialogs, requests off the origin."""

    def __init__(self, page: Any, origin: str) -> None:
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on(
            "request", lambda r: None if self._ours(r.url, origin) else self.foreign.append(r.url)
        )

    @staticmethod
    def _ours(url: str, origin: str) -> bool:
        return url.startswith((origin, "data:", "blob:", "about:", "file:"))


def assert_inert(page: Any, watch: Watch, where: str) -> None:
    for frame in page.frames:
        assert frame.evaluate("() => window.__pwned") is None, (
            f"{where}: a payload ran in {frame.url}"
        )
    assert "pwned" not in page.title(), where
    assert page.evaluate(PROBE) == [], where
    assert watch.dialogs == [], f"{where}: dialogs {watch.dialogs}"
    assert not [u for u in watch.foreign if "example.invalid" in u], f"{where}: {watch.foreign}"


def test_no_payload_runs_on_any_dashboard_page(server: str) -> None:
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    titles = {t for _, t in PAGES}
    assert titles == set(LAST_HEADING), titles  # a new page joins this test
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            watch = Watch(page, server)
            for path, title in PAGES:
                open_page(page, f"{server}/{path}", LAST_HEADING[title])
                assert page.locator('[data-testid="stException"]').count() == 0, title
                errors = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
                assert not errors, f"{title}: {errors}"
                if title == "Reports":  # the saved report, previewed in an iframe
                    page.frame_locator("iframe").first.get_by_text("Spend by model").wait_for()
                assert_inert(page, watch, title)
                if title == "Routing":  # names from the manifest, shown as the text they are
                    shown = page.inner_text("body").replace("\u200b", "")
                    assert TITLE in shown and RICH in shown, title
                    chains = " ".join(
                        page.locator('[data-testid="stExpander"]').all_text_contents()
                    )
                    assert SCRIPT in chains, chains[:500]
        finally:
            browser.close()
    assert time.monotonic() - started < 60


def test_no_payload_runs_in_the_report(home: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = home / "reports" / WEEK / "report.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            watch = Watch(page, html.as_uri())
            page.goto(html.as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            assert_inert(page, watch, "report.html")
            assert page.evaluate("document.scripts.length") == 0
            body = page.inner_text("body")
            assert SCRIPT in body and TITLE.split(">", 1)[1] in body  # shown as text
            assert watch.foreign == []
        finally:
            browser.close()
