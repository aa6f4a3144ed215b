"""An OTLP/HTTP trace receiver on 127.0.0.1 that writes every export request it gets as one
OTLP/JSON line, the way the OpenTelemetry Collector's ``file`` exporter (``format: json``) does.

The application exports with the real ``OTLPSpanExporter`` (``opentelemetry-exporter-otlp-proto-
http``, protobuf over HTTP); this receiver decodes each ``ExportTraceServiceRequest`` with
``opentelemetry-proto`` and writes it as JSON following the OTLP/JSON encoding rules
(opentelemetry-proto ``docs/specification.md``, "JSON Protobuf Encoding"): trace and span ids
as lowercase hex (not protobuf-JSON base64), enums as integers, int64 as decimal strings,
fields at their zero value left out, camelCase names. One request, one line: what one export
batch of the SDK's span processor held.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> Any:
    """Protobuf-JSON writes bytes as base64; OTLP/JSON writes ids as hex."""
    if isinstance(node, list):
        return [_hex_ids(x) for x in node]
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in _ID_KEYS and isinstance(v, str):
                out[k] = base64.b64decode(v).hex()
            else:
                out[k] = _hex_ids(v)
        return out
    return node


def to_otlp_json(body: bytes) -> str:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    doc = MessageToDict(request, use_integers_for_enums=True)
    return json.dumps(_hex_ids(doc), separators=(",", ":"), ensure_ascii=False)


class OtlpJsonReceiver:
    """``with OtlpJsonReceiver(path) as r:`` export to ``r.endpoint`` (``.../v1/traces``)."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.requests = 0
        self._lock = threading.Lock()
        self._file = self.out.open("a", encoding="utf-8")
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/traces"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _write(self, body: bytes) -> None:
        line = to_otlp_json(body)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
            self.requests += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver._write(body)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        return Handler

    def __enter__(self) -> OtlpJsonReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
        with self._lock:
            self._file.close()
