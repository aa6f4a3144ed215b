"""The one HTTP client of RouteLedger: timeouts, a named user agent, one retry policy.

Every outside source (price APIs, pricing pages) is fetched through :func:`get`:

* a request that fails with 429, a 5xx status, a timeout or a broken connection is retried with
  exponential backoff (``tenacity``); a ``Retry-After`` header (seconds or an HTTP date) is
  honoured up to :attr:`RetryPolicy.max_retry_after`;
* any other 4xx, a redirect loop or an oversized body is not retried;
* stored validators (``ETag`` / ``Last-Modified``) turn into ``If-None-Match`` /
  ``If-Modified-Since``; a ``304`` comes back as :attr:`Fetched.unchanged`.

Failures are mapped onto the error tree of :mod:`collectors.errors`: what was worth retrying and
still failed is a :class:`TransientSourceError`, everything else a :class:`TerminalSourceError`.
Tests inject an ``httpx.MockTransport`` and a no-op ``sleep``; nothing here reads the clock
except through :attr:`RetryPolicy.now`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from collectors.errors import TerminalSourceError, TransientSourceError

log = logging.getLogger(__name__)

__all__ = [
    "USER_AGENT",
    "Fetched",
    "RetryPolicy",
    "Validators",
    "create_client",
    "get",
    "parse_retry_after",
]


def _package_version() -> str:
    try:
        return version("routeledger")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


USER_AGENT = f"RouteLedger/{_package_version()} (+https://github.com/routeledger)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_BODY_BYTES = 32 * 1024 * 1024  # the LiteLLM map is ~3 MB; a page 10x that is not a price page

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Validators:
    """Cache validators stored from the previous successful fetch of a URL."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one successful :func:`get`: a body, or "unchanged since the validators"."""

    url: str
    status: int
    content: bytes  # empty when unchanged
    unchanged: bool
    validators: Validators  # the new validators to store (the old ones again on a 304)
    attempts: int = 1

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard :func:`get` tries. ``sleep`` and ``now`` are injectable for tests."""

    attempts: int = 4
    base_delay: float = 1.0  # seconds; doubles on every retry
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is cut down to this
    max_body_bytes: int = MAX_BODY_BYTES
    sleep: Callable[[float], None] = field(default=time.sleep)
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def create_client(
    transport: httpx.BaseTransport | None = None,
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
) -> httpx.Client:
    """The one ``httpx.Client`` factory. Close it (or use it as a context manager) when done."""
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=5,
    )


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class _Retryable(Exception):
    """Internal: one failed attempt that the policy may retry."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        return min(policy.base_delay * (2 ** (state.attempt_number - 1)), policy.max_delay)

    return wait


def _read_capped(response: httpx.Response, limit: int, source: str, url: str) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TerminalSourceError(source, url, f"response of {declared} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise TerminalSourceError(source, url, f"response larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _attempt(
    client: httpx.Client, url: str, source: str, validators: Validators, policy: RetryPolicy
) -> Fetched:
    try:
        with client.stream("GET", url, headers=validators.headers()) as response:
            status = response.status_code
            if status == 304:
                return Fetched(url, status, b"", True, validators)
            if status in RETRY_STATUSES:
                wait = parse_retry_after(response.headers.get("Retry-After"), policy.now())
                raise _Retryable(f"HTTP {status}", wait)
            if status >= 400:
                raise TerminalSourceError(source, url, f"HTTP {status}; not retried")
            if status >= 300:
                raise TerminalSourceError(source, url, f"unexpected HTTP {status}")
            body = _read_capped(response, policy.max_body_bytes, source, url)
            new = Validators(response.headers.get("ETag"), response.headers.get("Last-Modified"))
            return Fetched(url, status, body, False, new)
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    except httpx.HTTPError as exc:  # bad URL, redirect loop, undecodable body: retrying won't help
        raise TerminalSourceError(source, url, f"{type(exc).__name__}: {exc}") from exc


def get(
    client: httpx.Client,
    url: str,
    *,
    source: str,
    validators: Validators | None = None,
    policy: RetryPolicy | None = None,
) -> Fetched:
    """GET ``url`` for ``source`` under the retry policy.

    Returns the body with its new validators, or ``unchanged=True`` on a 304.
    Raises :class:`TransientSourceError` when every attempt failed for a retryable reason and
    :class:`TerminalSourceError` for anything retrying cannot fix.
    """
    policy = policy or RetryPolicy()
    validators = validators or Validators()
    retrying = Retrying(
        stop=stop_after_attempt(max(1, policy.attempts)),
        wait=_wait(policy),
        retry=retry_if_exception_type(_Retryable),
        sleep=policy.sleep,
        reraise=True,
        before_sleep=lambda s: log.info(
            "%s: attempt %d failed (%s), retrying",
            source,
            s.attempt_number,
            s.outcome.exception() if s.outcome else "?",
        ),
    )
    try:
        fetched: Fetched = retrying(_attempt, client, url, source, validators, policy)
    except _Retryable as exc:
        raise TransientSourceError(
            source, url, f"{exc.reason} after {policy.attempts} attempts; will retry next refresh"
        ) from exc
    attempts = retrying.statistics.get("attempt_number", 1)
    return Fetched(
        fetched.url,
        fetched.status,
        fetched.content,
        fetched.unchanged,
        fetched.validators,
        attempts,
    )
