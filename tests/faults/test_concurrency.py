"""Everything at once on one home, for about a minute: the real dashboard (`routeledger
dashboard`) read by headless Chromium, `routeledger serve` ingesting a source glob every second,
`routeledger ingest` and `routeledger stats --json` run over and over on other files, and a
writer appending attempts (some lines in two writes, as a gateway mid-line) to all the files.

Nobody may see an error: no exception, error box or traceback on any page, every command exits
0 with one JSON object, no scheduled job fails (on the lock or anything else). After a final
ingest the totals are exact: every line written is one attempt in raw_attempts and in the marts,
nothing is quarantined, every file cursor is at the file's end.

Why the real browser and not AppTest: the point is that the dashboard's own process, with its
cache and its read-only connections, shares the DuckDB file with the writers; AppTest would run
the pages inside the test process instead.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAST_HEADING,
    PAGES,
    _need_chromium,
    open_page,
)
from tests.faults.helpers import ROOT, attempt_line, cli, free_port, query, run_cli, seed

pytestmark = [pytest.mark.slow, pytest.mark.browser]

DURATION = 50.0  # seconds of everything at once, then until each did its share (EXTRA at most)
EXTRA = 60.0
MIN_RUNS = {"ingest": 2, "stats": 2, "serve": 3}  # commands run, scheduled ingests done
SERVE_FILES = ("serve-a", "serve-b")
CLI_FILES = ("cli-a", "cli-b")
TOML = """
[ingest]
batch_bytes = 65536

[schedule]
ingest_minutes = 0.016667  # one second

[[sources]]
path = "serve-logs/*.jsonl"
format = "routeledger"
"""
# what an error looks like on a page: Streamlit's exception box, an st.error, a traceback, or an
# exception named in text ("... could not be shown: IOException: ...")
ERROR_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception)\b:|could not be shown")


class Writer(threading.Thread):
    """Appends attempts with unique ids to the files, a few lines at a time; one write in five
    stops mid-line and finishes the line a moment later."""

    def __init__(self, files: dict[str, Path], rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.files, self.rng = files, rng
        self.written = dict.fromkeys(files, 0)
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def write(self, name: str, n: int) -> None:
        at = datetime.now(UTC) - timedelta(seconds=30)
        start = self.written[name]
        data = b"".join(attempt_line(name, i, at) for i in range(start, start + n))
        with open(self.files[name], "ab") as f:
            if self.rng.random() < 0.2:
                cut = len(data) - self.rng.randint(1, 200)
                f.write(data[:cut])
                f.flush()
                time.sleep(0.05)
                data = data[cut:]
            f.write(data)
        self.written[name] += n

    def run(self) -> None:
        try:
            while not self.stop.wait(self.rng.uniform(0.02, 0.1)):
                self.write(self.rng.choice(list(self.files)), self.rng.randint(1, 6))
        except BaseException as e:  # noqa: BLE001  (reported by the test)
            self.error = e


class CliLoop(threading.Thread):
    """`routeledger ingest` of the CLI files and `routeledger stats --json`, in turn."""

    def __init__(self, home: Path) -> None:
        super().__init__(daemon=True)
        self.home = home
        self.stop = threading.Event()
        self.runs: list[tuple[str, int, str, str]] = []

    def run(self) -> None:
        commands = [
            ("ingest", "ingest", str(self.home / "cli-logs" / "*.jsonl"), "--json"),
            ("stats", "stats", "--json"),
        ]
        k = 0
        while not self.stop.is_set():
            name, *args = commands[k % 2]
            p = run_cli(self.home, *args, timeout=240)
            self.runs.append((name, p.returncode, p.stdout, p.stderr))
            k += 1


def browse(
    base: str, deadline: float, enough: Callable[[], bool], cap: float
) -> tuple[int, list[str], int]:
    """Open the pages in turn until ``deadline`` has passed and ``enough()`` says the others
    did their share (at most until ``cap``): (pages rendered, errors seen, busy notices)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    loaded, errors, busy = 0, [], 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            k = 0
            while loaded < len(PAGES) or (
                time.monotonic() < cap and (time.monotonic() < deadline or not enough())
            ):
                path, title = PAGES[k % len(PAGES)]
                k += 1
                try:
                    open_page(page, f"{base}/{path}", LAST_HEADING.get(title, title), 60_000)
                except PlaywrightTimeout:
                    text = " ".join(page.inner_text("body").split())
                    errors.append(f"{title}: not rendered in 60 s; the page says: {text[:1500]}")
                    break
                loaded += 1
                text = page.inner_text("body")
                busy += "The warehouse is busy" in text
                boxes = page.locator('[data-testid="stException"]').all_inner_texts()
                boxes += page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
                found = ERROR_TEXT.search(text)
                if boxes or found:
                    errors.append(f"{title}: {boxes} {found.group(0) if found else ''}")
        finally:
            browser.close()
    return loaded, errors, busy


def start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 90) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the dashboard did not answer in {timeout:.0f}s")


def json_object(stdout: str) -> dict[str, Any]:
    doc = json.loads(stdout)
    assert isinstance(doc, dict)
    return doc


def test_dashboard_serve_cli_and_a_writer_at_once_on_one_home(tmp_path: Path) -> None:
    _need_chromium()
    rng = random.Random(seed("concurrency"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(TOML, encoding="utf-8")
    files = {n: home / "serve-logs" / f"{n}.jsonl" for n in SERVE_FILES}
    files |= {n: home / "cli-logs" / f"{n}.jsonl" for n in CLI_FILES}
    for f in files.values():
        f.parent.mkdir(exist_ok=True)
    writer = Writer(files, rng)
    for name in files:  # some data before anyone starts, so every page has something to show
        writer.write(name, 100)
    first = run_cli(home, "ingest", str(home / "*-logs" / "*.jsonl"), "--json")
    assert first.returncode == 0, first.stderr
    assert json_object(first.stdout)["attempts_loaded"] == 400

    port = free_port()
    dash_log, serve_log = tmp_path / "dashboard.log", tmp_path / "serve.log"
    dashboard = start(cli(home, "dashboard", "--port", str(port)), dash_log)
    serve: subprocess.Popen[bytes] | None = None
    loop = CliLoop(home)
    try:
        wait_healthy(dashboard, port, dash_log, 120)
        serve = start(cli(home, "serve"), serve_log)
        writer.start()
        loop.start()

        def enough() -> bool:
            done = {n: sum(r[0] == n for r in loop.runs) for n in ("ingest", "stats")}
            done["serve"] = serve_log.read_text(errors="replace").count("job ingest ok")
            return all(done[n] >= m for n, m in MIN_RUNS.items())

        now = time.monotonic()
        base = f"http://127.0.0.1:{port}"
        loaded, errors, busy = browse(base, now + DURATION, enough, now + DURATION + EXTRA)
    finally:
        writer.stop.set()
        loop.stop.set()
        writer.join(30)
        loop.join(240)
        try:
            serve_code = stop(serve) if serve is not None else None
        finally:
            stop(dashboard)
    assert writer.error is None, writer.error
    print(
        f"{loaded} pages rendered ({busy} with a busy notice), {len(loop.runs)} commands, "
        f"{sum(writer.written.values())} attempts written"
    )

    # nobody saw an error
    assert errors == [], errors
    assert loaded >= len(PAGES), loaded
    for name, code, out, err in loop.runs:
        assert code == 0, f"routeledger {name} exited {code}: {err}"
        doc = json_object(out)
        assert ("attempts_loaded" in doc) if name == "ingest" else ("tasks" in doc), doc
    assert sum(r[0] == "ingest" for r in loop.runs) >= MIN_RUNS["ingest"], loop.runs
    assert sum(r[0] == "stats" for r in loop.runs) >= MIN_RUNS["stats"], loop.runs
    assert serve_code == 0, serve_log.read_text(errors="replace")[-5000:]
    log = serve_log.read_text(errors="replace")
    assert not re.search(r"Traceback|^ERROR|failed|could not|another RouteLedger", log, re.M), log
    dash = dash_log.read_text(errors="replace")
    assert "Traceback" not in dash and "Warning: could not" not in dash, dash[-5000:]
    runs = query(home, "SELECT job, status, detail FROM job_runs ORDER BY started_at")
    # every run ok; the SIGTERM may stop the last one between two files, as designed
    assert [r for r in runs[:-1] if r[1] != "ok"] == [], runs
    assert runs[-1][1] in ("ok", "stopped"), runs
    assert sum(r[0] == "ingest" and r[1] == "ok" for r in runs) >= MIN_RUNS["serve"], runs

    # exact totals after a final ingest of everything
    final = run_cli(home, "ingest", str(home / "*-logs" / "*.jsonl"), "--json")
    assert final.returncode == 0, final.stderr
    assert json_object(final.stdout)["quarantined"] == 0
    total = sum(writer.written.values())
    assert query(home, "SELECT count(*), count(DISTINCT attempt_id) FROM raw_attempts") == [
        (total, total)
    ]
    assert query(home, "SELECT count(*) FROM raw_quarantine") == [(0,)]
    cursors = dict(
        ((Path(f).stem), (o, n))
        for f, o, n in query(home, "SELECT file, offset_bytes, lines_read FROM file_cursors")
    )
    assert cursors == {n: (os.path.getsize(f), writer.written[n]) for n, f in files.items()}
    loads = query(home, "SELECT status, count(*) FROM loads GROUP BY ALL")
    assert {s for s, _ in loads} == {"ok"}, loads
    assert query(home, "SELECT count(*) FROM attempts") == [(total,)]
    today = datetime.now(UTC).date()
    stats = run_cli(
        home,
        "stats",
        "--since",
        str(today - timedelta(days=1)),
        "--until",
        str(today + timedelta(days=1)),
        "--json",
    )
    assert stats.returncode == 0, stats.stderr
    doc = json_object(stats.stdout)
    assert sum(m["attempts"] for m in doc["models"]) == total
    requests = sum((n + 1) // 2 for n in writer.written.values())
    assert sum(t["logical_requests"] for t in doc["tasks"]) == requests
