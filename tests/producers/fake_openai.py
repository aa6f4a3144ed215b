"""A fake OpenAI-compatible chat server on 127.0.0.1 that answers as a script says and writes
down the truth of every call it received. Standard library only, so any venv can run it.

Why: a real gateway (LiteLLM proxy) or a real instrumentation (OpenTelemetry) in front of it
produces real logs, and the truth file says what really happened, call by call, so a test can
compare what RouteLedger counts from those logs with the truth, exactly.

Endpoints
    ``POST [/<deployment>]/v1/chat/completions``: non-streamed, or streamed (``"stream": true``:
    server-sent events, one ``data:`` chunk each, a usage chunk with ``"choices": []`` last when
    ``stream_options.include_usage`` is true, then ``data: [DONE]``). ``GET [/<deployment>]/v1/models``
    and ``GET /health`` answer too. The optional path prefix names a *deployment*, so several
    gateway deployments of one model can point at one server (``api_base:
    http://127.0.0.1:PORT/east/v1``).

Script (a :class:`Scenario`): a seed and a :class:`Rule` per deployment (the path prefix), else
per requested model, else ``"*"``. A rule says: fail the first ``fail_first`` calls it gets with
``fail_status``; then fail with probability ``error_rate`` (status drawn from ``error_status``);
latency, time to first token and output tokens drawn from ranges. Every draw comes from a
``random.Random`` seeded with ``seed|deployment|request key|try``, where the request key is the
caller's request identity (below) and try counts that key's calls to that deployment: the same
client traffic gets the same answers whatever the interleaving. Prompt tokens are counted from the
messages (about 4/3 of the words, plus 7 per message), so they are realistic and repeatable.
Errors are OpenAI-shaped JSON bodies (``{"error": {"message", "type", "code"}}``); a 429
carries ``retry-after`` (``retry_after``, default ``0`` so recordings are quick).

Request identity: header ``x-client-request-id``, else body ``user``, else body
``metadata.client_request_id``. A gateway that forwards one of them lets the truth be joined to
its logical requests.

Truth file (JSONL, one line per call received, written and flushed as the call ends):
``seq`` (arrival order), ``start``/``end`` (UTC ISO 8601), ``deployment`` (path prefix or
null), ``model`` (as requested), ``request_key``, ``key_from`` (header / user / metadata /
null), ``try`` (1-based, this key on this deployment), ``outcome`` (success / error),
``http_status``, ``prompt_tokens``, ``completion_tokens`` (0 on errors: no usage is returned),
``streamed``.

In process::

    from tests.producers.fake_openai import FakeOpenAI, Scenario
    scenario = Scenario.from_dict({"seed": 7, "rules": {"east": {"fail_first": 2}}})
    with FakeOpenAI(truth="truth.jsonl", scenario=scenario) as server:
        base_url = server.url + "/east/v1"     # server.port is the free port it took

As a process (prints ``fake_openai listening on http://127.0.0.1:PORT`` when ready, serves until
SIGINT/SIGTERM)::

    python -m tests.producers.fake_openai --port 0 --truth truth.jsonl --scenario FILE.json

``--scenario`` takes a JSON file shaped like :meth:`Scenario.from_dict`'s argument, or the name of
a built-in scenario (:data:`SCENARIOS`).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ERROR_TYPES = {
    400: ("invalid_request_error", "Bad request."),
    401: ("invalid_request_error", "Incorrect API key provided."),
    429: ("rate_limit_error", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", "The server had an error while processing your request."),
    503: ("server_error", "The engine is currently overloaded, please try again later."),
}


@dataclass(frozen=True)
class Rule:
    """How one deployment (or model) answers. Ranges are inclusive ``[low, high]``."""

    fail_first: int = 0
    fail_status: int = 429
    error_rate: float = 0.0
    error_status: tuple[int, ...] = (500,)
    latency_ms: tuple[int, int] = (20, 60)
    ttft_ms: tuple[int, int] = (10, 30)
    output_tokens: tuple[int, int] = (20, 300)
    retry_after: str | None = "0"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rule:
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown rule keys: {sorted(unknown)}")
        kw = dict(d)
        if "error_status" in kw:
            es = kw["error_status"]
            kw["error_status"] = tuple(es) if isinstance(es, list | tuple) else (int(es),)
        for k in ("latency_ms", "ttft_ms", "output_tokens"):
            if k in kw:
                kw[k] = (int(kw[k][0]), int(kw[k][1]))
        return cls(**kw)


@dataclass(frozen=True)
class Scenario:
    """A seed and the rules; ``rules`` keys are deployments (path prefixes), models or ``*``."""

    seed: int = 0
    rules: dict[str, Rule] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        rules = {k: Rule.from_dict(v) for k, v in (d.get("rules") or {}).items()}
        return cls(seed=int(d.get("seed", 0)), rules=rules)

    @classmethod
    def load(cls, name_or_path: str) -> Scenario:
        if name_or_path in SCENARIOS:
            return cls.from_dict(SCENARIOS[name_or_path])
        return cls.from_dict(json.loads(Path(name_or_path).read_text(encoding="utf-8")))

    def rule(self, deployment: str | None, model: str) -> Rule:
        for key in (deployment, model, "*"):
            if key is not None and key in self.rules:
                return self.rules[key]
        return Rule()


# Built-in scripts, by name. "steady": everything succeeds. "flaky": every model fails now and then.
SCENARIOS: dict[str, dict[str, Any]] = {
    "steady": {"seed": 1, "rules": {}},
    "flaky": {
        "seed": 2,
        "rules": {"*": {"error_rate": 0.15, "error_status": [429, 500]}},
    },
}


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds").replace("+00:00", "Z")


def count_prompt_tokens(messages: Any) -> int:
    """About 4/3 of the words of every message, plus 7 per message: repeatable, realistic."""
    if not isinstance(messages, list):
        return 7
    total = 0
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else m
        if isinstance(content, list):  # content parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        words = len(str(content or "").split())
        total += 7 + (words * 4 + 2) // 3
    return total


class FakeOpenAI:
    """The server. ``start()`` serves on a thread; ``stop()`` ends it; usable as a context
    manager. ``port=0`` takes any free port (``.port`` and ``.url`` say which)."""

    def __init__(self, truth: str | Path, scenario: Scenario | None = None, port: int = 0) -> None:
        self.scenario = scenario or Scenario()
        self.truth_path = Path(truth)
        self._lock = threading.Lock()
        self._seq = 0
        self._deployment_calls: Counter[str] = Counter()
        self._tries: Counter[tuple[str, str]] = Counter()
        self._truth = self.truth_path.open("a", encoding="utf-8")
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> FakeOpenAI:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            self._truth.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the script ------------------------------------------------------------------------
    def plan(self, deployment: str | None, model: str, key: str | None) -> dict[str, Any]:
        """What this call will do: outcome, status, latency, tokens. Thread-safe."""
        target = deployment or model
        rule = self.scenario.rule(deployment, model)
        with self._lock:
            self._seq += 1
            seq = self._seq
            nth = self._deployment_calls[target]
            self._deployment_calls[target] += 1
            rkey = key if key is not None else f"#{nth}"
            self._tries[(target, rkey)] += 1
            tries = self._tries[(target, rkey)]
        rng = random.Random(f"{self.scenario.seed}|{target}|{rkey}|{tries}")
        u = rng.random()
        status = 200
        if nth < rule.fail_first:
            status = rule.fail_status
        elif u < rule.error_rate:
            status = rng.choice(rule.error_status)
        return {
            "seq": seq,
            "try": tries,
            "status": status,
            "latency_ms": rng.randint(*rule.latency_ms),
            "ttft_ms": rng.randint(*rule.ttft_ms),
            "completion_tokens": rng.randint(*rule.output_tokens),
            "retry_after": rule.retry_after,
        }

    def record(self, line: dict[str, Any]) -> None:
        with self._lock:
            if not self._truth.closed:
                self._truth.write(json.dumps(line, separators=(",", ":")) + "\n")
                self._truth.flush()


def _identity(headers: Any, body: dict[str, Any]) -> tuple[str | None, str | None]:
    h = headers.get("x-client-request-id")
    if h:
        return h, "header"
    if isinstance(body.get("user"), str) and body["user"]:
        return body["user"], "user"
    md = body.get("metadata")
    if isinstance(md, dict) and isinstance(md.get("client_request_id"), str):
        return md["client_request_id"], "metadata"
    return None, None


def _split_path(path: str) -> tuple[str | None, str]:
    """``/east/v1/chat/completions`` -> (``east``, ``/v1/chat/completions``)."""
    path = path.split("?", 1)[0]
    i = path.find("/v1/")
    if i <= 0:
        return None, path
    prefix = path[:i].strip("/")
    return (prefix or None), path[i:]


def _make_handler(server: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-openai/1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                out = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def do_GET(self) -> None:
            _, path = _split_path(self.path)
            if self.path == "/health":
                self._json(200, {"status": "ok"})
            elif path == "/v1/models":
                models = sorted({k for k in server.scenario.rules if k != "*"})
                self._json(
                    200,
                    {"object": "list", "data": [{"id": m, "object": "model"} for m in models]},
                )
            else:
                self._json(404, {"error": {"message": "not found", "type": "not_found"}})

        def do_POST(self) -> None:
            start = _now()
            deployment, path = _split_path(self.path)
            if path != "/v1/chat/completions":
                self._json(404, {"error": {"message": "not found", "type": "not_found"}})
                return
            try:
                body = json.loads(self._body() or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("body is not an object")
            except ValueError:
                self._json(400, {"error": {"message": "body is not JSON", "type": "bad_request"}})
                return
            model = str(body.get("model") or "")
            key, key_from = _identity(self.headers, body)
            streamed = bool(body.get("stream"))
            plan = server.plan(deployment, model, key)
            prompt = count_prompt_tokens(body.get("messages"))
            truth: dict[str, Any] = {
                "seq": plan["seq"],
                "start": _iso(start),
                "end": None,
                "deployment": deployment,
                "model": model,
                "request_key": key,
                "key_from": key_from,
                "try": plan["try"],
                "outcome": "success" if plan["status"] == 200 else "error",
                "http_status": plan["status"],
                "prompt_tokens": prompt if plan["status"] == 200 else 0,
                "completion_tokens": plan["completion_tokens"] if plan["status"] == 200 else 0,
                "streamed": streamed,
            }
            try:
                if plan["status"] != 200:
                    time.sleep(plan["ttft_ms"] / 1000)
                    self._error(plan)
                elif streamed:
                    self._stream(body, model, prompt, plan)
                else:
                    time.sleep(plan["latency_ms"] / 1000)
                    self._json(200, _completion(model, prompt, plan["completion_tokens"]))
            finally:
                truth["end"] = _iso(_now())
                server.record(truth)

        def _error(self, plan: dict[str, Any]) -> None:
            status = int(plan["status"])
            etype, message = ERROR_TYPES.get(status, ("server_error", "Error."))
            extra = {}
            if status == 429 and plan["retry_after"] is not None:
                extra["retry-after"] = str(plan["retry_after"])
            self._json(
                status,
                {"error": {"message": message, "type": etype, "param": None, "code": str(status)}},
                extra,
            )

        def _stream(
            self, body: dict[str, Any], model: str, prompt: int, plan: dict[str, Any]
        ) -> None:
            n_out = int(plan["completion_tokens"])
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            cid = "chatcmpl-" + uuid.uuid4().hex[:24]
            created = int(time.time())
            pieces = min(n_out, 8)
            gap = max(plan["latency_ms"] - plan["ttft_ms"], 0) / 1000 / max(pieces, 1)

            def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
                return {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                }

            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.end_headers()
            time.sleep(plan["ttft_ms"] / 1000)
            events = [chunk({"role": "assistant", "content": ""})]
            for i in range(pieces):
                events.append(chunk({"content": f"word{i} "}))
            events.append(chunk({}, "stop"))
            for i, ev in enumerate(events):
                self.wfile.write(b"data: " + json.dumps(ev).encode() + b"\n\n")
                self.wfile.flush()
                if 0 < i <= pieces:
                    time.sleep(gap)
            if include_usage:
                usage = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": _usage(prompt, n_out),
                }
                self.wfile.write(b"data: " + json.dumps(usage).encode() + b"\n\n")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _completion(model: str, prompt: int, completion: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "word " * min(completion, 8)},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(prompt, completion),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.producers.fake_openai", description=__doc__)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    p.add_argument("--truth", required=True, help="truth JSONL file (appended to)")
    p.add_argument("--scenario", default="steady", help="JSON file or built-in scenario name")
    args = p.parse_args(argv)
    server = FakeOpenAI(args.truth, Scenario.load(args.scenario), args.port)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    print(f"fake_openai listening on {server.url}", flush=True)
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
