"""Record real OpenTelemetry traces of an OpenAI app against the fake server, with the truth.

Run from the repository root in a producer's own venv (see the SOURCES.md of the recordings)::

    python -m tests.producers.otel.record --producer openai-v2 \\
        --out tests/fixtures/logs/otel_real --name openai-v2_2.3b0
    python -m tests.producers.otel.record --producer openinference \\
        --out tests/fixtures/logs/openinference_real --name openinference-openai_0.1.66

It starts the fake OpenAI server (``tests/producers/fake_openai.py``, script ``scenario.json``
beside this file, truth to ``<name>.truth.jsonl``) and an OTLP/HTTP receiver writing
``<name>.traces.jsonl`` (:mod:`tests.producers.otel.otlp_json`), sets up the OpenTelemetry SDK
(``BatchSpanProcessor`` + ``OTLPSpanExporter``), instruments the ``openai`` SDK with
the producer's instrumentation and HTTP client spans (``opentelemetry-instrumentation-httpx``;
``--no-http-spans`` leaves them out), and runs the workload below. The span processor exports
only when the app calls ``force_flush``, after each unit of work (a request handler, an agent
run), so one export line holds whole traces, as a Collector with the ``groupbytrace`` processor
writes them. (With the SDK's default 5-second schedule, a trace running while the timer fires is
cut across two lines: seen on 1 of 6 agent runs in a 7-second trial.)

Workload (the task each call belongs to is the first part of its request key, which the client
sends as ``x-client-request-id`` so the truth can be joined to it; retries of one call send the
same key):

* ``support``: 24 tickets, each handled in a span ``handle_ticket`` carrying ``app.task=support``
  with one chat call (SDK ``max_retries=2``; every other one streamed with usage).
* ``assistant``: 12 calls with no parent span at all (each its own trace); the task is the
  resource's ``task=assistant``. SDK ``max_retries=1``; 400s are not retried.
* ``qa``: 16 questions, each in a span ``answer_question`` (``app.task=qa``; OpenInference:
  ``tag.tags`` ``task:qa`` through ``using_tags``); the app retries a failed ``gpt-4o-mini`` call
  once itself, then falls back to ``gpt-4o`` (SDK ``max_retries=0``).
* ``research``: 24 agent runs: an ``invoke_agent researcher`` span (GenAI agent conventions:
  ``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.agent.name``/``id``,
  ``gen_ai.conversation.id``, and ``app.task=research``; OpenInference: an AGENT span from
  ``OITracer`` with ``metadata`` ``{"task": "research"}`` and the session id) with four
  sequential chat calls, plan, search, draft, critique, and an ``execute_tool web_search`` span
  between search and draft. SDK ``max_retries=2``; a step that still fails ends the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import openai
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import StatusCode

from tests.producers.fake_openai import FakeOpenAI, Scenario
from tests.producers.otel.otlp_json import OtlpJsonReceiver

HERE = Path(__file__).resolve().parent
STEPS = ("plan", "search", "draft", "critique")
RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError)


class App:
    """The instrumented application: the same code for both producers, bar the labels."""

    def __init__(self, producer: str, base: str, provider: TracerProvider) -> None:
        self.producer = producer
        self.base = base
        self.provider = provider
        self.tracer = trace.get_tracer("helpdesk.app", "1.0.0")
        self.oi_tracer: Any = None
        if producer == "openinference":
            from openinference.instrumentation import OITracer, TraceConfig

            self.oi_tracer = OITracer(self.tracer, TraceConfig())

    def client(self, deployment: str | None, retries: int) -> openai.OpenAI:
        prefix = f"/{deployment}" if deployment else ""
        return openai.OpenAI(
            base_url=f"{self.base}{prefix}/v1", api_key="fake-key-for-loopback", max_retries=retries
        )

    @staticmethod
    def chat(
        client: openai.OpenAI, key: str, model: str, prompt: str, stream: bool = False
    ) -> None:
        messages = [
            {"role": "system", "content": "You are a concise helpdesk assistant."},
            {"role": "user", "content": prompt},
        ]
        headers = {"x-client-request-id": key}
        if not stream:
            client.chat.completions.create(model=model, messages=messages, extra_headers=headers)  # type: ignore[arg-type]
            return
        chunks = client.chat.completions.create(
            model=model,
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            extra_headers=headers,
        )
        for _ in chunks:
            pass

    def flush(self) -> None:
        self.provider.force_flush()

    # -- the four kinds of traffic -----------------------------------------------------------
    def support(self, n: int) -> None:
        client = self.client("support", 2)
        for i in range(n):
            with self.tracer.start_as_current_span(
                "handle_ticket", attributes={"app.task": "support", "ticket.id": f"T-{i:04d}"}
            ):
                try:
                    self.chat(client, f"support/{i:03d}", "gpt-4o-mini",
                              f"Summarize ticket {i} about a failed invoice export.",
                              stream=i % 2 == 1)  # fmt: skip
                except openai.APIError:
                    pass  # the ticket is answered by a person instead
            self.flush()

    def assistant(self, n: int) -> None:
        client = self.client("assistant", 1)
        for i in range(n):
            try:
                self.chat(client, f"assistant/{i:03d}", "gpt-4o-mini",
                          f"Suggest a reply to message {i} in one sentence.")  # fmt: skip
            except openai.APIError:
                pass
            self.flush()

    def qa(self, n: int) -> None:
        client = self.client(None, 0)
        for i in range(n):
            labels: AbstractContextManager[Any] = nullcontext()
            attributes: dict[str, Any] = {"app.task": "qa"}
            if self.oi_tracer is not None:
                from openinference.instrumentation import using_tags

                labels, attributes = using_tags(["task:qa", "channel:web"]), {}
            with labels, self._span("answer_question", "chain", attributes):
                for model in ("gpt-4o-mini", "gpt-4o-mini", "gpt-4o"):
                    try:
                        self.chat(client, f"qa/{i:03d}", model,
                                  f"Answer question {i} from the knowledge base.")  # fmt: skip
                        break
                    except RETRYABLE:
                        continue
            self.flush()

    def research(self, runs: int) -> None:
        client = self.client("agent", 2)
        for run in range(runs):
            conversation = f"conv-{run:04d}"
            labels: AbstractContextManager[Any] = nullcontext()
            attributes: dict[str, Any] = {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.provider.name": "openai",
                "gen_ai.agent.name": "researcher",
                "gen_ai.agent.id": "agent-researcher-1",
                "gen_ai.conversation.id": conversation,
                "gen_ai.request.model": "gpt-4o-mini",
                "app.task": "research",
            }
            name = "invoke_agent researcher"
            if self.oi_tracer is not None:
                from openinference.instrumentation import using_attributes

                labels = using_attributes(session_id=conversation, metadata={"task": "research"})
                attributes, name = {"agent.name": "researcher"}, "researcher"
            with labels, self._span(name, "agent", attributes) as agent:
                for step in STEPS:
                    try:
                        self.chat(client, f"research/{run:03d}/{step}", "gpt-4o-mini",
                                  f"Step {step} of research question {run}: be brief.")  # fmt: skip
                    except openai.APIError as e:
                        agent.set_status(StatusCode.ERROR, type(e).__name__)
                        break
                    if step == "search":
                        with self._span(
                            "execute_tool web_search",
                            "tool",
                            {
                                "gen_ai.operation.name": "execute_tool",
                                "gen_ai.tool.name": "web_search",
                            },  # fmt: skip
                        ):
                            time.sleep(0.002)
            self.flush()

    def _span(self, name: str, kind: str, attributes: dict[str, Any]) -> Any:
        if self.oi_tracer is not None:
            return self.oi_tracer.start_as_current_span(
                name, attributes=attributes, openinference_span_kind=kind
            )
        return self.tracer.start_as_current_span(name, attributes=attributes)


def instrument(producer: str, provider: TracerProvider, http_spans: bool) -> dict[str, str]:
    """Instrument openai (and its HTTP client); return the versions for SOURCES.md."""
    from importlib.metadata import version

    versions = {p: version(p) for p in ("openai", "opentelemetry-sdk")}
    if producer == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)
        versions["opentelemetry-instrumentation-openai-v2"] = version(
            "opentelemetry-instrumentation-openai-v2"
        )
    else:
        from openinference.instrumentation.openai import OpenAIInstrumentor as OIInstrumentor

        OIInstrumentor().instrument(tracer_provider=provider)
        versions["openinference-instrumentation-openai"] = version(
            "openinference-instrumentation-openai"
        )
    if http_spans:
        from opentelemetry.instrumentation import httpx as otel_httpx

        if "httpx2" in sys.modules:  # openai 3 sends through httpx2, earlier ones through httpx
            otel_httpx.HTTPX2ClientInstrumentor().instrument(tracer_provider=provider)
        else:
            otel_httpx.HTTPXClientInstrumentor().instrument(tracer_provider=provider)
        versions["opentelemetry-instrumentation-httpx"] = version(
            "opentelemetry-instrumentation-httpx"
        )
    return versions


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--producer", choices=("openai-v2", "openinference"), required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--no-http-spans", action="store_true")
    p.add_argument("--scale", type=float, default=1.0, help="fraction of the workload")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    traces = args.out / f"{args.name}.traces.jsonl"
    truth = args.out / f"{args.name}.truth.jsonl"
    for path in (traces, truth):
        path.unlink(missing_ok=True)
    scenario = Scenario.from_dict(json.loads((HERE / "scenario.json").read_text()))
    service = "helpdesk" if args.producer == "openai-v2" else "helpdesk-oi"
    resource = Resource.create(
        {"service.name": service, "service.version": "1.4.0", "task": "assistant"}
    )
    with FakeOpenAI(truth, scenario) as server, OtlpJsonReceiver(traces) as receiver:
        provider = TracerProvider(resource=resource)
        # exports only on force_flush, so no timer cuts a trace across two lines (see above)
        processor = BatchSpanProcessor(
            OTLPSpanExporter(receiver.endpoint), schedule_delay_millis=3_600_000
        )
        provider.add_span_processor(processor)
        trace.set_tracer_provider(provider)
        versions = instrument(args.producer, provider, not args.no_http_spans)
        app = App(args.producer, server.url, provider)
        n = max(args.scale, 0.0)
        app.support(round(24 * n))
        app.assistant(round(12 * n))
        app.qa(round(16 * n))
        app.research(round(24 * n))
        provider.shutdown()
    print(json.dumps({"traces": str(traces), "export_requests": receiver.requests, **versions}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
