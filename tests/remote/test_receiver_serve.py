"""`routeledger serve` with the OTLP/HTTP receiver, as a real process on a free port, fed by the
real OpenTelemetry SDK (``TracerProvider`` + ``BatchSpanProcessor`` + ``OTLPSpanExporter``).

The application below makes GenAI chat calls the way the instrumentations record them (a
``handle`` span carrying the task, ``chat <model>`` spans beneath it with the GenAI semantic
conventions; a failed call is followed by a fallback sibling) and keeps the truth: per task, the
logical requests, those that succeeded, and the spend at the test's prices. RouteLedger's
``stats --json`` must tell exactly that, after a clean run and after a server killed (SIGKILL)
between acknowledging the exports and ingesting them: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from tests.producers.prices import overrides

ROOT = Path(__file__).resolve().parents[2]
PRICES = {"gpt-4o-mini": (Decimal("0.15"), Decimal("0.6")), "gpt-4o": (Decimal("2.5"), Decimal("10"))}  # fmt: skip
TASKS = ("support", "qa")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", "--home", str(home), *args]


def make_home(root: Path, port: int, minutes: float) -> Path:
    root.mkdir(parents=True)
    (root / "routeledger.toml").write_text(
        f'[receiver]\notlp_http = "127.0.0.1:{port}"\n\n[schedule]\ningest_minutes = {minutes}\n\n'
        '[prices]\nauto_catalog = false\noverrides = "overrides.yaml"\n',
        encoding="utf-8",
    )
    (root / "overrides.yaml").write_text(overrides(PRICES), encoding="utf-8")
    p = subprocess.run(
        cli(root, "prices", "refresh", "--source", "overrides", "--json"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    return root


class Serve:
    """``routeledger serve`` in a subprocess, its log collected line by line."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            cli(home, "serve"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_for(self, text: str, count: int = 1, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while sum(text in x for x in self.log) < count:
            assert self.proc.poll() is None, "".join(self.log)
            assert time.monotonic() < deadline, f"no {text!r} in:\n" + "".join(self.log)
            time.sleep(0.05)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=90)
        self.reader.join(5)
        return code


class Recording(SpanExporter):
    """The real exporter, with each export's result kept (SUCCESS only after the 200)."""

    def __init__(self, inner: OTLPSpanExporter) -> None:
        self.inner = inner
        self.results: list[SpanExportResult] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def app_run(port: int, n: int, seed: int) -> dict[str, dict[str, Any]]:
    """``n`` requests through the instrumented app, exported to the receiver; the truth."""
    exporter = Recording(
        OTLPSpanExporter(
            endpoint=f"http://127.0.0.1:{port}/v1/traces", compression=Compression.Gzip
        )
    )
    provider = TracerProvider(resource=Resource.create({"service.name": f"helpdesk-{seed}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    tracer = provider.get_tracer("helpdesk.app")
    truth: dict[str, Counter[str]] = defaultdict(Counter)
    spend: dict[str, Decimal] = defaultdict(Decimal)

    def call(model: str, ok: bool, k: int) -> Decimal:
        with tracer.start_as_current_span(f"chat {model}") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": model,
                }
            )
            if not ok:
                span.set_attribute("error.type", "RateLimitError")
                span.set_status(Status(StatusCode.ERROR, "Error code: 429 - rate limited"))
                return Decimal(0)
            tokens_in, tokens_out = 100 + k, 20 + k % 9
            span.set_attributes(
                {
                    "gen_ai.response.model": model,
                    "gen_ai.usage.input_tokens": tokens_in,
                    "gen_ai.usage.output_tokens": tokens_out,
                }
            )
        price_in, price_out = PRICES[model]
        return (tokens_in * price_in + tokens_out * price_out) / 1_000_000

    for k in range(n):
        task = TASKS[(k + seed) % 2]
        with tracer.start_as_current_span("handle", attributes={"app.task": task}):
            cost = Decimal(0)
            if k % 5 == 0:  # rate limited, then a fallback that succeeds
                cost += call("gpt-4o-mini", False, k) + call("gpt-4o", True, k)
                ok = True
            elif k % 7 == 0:  # rate limited, and the app gives up
                cost += call("gpt-4o-mini", False, k)
                ok = False
            else:
                cost += call("gpt-4o-mini", True, k)
                ok = True
        # one unit of work, one export: a trace cut across exports loses its parent's task
        # (docs/log-formats.md, "A trace cut across lines")
        assert provider.force_flush(30_000)
        truth[task]["requests"] += 1
        truth[task]["succeeded"] += ok
        spend[task] += cost
    provider.shutdown()
    assert exporter.results and set(exporter.results) == {SpanExportResult.SUCCESS}
    return {t: {**c, "spend": spend[t]} for t, c in truth.items()}


def stats(home: Path) -> dict[str, dict[str, Any]]:
    today = datetime.now(UTC).date()
    p = subprocess.run(
        cli(
            home,
            "stats",
            "--json",
            "--since",
            f"{today - timedelta(days=1)}",
            "--until",
            f"{today}",
        ),  # fmt: skip
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    return {
        t["task"]: {
            "requests": t["logical_requests"],
            "succeeded": t["succeeded"],
            "spend": Decimal(str(t["spend_usd"])),
        }
        for t in json.loads(p.stdout)["tasks"]
    }


def assert_matches(got: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]) -> None:
    assert set(got) == set(truth)
    for task, t in truth.items():
        g = got[task]
        assert (g["requests"], g["succeeded"]) == (t["requests"], t["succeeded"]), task
        assert abs(g["spend"] - t["spend"]) < Decimal("1e-9"), (task, g["spend"], t["spend"])


def spooled_lines(home: Path) -> int:
    folder = home / "spool" / "otlp-http"
    return sum(len(p.read_bytes().splitlines()) for p in folder.glob("*.jsonl"))


@pytest.mark.slow
def test_serve_receives_the_sdks_exports_and_ingests_them_on_schedule(tmp_path: Path) -> None:
    port = free_port()
    home = make_home(tmp_path / "home", port, 0.05)  # ingest every 3 s
    serve = Serve(home)
    try:
        serve.wait_for("receiving OpenTelemetry traces (OTLP/HTTP) on")
        truth = app_run(port, 40, seed=1)
        total = sum(t["requests"] for t in truth.values())
        deadline = time.monotonic() + 90
        while sum(t["requests"] for t in stats(home).values()) < total:
            assert time.monotonic() < deadline, "".join(serve.log)
            time.sleep(1)
        assert serve.stop() == 0, "".join(serve.log)
    finally:
        serve.stop(signal.SIGKILL)
    text = "".join(serve.log)
    assert "Traceback" not in text and "OTLP/HTTP receiver stopped" in text
    assert_matches(stats(home), truth)
    state = json.loads((home / "spool" / "otlp-http" / "receiver.json").read_text())
    assert state["rejected"] == {} and state["stopped_at"]
    assert state["spans"] == 40 + 40 + len(range(0, 40, 5))  # handle spans, calls, fallbacks
    assert len(list((home / "spool" / "otlp-http").glob("*.jsonl"))) <= 2  # read ones pruned


@pytest.mark.slow
def test_a_server_killed_between_acknowledge_and_ingest_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path,
) -> None:
    port = free_port()
    home = make_home(tmp_path / "home", port, 60)  # ingest at start, then not for an hour
    first = Serve(home)
    try:
        first.wait_for("job ingest skipped")  # the start's ingest is done: nothing to read yet
        truth = app_run(port, 30, seed=2)  # every export acknowledged
    finally:
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    assert spooled_lines(home) > 0 and stats(home) == {}  # acknowledged, not ingested yet

    second = Serve(home)
    try:
        second.wait_for("job ingest ok")  # the start's ingest reads the spool
        assert second.stop() == 0, "".join(second.log)
    finally:
        second.stop(signal.SIGKILL)
    assert "Traceback" not in "".join(second.log)
    assert_matches(stats(home), truth)

    again = subprocess.run(
        cli(home, "ingest", "--json"), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert json.loads(again.stdout)["attempts_loaded"] == 0, again.stderr
    assert_matches(stats(home), truth)


def test_serve_refuses_to_listen_beyond_localhost_without_a_token(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        f'[receiver]\notlp_http = "0.0.0.0:{free_port()}"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if k != "ROUTELEDGER_RECEIVER_TOKEN"}
    p = subprocess.run(
        cli(home, "serve"), cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert p.returncode == 2
    errors = [x for x in p.stderr.splitlines() if not x.startswith("INFO ")]
    assert len(errors) == 1 and "ROUTELEDGER_RECEIVER_TOKEN" in errors[0], p.stderr
    assert errors[0].startswith("routeledger: error: ") and "receiver.otlp_http" in errors[0]
