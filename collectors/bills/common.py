"""What every bill parser shares: the bill line, exact money, UTC days, checks that send a bad
line to the quarantine with its reason, and the parse result.

Money is :class:`~decimal.Decimal` from the text the export wrote (JSON numbers are read with
``parse_float=Decimal``), never a float. A line that fails a check is a
:class:`~collectors.records.Quarantined` row with a stable reason code:

``invalid_json``           the file is not JSON (a truncated download): nothing of it is loaded
``not_daily``              a bucket that is not one whole UTC day
``bad_day``                no usable bucket start or date
``bad_amount``             an amount that is not a finite decimal number of sensible size
``negative_amount``        an amount below zero (a credit: the bills reconciled are usage cost)
``not_usd``                a currency other than USD
``bad_tokens``             a token or request count that is not a whole number >= 0
``bad_model``              a model name too long or with characters no model name has
``truncated_row``          a CSV row with fewer cells than its header
``conflicting_duplicate``  the same line twice in one export with different figures
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from collectors.prices import naming
from collectors.records import Quarantined
from collectors.redact import excerpt

TOKEN_CLASSES = ("input", "cached_input", "cache_write_5m", "cache_write_1h", "output", "other")
KINDS = ("cost", "usage")
MAX_AMOUNT = Decimal("1000000000")  # a billion dollars a line: beyond is a broken export
MAX_TOKENS = 10**15
_MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/@()+\-]{0,199}$")
_TEXT_MAX = 200


class BadLine(ValueError):
    """One line that cannot be a bill line: its quarantine reason and a one-line detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class BillLine:
    """One line of a provider's export (see ``sql/raw/provider_bills.sql``)."""

    provider: str
    kind: str  # cost | usage
    export_format: str
    day: date  # UTC
    source_line: int
    project: str | None = None
    model: str | None = None  # canonical, no dated snapshot
    billed_model: str | None = None  # as the export wrote it
    token_class: str | None = None
    line_item: str | None = None
    service_tier: str | None = None
    amount_usd: Decimal | None = None
    tokens: int | None = None
    requests: int | None = None
    empty_day: bool = False
    detail: str = ""  # what else tells two lines apart (context window, cost type)

    @property
    def line_key(self) -> str:
        """What makes this line one line of its day: the same line in another page or another
        import of the same export has the same key."""
        parts = (
            self.provider,
            self.kind,
            self.day.isoformat(),
            self.project or "",
            self.billed_model or "",
            self.token_class or "",
            self.line_item or "",
            self.service_tier or "",
            self.detail,
            "empty" if self.empty_day else "",
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    @property
    def figures(self) -> tuple[Decimal | None, int | None, int | None]:
        return (self.amount_usd, self.tokens, self.requests)


@dataclass
class Parsed:
    """One export parsed: its lines, its quarantined rows, and for an API page where the next
    page is (``next_page`` when ``has_more``)."""

    export_format: str
    provider: str
    kind: str
    source_file: str
    lines: list[BillLine] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    duplicates: int = 0
    has_more: bool = False
    next_page: str | None = None

    def quarantine(self, line: int, bad: BadLine, raw: Any = "") -> None:
        self.quarantined.append(
            Quarantined(
                f"bills:{self.export_format}",
                self.source_file,
                line,
                bad.reason,
                bad.detail[:300],
                excerpt(raw if isinstance(raw, str | bytes) else repr(raw)),
            )
        )

    def dedupe(self) -> None:
        """Drop repeated lines (overlapping pages): identical ones counted in ``duplicates``,
        conflicting ones quarantined (the first is kept)."""
        seen: dict[str, BillLine] = {}
        kept: list[BillLine] = []
        for line in self.lines:
            key = line.line_key
            first = seen.get(key)
            if first is None:
                seen[key] = line
                kept.append(line)
            elif first.figures == line.figures:
                self.duplicates += 1
            else:
                self.quarantine(
                    line.source_line,
                    BadLine(
                        "conflicting_duplicate",
                        f"{line.day} {line.line_item or line.billed_model or ''}: figures "
                        f"{line.figures} differ from line {first.source_line}'s {first.figures}",
                    ),
                )
        self.lines = kept

    def merge(self, other: Parsed) -> None:
        """Another page of the same export."""
        self.lines += other.lines
        self.quarantined += other.quarantined
        self.duplicates += other.duplicates

    @property
    def days(self) -> set[date]:
        return {line.day for line in self.lines}


# -- checks ---------------------------------------------------------------------------------------


def money(value: Any, what: str = "amount") -> Decimal:
    """An exact, finite, non-negative amount from the export's text or JSON number."""
    if isinstance(value, bool) or value is None:
        raise BadLine("bad_amount", f"{what} is {value!r}, not a number")
    if isinstance(value, float):  # never: JSON is read with parse_float=Decimal
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadLine("bad_amount", f"{what} {str(value)[:40]!r} is not a number") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise BadLine("bad_amount", f"{what} {str(value)[:40]!r} is not a sensible amount")
    if amount < 0:
        raise BadLine("negative_amount", f"{what} {amount} is below zero (a credit?)")
    return amount


def usd(currency: Any) -> None:
    if not isinstance(currency, str) or currency.strip().lower() != "usd":
        raise BadLine("not_usd", f"currency {str(currency)[:20]!r}: only USD bills are reconciled")


def count(value: Any, what: str) -> int | None:
    """A whole number >= 0 (``None`` stays None); ``12.0`` from a spreadsheet is 12."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadLine("bad_tokens", f"{what} is {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadLine("bad_tokens", f"{what} {str(value)[:40]!r} is not a number") from None
    if not number.is_finite() or number != number.to_integral_value() or number < 0:
        raise BadLine("bad_tokens", f"{what} {str(value)[:40]!r} is not a whole number >= 0")
    if number > MAX_TOKENS:
        raise BadLine("bad_tokens", f"{what} {str(value)[:40]!r} is not a sensible count")
    return int(number)


def text(value: Any, what: str = "value") -> str | None:
    """An optional label of the export, as a short string (never a container)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise BadLine("bad_model", f"{what} is a {type(value).__name__}, not a string")
    out = str(value).strip()
    if len(out) > _TEXT_MAX or any(ord(c) < 32 or 0x202A <= ord(c) <= 0x202E for c in out):
        raise BadLine("bad_model", f"{what} is too long or holds control characters")
    return out or None


def model_of(provider: str, billed: Any) -> tuple[str | None, str | None]:
    """(canonical model, the model as billed); Anthropic's display names ("Claude Haiku
    4.5") are read as their API ids."""
    name = text(billed, "model")
    if name is None:
        return None, None
    if not _MODEL_RE.match(name):
        raise BadLine("bad_model", f"model {name[:60]!r} is not a model name")
    api_id = naming.anthropic_model_id(name) if provider == "anthropic" else None
    return naming.identity(provider, api_id or name).model, name


def day_of_epoch(start: Any, end: Any) -> date:
    """The UTC day of an OpenAI bucket (Unix seconds), which must be one whole day."""
    if isinstance(start, bool) or not isinstance(start, int | Decimal):
        raise BadLine("bad_day", f"bucket start_time {str(start)[:30]!r} is not Unix seconds")
    if isinstance(end, bool) or not isinstance(end, int | Decimal):
        raise BadLine("bad_day", f"bucket end_time {str(end)[:30]!r} is not Unix seconds")
    if start % 86400 or end - start != 86400:
        raise BadLine("not_daily", f"bucket {start}..{end} is not one UTC day (bucket_width=1d)")
    if not 0 <= start < 253402300800:
        raise BadLine("bad_day", f"bucket start_time {start} is out of range")
    return datetime.fromtimestamp(int(start), UTC).date()


def day_of_rfc3339(start: Any, end: Any) -> date:
    """The UTC day of an Anthropic bucket (RFC 3339), which must be one whole day."""
    try:
        a = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        b = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        raise BadLine("bad_day", f"bucket {str(start)[:40]!r} is not an RFC 3339 time") from None
    if a.tzinfo is None or b.tzinfo is None:
        raise BadLine("bad_day", f"bucket {str(start)[:40]!r} has no time zone")
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b - a != timedelta(days=1) or a.time() != datetime.min.time():
        raise BadLine("not_daily", f"bucket {start}..{end} is not one UTC day (bucket_width=1d)")
    return a.date()


def day_of_text(value: Any) -> date:
    """A ``YYYY-MM-DD`` day (or an ISO time at midnight UTC) of a CSV export."""
    raw = str(value or "").strip()
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadLine("bad_day", f"day {raw[:40]!r} is not a date") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.date()


def api_buckets(doc: Any, what: str) -> list[dict[str, Any]]:
    """The daily buckets of one API page (``data``); ``what`` names the export in the error."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise BadLine("not_an_export", f"not {what} (no data list)")
    return [b for b in doc["data"] if isinstance(b, dict)]


def page_cursor(doc: dict[str, Any], out: Parsed) -> None:
    """Where the next page is: ``next_page`` when the page says ``has_more``."""
    out.has_more = doc.get("has_more") is True
    nxt = doc.get("next_page")
    out.next_page = nxt if isinstance(nxt, str) and nxt and out.has_more else None


def bucket_results(
    out: Parsed,
    buckets: list[dict[str, Any]],
    day_of: Callable[[dict[str, Any]], date],
    results_of: Callable[[dict[str, Any]], list[Any]],
) -> Iterator[tuple[int, date, Any]]:
    """(line number, UTC day, result) of each result of a page's daily buckets, numbered as the
    page's lines: a bucket whose day is wrong is quarantined, and a bucket with no result is a
    day billed nothing (recorded as such, so a re-import replaces it)."""
    n = 0
    for bucket in buckets:
        n += 1
        try:
            day = day_of(bucket)
        except BadLine as bad:
            out.quarantine(n, bad, bucket)
            continue
        results = results_of(bucket)
        if not results:
            zero = Decimal(0) if out.kind == "cost" else None
            out.lines.append(
                BillLine(
                    out.provider,
                    out.kind,
                    out.export_format,
                    day,
                    n,
                    empty_day=True,
                    amount_usd=zero,
                )  # fmt: skip
            )
        for i, r in enumerate(results):
            if i:
                n += 1
            yield n, day, r
