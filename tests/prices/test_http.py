"""The HTTP client's retry policy, tested through httpx.MockTransport (no network, no waiting)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from collectors import http
from collectors.errors import TerminalSourceError, TransientSourceError

URL = "https://prices.example/api/models"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class Script:
    """A MockTransport handler that answers with a scripted list of responses/exceptions."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step


def run(script: Script, *, attempts: int = 4, validators: http.Validators | None = None):
    sleeps: list[float] = []
    policy = http.RetryPolicy(attempts=attempts, sleep=sleeps.append, now=lambda: NOW)
    with http.create_client(httpx.MockTransport(script)) as client:
        result = http.get(client, URL, source="openrouter", validators=validators, policy=policy)
    return result, sleeps


def test_success_sends_user_agent_and_returns_validators():
    script = Script(httpx.Response(200, content=b"{}", headers={"ETag": '"v1"'}))
    result, sleeps = run(script)
    assert result.content == b"{}" and not result.unchanged
    assert result.validators == http.Validators(etag='"v1"', last_modified=None)
    ua = script.requests[0].headers["User-Agent"]
    assert ua.startswith("RouteLedger/") and ua.endswith("(+https://github.com/routeledger)")
    assert sleeps == []


def test_429_is_retried_and_retry_after_seconds_honoured():
    script = Script(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(200, content=b"ok"),
    )
    result, sleeps = run(script)
    assert result.content == b"ok" and result.attempts == 2
    assert sleeps == [7.0]
    assert len(script.requests) == 2


def test_retry_after_http_date_is_honoured_and_capped():
    in_30s = "Sun, 01 Mar 2026 12:00:30 GMT"
    script = Script(
        httpx.Response(503, headers={"Retry-After": in_30s}),
        httpx.Response(503, headers={"Retry-After": "86400"}),  # a day: capped
        httpx.Response(200, content=b"ok"),
    )
    _, sleeps = run(script)
    assert sleeps == [30.0, http.RetryPolicy().max_retry_after]


def test_5xx_without_retry_after_backs_off_exponentially():
    script = Script(httpx.Response(502), httpx.Response(500), httpx.Response(200, content=b"x"))
    _, sleeps = run(script)
    assert sleeps == [1.0, 2.0]


def test_404_is_terminal_and_not_retried():
    script = Script(httpx.Response(404))
    with pytest.raises(TerminalSourceError) as err:
        run(script)
    assert len(script.requests) == 1
    assert "openrouter" in str(err.value) and URL in str(err.value) and "404" in str(err.value)


def test_timeout_becomes_transient_after_n_attempts():
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(TransientSourceError) as err:
        run(script, attempts=3)
    assert len(script.requests) == 3
    assert "3 attempts" in str(err.value) and URL in str(err.value)


def test_connection_error_then_success():
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, content=b"ok"))
    result, sleeps = run(script)
    assert result.content == b"ok" and sleeps == [1.0]


def test_persistent_429_is_transient():
    script = Script(httpx.Response(429))
    with pytest.raises(TransientSourceError, match="HTTP 429 after 2 attempts"):
        run(script, attempts=2)


def test_conditional_request_and_304_means_unchanged():
    stored = http.Validators(etag='"abc"', last_modified="Sat, 28 Feb 2026 10:00:00 GMT")
    script = Script(httpx.Response(304))
    result, _ = run(script, validators=stored)
    sent = script.requests[0].headers
    assert sent["If-None-Match"] == '"abc"'
    assert sent["If-Modified-Since"] == "Sat, 28 Feb 2026 10:00:00 GMT"
    assert result.unchanged and result.content == b""
    assert result.validators == stored


def test_no_conditional_headers_without_validators():
    script = Script(httpx.Response(200, content=b"x"))
    run(script)
    assert "If-None-Match" not in script.requests[0].headers
    assert "If-Modified-Since" not in script.requests[0].headers


def test_oversized_body_is_terminal():
    script = Script(httpx.Response(200, content=b"x" * 100))
    policy = http.RetryPolicy(max_body_bytes=10, sleep=lambda _: None)
    with http.create_client(httpx.MockTransport(script)) as client:
        with pytest.raises(TerminalSourceError, match="exceeds 10|larger than 10"):
            http.get(client, URL, source="litellm", policy=policy)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("Sun, 01 Mar 2026 12:01:00 GMT", 60.0),
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    assert http.parse_retry_after(value, NOW) == expected
