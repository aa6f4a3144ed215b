"""The OTLP/HTTP receiver on a real socket: what each request gets back, what reaches the spool,
and that the spool ingests exactly once.

Exports come from the real OpenTelemetry SDK (``OTLPSpanExporter``, protobuf, gzip) and from
httpx (JSON, hostile bodies, raw sockets for what httpx will not send). The recorded real traces
of ``tests/fixtures/logs/otel_real`` are replayed as JSON and as protobuf: both spool the same
lines, and ingesting them gives what ingesting the recording itself gives.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from collectors import config as config_mod
from collectors.errors import ConfigError
from collectors.ingest import Ingester
from collectors.remote import otlp, receiver, receiver_spool, spool
from tests.conftest import LOG_FIXTURES

PB = {"Content-Type": otlp.PROTOBUF}
JS = {"Content-Type": otlp.JSON}
RECORDING = LOG_FIXTURES / "otel_real" / "openai-v2_2.3b0.traces.jsonl"


def make_home(root: Path, extra: str = "") -> config_mod.Config:
    root.mkdir(parents=True, exist_ok=True)
    (root / "routeledger.toml").write_text(
        '[receiver]\notlp_http = "127.0.0.1:0"\n' + extra + "\n[prices]\nauto_catalog = false\n",
        encoding="utf-8",
    )
    return config_mod.load(root)


@pytest.fixture
def cfg(tmp_path: Path) -> config_mod.Config:
    return make_home(tmp_path / "home")


@pytest.fixture
def running(cfg: config_mod.Config) -> Iterator[receiver.Receiver]:
    r = receiver.Receiver(cfg).start()
    try:
        yield r
    finally:
        r.stop()


def spooled(cfg: config_mod.Config) -> list[dict[str, Any]]:
    out = []
    for p in spool.files(spool.receiver_folder(cfg)):
        out += [json.loads(line) for line in p.read_bytes().splitlines()]
    return out


def chat_request(n: int = 1, attr: str = "", trace: int = 1) -> ExportTraceServiceRequest:
    """An export of ``n`` chat spans (one trace each from ``trace`` on), as an SDK writes it."""
    doc = {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", "app"), kv("task", "support")]},
                "scopeSpans": [
                    {
                        "scope": {"name": "test"},
                        "spans": [chat_span(trace + i, attr) for i in range(n)],
                    }
                ],
            }
        ]
    }
    return otlp.from_json(json.dumps(doc).encode())


def kv(key: str, value: Any) -> dict[str, Any]:
    v = {"intValue": str(value)} if isinstance(value, int) else {"stringValue": value}
    return {"key": key, "value": v}


def chat_span(i: int, attr: str = "") -> dict[str, Any]:
    start = 1_790_000_000_000_000_000 + i * 1_000_000_000
    attrs = [
        kv("gen_ai.operation.name", "chat"),
        kv("gen_ai.provider.name", "openai"),
        kv("gen_ai.request.model", "gpt-4o-mini"),
        kv("gen_ai.response.model", "gpt-4o-mini"),
        kv("gen_ai.usage.input_tokens", 100 + i),
        kv("gen_ai.usage.output_tokens", 10),
    ]
    if attr:
        attrs.append(kv("app.note", attr))
    return {
        "traceId": f"{i:032x}",
        "spanId": f"{i:016x}",
        "name": "chat gpt-4o-mini",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 500_000_000),
        "attributes": attrs,
        "status": {},
    }


def ingest(cfg: config_mod.Config) -> Any:
    return Ingester(cfg).run(spool.to_ingest(cfg))


def raw_count(cfg: config_mod.Config) -> int:
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM raw_attempts").fetchall()[0][0])


def status_of(r: httpx.Response) -> status_pb2.Status:
    s = status_pb2.Status()
    s.ParseFromString(r.content)
    return s


def raw_http(url: str, data: bytes, read: bool = True) -> bytes:
    """``data`` sent as is on a fresh connection; the response's bytes."""
    u = httpx.URL(url)
    with socket.create_connection((u.host, u.port), timeout=10) as s:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


# -- what the real SDK sends ------------------------------------------------------------------


def test_the_real_sdk_exporter_is_acknowledged_and_its_spans_spooled(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "app", "task": "qa"}))
    exporter = OTLPSpanExporter(endpoint=running.url, compression=Compression.Gzip)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for i in range(3):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 10 + i,
                "gen_ai.usage.output_tokens": 5,
            },
        ):
            pass
    provider.shutdown()
    docs = spooled(cfg)
    assert len(docs) == 3  # one line per export request
    span = docs[0]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["traceId"]) == 32 and int(span["traceId"], 16)  # hex, not base64
    assert len(span["spanId"]) == 16 and span["kind"] == 1  # enums as integers
    tokens = {a["key"]: a["value"] for a in span["attributes"]}["gen_ai.usage.input_tokens"]
    assert tokens == {"intValue": "10"}  # int64 as a decimal string
    assert running.counters.requests == 3 and running.counters.spans == 3
    summary = ingest(cfg)
    assert summary.attempts_loaded == 3 and summary.quarantined == 0


@pytest.mark.slow
def test_recorded_traces_as_json_and_as_protobuf_ingest_like_the_recording(
    tmp_path: Path,
) -> None:
    lines = RECORDING.read_bytes().splitlines()
    totals = []
    for encoding in ("json", "protobuf"):
        cfg = make_home(tmp_path / encoding)
        with httpx.Client() as client:
            r = receiver.Receiver(cfg).start()
            try:
                for line in lines:
                    if encoding == "json":
                        res = client.post(r.url, content=line, headers=JS)
                        assert res.json() == {}
                    else:
                        body = otlp.from_json(line).SerializeToString()
                        res = client.post(r.url, content=gzip.compress(body), headers={**PB, "Content-Encoding": "gzip"})  # fmt: skip
                        assert res.content == b""  # ExportTraceServiceResponse, nothing set
                    assert res.status_code == 200, res.text
                    assert res.headers["content-type"] == (otlp.JSON if encoding == "json" else otlp.PROTOBUF)  # fmt: skip
            finally:
                r.stop()
        assert spooled(cfg) == [json.loads(x) for x in lines]  # the Collector's own lines
        summary = ingest(cfg)
        assert summary.quarantined == 0
        totals.append(summary.attempts_loaded)
    direct = Ingester(make_home(tmp_path / "file")).run([(RECORDING, "otel", None)])
    assert totals == [direct.attempts_loaded] * 2 and direct.attempts_loaded > 50


# -- every answer -------------------------------------------------------------------------------


def test_each_refusal_has_its_status_its_counted_reason_and_a_status_body(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    url = running.url
    good = chat_request().SerializeToString()
    cases: list[tuple[str, httpx.Response, int]] = [
        (
            "not_found",
            httpx.post(url.replace("/v1/traces", "/v1/metrics"), content=good, headers=PB),
            404,
        ),  # fmt: skip
        ("method_not_allowed", httpx.get(url), 405),
        (
            "unsupported_media_type",
            httpx.post(url, content=good, headers={"Content-Type": "text/plain"}),
            415,
        ),  # fmt: skip
        ("unsupported_media_type", httpx.post(url, content=good), 415),
        (
            "unsupported_encoding",
            httpx.post(url, content=good, headers={**PB, "Content-Encoding": "br"}),
            415,
        ),  # fmt: skip
        ("bad_protobuf", httpx.post(url, content=good[:-7], headers=PB), 400),  # truncated
        ("bad_protobuf", httpx.post(url, content=b"\x0a\xff\xff\xff\xff\x0f", headers=PB), 400),
        ("bad_json", httpx.post(url, content=b'{"resourceSpans": [', headers=JS), 400),
        ("bad_json", httpx.post(url, content=b"[" * 100_000, headers=JS), 400),  # too deep
        ("bad_utf8", httpx.post(url, content=b'{"resourceSpans": "\xff\xfe"}', headers=JS), 400),
        ("bad_structure", httpx.post(url, content=b"[1, 2]", headers=JS), 400),
        ("bad_otlp", httpx.post(url, content=b'{"resourceSpans": "spans"}', headers=JS), 400),
        (
            "bad_otlp",
            httpx.post(
                url,
                content=json.dumps(
                    {
                        "resourceSpans": [
                            {"scopeSpans": [{"spans": [{"name": 7, "startTimeUnixNano": "soon"}]}]}
                        ]
                    }
                ).encode(),
                headers=JS,
            ),
            400,
        ),  # fmt: skip
        (
            "bad_id",
            httpx.post(
                url,
                content=json.dumps(
                    {
                        "resourceSpans": [
                            {"scopeSpans": [{"spans": [{"traceId": "not-hex", "spanId": "00"}]}]}
                        ]
                    }
                ).encode(),
                headers=JS,
            ),
            400,
        ),  # fmt: skip
        (
            "bad_id",
            httpx.post(
                url,
                content=json.dumps(
                    {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 12}]}]}]}
                ).encode(),
                headers=JS,
            ),
            400,
        ),  # fmt: skip
        (
            "bad_gzip",
            httpx.post(url, content=b"not gzip at all", headers={**PB, "Content-Encoding": "gzip"}),
            400,
        ),  # fmt: skip
        (
            "bad_gzip",
            httpx.post(
                url, content=gzip.compress(good)[:-12], headers={**PB, "Content-Encoding": "gzip"}
            ),
            400,
        ),  # fmt: skip
        (
            "too_large",
            httpx.post(
                url,
                content=gzip.compress(b"\0" * (receiver.MAX_DECODED + 1)),
                headers={**PB, "Content-Encoding": "gzip"},
            ),
            413,
        ),  # fmt: skip
    ]
    for reason, res, status in cases:
        assert res.status_code == status, (reason, res.status_code, res.content[:200])
        if res.headers.get("content-type") == otlp.JSON:
            assert json.loads(res.content)["message"]
        else:
            assert status_of(res).message, reason
        assert res.headers["connection"] == "close"
    assert cases[1][1].headers["allow"] == "POST"
    want: dict[str, int] = {}
    for reason, _, _ in cases:
        want[reason] = want.get(reason, 0) + 1
    assert dict(running.counters.rejected) == want
    assert spooled(cfg) == [] and running.counters.requests == 0
    ok = httpx.post(url, content=good, headers=PB)  # and the server is still there
    assert ok.status_code == 200 and len(spooled(cfg)) == 1


def test_an_empty_export_is_a_success_that_writes_nothing(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    for body, headers in [(b"", PB), (b"{}", JS), (b'{"resourceSpans": []}', JS)]:
        res = httpx.post(running.url, content=body, headers=headers)
        assert res.status_code == 200
    assert spooled(cfg) == [] and running.counters.requests == 3


def test_bodies_over_the_limit_are_refused_before_they_are_read(
    running: receiver.Receiver,
) -> None:
    head = (
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        f"Content-Length: {receiver.MAX_BODY + 1}\r\n\r\n"
    )
    assert raw_http(running.url, head.encode()).startswith(b"HTTP/1.1 413 ")
    no_length = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n"
    assert raw_http(running.url, no_length).startswith(b"HTTP/1.1 411 ")
    bad = no_length.replace(b"\r\n\r\n", b"\r\nContent-Length: -3\r\n\r\n")
    assert raw_http(running.url, bad).startswith(b"HTTP/1.1 400 ")
    assert running.counters.rejected == {"too_large": 1, "no_length": 1, "bad_length": 1}


def test_chunked_bodies_are_read_and_bad_chunks_refused(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    body = chat_request(2).SerializeToString()
    res = httpx.post(running.url, content=iter([body[:10], body[10:]]), headers=PB)
    assert res.status_code == 200 and len(spooled(cfg)) == 1
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n"  # fmt: skip
    assert raw_http(running.url, head + b"zz\r\nabc\r\n0\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_http(running.url, head + b"3\r\nabcXY0\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_a_client_that_stops_halfway_is_dropped_and_the_server_goes_on(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    body = chat_request().SerializeToString()
    head = f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: {len(body)}\r\n\r\n"  # fmt: skip
    raw_http(running.url, head.encode() + body[:5], read=False)
    deadline = time.monotonic() + 5
    while not running.counters.rejected.get("incomplete") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.counters.rejected == {"incomplete": 1} and spooled(cfg) == []
    assert httpx.post(running.url, content=body, headers=PB).status_code == 200


def test_too_many_connections_get_429_with_retry_after(running: receiver.Receiver) -> None:
    u = httpx.URL(running.url)
    idle = [socket.create_connection((u.host, u.port)) for _ in range(receiver.MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)  # every one has its handler thread
        res = httpx.post(running.url, content=b"", headers=PB)
        assert res.status_code == 429 and res.headers["retry-after"] == str(receiver.RETRY_AFTER)
    finally:
        for s in idle:
            s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx.post(running.url, content=b"", headers=PB).status_code == 200:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the slots were not given back")


def test_mutated_exports_get_200_or_400_and_whatever_is_spooled_ingests(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    good = chat_request(3).SerializeToString()
    rnd = random.Random(17)
    statuses = set()
    with httpx.Client() as client:
        for _ in range(300):
            b = bytearray(good)
            for _ in range(rnd.randint(1, 4)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            body = bytes(b[: rnd.randrange(len(b) + 1)]) if rnd.random() < 0.3 else bytes(b)
            res = client.post(running.url, content=body, headers=PB)
            statuses.add(res.status_code)
    assert statuses <= {200, 400} and 400 in statuses
    assert "internal" not in running.counters.rejected
    ingest(cfg)  # never raises, whatever was accepted


# -- sizes ----------------------------------------------------------------------------------------


def test_a_huge_attribute_is_kept_and_an_export_over_the_line_limit_is_cut_per_trace(
    tmp_path: Path,
) -> None:
    cfg = make_home(tmp_path / "h", "\n[ingest]\nmax_line_bytes = 400000\n")
    with receiver.Receiver(cfg).start() as r:
        big = chat_request(2, attr="x" * 150_000).SerializeToString()  # 2 traces, ~300 kB
        assert httpx.post(r.url, content=big, headers=PB).status_code == 200
        docs = spooled(cfg)
        assert len(docs) == 1
        bigger = chat_request(4, attr="y" * 150_000, trace=10).SerializeToString()
        assert httpx.post(r.url, content=bigger, headers=PB).status_code == 200
        docs = spooled(cfg)
        assert len(docs) == 5  # cut into one line per trace, each with resource and scope
        assert all(d["resourceSpans"][0]["resource"] == docs[0]["resourceSpans"][0]["resource"] for d in docs)  # fmt: skip
        too_big = chat_request(1, attr="z" * 500_000, trace=20).SerializeToString()
        res = httpx.post(r.url, content=too_big, headers=PB)
        assert res.status_code == 413 and r.counters.rejected == {"trace_too_large": 1}
    summary = ingest(cfg)
    assert summary.attempts_loaded == 6 and summary.quarantined == 0


def test_a_duplicate_export_is_acknowledged_twice_and_counted_once(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    body = chat_request(3).SerializeToString()
    for _ in range(2):  # the ack was lost; the exporter sends it again
        assert httpx.post(running.url, content=body, headers=PB).status_code == 200
    assert len(spooled(cfg)) == 2
    summary = ingest(cfg)
    assert summary.attempts_loaded == 3 and summary.duplicates_skipped == 3
    assert raw_count(cfg) == 3


@pytest.mark.slow
def test_a_full_spool_answers_503_until_the_ingest_catches_up(tmp_path: Path) -> None:
    cfg = make_home(tmp_path / "h", "max_spool_mb = 1\n")
    with receiver.Receiver(cfg).start() as r:
        r.backlog_seconds = 0  # measured on every request
        codes = []
        for i in range(8):
            body = chat_request(1, attr="x" * 200_000, trace=i + 1).SerializeToString()
            res = httpx.post(r.url, content=body, headers=PB)
            codes.append(res.status_code)
        assert codes == [200] * 6 + [503] * 2, codes  # 6 lines of ~200 kB fill 1 MiB
        res = httpx.post(r.url, content=body, headers=PB)
        assert res.status_code == 503 and res.headers["retry-after"] == str(receiver.RETRY_AFTER)
        assert r.counters.rejected["spool_full"] >= 2
        ingest(cfg)
        pruned = receiver_spool.prune(cfg)
        assert pruned.deleted >= 3 and pruned.pending_bytes == 0
        assert httpx.post(r.url, content=body, headers=PB).status_code == 200


# -- the token ----------------------------------------------------------------------------------


def test_beyond_localhost_a_token_is_required_to_start_and_on_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_home(tmp_path / "h")
    monkeypatch.delenv("ROUTELEDGER_RECEIVER_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="ROUTELEDGER_RECEIVER_TOKEN") as e:
        receiver.Receiver(cfg, "0.0.0.0:0")
    assert "\n" not in str(e.value)
    monkeypatch.setenv("ROUTELEDGER_RECEIVER_TOKEN", "s3cret-tok3n")
    with receiver.Receiver(cfg, "0.0.0.0:0").start() as r:
        url = f"http://127.0.0.1:{r.url.rsplit(':', 1)[1]}"
        body = chat_request().SerializeToString()
        for auth in (None, "Bearer wrong", "Basic s3cret-tok3n", "Bearer s3cret-tok3n-and-more"):
            headers = {**PB, **({"Authorization": auth} if auth else {})}
            res = httpx.post(url, content=body, headers=headers)
            assert res.status_code == 401 and res.headers["www-authenticate"].startswith("Bearer")
        assert r.counters.rejected == {"unauthorized": 4} and spooled(cfg) == []
        provider = TracerProvider()
        exporter = OTLPSpanExporter(endpoint=url, headers={"Authorization": "Bearer s3cret-tok3n"})
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        with provider.get_tracer("t").start_as_current_span("chat x"):
            pass
        provider.shutdown()
        assert r.counters.requests == 1 and len(spooled(cfg)) == 1


# -- the spool ----------------------------------------------------------------------------------


def test_a_torn_last_line_is_cut_off_at_start_unless_a_writer_holds_the_segment(
    cfg: config_mod.Config,
) -> None:
    where = spool.receiver_folder(cfg)
    where.mkdir(parents=True)
    line = otlp.to_lines(chat_request(), 1 << 20)[0]
    torn = where / "20260101T000000000000Z-1-000001.jsonl"
    torn.write_bytes(line + b"\n" + line[:40])
    held = where / "20260101T000001000000Z-2-000001.jsonl"
    held.write_bytes(line[:40])
    import fcntl

    with open(held, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        assert receiver_spool.repair(where) == 40
    assert torn.read_bytes() == line + b"\n" and held.read_bytes() == line[:40]


@pytest.mark.slow
def test_prune_deletes_only_closed_segments_read_to_their_end(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    body = chat_request(1).SerializeToString()
    assert httpx.post(running.url, content=body, headers=PB).status_code == 200
    first = spool.files(spool.receiver_folder(cfg))
    running.segments.close()  # as a rotation does
    ingest(cfg)
    second = chat_request(1, trace=5).SerializeToString()
    assert httpx.post(running.url, content=second, headers=PB).status_code == 200
    files = spool.files(spool.receiver_folder(cfg))
    assert len(files) == 2 and files[0] == first[0]
    pruned = receiver_spool.prune(cfg)
    assert pruned.deleted == 1 and pruned.pending_files == 1
    assert spool.files(spool.receiver_folder(cfg)) == files[1:]  # open, and not read yet
    ingest(cfg)
    assert receiver_spool.prune(cfg).deleted == 0  # read, but still being written to
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        cursors = [r[0] for r in con.execute("SELECT file FROM file_cursors").fetchall()]
    assert cursors == [str(files[1].resolve())]
    assert raw_count(cfg) == 2
    status = receiver_spool.status(cfg)
    assert status is not None and status["lag_seconds"] == 0.0 and status["running"]


def test_status_tells_the_lag_of_what_is_not_ingested(
    running: receiver.Receiver, cfg: config_mod.Config
) -> None:
    before = receiver_spool.status(cfg)
    assert before is not None and before["spans"] == 0 and before["lag_seconds"] == 0.0
    httpx.post(running.url, content=chat_request(2).SerializeToString(), headers=PB)
    time.sleep(receiver.STATE_SECONDS + 0.5)
    now = receiver_spool.status(cfg)
    assert now is not None and now["spans"] == 2 and now["requests"] == 1
    assert now["listening"] == running.url and now["backlog_bytes"] > 0
    assert 0 < now["lag_seconds"] < 60
    running.stop()
    assert receiver_spool.status(cfg)["running"] is False  # type: ignore[index]


def test_inflate_stops_a_deflate_bomb_and_reads_gzip_members() -> None:
    bomb = zlib.compress(b"\0" * (receiver.MAX_DECODED + 10))
    with pytest.raises(receiver.Reject) as e:
        receiver.inflate(bomb, "deflate")
    assert e.value.status == 413
    two = gzip.compress(b"ab") + gzip.compress(b"cd")
    assert receiver.inflate(two, "gzip") == b"abcd"


def test_stop_returns_while_a_connection_sits_idle(running: receiver.Receiver) -> None:
    u = httpx.URL(running.url)
    s = socket.create_connection((u.host, u.port))
    try:
        time.sleep(0.2)
        t0 = time.monotonic()
        running.stop()
        assert time.monotonic() - t0 < receiver.IO_TIMEOUT / 2
    finally:
        s.close()
    assert os.path.exists(spool.receiver_folder(running.cfg) / receiver_spool.STATE)


@pytest.mark.slow
def test_data_health_shows_the_receiver(
    running: receiver.Receiver, cfg: config_mod.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    for i in range(2):
        body = chat_request(3, trace=10 * i + 1).SerializeToString()
        assert httpx.post(running.url, content=body, headers=PB).status_code == 200
    httpx.post(running.url, content=b"junk", headers=PB)
    ingest(cfg)
    receiver_spool.prune(cfg)
    body = chat_request(1, trace=99).SerializeToString()  # arrives after the ingest
    assert httpx.post(running.url, content=body, headers=PB).status_code == 200
    time.sleep(receiver.STATE_SECONDS + 0.5)
    monkeypatch.setenv("ROUTELEDGER_HOME", str(cfg.home))
    at = AppTest.from_file(str(Path(__file__).parents[2] / "app" / "dashboard.py"), default_timeout=60)  # fmt: skip
    at.run()
    at.switch_page("views/data_health.py").run()
    assert not at.exception and not at.error
    metrics = {m.label: m for m in at.metric}
    assert metrics["Listening on"].value == running.url
    assert metrics["Spans received"].value == "7"
    assert "3 exports" in str(metrics["Spans received"].delta)
    assert metrics["Ingest lag"].value != "up to date"  # the last export is not ingested yet
    assert "MiB waiting" in str(metrics["Ingest lag"].delta)
    assert any("bad_protobuf 1" in c.value for c in at.caption)
