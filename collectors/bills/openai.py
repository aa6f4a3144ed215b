"""OpenAI's usage and cost exports → bill lines (pure; the fetch is :mod:`collectors.bills.fetch`).

* ``openai-costs``: a page of ``GET /v1/organization/costs`` (``bucket_width=1d``): buckets
  (``start_time``/``end_time``, Unix seconds, one UTC day) of ``organization.costs.result``
  with ``amount: {value, currency}`` in dollars (a JSON number, read exactly), and with
  ``group_by=line_item`` a ``line_item`` such as ``"gpt-4o-2024-08-06, input"`` (the model,
  then what was billed: input, cached input, output), with ``group_by=project_id`` a project.
* ``openai-usage``: a page of ``GET /v1/organization/usage/completions``: tokens per bucket,
  ``input_tokens`` including ``input_cached_tokens`` (so the uncached input is their
  difference), ``output_tokens``, ``num_model_requests``; with ``group_by=model`` a model.
* ``openai-costs-csv``: the cost export of the platform's Usage page, one row per day (and
  line item / project): ``start_time, end_time, start_time_iso, end_time_iso, amount_value,
  amount_currency, line_item, project_id, organization_id, organization_name``; a day with
  nothing billed has empty cells.

An empty bucket is a day billed $0 (one ``empty_day`` line), so a day the bill covers is known.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from collectors.bills.common import (
    BadLine,
    BillLine,
    Parsed,
    api_buckets,
    bucket_results,
    count,
    day_of_epoch,
    model_of,
    money,
    page_cursor,
    text,
    usd,
)

PROVIDER = "openai"
COST_CSV_COLUMNS = ("start_time", "end_time", "amount_value", "amount_currency", "line_item")
_CLASSES = {
    "input": "input",
    "cached input": "cached_input",
    "input cached": "cached_input",
    "output": "output",
}


def line_item(value: Any) -> tuple[str | None, str | None, str | None]:
    """``"gpt-4o-2024-08-06, input"`` -> (model, token class, the item); an item that names no
    model and token kind (``"web search tool calls"``) is (None, 'other', item)."""
    item = text(value, "line_item")
    if item is None:
        return None, None, None
    head, sep, tail = item.rpartition(",")
    cls = _CLASSES.get(tail.strip().lower()) if sep else None
    if cls is None or not head.strip():
        return None, "other", item
    return head.strip(), cls, item


def buckets(doc: Any) -> list[dict[str, Any]]:
    return api_buckets(doc, "an OpenAI usage or costs page")


def _day(bucket: dict[str, Any]) -> date:
    return day_of_epoch(bucket.get("start_time"), bucket.get("end_time"))


def _results(bucket: dict[str, Any]) -> list[Any]:
    res = bucket.get("results", bucket.get("result"))  # the reference's schema says "result"
    return res if isinstance(res, list) else []


def parse_costs(doc: Any, source_file: str) -> Parsed:
    """One page of ``/v1/organization/costs`` (JSON already read with Decimal numbers)."""
    out = Parsed("openai-costs", PROVIDER, "cost", source_file)
    for n, day, r in bucket_results(out, buckets(doc), _day, _results):
        try:
            if not isinstance(r, dict):
                raise BadLine("bad_amount", "a result that is not an object")
            amount = r.get("amount")
            if not isinstance(amount, dict):
                raise BadLine("bad_amount", "a result without an amount object")
            usd(amount.get("currency"))
            billed, cls, item = line_item(r.get("line_item"))
            model, billed = model_of(PROVIDER, billed)
            out.lines.append(
                BillLine(
                    PROVIDER,
                    "cost",
                    out.export_format,
                    day,
                    n,
                    project=text(r.get("project_id"), "project_id"),
                    model=model,
                    billed_model=billed,
                    token_class=cls,
                    line_item=item,
                    amount_usd=money(amount.get("value")),
                    tokens=count(r.get("quantity"), "quantity"),
                )
            )
        except BadLine as bad:
            out.quarantine(n, bad, r)
    page_cursor(doc, out)
    out.dedupe()
    return out


def parse_usage(doc: Any, source_file: str) -> Parsed:
    """One page of ``/v1/organization/usage/completions``: one line per token class."""
    out = Parsed("openai-usage", PROVIDER, "usage", source_file)
    for n, day, r in bucket_results(out, buckets(doc), _day, _results):
        try:
            if not isinstance(r, dict):
                raise BadLine("bad_tokens", "a result that is not an object")
            model, billed = model_of(PROVIDER, r.get("model"))
            total_in = count(r.get("input_tokens"), "input_tokens") or 0
            cached = count(r.get("input_cached_tokens"), "input_cached_tokens") or 0
            if cached > total_in:
                raise BadLine("bad_tokens", f"{cached} cached of {total_in} input tokens")
            common: dict[str, Any] = {
                "project": text(r.get("project_id"), "project_id"),
                "model": model,
                "billed_model": billed,
                "service_tier": text(r.get("service_tier"), "service_tier"),
                "detail": "batch" if r.get("batch") is True else "",
            }
            requests = count(r.get("num_model_requests"), "num_model_requests")
            for cls, tokens in (
                ("input", total_in - cached),
                ("cached_input", cached),
                ("output", count(r.get("output_tokens"), "output_tokens") or 0),
            ):
                out.lines.append(
                    BillLine(
                        PROVIDER,
                        "usage",
                        out.export_format,
                        day,
                        n,
                        token_class=cls,
                        tokens=tokens,
                        requests=requests if cls == "input" else None,
                        **common,
                    )  # fmt: skip
                )
        except BadLine as bad:
            out.quarantine(n, bad, r)
    page_cursor(doc, out)
    out.dedupe()
    return out


def _epoch(value: str | None) -> int:
    raw = (value or "").strip()
    if not raw.isdigit():
        raise BadLine("bad_day", f"bucket time {raw[:30]!r} is not Unix seconds")
    return int(raw)


def is_costs_csv(header: list[str]) -> bool:
    return {"amount_value", "amount_currency", "start_time"} <= {h.strip() for h in header}


def parse_costs_csv(content: str, source_file: str) -> Parsed:
    """The Usage page's cost export (CSV with a header; see the module)."""
    out = Parsed("openai-costs-csv", PROVIDER, "cost", source_file)
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
            day = day_of_epoch(_epoch(r.get("start_time")), _epoch(r.get("end_time")))
            if not (r.get("amount_value") or "").strip():
                out.lines.append(BillLine(PROVIDER, "cost", out.export_format, day, line,
                                          empty_day=True, amount_usd=money(0)))  # fmt: skip
                continue
            usd(r.get("amount_currency"))
            billed, cls, item = line_item(r.get("line_item"))
            model, billed = model_of(PROVIDER, billed)
            out.lines.append(
                BillLine(
                    PROVIDER,
                    "cost",
                    out.export_format,
                    day,
                    line,
                    project=text(r.get("project_id"), "project_id"),
                    model=model,
                    billed_model=billed,
                    token_class=cls,
                    line_item=item,
                    amount_usd=money(r.get("amount_value")),
                )
            )
        except BadLine as bad:
            out.quarantine(line, bad, ",".join(row))
    out.dedupe()
    return out
