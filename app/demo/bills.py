"""The demo's provider bills: OpenAI's and Anthropic's cost and usage exports for the demo's
days, written in the providers' own formats under ``<home>/bills/`` and imported like any
export (:func:`collectors.bills.api.import_files`), so the Reconciliation page, the weekly
report and the drift alerts have bills to show against the demo's spend.

They are the providers' truth as the demo tells it: per UTC day, model and token class, the
cost RouteLedger recomputes from the demo's own attempts (``bill_gateway_days``), with these
deliberate discrepancies, each one an origin the reconciliation names:

* **OpenAI does not bill failed attempts** (timeouts, server errors) that the default billing
  policy counts at their usage: each day's bill is short by the failed attempts' cost, spread
  over the model's token classes (origin ``failed_not_billed``);
* **Anthropic bills cache reads at the full input price** on the days from
  :data:`CACHE_MISS_FROM_DAY` on (a cache that stopped hitting; origin ``cache_tokens``);
* **Anthropic bills a model the gateway never logged**: ``claude-opus-4-1`` used from the
  Console's Workbench on :data:`BILL_ONLY_DAYS` (origin ``bill_only``).

OpenAI's bill is ``/v1/organization/costs`` pages grouped by ``line_item`` and
``/v1/organization/usage/completions`` pages grouped by model; Anthropic's the cost report
grouped by description (amounts in cents as decimal strings) and the messages usage report
grouped by model: seven daily buckets a page, as the APIs page them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from collectors.bills import api
from collectors.config import Config
from collectors.warehouse import Warehouse

PROVIDERS = ("openai", "anthropic")
CACHE_MISS_FROM_DAY = 20  # the window's day (0-based) from which Anthropic's cache reads miss
BILL_ONLY_DAYS = (3, 4, 11)  # window days with Console use of a model the gateway never saw
BILL_ONLY = ("claude-opus-4-1-20250805", Decimal("4.125"), Decimal("12.80"))  # model, in, out $
PAGE_DAYS = 7
SNAPSHOTS = {
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "claude-sonnet-4-5": "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5": "claude-haiku-4-5-20251001",
    "claude-3-haiku": "claude-3-haiku-20240307",
}
OPENAI_ITEMS = {"input": "input", "cached_input": "cached input", "output": "output"}
ANTHROPIC_TYPES = {
    "input": ("uncached_input_tokens", "Input Tokens"),
    "cached_input": ("cache_read_input_tokens", "Cache Read Input Tokens"),
    "cache_write_5m": ("cache_creation.ephemeral_5m_input_tokens", "Cache Write (5m) Tokens"),
    "cache_write_1h": ("cache_creation.ephemeral_1h_input_tokens", "Cache Write (1h) Tokens"),
    "output": ("output_tokens", "Output Tokens"),
}
CLASSES = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output")
NANO = Decimal("0.000000001")

_GATEWAY_SQL = """
SELECT utc_day, provider, model,
    sum(tokens_input), sum(tokens_cached_input), sum(tokens_cache_write_5m),
    sum(tokens_cache_write_1h), sum(tokens_output),
    sum(usd_input), sum(usd_cached_input), sum(usd_cache_write_5m), sum(usd_cache_write_1h),
    sum(usd_output), sum(usd_other), sum(recomputed_usd), sum(failed_usd),
    sum(cache_read_full_usd), sum(attempts)
FROM bill_gateway_days
WHERE provider IN ('openai', 'anthropic')
GROUP BY utc_day, provider, model
ORDER BY utc_day, provider, model
"""

Day = dict[str, Any]


def _truth(rows: list[tuple[Any, ...]]) -> dict[str, dict[date, list[Day]]]:
    """Per provider and UTC day, each model's billed tokens and dollars per token class."""
    out: dict[str, dict[date, list[Day]]] = {p: defaultdict(list) for p in PROVIDERS}
    first = min((r[0] for r in rows), default=None)
    for r in rows:
        day, provider, model = r[0], r[1], r[2]
        tokens = dict(zip(CLASSES, (int(x or 0) for x in r[3:8]), strict=True))
        usd = dict(zip(CLASSES, (Decimal(x or 0) for x in r[8:13]), strict=True))
        usd["output"] += Decimal(r[13] or 0)  # per-request fees and what was not split
        recomputed, failed, full_cache = (Decimal(x or 0) for x in r[14:17])
        if provider == "openai" and recomputed > 0 and failed > 0:
            kept = (recomputed - failed) / recomputed  # failed attempts are not billed
            usd = {k: v * kept for k, v in usd.items()}
        if (
            provider == "anthropic"
            and first is not None
            and (day - first).days >= CACHE_MISS_FROM_DAY
        ):
            usd["cached_input"] = full_cache  # cache reads billed as fresh input
        out[provider][day].append({"model": model, "tokens": tokens, "usd": usd})
    anthropic_days = sorted(out["anthropic"])
    for i in BILL_ONLY_DAYS:
        if i < len(anthropic_days):
            name, cost_in, cost_out = BILL_ONLY
            out["anthropic"][anthropic_days[i]].append(
                {
                    "model": name,
                    "tokens": {"input": 275_000, "output": 170_667},
                    "usd": {"input": cost_in, "output": cost_out},
                }
            )
    return out


def _snapshot(model: str) -> str:
    return SNAPSHOTS.get(model, model)


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(0), UTC).timestamp())


def _rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _pages(days: list[date]) -> list[list[date]]:
    return [days[i : i + PAGE_DAYS] for i in range(0, len(days), PAGE_DAYS)]


def _openai(days: dict[date, list[Day]], folder: Path) -> list[Path]:
    files = []
    pages = _pages(sorted(days))
    for n, page in enumerate(pages, 1):
        more = n < len(pages)
        cursor = f"page_demo{n + 1:04d}" if more else None
        costs, usage = [], []
        for day in page:
            start, end = _epoch(day), _epoch(day + timedelta(days=1))
            results, used = [], []
            for m in days[day]:
                name = _snapshot(m["model"])
                for cls, item in OPENAI_ITEMS.items():
                    amount = m["usd"].get(cls, Decimal(0)).quantize(NANO)
                    if amount:
                        results.append(
                            {
                                "object": "organization.costs.result",
                                "amount": {"value": amount, "currency": "usd"},
                                "line_item": f"{name}, {item}",
                                "project_id": "proj_demo",
                                "api_key_id": None,
                                "quantity": None,
                            }
                        )
                t = m["tokens"]
                used.append(
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": t.get("input", 0) + t.get("cached_input", 0),
                        "output_tokens": t.get("output", 0),
                        "input_cached_tokens": t.get("cached_input", 0),
                        "num_model_requests": None,
                        "project_id": None,
                        "model": name,
                        "batch": None,
                    }
                )
            bucket = {"object": "bucket", "start_time": start, "end_time": end}
            costs.append({**bucket, "results": results})
            usage.append({**bucket, "results": used})
        for kind, data in (("costs", costs), ("usage", usage)):
            doc = {"object": "page", "data": data, "has_more": more, "next_page": cursor}
            path = folder / f"openai-{kind}-page-{n:02d}.json"
            path.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
            files.append(path)
    return files


def _anthropic(days: dict[date, list[Day]], folder: Path) -> list[Path]:
    files = []
    pages = _pages(sorted(days))
    for n, page in enumerate(pages, 1):
        more = n < len(pages)
        cursor = f"page_demo{n + 1:04d}" if more else None
        costs, usage = [], []
        for day in page:
            bucket = {"starting_at": _rfc3339(day), "ending_at": _rfc3339(day + timedelta(days=1))}
            results, used = [], []
            for m in days[day]:
                name = _snapshot(m["model"])
                for cls, (token_type, words) in ANTHROPIC_TYPES.items():
                    amount = m["usd"].get(cls, Decimal(0))
                    if amount:
                        results.append(
                            {
                                "amount": str((amount * 100).quantize(NANO)),  # cents
                                "context_window": "0-200k",
                                "cost_type": "tokens",
                                "currency": "USD",
                                "description": f"{name} Usage - {words}",
                                "model": name,
                                "service_tier": "standard",
                                "token_type": token_type,
                                "workspace_id": None,
                            }
                        )
                t = m["tokens"]
                used.append(
                    {
                        "uncached_input_tokens": t.get("input", 0),
                        "cache_creation": {
                            "ephemeral_1h_input_tokens": t.get("cache_write_1h", 0),
                            "ephemeral_5m_input_tokens": t.get("cache_write_5m", 0),
                        },
                        "cache_read_input_tokens": t.get("cached_input", 0),
                        "output_tokens": t.get("output", 0),
                        "server_tool_use": {"web_search_requests": 0},
                        "model": name,
                        "service_tier": "standard",
                        "context_window": "0-200k",
                    }
                )
            costs.append({**bucket, "results": results})
            usage.append({**bucket, "results": used})
        for kind, data in (("cost-report", costs), ("usage-report", usage)):
            doc = {"data": data, "has_more": more, "next_page": cursor}
            path = folder / f"anthropic-{kind}-page-{n:02d}.json"
            path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
            files.append(path)
    return files


def record(cfg: Config, now: datetime | None = None) -> dict[str, Any]:
    """Write the demo's bills under ``<home>/bills/`` and import them: the import's summary.
    Call it once the demo's logs are ingested (the bills follow the attempts)."""
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        rows = con.execute(_GATEWAY_SQL).fetchall()
    truth = _truth(rows)
    folder = cfg.home / "bills"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    files = _openai(truth["openai"], folder) + _anthropic(truth["anthropic"], folder)
    return api.import_files(cfg, sorted(files), now=now)
