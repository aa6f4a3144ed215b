"""Anthropic's usage and cost exports → bill lines (pure; the fetch is :mod:`collectors.bills.fetch`).

* ``anthropic-cost``: a page of the Admin API's ``GET /v1/organizations/cost_report``
  (``bucket_width=1d``): buckets (``starting_at``/``ending_at``, RFC 3339, one UTC day) of
  results whose ``amount`` is a decimal string in the currency's lowest unit: **cents**
  (``"123.45"`` USD is $1.2345), with ``group_by[]=description`` the ``model``, ``cost_type``
  (tokens, web_search, code_execution, ...) and ``token_type`` (``uncached_input_tokens``,
  ``output_tokens``, ``cache_read_input_tokens``, ``cache_creation.ephemeral_5m_input_tokens``,
  ``cache_creation.ephemeral_1h_input_tokens``), with ``group_by[]=workspace_id`` a workspace.
  Pages go on while ``has_more``, from ``next_page``.
* ``anthropic-usage``: a page of ``GET /v1/organizations/usage_report/messages``: tokens per
  bucket (``uncached_input_tokens``, ``cache_creation.ephemeral_{5m,1h}_input_tokens``,
  ``cache_read_input_tokens``, ``output_tokens``), with ``group_by[]=model`` a model.
* ``anthropic-cost-csv``: the Console's cost export: ``usage_date_utc, model, workspace,
  api_key, usage_type, context_window, token_type, cost_usd, list_price_usd, cost_type, ...``
  with ``cost_usd`` in **dollars** and ``model`` a display name ("Claude Haiku 4.5").
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from collectors.bills.common import (
    BadLine,
    BillLine,
    Parsed,
    api_buckets,
    bucket_results,
    count,
    day_of_rfc3339,
    day_of_text,
    model_of,
    money,
    page_cursor,
    text,
    usd,
)

PROVIDER = "anthropic"
CENTS = Decimal(100)
COST_CSV_COLUMNS = ("usage_date_utc", "cost_usd")
TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cached_input",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
    # the Console's cost CSV
    "input_no_cache": "input",
    "input": "input",
    "output": "output",
    "input_cache_read": "cached_input",
    "input_cache_write_5m": "cache_write_5m",
    "input_cache_write_1h": "cache_write_1h",
    "input_cache_write": "cache_write_5m",
}


def token_class(token_type: Any, cost_type: Any) -> str | None:
    """The bill's token class: the token type's; 'other' for a cost that is not tokens (web
    search, code execution) or a token type not known here; None when the export did not say."""
    kind = text(token_type, "token_type")
    cost = text(cost_type, "cost_type")
    if kind is None:
        return "other" if cost not in (None, "tokens", "token") else None
    return TOKEN_TYPES.get(kind, "other")


def buckets(doc: Any) -> list[dict[str, Any]]:
    return api_buckets(doc, "an Anthropic usage or cost report")


def _day(bucket: dict[str, Any]) -> date:
    return day_of_rfc3339(bucket.get("starting_at"), bucket.get("ending_at"))


def _results(bucket: dict[str, Any]) -> list[Any]:
    res = bucket.get("results")
    return res if isinstance(res, list) else []


def parse_cost(doc: Any, source_file: str) -> Parsed:
    """One page of ``/v1/organizations/cost_report`` (amounts in cents, see the module)."""
    out = Parsed("anthropic-cost", PROVIDER, "cost", source_file)
    for n, day, r in bucket_results(out, buckets(doc), _day, _results):
        try:
            if not isinstance(r, dict):
                raise BadLine("bad_amount", "a result that is not an object")
            usd(r.get("currency"))
            if not isinstance(r.get("amount"), str):
                raise BadLine("bad_amount", "amount is not a decimal string of cents")
            cents = money(r.get("amount"), "amount (cents)")
            model, billed = model_of(PROVIDER, r.get("model"))
            detail = "|".join(
                str(text(r.get(k), k) or "") for k in ("context_window", "inference_geo")
            )
            out.lines.append(
                BillLine(
                    PROVIDER,
                    "cost",
                    out.export_format,
                    day,
                    n,
                    project=text(r.get("workspace_id"), "workspace_id"),
                    model=model,
                    billed_model=billed,
                    token_class=token_class(r.get("token_type"), r.get("cost_type")),
                    line_item=text(r.get("description"), "description"),
                    service_tier=text(r.get("service_tier"), "service_tier"),
                    amount_usd=cents / CENTS,
                    detail=detail.strip("|"),
                )
            )
        except BadLine as bad:
            out.quarantine(n, bad, r)
    page_cursor(doc, out)
    out.dedupe()
    return out


def parse_usage(doc: Any, source_file: str) -> Parsed:
    """One page of ``/v1/organizations/usage_report/messages``: one line per token class."""
    out = Parsed("anthropic-usage", PROVIDER, "usage", source_file)
    for n, day, r in bucket_results(out, buckets(doc), _day, _results):
        try:
            if not isinstance(r, dict):
                raise BadLine("bad_tokens", "a result that is not an object")
            creation = r.get("cache_creation") or {}
            if not isinstance(creation, dict):
                raise BadLine("bad_tokens", "cache_creation is not an object")
            model, billed = model_of(PROVIDER, r.get("model"))
            common: dict[str, Any] = {
                "project": text(r.get("workspace_id"), "workspace_id"),
                "model": model,
                "billed_model": billed,
                "service_tier": text(r.get("service_tier"), "service_tier"),
                "detail": "|".join(
                    str(text(r.get(k), k) or "")
                    for k in ("api_key_id", "context_window", "inference_geo")
                ).strip("|"),
            }
            counts = (
                ("input", r.get("uncached_input_tokens")),
                ("cached_input", r.get("cache_read_input_tokens")),
                ("cache_write_5m", creation.get("ephemeral_5m_input_tokens")),
                ("cache_write_1h", creation.get("ephemeral_1h_input_tokens")),
                ("output", r.get("output_tokens")),
            )
            checked = [(cls, count(v, cls) or 0) for cls, v in counts]
            for cls, tokens in checked:
                out.lines.append(
                    BillLine(
                        PROVIDER,
                        "usage",
                        out.export_format,
                        day,
                        n,
                        token_class=cls,
                        tokens=tokens,
                        **common,
                    )  # fmt: skip
                )
        except BadLine as bad:
            out.quarantine(n, bad, r)
    page_cursor(doc, out)
    out.dedupe()
    return out


def is_cost_csv(header: list[str]) -> bool:
    return {"usage_date_utc", "cost_usd"} <= {h.strip() for h in header}


def parse_cost_csv(content: str, source_file: str) -> Parsed:
    """The Console's cost export (CSV with a header; dollars; see the module)."""
    out = Parsed("anthropic-cost-csv", PROVIDER, "cost", source_file)
    reader = csv.reader(io.StringIO(content))
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        try:
            if len(row) < len(header):
                raise BadLine("truncated_row", f"{len(row)} cells, the header has {len(header)}")
            r = dict(zip(header, row, strict=False))
            day = day_of_text(r.get("usage_date_utc"))
            if (r.get("currency") or "USD").strip().upper() != "USD":
                usd(r.get("currency"))
            model, billed = model_of(PROVIDER, r.get("model"))
            detail = "|".join(
                str(text(r.get(k), k) or "")
                for k in ("api_key_id", "api_key", "usage_type", "context_window", "inference_geo")
            )
            out.lines.append(
                BillLine(
                    PROVIDER,
                    "cost",
                    out.export_format,
                    day,
                    line,
                    project=text(r.get("workspace"), "workspace"),
                    model=model,
                    billed_model=billed,
                    token_class=token_class(r.get("token_type"), r.get("cost_type")),
                    line_item=text(r.get("token_type") or r.get("cost_type"), "token_type"),
                    amount_usd=money(r.get("cost_usd"), "cost_usd"),
                    detail=detail.strip("|"),
                )
            )
        except BadLine as bad:
            out.quarantine(line, bad, ",".join(row))
    out.dedupe()
    return out
