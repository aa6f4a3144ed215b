"""Fetching the providers' usage and cost reports with admin keys (I/O only; the parse is
:mod:`collectors.bills.openai` and :mod:`collectors.bills.anthropic`).

=============  ===========================================================================
OpenAI         ``GET {bills.openai_url}/organization/costs`` (``group_by=line_item``) and
               ``/organization/usage/completions`` (``group_by=model``), daily buckets,
               ``Authorization: Bearer`` the key in ``$OPENAI_ADMIN_KEY``
               (``bills.openai_key_env``)
Anthropic      ``GET {bills.anthropic_url}/organizations/cost_report``
               (``group_by[]=description``) and ``/organizations/usage_report/messages``
               (``group_by[]=model``), daily buckets, ``x-api-key`` the key in
               ``$ANTHROPIC_ADMIN_KEY`` (``bills.anthropic_key_env``), ``anthropic-version``
=============  ===========================================================================

Every page goes through :func:`collectors.http.get` (timeouts, retries on 429 and 5xx with
``Retry-After``, a 401 not retried); the next page is asked for with ``page=<next_page>`` while
``has_more``, at most :data:`MAX_PAGES` pages, and a ``next_page`` seen before ends it (a
provider looping on one cursor). The key goes in a header only, never in a URL, a log line or an
error. A provider whose key variable is unset is skipped and says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from collectors.bills.common import Parsed
from collectors.bills.load import parse
from collectors.config import Config
from collectors.errors import SourceError, TerminalSourceError
from collectors.http import RetryPolicy, create_client, get

PROVIDERS = ("openai", "anthropic")
MAX_PAGES = 100
ANTHROPIC_VERSION = "2023-06-01"


@dataclass(frozen=True)
class Endpoint:
    export_format: str
    path: str
    params: tuple[tuple[str, str], ...]


ENDPOINTS: dict[str, tuple[Endpoint, ...]] = {
    "openai": (
        Endpoint("openai-costs", "/organization/costs", (("group_by", "line_item"),)),
        Endpoint("openai-usage", "/organization/usage/completions", (("group_by", "model"),)),
    ),
    "anthropic": (
        Endpoint("anthropic-cost", "/organizations/cost_report", (("group_by[]", "description"),)),
        Endpoint(
            "anthropic-usage", "/organizations/usage_report/messages", (("group_by[]", "model"),)
        ),
    ),
}


@dataclass
class Fetched:
    """One provider's fetch: its exports (pages merged per endpoint), or why there are none."""

    provider: str
    status: str  # ok | failed | skipped
    exports: list[Parsed] = field(default_factory=list)
    pages: int = 0
    error: str | None = None


def key_env(cfg: Config, provider: str) -> str:
    return str(cfg.get(f"bills.{provider}_key_env"))


def _window(provider: str, since: date, until: date) -> list[tuple[str, str]]:
    start = datetime.combine(since, time(0), UTC)
    end = datetime.combine(until + timedelta(days=1), time(0), UTC)
    if provider == "openai":
        days = (until - since).days + 1
        return [
            ("start_time", str(int(start.timestamp()))),
            ("end_time", str(int(end.timestamp()))),
            ("bucket_width", "1d"),
            ("limit", str(min(31, max(1, days)))),
        ]
    return [
        ("starting_at", start.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("ending_at", end.strftime("%Y-%m-%dT%H:%M:%SZ")),
        ("bucket_width", "1d"),
        ("limit", "31"),
    ]


def _headers(provider: str, key: str) -> dict[str, str]:
    if provider == "openai":
        return {"Authorization": f"Bearer {key}"}
    return {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION}


def fetch_endpoint(
    client: httpx.Client,
    base: str,
    provider: str,
    ep: Endpoint,
    since: date,
    until: date,
    policy: RetryPolicy | None = None,
) -> tuple[Parsed, int]:
    """Every page of one endpoint over ``since``..``until`` (UTC days), merged: (export, pages)."""
    params = [*_window(provider, since, until), *ep.params]
    url = f"{base.rstrip('/')}{ep.path}"
    merged: Parsed | None = None
    seen: set[str] = set()
    cursor: str | None = None
    pages = 0
    while True:
        query = params + ([("page", cursor)] if cursor else [])
        page_url = f"{url}?{urlencode(query)}"
        got = get(client, page_url, source=f"bills:{provider}", policy=policy)
        pages += 1
        page = parse(got.content, ep.export_format, f"{url} (page {pages})")
        if merged is None:
            merged = page
            merged.source_file = url
        else:
            merged.merge(page)
        cursor = page.next_page
        if not page.has_more or cursor is None:
            break
        if cursor in seen or pages >= MAX_PAGES:
            raise TerminalSourceError(
                f"bills:{provider}", url, f"pagination did not end after {pages} pages"
            )
        seen.add(cursor)
    merged.dedupe()  # a bucket two pages both held counts once
    return merged, pages


def fetch(
    cfg: Config,
    since: date,
    until: date,
    providers: list[str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> list[Fetched]:
    """Each provider's cost and usage reports for ``since``..``until`` (UTC days)."""
    out = []
    for provider in providers or list(PROVIDERS):
        env = key_env(cfg, provider)
        key = os.environ.get(env, "").strip()
        if not key:
            out.append(Fetched(provider, "skipped", error=f"no admin key in ${env}"))
            continue
        base = str(cfg.get(f"bills.{provider}_url"))
        result = Fetched(provider, "ok")
        with create_client(transport) as client:
            client.headers.update(_headers(provider, key))
            try:
                for ep in ENDPOINTS[provider]:
                    export, pages = fetch_endpoint(client, base, provider, ep, since, until, policy)
                    result.exports.append(export)
                    result.pages += pages
            except SourceError as e:
                result.status, result.error = "failed", str(e).replace(key, "***")
        out.append(result)
    return out


def describe(f: Fetched) -> dict[str, Any]:
    return {
        "provider": f.provider,
        "status": f.status,
        "pages": f.pages,
        "exports": [e.export_format for e in f.exports],
        "error": f.error,
    }
