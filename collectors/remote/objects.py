"""A bucket object's bytes -> the lines it adds to a spool file (pure; no I/O).

A readable object is JSON: one document, an array of documents, or JSON lines; each document an
object. Each becomes one compact line (ASCII, so no byte of the object can end the line early or
split it in two). An object that cannot be read becomes one line that is not JSON: it names the
reason and the key, and the ingest quarantines it as ``invalid_json`` with that text as its
excerpt. Gzip (a ``.gz`` key, ``Content-Encoding: gzip``, or just its magic bytes) is unpacked
with the same size cap as the object itself, so a small object that inflates hugely is refused
without being held whole."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"
MARK = b"#routeledger: bucket object not loaded: "
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()


@dataclass
class Parsed:
    """What one object adds to the spool: its records' lines, or why none."""

    lines: list[bytes] = field(default_factory=list)
    reason: str | None = None  # set when the object could not be read
    detail: str = ""
    newest_at: datetime | None = None  # the newest record's start (naive UTC), when it says

    @property
    def ok(self) -> bool:
        return self.reason is None


def bad(reason: str, detail: str) -> Parsed:
    return Parsed(reason=reason, detail=detail)


def marker(url: str, reason: str, detail: str) -> bytes:
    """The one line an unreadable object leaves: not JSON, so the ingest quarantines it."""
    text = f"{reason}: {' '.join(detail.split())[:160]}; object {json.dumps(url)}"
    return MARK + text.encode("ascii", errors="backslashreplace")


def gunzip(data: bytes, limit: int) -> tuple[bytes, Parsed | None]:
    """``data`` unpacked (every gzip member), or why not; never more than ``limit`` + 1 bytes
    are produced."""
    out = bytearray()
    rest = data
    try:
        while rest:
            if rest[:2] != GZIP_MAGIC:
                return b"", bad("unreadable_gzip", "data after the gzip stream")
            d = zlib.decompressobj(wbits=31)
            out += d.decompress(rest, limit + 1 - len(out))  # at least 1: len(out) <= limit
            if len(out) > limit or d.unconsumed_tail:
                return b"", bad("object_too_large", f"over {limit:,} bytes once gunzipped")
            if not d.eof:
                return b"", bad("unreadable_gzip", "the gzip stream ends early")
            rest = d.unused_data
    except zlib.error as e:
        return b"", bad("unreadable_gzip", str(e))
    return bytes(out), None


def parse(data: bytes, limit: int) -> Parsed:
    """The spool lines of one object's content (already at most ``limit`` bytes)."""
    if data[:2] == GZIP_MAGIC:
        data, why = gunzip(data, limit)
        if why:
            return why
    if not data.strip():
        return bad("empty_object", "the object holds no data")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return bad("invalid_utf8", f"byte {e.start} is not UTF-8")
    try:
        docs = _documents(text)
    except RecursionError:
        return bad("too_deeply_nested", "JSON nested deeper than the parser allows")
    except ValueError as e:
        return bad("invalid_json", str(e).split("\n", 1)[0])
    if not docs:
        return bad("no_records", "an empty JSON array")
    if not all(isinstance(d, dict) for d in docs):
        kind = next(type(d).__name__ for d in docs if not isinstance(d, dict))
        return bad("not_an_object", f"a JSON {kind}, not an object")
    out = Parsed()
    for doc in docs:
        try:
            line = json.dumps(doc, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        except (ValueError, RecursionError):
            return bad("invalid_json", "a number out of range")
        if len(line) > limit:
            return bad("object_too_large", f"a record over {limit:,} bytes")
        out.lines.append(line.encode("ascii"))
        started = started_at(doc)
        if started and (out.newest_at is None or started > out.newest_at):
            out.newest_at = started
    return out


def _documents(text: str) -> list[Any]:
    """One JSON document (an array: its elements), or JSON lines; ValueError when neither."""
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        if not e.msg.startswith("Extra data"):
            raise
        docs = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    docs.append(json.loads(line, parse_constant=_reject_constant))
                except ValueError as inner:
                    raise ValueError(f"line {n}: {inner}") from None
        return docs
    return doc if isinstance(doc, list) else [doc]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def started_at(doc: dict[str, Any]) -> datetime | None:
    """A record's start (naive UTC) from LiteLLM's ``startTime`` (epoch seconds) or a
    ``started_at`` (epoch seconds or ISO 8601); None when it has neither, or a time out of range."""
    value = doc.get("startTime", doc.get("started_at"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not _EARLIEST <= value < _LATEST:
            return None
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is not None:
            t = t.astimezone(UTC).replace(tzinfo=None)
        return t if datetime(2000, 1, 1) <= t < datetime(2100, 1, 1) else None
    return None
