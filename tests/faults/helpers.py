"""What the fault tests share: the seed, subprocesses of the real CLI, warehouse queries, log
lines in RouteLedger's own JSONL format, and a loopback HTTP server of the recorded price pages."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "prices"


def seed(name: str) -> int:
    """``FAULT_SEED`` when set (to replay a failure), else a fresh one; printed either way."""
    value = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(1, 2**31))
    print(f"{name}: FAULT_SEED={value}", flush=True)
    return value


def cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", "--home", str(home), *args]


def run_cli(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli(home, *args), cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def query(home: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """A read-only look at the warehouse (retried while a writer holds it)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
            break
        except duckdb.IOException:
            if time.monotonic() > deadline or not (home / "warehouse.duckdb").exists():
                raise
            time.sleep(0.2)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_killed(
    cmd: list[str], marker: str, count: int, delay: float, timeout: float = 120
) -> tuple[int, str]:
    """Start ``cmd`` and SIGKILL it ``delay`` seconds after the ``count``-th stderr line holding
    ``marker`` (after its start when 0). Returns (exit code, stderr)."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    seen = threading.Event()
    deadline = time.monotonic() + timeout

    def read() -> None:
        assert p.stderr is not None
        n = 0
        for line in p.stderr:
            err.append(line)
            if marker in line:
                n += 1
                if n == count:
                    seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if count == 0:
        seen.set()
    while not seen.wait(0.05):
        if p.poll() is not None or time.monotonic() > deadline:
            break
    if seen.is_set():
        time.sleep(delay)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
    try:
        p.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    reader.join(10)
    if p.stdout is not None:
        p.stdout.close()
    return p.returncode, "".join(err)


# -- log lines --------------------------------------------------------------------------------

MODELS = [("openai", "gpt-4o-mini"), ("anthropic", "claude-3-5-haiku"), ("mistral", "mid-x")]


def attempt_line(prefix: str, i: int, at: datetime | None = None) -> bytes:
    """One RouteLedger JSONL attempt with the unique id ``<prefix>-<i>``; two attempts a
    logical request (the first one fails on every fifth request), on alternating models."""
    at = at or datetime(2026, 10, 5, tzinfo=UTC) + timedelta(seconds=i)
    provider, model = MODELS[i % len(MODELS)]
    ok = i % 10 != 0
    doc = {
        "attempt_id": f"{prefix}-{i}",
        "logical_request_id": f"{prefix}-r{i // 2}",
        "attempt_index": i % 2 + 1,
        "started_at": at.isoformat(),
        "ended_at": (at + timedelta(milliseconds=300 + i % 97)).isoformat(),
        "provider": provider,
        "model": model,
        "task": ("summarize", "chat")[i // 2 % 2],
        "team": "core",
        "status": "success" if ok else "error",
        "error_class": None if ok else "rate_limit",
        "http_status": 200 if ok else 429,
        "input_tokens": 100 + i % 7,
        "output_tokens": 20 + i % 3,
        "cost_usd": 0.0001,
    }
    return json.dumps(doc).encode() + b"\n"


# -- a loopback HTTP server of the recorded price sources ---------------------------------------


def price_routes() -> dict[str, Path]:
    """``/<host><path>`` of each fetched source's URL -> its recorded response."""
    from collectors.prices import litellm_map, openrouter
    from collectors.prices.pages import anthropic, deepseek, openai

    files = {
        openrouter.URL: FIXTURES / "openrouter_models.json",
        litellm_map.URL: FIXTURES / "litellm_model_prices.json",
        openai.URL: FIXTURES / "pages" / "openai_docs_pricing_2026-08.md",
        anthropic.URL: FIXTURES / "pages" / "anthropic_docs_pricing_2025-11-25.md",
        deepseek.URL: FIXTURES / "pages" / "deepseek_pricing_2026-09.html",
    }
    return {f"/{urlsplit(u).hostname}{urlsplit(u).path}": p for u, p in files.items()}


@contextmanager
def price_server() -> Iterator[tuple[int, list[str]]]:
    """(port, request log): the recorded bodies with an ETag; a matching If-None-Match is 304."""
    routes = {k: v.read_bytes() for k, v in price_routes().items()}
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (the http.server API)
            body = routes.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                seen.append(f"304 {self.path}")
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            seen.append(f"200 {self.path}")
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), seen
    finally:
        server.shutdown()
        server.server_close()
