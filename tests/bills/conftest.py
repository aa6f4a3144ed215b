"""The bills tests' homes and servers: a small warehouse with a hand-priced day of attempts and
its bills, and a loopback HTTP server replaying recorded provider responses."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from collectors import config, pipeline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bills"

OVERRIDES = """prices:
  - {provider: openai, model: gpt-4o-mini, input_per_mtok: 1.00, cached_input_per_mtok: 0.50,
     output_per_mtok: 2.00, valid_from: 2026-01-01}
  - {provider: anthropic, model: claude-haiku-4-5, input_per_mtok: 1.00,
     cached_input_per_mtok: 0.10, output_per_mtok: 5.00, valid_from: 2026-01-01}
"""


def _attempt(i: str, day: str, provider: str, model: str, **kw: Any) -> dict[str, Any]:
    return {"attempt_id": i, "logical_request_id": i, "started_at": f"{day}T10:00:00Z",
            "ended_at": f"{day}T10:00:02Z", "provider": provider, "model": model,
            "status": "success", "task": "t", **kw}  # fmt: skip


ATTEMPTS = [
    # openai, 2026-03-03: a success, a timeout (billed at its usage by the default policy) and
    # a rate limit (not billed by it)
    _attempt(
        "a1",
        "2026-03-03",
        "openai",
        "gpt-4o-mini-2024-07-18",
        input_tokens=1_000_000,
        output_tokens=500_000,
        cost_usd=2.5,
    ),  # fmt: skip
    _attempt(
        "a2",
        "2026-03-03",
        "openai",
        "gpt-4o-mini",
        input_tokens=2_000_000,
        output_tokens=0,
        status="error",
        error_class="timeout",
    ),  # fmt: skip
    _attempt(
        "a3",
        "2026-03-03",
        "openai",
        "gpt-4o-mini",
        input_tokens=500_000,
        output_tokens=0,
        status="error",
        error_class="rate_limit",
    ),  # fmt: skip
    _attempt("a4", "2026-03-04", "openai", "gpt-4o-mini", input_tokens=1_000_000, output_tokens=0),
    # anthropic, 2026-03-03: 1M fresh input, 2M cache reads, 200k output
    _attempt(
        "b1",
        "2026-03-03",
        "anthropic",
        "claude-haiku-4-5",
        input_tokens=3_000_000,
        cached_input_tokens=2_000_000,
        output_tokens=200_000,
    ),  # fmt: skip
]

OPENAI_COSTS = {  # the provider did not bill the timeout; 03-04 billed as a day total
    "object": "page",
    "data": [
        {"object": "bucket", "start_time": 1772496000, "end_time": 1772582400, "results": [
            {"object": "organization.costs.result", "amount": {"value": 1.00, "currency": "usd"},
             "line_item": "gpt-4o-mini-2024-07-18, input", "project_id": None},
            {"object": "organization.costs.result", "amount": {"value": 1.00, "currency": "usd"},
             "line_item": "gpt-4o-mini-2024-07-18, output", "project_id": None}]},
    ],
    "has_more": False,
    "next_page": None,
}  # fmt: skip
OPENAI_DAY_TOTAL = {
    "object": "page",
    "data": [{"object": "bucket", "start_time": 1772582400, "end_time": 1772668800, "results": [
        {"object": "organization.costs.result", "amount": {"value": 1.0, "currency": "usd"},
         "line_item": None, "project_id": None}]}],
    "has_more": False,
    "next_page": None,
}  # fmt: skip
ANTHROPIC_COST = {  # cache reads billed at the full input price; a model the gateway never saw
    "data": [{"starting_at": "2026-03-03T00:00:00Z", "ending_at": "2026-03-04T00:00:00Z",
              "results": [
        {"amount": "100", "currency": "USD", "cost_type": "tokens", "model": "claude-haiku-4-5-20251001",
         "token_type": "uncached_input_tokens", "description": "Claude Haiku 4.5 Usage - Input Tokens"},
        {"amount": "200", "currency": "USD", "cost_type": "tokens", "model": "claude-haiku-4-5-20251001",
         "token_type": "cache_read_input_tokens", "description": "Claude Haiku 4.5 Usage - Cache Read"},
        {"amount": "100", "currency": "USD", "cost_type": "tokens", "model": "claude-haiku-4-5-20251001",
         "token_type": "output_tokens", "description": "Claude Haiku 4.5 Usage - Output Tokens"},
        {"amount": "500", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-1-20250805",
         "token_type": "output_tokens", "description": "Claude Opus 4.1 Usage - Output Tokens"}]}],
    "has_more": False,
    "next_page": None,
}  # fmt: skip


def write_bills(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, doc in (("openai-costs.json", OPENAI_COSTS), ("openai-day.json", OPENAI_DAY_TOTAL),
                      ("anthropic-cost.json", ANTHROPIC_COST)):  # fmt: skip
        path = folder / name
        path.write_text(json.dumps(doc), encoding="utf-8")
        out.append(path)
    return out


def make_home(home: Path, extra: str = "") -> config.Config:
    home.mkdir(parents=True)
    (home / "routeledger.toml").write_text(
        '[prices]\noverrides = "overrides.yaml"\nauto_catalog = false\n' + extra, encoding="utf-8"
    )
    (home / "overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    log = home / "router.jsonl"
    log.write_text("".join(json.dumps(a) + "\n" for a in ATTEMPTS), encoding="utf-8")
    cfg = config.load(home)
    pipeline.refresh_prices(cfg, ["overrides"], {})
    summary = pipeline.ingest(cfg, [str(log)])
    assert summary.as_json()["attempts_loaded"] == len(ATTEMPTS), summary.as_json()
    return cfg


@pytest.fixture
def home(tmp_path: Path) -> Callable[[str], config.Config]:
    def make(extra: str = "") -> config.Config:
        return make_home(tmp_path / "home", extra)

    return make


@dataclass
class Server:
    url: str
    routes: dict[str, list[tuple[int, bytes, dict[str, str]]]]
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[Server]:
    """A loopback server: GET replays ``routes[path + '?page=' cursor or path]`` responses in
    order (the last one again when they run out); POST records a webhook body."""
    srv = Server("", {})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path, _, query = self.path.partition("?")
            params = {k: v[-1] for k, v in parse_qs(query).items()}
            key = f"{path}?page={params['page']}" if "page" in params else path
            srv.seen.append((self.path, dict(self.headers)))
            queue = srv.routes.get(key) or [(404, b"{}", {})]
            status, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            srv.posted.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    srv.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield srv
    httpd.shutdown()
