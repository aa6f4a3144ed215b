"""``routeledger serve``'s OTLP/HTTP trace receiver (``[receiver] otlp_http = "host:port"``).

``POST /v1/traces`` with an ``ExportTraceServiceRequest`` as protobuf (``application/x-protobuf``)
or JSON (``application/json``), optionally ``Content-Encoding: gzip`` or ``deflate``, as the
OpenTelemetry SDKs' OTLP/HTTP exporters send it (opentelemetry-proto ``docs/specification.md``).
Each request's spans become OTLP/JSON lines (:mod:`collectors.remote.otlp`) appended and fsynced
to the spool (:mod:`collectors.remote.receiver_spool`) *before* the 200 goes out, so an
acknowledged export is never lost; the ingest job reads the spool exactly once, and an export
the client sends twice (its ack was lost) is one set of attempts (ingest anti-joins
``attempt_id``).

=======  ==========================================================================================
status   when (the counted reason in ``receiver.json``)
=======  ==========================================================================================
200      written to the spool (an export with no spans is a success with nothing written, as the
         specification asks); ``ExportTraceServiceResponse``, or ``{}`` for JSON
400      a body that does not decode (``bad_protobuf``, ``bad_json``, ``bad_utf8``, ``bad_id``,
         ``bad_otlp``, ``bad_structure``, ``bad_gzip``, ``bad_chunked``, ``bad_length``)
401      ``Authorization: Bearer`` missing or wrong, when a token is set (``unauthorized``)
404/405  another path (``not_found``); another method on ``/v1/traces`` (``method_not_allowed``)
411      neither ``Content-Length`` nor chunked (``no_length``)
413      over :data:`MAX_BODY` on the wire or :data:`MAX_DECODED` inflated (``too_large``), or a
         trace longer than ``ingest.max_line_bytes`` (``trace_too_large``)
415      another content type or encoding (``unsupported_media_type``, ``unsupported_encoding``)
429      more than :data:`MAX_CONNECTIONS` connections at once (``too_many_connections``)
503      the spool holds more than ``receiver.max_spool_mb`` not yet ingested (``spool_full``) or
         cannot be written (``spool_write_failed``); both with ``Retry-After``
500      anything unforeseen (``internal``); the server goes on
=======  ==========================================================================================

Every 4xx and 5xx carries a ``google.rpc.Status`` in the request's encoding, and closes the
connection (its body may be unread). Limits: :data:`IO_TIMEOUT` per read, :data:`BODY_SECONDS`
for a whole body. Listening beyond localhost needs a bearer token in the environment variable
named by ``receiver.token_env``; a token set there is required on localhost too, and compared in
constant time.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import os
import socket
import socketserver
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import Any
from urllib.parse import urlsplit

from collectors.config import Config
from collectors.errors import ConfigError
from collectors.redact import describe
from collectors.remote import otlp, receiver_spool, spool

log = logging.getLogger(__name__)
PATH = "/v1/traces"
MAX_BODY = 32 << 20  # bytes on the wire
MAX_DECODED = 64 << 20  # bytes once inflated (the Python SDK's own largest request)
MAX_CONNECTIONS = 32
IO_TIMEOUT = 15.0  # seconds one read may wait (an idle keep-alive connection too)
BODY_SECONDS = 60.0  # a whole body must arrive within this
RETRY_AFTER = 5  # seconds, on 429 and 503 (the SDK retries within its 10 s export timeout)
STATE_SECONDS = 1.0  # counters written to receiver.json at most this often
_GRPC = {400: 3, 401: 16, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 429: 8, 500: 13, 503: 14}
_BUSY = (
    b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: %d\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n" % RETRY_AFTER
)


class Reject(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(message)


class _Gone(Exception):
    """The client went away (or the server is stopping) before its body arrived."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Counters:
    """What the receiver did, kept across restarts in ``receiver.json``."""

    def __init__(self, previous: dict[str, Any]) -> None:
        self.lock = threading.Lock()
        self.requests = int(previous.get("requests", 0) or 0)
        self.spans = int(previous.get("spans", 0) or 0)
        self.bytes = int(previous.get("bytes", 0) or 0)
        self.rejected: Counter[str] = Counter(
            {str(k): int(v) for k, v in (previous.get("rejected") or {}).items()}
        )
        self.last_received_at: str | None = previous.get("last_received_at")
        self.changed = True

    def accepted(self, spans: int, n: int) -> None:
        with self.lock:
            self.requests += 1
            self.spans += spans
            self.bytes += n
            self.last_received_at = _now().isoformat()
            self.changed = True

    def reject(self, reason: str) -> None:
        with self.lock:
            self.rejected[reason] += 1
            self.changed = True

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            self.changed = False
            return {
                "requests": self.requests,
                "spans": self.spans,
                "bytes": self.bytes,
                "rejected": dict(sorted(self.rejected.items())),
                "last_received_at": self.last_received_at,
            }


def parse_address(text: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``) as (host, port)."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def is_local(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Receiver:
    """``Receiver(cfg).start()``, then ``stop()``; :attr:`url` is the traces endpoint."""

    def __init__(self, cfg: Config, address: str | None = None) -> None:
        self.cfg = cfg
        self.address = address or str(cfg.get("receiver.otlp_http"))
        self.host, self.port = parse_address(self.address)
        env = str(cfg.get("receiver.token_env"))
        self.token = os.environ.get(env, "") if env else ""
        if not self.token and not is_local(self.host):
            raise ConfigError(
                str(cfg.file),
                "receiver.otlp_http",
                "a loopback host (127.0.0.1, [::1], localhost), or a bearer token in the "
                f"environment variable {env or '(receiver.token_env is empty)'} to listen beyond "
                "localhost",
                self.address,
            )
        self.where = spool.receiver_folder(cfg)
        self.max_spool = int(cfg.get("receiver.max_spool_mb")) << 20
        self.max_line = int(cfg.get("ingest.max_line_bytes"))
        # a segment closes at a quarter of the limit, so what is ingested leaves the spool soon
        rotate = max(1 << 16, min(receiver_spool.ROTATE_BYTES, self.max_spool // 4))
        self.segments = receiver_spool.Segments(self.where, rotate_bytes=rotate)
        self.counters = Counters(receiver_spool.read_json(self.where / receiver_spool.STATE))
        self.started_at = _now().isoformat()
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self.stopping = threading.Event()
        self._backlog = (0.0, 0)  # (measured at, bytes)
        self._backlog_lock = threading.Lock()
        self.backlog_seconds = 1.0  # the spool's size is measured at most this often

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_name, self._server.server_port
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{PATH}"

    def start(self) -> Receiver:
        self.where.mkdir(parents=True, exist_ok=True)
        receiver_spool.repair(self.where)
        try:
            self._server = _Server((self.host, self.port), self)
        except OSError as e:
            raise ConfigError(
                str(self.cfg.file),
                "receiver.otlp_http",
                f"an address this machine can listen on ({e.strerror or e})",
                self.address,
            ) from None
        self._write_state()
        for target in (self._server.serve_forever, self._flush_state):
            t = threading.Thread(target=target, name="otlp-receiver", daemon=True)
            t.start()
            self._threads.append(t)
        log.info("receiving OpenTelemetry traces (OTLP/HTTP) on %s", self.url)
        return self

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop accepting, let requests already read finish, close idle connections."""
        if self._server is None or self.stopping.is_set():
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()  # waits for the handler threads
        for t in self._threads:
            t.join(timeout=10)
        self.segments.close()
        self._write_state(stopped=True)
        log.info("OTLP/HTTP receiver stopped")

    # -- state ----------------------------------------------------------------------------
    def _write_state(self, stopped: bool = False) -> None:
        assert self._server is not None
        doc = {
            **self.counters.as_json(),
            "listening": self.url,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "stopped_at": _now().isoformat() if stopped else None,
        }
        try:
            receiver_spool.write_json(self.where / receiver_spool.STATE, doc)
        except OSError as e:
            log.warning("receiver: its counters could not be written: %s", describe(e))

    def _flush_state(self) -> None:
        while not self.stopping.wait(STATE_SECONDS):
            if self.counters.changed:
                self._write_state()

    def backlog(self, added: int = 0) -> int:
        """Bytes in the spool (not yet ingested, once pruned), measured at most once a second."""
        with self._backlog_lock:
            at, n = self._backlog
            if time.monotonic() - at >= self.backlog_seconds:
                at, n = time.monotonic(), spool.size_bytes(self.where)
            self._backlog = (at, n + added)
            return n + added

    # -- a request ------------------------------------------------------------------------
    def handle(self, h: _Handler) -> None:
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        reply_as = otlp.JSON if ctype == otlp.JSON else otlp.PROTOBUF
        try:
            try:
                decoded = self._accept(h, ctype)
            except otlp.BadExport as e:
                status = 413 if e.reason == "trace_too_large" else 400
                raise Reject(status, e.reason, str(e)) from None
            if decoded.lines:
                try:
                    n = self.segments.append(decoded.lines)
                except OSError as e:
                    log.warning("receiver: the spool cannot be written: %s", describe(e))
                    raise Reject(503, "spool_write_failed", "the spool cannot be written") from None
                self.backlog(added=n)
                self.counters.accepted(decoded.spans, n)
            else:
                self.counters.accepted(0, 0)
            h.reply(200, reply_as, otlp.success_body(reply_as))
        except Reject as e:
            self.counters.reject(e.reason)
            log.debug("receiver: %s %s: %s", e.status, e.reason, e)
            extra = {"Retry-After": str(RETRY_AFTER)} if e.status in (429, 503) else {}
            if e.status == 401:
                extra["WWW-Authenticate"] = 'Bearer realm="routeledger"'
            if e.status == 405:
                extra["Allow"] = "POST"
            body = otlp.status_body(reply_as, _GRPC.get(e.status, 2), str(e))
            h.reply(e.status, reply_as, body, extra, close=True)

    def _accept(self, h: _Handler, ctype: str) -> otlp.Decoded:
        if urlsplit(h.path).path != PATH:
            raise Reject(404, "not_found", f"only POST {PATH} is served")
        if self.token and not _bearer_ok(h.headers.get("Authorization"), self.token):
            raise Reject(401, "unauthorized", "a valid Authorization: Bearer token is required")
        if ctype not in (otlp.PROTOBUF, otlp.JSON):
            raise Reject(
                415,
                "unsupported_media_type",
                f"Content-Type must be {otlp.PROTOBUF} or {otlp.JSON}",
            )
        encoding = (h.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "deflate"):
            raise Reject(415, "unsupported_encoding", "Content-Encoding must be gzip or deflate")
        if self.backlog() > self.max_spool:
            raise Reject(503, "spool_full", "the spool is full until the next ingest; retry later")
        body = inflate(_read_body(h), encoding)
        return otlp.decode(body, ctype, self.max_line)


def _bearer_ok(header: str | None, token: str) -> bool:
    scheme, _, given = (header or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8", "surrogateescape")
    )


# -- bodies ---------------------------------------------------------------------------------------


def _read_body(h: _Handler) -> bytes:
    deadline = time.monotonic() + BODY_SECONDS
    te = (h.headers.get("Transfer-Encoding") or "").strip().lower()
    if te:
        if te != "chunked":
            raise Reject(400, "bad_chunked", "Transfer-Encoding must be chunked")
        return _read_chunked(h.rfile, deadline)
    length = h.headers.get("Content-Length")
    if length is None:
        raise Reject(411, "no_length", "Content-Length (or chunked) is required")
    if not length.strip().isdigit():
        raise Reject(400, "bad_length", "Content-Length is not a number")
    n = int(length)
    if n > MAX_BODY:
        raise Reject(413, "too_large", f"bodies over {MAX_BODY:,} bytes are refused")
    return _read_exact(h.rfile, n, deadline)


def _read_exact(f: BufferedIOBase, n: int, deadline: float) -> bytes:
    out = bytearray()
    while len(out) < n:
        if time.monotonic() > deadline:
            raise _Gone("the body took too long")
        try:
            chunk = f.read(min(n - len(out), 1 << 16))
        except OSError as e:  # a read timeout, a reset
            raise _Gone(str(e)) from None
        if not chunk:
            raise _Gone("the body ended early")
        out += chunk
    return bytes(out)


def _read_chunked(f: BufferedIOBase, deadline: float) -> bytes:
    out = bytearray()
    while True:
        line = _line(f)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise Reject(400, "bad_chunked", "a chunk size is not hex") from None
        if size < 0:
            raise Reject(400, "bad_chunked", "a chunk size is negative")
        if size == 0:
            for _ in range(64):  # trailers, up to the empty line
                if _line(f).strip() == b"":
                    return bytes(out)
            raise Reject(400, "bad_chunked", "too many trailers")
        if len(out) + size > MAX_BODY:
            raise Reject(413, "too_large", f"bodies over {MAX_BODY:,} bytes are refused")
        out += _read_exact(f, size, deadline)
        if _line(f).strip() != b"":
            raise Reject(400, "bad_chunked", "a chunk does not end with CRLF")


def _line(f: BufferedIOBase) -> bytes:
    try:
        line = f.readline(1024)
    except OSError as e:
        raise _Gone(str(e)) from None
    if not line:
        raise _Gone("the body ended early")
    if not line.endswith(b"\n"):
        raise Reject(400, "bad_chunked", "a chunk line is too long")
    return line


def inflate(body: bytes, encoding: str) -> bytes:
    """``body`` gzip- or deflate-decoded, never past :data:`MAX_DECODED` (a zip bomb stops there)."""
    if encoding == "identity":
        return body
    reason = "bad_gzip" if encoding == "gzip" else "bad_deflate"
    if not body:
        raise Reject(400, reason, f"an empty {encoding} body")
    out = bytearray()
    data = body
    try:
        while data:  # gzip may hold several members, one after the other
            d = zlib.decompressobj(31 if encoding == "gzip" else 15)
            while data:
                out += d.decompress(data, MAX_DECODED - len(out) + 1)
                if len(out) > MAX_DECODED:
                    raise Reject(413, "too_large", f"over {MAX_DECODED:,} bytes inflated")
                data = d.unconsumed_tail
            if not d.eof:
                raise Reject(400, reason, f"the {encoding} stream is cut short")
            data = d.unused_data if encoding == "gzip" else b""
            if d.unused_data and encoding != "gzip":
                raise Reject(400, reason, "bytes after the deflate stream")
    except zlib.error as e:
        raise Reject(400, reason, f"not {encoding}: {e}") from None
    return bytes(out)


# -- the server -----------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporters expect
    server_version = "RouteLedger"
    sys_version = ""
    timeout = IO_TIMEOUT
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("receiver: %s %s", self.address_string(), format % args)

    def reply(
        self,
        status: int,
        ctype: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client is gone; what was acknowledged is already durable
            self.close_connection = True

    def do_POST(self) -> None:
        receiver = self.server.receiver
        try:
            receiver.handle(self)
        except _Gone as e:
            receiver.counters.reject("incomplete")
            log.debug("receiver: %s", e)
            self.close_connection = True
        except Exception as e:  # noqa: BLE001  (the edge: one bad request never stops the server)
            receiver.counters.reject("internal")
            log.error("receiver: unexpected error: %s", describe(e))
            body = otlp.status_body(otlp.PROTOBUF, 13, "internal error")
            self.reply(500, otlp.PROTOBUF, body, close=True)

    def _other(self) -> None:
        receiver = self.server.receiver
        on_path = urlsplit(self.path).path == PATH
        status, reason = (405, "method_not_allowed") if on_path else (404, "not_found")
        receiver.counters.reject(reason)
        body = otlp.status_body(otlp.PROTOBUF, _GRPC[status], f"only POST {PATH} is served")
        self.reply(status, otlp.PROTOBUF, body, {"Allow": "POST"} if on_path else {}, close=True)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    def do_HEAD(self) -> None:
        self.send_response(405 if urlsplit(self.path).path == PATH else 404)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for requests under way
    block_on_close = True
    request_queue_size = 128  # the listen backlog (socketserver's 5 drops bursts of connects)

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        self.receiver = receiver
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: no reverse DNS lookup
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.receiver.stopping.is_set() or not self.slots.acquire(blocking=False):
            self.receiver.counters.reject("too_many_connections")
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.live_lock:
            self.live.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.live_lock:
                self.live.discard(request)
            self.slots.release()

    def close_all(self) -> None:
        """End every connection's reading side: idle ones close, requests being read end
        unanswered (the client sends them again), requests already read are answered."""
        with self.live_lock:
            for s in self.live:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RD)


def start(cfg: Config) -> Receiver | None:
    """The receiver ``receiver.otlp_http`` asks for, started; None when it is off."""
    if not cfg.get("receiver.otlp_http"):
        return None
    return Receiver(cfg).start()
