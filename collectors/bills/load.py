"""Exports → ``provider_bills``: which export a file is, its parse, and its landing as one import.

An import lands whole UTC days. For each (provider, kind, day) of an export, the lines are
compared with the bill in force for that day (``stg_bills__lines``, the latest import of it):
the same lines with the same figures are *unchanged* and nothing is written, anything else is
written as the new bill of that day, which replaces the old one. So importing an export again,
or exports whose days overlap, never counts a day twice, and a corrected export replaces the
days it covers. Quarantined rows go to ``raw_quarantine`` (source ``bills:<format>``) with the
import as their load, once per (file, line, reason).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from collectors.bills import anthropic, openai
from collectors.bills.common import BadLine, BillLine, Parsed
from collectors.errors import InputError
from collectors.warehouse import Warehouse, transaction
from collectors.warehouse.migrate import ensure_tables

log = logging.getLogger(__name__)

FORMATS = (
    "openai-costs",
    "openai-usage",
    "openai-costs-csv",
    "anthropic-cost",
    "anthropic-usage",
    "anthropic-cost-csv",
)
MAX_FILE_BYTES = 64 * 1024 * 1024
NANO = Decimal("0.000000001")
_INSERT = (
    "INSERT INTO provider_bills (import_id, imported_at, line_key, provider, kind, export_format, "
    "day, project, model, billed_model, token_class, line_item, service_tier, amount_usd, tokens, "
    "requests, empty_day, source_file, source_line) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def read_json(content: bytes) -> Any:
    """JSON with every number as an exact Decimal (an amount is never a float)."""
    try:
        return json.loads(content.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        why = f"not JSON ({type(e).__name__}): truncated or not an export"
        raise BadLine("invalid_json", why) from None


def detect(content: bytes, name: str) -> str:
    """Which export ``content`` is (:data:`FORMATS`); InputError naming what was found."""
    head = content[:4096].decode("utf-8-sig", errors="replace").lstrip()
    if not head.startswith(("{", "[")):
        header = next(csv.reader(io.StringIO(head)), [])
        if openai.is_costs_csv(header):
            return "openai-costs-csv"
        if anthropic.is_cost_csv(header):
            return "anthropic-cost-csv"
        shown = ", ".join(h.strip()[:30] for h in header[:8])
        raise InputError(
            f"{name}: not a provider export this knows (CSV columns: {shown}); expected "
            "OpenAI's cost CSV (amount_value, amount_currency, ...) or Anthropic's "
            "(usage_date_utc, cost_usd, ...)"
        )
    try:
        doc = read_json(content)
    except BadLine:
        return _guess_from_name(name)
    data = doc.get("data") if isinstance(doc, dict) else None
    for bucket in data if isinstance(data, list) else []:
        results = bucket.get("results", bucket.get("result")) if isinstance(bucket, dict) else None
        for r in results if isinstance(results, list) else []:
            if not isinstance(r, dict):
                continue
            kind = str(r.get("object", ""))
            if kind == "organization.costs.result":
                return "openai-costs"
            if kind.startswith("organization.usage.completions"):
                return "openai-usage"
            if "amount" in r and isinstance(r["amount"], str):
                return "anthropic-cost"
            if "uncached_input_tokens" in r:
                return "anthropic-usage"
    return _guess_from_name(name)


def _guess_from_name(name: str) -> str:
    """An export with no result to tell it by (empty, or not JSON): by its file name."""
    low = Path(name).name.lower()
    for fmt in FORMATS:
        if fmt in low:
            return fmt
    raise InputError(
        f"{name}: cannot tell which export this is (no result in it); name it with "
        f"--format ({', '.join(FORMATS)})"
    )


def parse(content: bytes, fmt: str, source_file: str) -> Parsed:
    """One export's content in the format ``fmt``: its lines and quarantined rows. A JSON file
    that cannot be read is one quarantined row (``invalid_json``) and no line."""
    provider = fmt.split("-", 1)[0]
    kind = "usage" if fmt.endswith("usage") else "cost"
    if fmt.endswith("-csv"):
        text = content.decode("utf-8-sig", errors="replace")
        if fmt == "openai-costs-csv":
            return openai.parse_costs_csv(text, source_file)
        return anthropic.parse_cost_csv(text, source_file)
    try:
        doc = read_json(content)
        parsers = {
            "openai-costs": openai.parse_costs,
            "openai-usage": openai.parse_usage,
            "anthropic-cost": anthropic.parse_cost,
            "anthropic-usage": anthropic.parse_usage,
        }
        return parsers[fmt](doc, source_file)
    except BadLine as bad:
        if bad.reason == "not_an_export":
            raise InputError(f"{source_file}: {bad.detail}") from None
        out = Parsed(fmt, provider, kind, source_file)
        out.quarantine(0, bad, content[:200])
        return out


@dataclass
class Landed:
    """What one export did to the warehouse."""

    source_file: str
    export_format: str
    provider: str
    kind: str
    lines: int = 0
    days: list[date] = field(default_factory=list)
    days_replaced: int = 0
    days_unchanged: int = 0
    duplicates: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.source_file,
            "format": self.export_format,
            "provider": self.provider,
            "kind": self.kind,
            "lines_loaded": self.lines,
            "days": [d.isoformat() for d in sorted(self.days)],
            "days_replaced": self.days_replaced,
            "days_unchanged": self.days_unchanged,
            "duplicates_skipped": self.duplicates,
            "quarantined": sum(self.quarantined.values()),
            "quarantined_by_reason": dict(sorted(self.quarantined.items())),
            "error": self.error,
        }


def _figures(line: BillLine) -> tuple[str, Decimal | None, int | None, int | None]:
    amount = None if line.amount_usd is None else line.amount_usd.quantize(NANO)
    return (line.line_key, amount, line.tokens, line.requests)


def _in_force(con: duckdb.DuckDBPyConnection, p: Parsed, day: date) -> set[tuple[Any, ...]]:
    rows = con.execute(
        "SELECT line_key, amount_usd, tokens, requests FROM stg_bills__lines "
        "WHERE provider = ? AND kind = ? AND day = ?",
        [p.provider, p.kind, day],
    ).fetchall()
    return {tuple(r) for r in rows}


def land_one(con: duckdb.DuckDBPyConnection, p: Parsed, import_id: str, at: datetime) -> Landed:
    """Land one parsed export in the caller's transaction (see the module)."""
    out = Landed(p.source_file, p.export_format, p.provider, p.kind, duplicates=p.duplicates)
    by_day: dict[date, list[BillLine]] = defaultdict(list)
    for line in p.lines:
        by_day[line.day].append(line)
    out.days = sorted(by_day)
    for day, lines in sorted(by_day.items()):
        if _in_force(con, p, day) == {_figures(line) for line in lines}:
            out.days_unchanged += 1
            continue
        out.days_replaced += 1
        out.lines += len(lines)
        con.executemany(
            _INSERT,
            [
                [
                    import_id,
                    at,
                    line.line_key,
                    line.provider,
                    line.kind,
                    line.export_format,
                    line.day,
                    line.project,
                    line.model,
                    line.billed_model,
                    line.token_class,
                    line.line_item,
                    line.service_tier,
                    _figures(line)[1],
                    line.tokens,
                    line.requests,
                    line.empty_day,
                    p.source_file,
                    line.source_line,
                ]
                for line in lines
            ],  # fmt: skip
        )
    for q in p.quarantined:
        out.quarantined[q.reason] = out.quarantined.get(q.reason, 0) + 1
        seen = con.execute(
            "SELECT count(*) FROM raw_quarantine WHERE source = ? AND source_file = ? "
            "AND source_line = ? AND reason = ?",
            [q.source, q.source_file, q.source_line, q.reason],
        ).fetchall()[0][0]
        if not seen:
            con.execute(
                "INSERT INTO raw_quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    import_id,
                    q.source,
                    q.source_file,
                    q.source_line,
                    q.reason,
                    q.detail,
                    q.raw_excerpt,
                    at,
                ],  # fmt: skip
            )
    return out


def land(wh: Warehouse, exports: list[Parsed], now: datetime | None = None) -> list[Landed]:
    """Land ``exports`` in one transaction, each as its own import."""
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    stamp = at.strftime("%Y%m%dT%H%M%S%f")
    out = []
    with wh.connect() as con:
        ensure_tables(con, ("provider_bills", "raw_quarantine"))
        with transaction(con):
            for i, p in enumerate(exports):
                out.append(land_one(con, p, f"bills-{stamp}-{i:03d}", at))
    for r in out:
        log.info("bills: %s (%s): %d lines, %d days replaced, %d unchanged",
                 r.source_file, r.export_format, r.lines, r.days_replaced, r.days_unchanged)  # fmt: skip
    return out


def read_file(path: Path, fmt: str = "auto") -> Parsed:
    """One export file parsed (its format detected unless given); InputError when it is not
    a file, too large, or not an export this knows."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB; not an export")
    content = path.read_bytes()
    if fmt == "auto":
        fmt = detect(content, str(path))
    elif fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    return parse(content, fmt, str(path))
