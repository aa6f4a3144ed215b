"""The fake OpenAI server the real-producer recordings run against: it answers as its script
says, the same way every time, and its truth file holds every call."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.producers.fake_openai import FakeOpenAI, Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Scenario.from_dict(
    {
        "seed": 5,
        "rules": {
            "east": {"fail_first": 1, "fail_status": 429},
            "flaky": {"error_rate": 0.5, "error_status": [500, 503], "latency_ms": [1, 2]},
            "*": {"latency_ms": [1, 3], "ttft_ms": [1, 2], "output_tokens": [5, 9]},
        },
    }
)


def call(url: str, body: dict[str, Any], key: str | None = None) -> tuple[int, bytes, Any]:
    headers = {"content-type": "application/json"}
    if key:
        headers["x-client-request-id"] = key
    req = urllib.request.Request(url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def chat(model: str, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "one two three four five six"}],
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def test_answers_streams_fails_and_writes_the_truth(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    with FakeOpenAI(truth, SCENARIO) as s:
        status, first, headers = call(s.url + "/east/v1/chat/completions", chat("m"), "r1")
        assert status == 429 and headers["retry-after"] == "0"
        assert json.loads(first)["error"]["type"] == "rate_limit_error"
        status, body, _ = call(s.url + "/east/v1/chat/completions", chat("m"), "r1")
        usage = json.loads(body)["usage"]
        assert status == 200 and usage["prompt_tokens"] == 7 + 8  # 6 words, one message
        status, body, headers = call(s.url + "/v1/chat/completions", chat("m", True), "r2")
        events = [e for e in body.decode().split("\n\n") if e]
        assert status == 200 and headers["content-type"] == "text/event-stream"
        assert events[-1] == "data: [DONE]"
        last = json.loads(events[-2].removeprefix("data: "))
        assert last["choices"] == [] and last["usage"]["completion_tokens"] in range(5, 10)
    lines = [json.loads(x) for x in truth.read_text().splitlines()]
    assert [(t["deployment"], t["request_key"], t["try"], t["http_status"]) for t in lines] == [
        ("east", "r1", 1, 429),
        ("east", "r1", 2, 200),
        (None, "r2", 1, 200),
    ]
    assert lines[1]["prompt_tokens"] == usage["prompt_tokens"] and lines[2]["streamed"]
    assert lines[0]["completion_tokens"] == 0 and lines[0]["key_from"] == "header"


def test_the_same_traffic_gets_the_same_answers(tmp_path: Path) -> None:
    def run(name: str) -> list[tuple[Any, ...]]:
        with FakeOpenAI(tmp_path / name, SCENARIO) as s:
            for i in range(20):
                call(s.url + "/v1/chat/completions", chat("flaky"), f"k{i % 7}")
        return [
            (t["request_key"], t["try"], t["http_status"], t["completion_tokens"])
            for t in map(json.loads, (tmp_path / name).read_text().splitlines())
        ]

    first = run("a.jsonl")
    assert first == run("b.jsonl")
    statuses = {status for _, _, status, _ in first}
    assert 200 in statuses and statuses & {500, 503}  # the seeded coin came up both ways


def test_runs_as_a_process_and_says_where(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.producers.fake_openai", "--truth", str(tmp_path / "t")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        assert call(url + "/v1/chat/completions", chat("any"))[0] == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    assert len((tmp_path / "t").read_text().splitlines()) == 1
