"""The fetcher against recorded responses served on a loopback HTTP server: pagination with
``next_page``, keys in headers only, a 429 retried (Retry-After), a 401 not retried. Never
a live call."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

from app.cli import main
from collectors.bills import api
from collectors.http import RetryPolicy
from tests.bills.conftest import FIXTURES, Server

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
EMPTY_OPENAI = json.dumps({"object": "page", "data": [], "has_more": False, "next_page": None})


def _ok(name: str) -> tuple[int, bytes, dict[str, str]]:
    return (200, (FIXTURES / name).read_bytes(), {})


def _config(home: Any, server: Server) -> Any:
    return home(f'\n[bills]\nopenai_url = "{server.url}/v1"\nanthropic_url = "{server.url}/v1"\n')


def test_pages_are_followed_and_merged(
    home: Any, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-test-0123456789")
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    cursor = "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="
    server.routes = {
        "/v1/organization/costs": [_ok("openai/costs_page1.json")],
        f"/v1/organization/costs?page={cursor}": [_ok("openai/costs_page2.json")],
        "/v1/organization/usage/completions": [_ok("openai/usage_page.json")],
    }
    cfg = _config(home, server)
    res = api.fetch(cfg, date(2024, 11, 1), date(2024, 11, 3), policy=FAST)
    by = {p["provider"]: p for p in res["providers"]}
    assert by["openai"]["status"] == "ok" and by["openai"]["pages"] == 3
    assert by["anthropic"]["status"] == "skipped"
    assert "ANTHROPIC_ADMIN_KEY" in by["anthropic"]["error"]
    costs = next(f for f in res["files"] if f["format"] == "openai-costs")
    assert costs["days"] == ["2024-11-01", "2024-11-02", "2024-11-03"]
    assert costs["lines_loaded"] == 6
    first_url, headers = server.seen[0]
    assert "start_time=1730419200" in first_url and "group_by=line_item" in first_url
    assert headers["Authorization"] == "Bearer sk-admin-test-0123456789"
    assert all("sk-admin" not in url for url, _ in server.seen)  # the key is never in a URL
    # fetching again changes nothing
    again = api.fetch(cfg, date(2024, 11, 1), date(2024, 11, 3), policy=FAST)
    assert again["lines_loaded"] == 0 and again["days_unchanged"] == 4


def test_anthropic_429_is_retried_and_401_is_not(
    home: Any, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    server.routes = {
        "/v1/organizations/cost_report": [(429, b"{}", {"Retry-After": "0"}),
                                          _ok("anthropic/cost_report_page1.json")],
        "/v1/organizations/cost_report?page=page_MjAyNS0wNS0xNFQwMDowMDowMFo=": [
            _ok("anthropic/cost_report_page2.json")],
        "/v1/organizations/usage_report/messages": [_ok("anthropic/usage_report_page.json")],
    }  # fmt: skip
    cfg = _config(home, server)
    res = api.fetch(cfg, date(2025, 8, 1), date(2025, 8, 2), ["anthropic"], policy=FAST)
    (p,) = res["providers"]
    assert p["status"] == "ok" and p["pages"] == 3
    assert server.seen[0][1]["x-api-key"] == "sk-ant-admin01-test"
    assert server.seen[0][1]["anthropic-version"] == "2023-06-01"
    assert res["lines_loaded"] == 4 + 5
    server.routes = {"/v1/organizations/cost_report": [(401, b'{"error": "bad key"}', {})]}
    server.seen.clear()
    res = api.fetch(cfg, date(2025, 8, 1), date(2025, 8, 2), ["anthropic"], policy=FAST)
    (p,) = res["providers"]
    assert p["status"] == "failed" and "401" in p["error"] and "sk-ant" not in p["error"]
    assert len(server.seen) == 1  # not retried


def test_a_cursor_that_loops_ends_the_fetch(
    home: Any, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-x")
    cursor = "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="
    server.routes = {
        "/v1/organization/costs": [_ok("openai/costs_page1.json")],
        f"/v1/organization/costs?page={cursor}": [_ok("openai/costs_page1.json")],
    }
    cfg = _config(home, server)
    res = api.fetch(cfg, date(2024, 11, 1), date(2024, 11, 1), ["openai"], policy=FAST)
    assert res["providers"][0]["status"] == "failed"
    assert "pagination" in res["providers"][0]["error"]


def test_prices_bills_cli(home: Any, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-x")
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    server.routes = {
        "/v1/organization/costs": [_ok("openai/costs_docs_example.json")],
        "/v1/organization/usage/completions": [(200, EMPTY_OPENAI.encode(), {})],
    }
    cfg = _config(home, server)
    args = ["--home", str(cfg.home), "prices", "bills", "--since", "2024-11-01", "--until",
            "2024-11-01", "--provider", "openai", "--json"]  # fmt: skip
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["providers"][0]["status"] == "ok" and out["lines_loaded"] == 1
