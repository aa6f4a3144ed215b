"""An OTLP/HTTP trace export body → the OTLP/JSON lines the otel log format reads (pure: no I/O).

Both encodings of OTLP/HTTP (opentelemetry-proto ``docs/specification.md``, "OTLP/HTTP") are
decoded into one ``ExportTraceServiceRequest`` with ``opentelemetry-proto``'s own message, then
written the way the OpenTelemetry Collector's ``file`` exporter writes it: the OTLP/JSON
encoding (lowerCamelCase keys, enums as integers, int64 as decimal strings, trace and span ids
as lowercase hex, not protobuf-JSON's base64), one export request per line. A protobuf body and
the same spans sent as JSON therefore give the same line, byte for byte.

* ``application/x-protobuf``: the binary message; any decoding failure is ``bad_protobuf``.
* ``application/json``: UTF-8 JSON (``bad_utf8``, ``bad_json``), an object (``bad_structure``)
  whose ids are hex (``bad_id``) and whose fields have the message's types (``bad_otlp``);
  unknown fields are ignored, as the specification requires.

A line longer than ``max_line`` (``ingest.max_line_bytes``, which the ingest would quarantine) is
cut into one line per trace, each with its resource and scope, so the spans the otel format
relates stay together; a single trace still too long is ``trace_too_large``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from collectors.errors import InputError

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_SPAN_IDS = ("traceId", "spanId", "parentSpanId")
_LINK_IDS = ("traceId", "spanId")


class BadExport(InputError):
    """A body that is not a trace export request; ``reason`` is the counted one-word reason."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Decoded:
    lines: list[bytes]  # OTLP/JSON, one document each, no newline
    spans: int


def decode(body: bytes, content_type: str, max_line: int) -> Decoded:
    """``body`` (already decompressed) of ``content_type`` (:data:`PROTOBUF` or :data:`JSON`) as
    spool lines; raises :class:`BadExport`."""
    request = from_protobuf(body) if content_type == PROTOBUF else from_json(body)
    spans = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    if spans == 0:
        return Decoded([], 0)
    return Decoded(to_lines(request, max_line), spans)


def from_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as e:
        raise BadExport("bad_protobuf", f"not an ExportTraceServiceRequest: {e}") from None
    return request


def from_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadExport("bad_utf8", f"the JSON body is not UTF-8 (byte {e.start})") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise BadExport("bad_json", f"not JSON: {str(e)[:200]}") from None
    if not isinstance(doc, dict):
        raise BadExport("bad_structure", "the JSON body is not an object")
    _ids_to_base64(doc)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(doc, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as e:
        raise BadExport("bad_otlp", f"not an OTLP/JSON trace export: {str(e)[:200]}") from None
    return request


def _spans(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The span objects of an OTLP/JSON document, wherever the structure is as expected."""
    out = []
    for rs in _dicts(doc.get("resourceSpans")):
        for ss in _dicts(rs.get("scopeSpans")):
            out += _dicts(ss.get("spans"))
    return out


def _dicts(v: Any) -> list[dict[str, Any]]:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _ids_to_base64(doc: dict[str, Any]) -> None:
    """OTLP/JSON's hex ids as the base64 protobuf's JSON parser reads, in place."""
    for span in _spans(doc):
        for obj, keys in [(span, _SPAN_IDS), *((link, _LINK_IDS) for link in _dicts(span.get("links")))]:  # fmt: skip
            for key in keys:
                v = obj.get(key)
                if v is None:
                    continue
                if not isinstance(v, str):
                    raise BadExport("bad_id", f"{key} is not a hex string")
                try:
                    obj[key] = base64.b64encode(bytes.fromhex(v)).decode()
                except ValueError:
                    raise BadExport("bad_id", f"{key} is not hex") from None


def _ids_to_hex(doc: dict[str, Any]) -> None:
    for span in _spans(doc):
        for obj, keys in [(span, _SPAN_IDS), *((link, _LINK_IDS) for link in _dicts(span.get("links")))]:  # fmt: skip
            for key in keys:
                if isinstance(obj.get(key), str):
                    obj[key] = binascii.a2b_base64(obj[key]).hex()


def as_document(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The request in the OTLP/JSON encoding, as a dict."""
    doc = json_format.MessageToDict(request, use_integers_for_enums=True)
    _ids_to_hex(doc)
    return doc


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def to_lines(request: ExportTraceServiceRequest, max_line: int) -> list[bytes]:
    doc = as_document(request)
    line = _dump(doc)
    if len(line) < max_line:
        return [line]
    lines = [_dump(part) for part in per_trace(doc)]
    if any(len(x) >= max_line for x in lines):
        raise BadExport(
            "trace_too_large",
            f"a trace is over {max_line:,} bytes as OTLP/JSON (ingest.max_line_bytes)",
        )
    return lines


def per_trace(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """``doc`` cut into one document per trace id, each span under its own resource and scope."""
    out: dict[str, dict[str, Any]] = {}
    for rs in _dicts(doc.get("resourceSpans")):
        for ss in _dicts(rs.get("scopeSpans")):
            for span in _dicts(ss.get("spans")):
                part = out.setdefault(str(span.get("traceId", "")), {"resourceSpans": []})
                rss = part["resourceSpans"]
                if not rss or rss[-1]["_of"] is not rs:
                    rss.append({**{k: v for k, v in rs.items() if k != "scopeSpans"}, "_of": rs, "scopeSpans": []})  # fmt: skip
                sss = rss[-1]["scopeSpans"]
                if not sss or sss[-1]["_of"] is not ss:
                    sss.append({**{k: v for k, v in ss.items() if k != "spans"}, "_of": ss, "spans": []})  # fmt: skip
                sss[-1]["spans"].append(span)
    for part in out.values():
        for rs in part["resourceSpans"]:
            del rs["_of"]
            for ss in rs["scopeSpans"]:
                del ss["_of"]
    return list(out.values())


def success_body(content_type: str) -> bytes:
    """``ExportTraceServiceResponse`` with ``partial_success`` unset, in the request's encoding."""
    return b"{}" if content_type == JSON else ExportTraceServiceResponse().SerializeToString()


def status_body(content_type: str, code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (``code``: the gRPC code, ``message``) in the request's encoding:
    the body the specification asks for on every 4xx and 5xx. Written by hand (two fields), so
    the receiver needs no googleapis-common-protos."""
    if content_type == JSON:
        return json.dumps({"code": code, "message": message}).encode()
    text = message.encode("utf-8")
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)
