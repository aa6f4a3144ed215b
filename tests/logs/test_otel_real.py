"""Acceptance: real OpenTelemetry and OpenInference traces, counted against the server's truth.

``tests/fixtures/logs/otel_real/`` and ``openinference_real/`` (their SOURCES.md) hold the
traces a helpdesk app exported through the official ``opentelemetry-instrumentation-openai-v2``
and through OpenInference's ``openinference-instrumentation-openai`` (with HTTP client spans),
calling ``tests/producers/fake_openai.py``, and that server's truth file: one line per call it
received, tagged with the client's request key ``<task>/<n>[/<step>]``. Four tasks: single calls
under a parent span carrying the task, calls with no parent (the resource's task), questions
the app retries and falls back itself, and agent runs of four calls each. RouteLedger ingests
each recording into a fresh home; per task its logical requests, successes, retried requests,
fallbacks, attempts, tokens, spend and cost per successful request must equal the truth's, and
every logical request must be the truth's request, attempt for attempt, each attempt of an
agent run named by its agent and conversation (and no other).

A third recording has no HTTP spans: the SDK's retries happen inside the instrumented call and
leave no trace, so its attempts and retries are compared as the spans can show them
(:func:`visible_attempts`), and the rest exactly (docs/log-formats.md, "OpenTelemetry and
OpenInference").
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import LOG_FIXTURES
from tests.producers.prices import overrides

RECORDINGS = {
    "openai-v2": LOG_FIXTURES / "otel_real" / "openai-v2_2.3b0",
    "openinference": LOG_FIXTURES / "openinference_real" / "openinference-openai_0.1.66",
    "openai-v2-no-http-spans": LOG_FIXTURES / "otel_real" / "openai-v2_2.3b0_no-http-spans",
}
WITH_HTTP_SPANS = ("openai-v2", "openinference")
TASKS = ["assistant", "qa", "research", "support"]
# tasks whose retries the openai SDK makes (max_retries > 0); qa's retries are the app's own
SDK_RETRIES = {"assistant", "research", "support"}
# USD per 1M tokens
PRICES = {"gpt-4o-mini": (Decimal("0.15"), Decimal("0.6")), "gpt-4o": (Decimal("2.5"), Decimal("10"))}  # fmt: skip
OVERRIDES = overrides(PRICES)
WINDOW = ["--since", "2026-12-01", "--until", "2026-12-31"]


# -- the truth ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    start: datetime
    model: str
    ok: bool
    http_status: int
    prompt_tokens: int
    completion_tokens: int


def truth_calls(case: str) -> dict[str, list[Call]]:
    """Request key -> its calls in the order the server received them."""
    calls: dict[str, list[tuple[int, Call]]] = defaultdict(list)
    path = RECORDINGS[case].with_name(RECORDINGS[case].name + ".truth.jsonl")
    for line in path.read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        start = datetime.fromisoformat(t["start"].replace("Z", "+00:00"))
        call = Call(
            start.astimezone(UTC).replace(tzinfo=None),
            t["model"],
            t["outcome"] == "success",
            t["http_status"],
            t["prompt_tokens"],
            t["completion_tokens"],
        )
        calls[t["request_key"]].append((t["seq"], call))
    return {k: [c for _, c in sorted(v)] for k, v in calls.items()}


def task_of(key: str) -> str:
    return key.split("/", 1)[0]


def labels_of(key: str) -> tuple[str | None, str | None]:
    """The agent name and conversation id the app gave a call (``record.py``): an agent run's
    ``invoke_agent researcher`` span (OpenInference: the AGENT span ``researcher``) carries
    ``researcher`` and conversation ``conv-<run, 4 digits>``; the other tasks have neither."""
    task, *rest = key.split("/")
    return ("researcher", f"conv-{int(rest[0]):04d}") if task == "research" else (None, None)


def cost(c: Call) -> Decimal:
    i, o = PRICES[c.model]
    return (c.prompt_tokens * i + c.completion_tokens * o) / 1_000_000


def visible_attempts(case: str, task: str, calls: list[Call]) -> int:
    """Attempts the spans can show: every HTTP request with HTTP spans; without them, one per
    call the app made (the SDK's retries happen inside it)."""
    if case in WITH_HTTP_SPANS or task not in SDK_RETRIES:
        return len(calls)
    return 1


def truth_per_task(case: str) -> dict[str, dict[str, Any]]:
    out: dict[str, Counter[str]] = defaultdict(Counter)
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for key, calls in truth_calls(case).items():
        task = task_of(key)
        t = out[task]
        t["requests"] += 1
        t["succeeded"] += calls[-1].ok
        t["fell_back"] += calls[-1].model != calls[0].model
        t["attempts"] += len(calls)
        t["retried"] += len(calls) > 1
        t["visible_attempts"] += visible_attempts(case, task, calls)
        t["visibly_retried"] += visible_attempts(case, task, calls) > 1
        t["prompt_tokens"] += sum(c.prompt_tokens for c in calls)
        t["output_tokens"] += sum(c.completion_tokens for c in calls)
        spend[task] += sum((cost(c) for c in calls), Decimal(0))
    return {k: {**v, "spend": spend[k]} for k, v in out.items()}


def truth_per_model(case: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(model, task) -> (visible attempts, successes)."""
    out: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for key, calls in truth_calls(case).items():
        task = task_of(key)
        shown = calls[-visible_attempts(case, task, calls) :]
        for c in shown:
            out[(c.model, task)]["attempts"] += 1
            out[(c.model, task)]["successes"] += c.ok
    return {k: (v["attempts"], v["successes"]) for k, v in out.items()}


# -- RouteLedger --------------------------------------------------------------------------------


def _run(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(main, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.output))


def new_home(root: Path) -> Path:
    h = root / "home"
    h.mkdir()
    (h / "routeledger.toml").write_text(
        "[ingest]\nbatch_bytes = 65536\n\n"  # several batches per recording
        '[prices]\nauto_catalog = false\noverrides = "overrides.yaml"\n',
        encoding="utf-8",
    )
    (h / "overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    _run("--home", str(h), "prices", "refresh", "--source", "overrides")
    return h


def traces(case: str) -> Path:
    return RECORDINGS[case].with_name(RECORDINGS[case].name + ".traces.jsonl")


@pytest.fixture(scope="module", params=sorted(RECORDINGS))
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:  # fmt: skip
    case = str(request.param)
    home = new_home(tmp_path_factory.mktemp(case))
    summary = _run("--home", str(home), "ingest", str(traces(case)))  # auto-detected
    assert summary["quarantined"] == 0 and summary["files_loaded_nothing"] == []
    return case, home


def _rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def routeledger_per_task(home: Path) -> dict[str, dict[str, Any]]:
    rows = _rows(
        home,
        "SELECT task, count(*), count(*) FILTER (WHERE succeeded), count(*) FILTER (WHERE retried),"
        " count(*) FILTER (WHERE fell_back), sum(attempts), sum(prompt_tokens),"
        " sum(output_tokens), sum(cost_usd), count(*) FILTER (WHERE NOT priced)"
        " FROM logical_requests GROUP BY task",
    )
    names = "requests succeeded retried fell_back attempts prompt_tokens output_tokens spend"
    return {r[0]: dict(zip([*names.split(), "unpriced"], r[1:], strict=True)) for r in rows}


# -- the recordings themselves ------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(RECORDINGS))
def test_the_recordings_cover_what_the_comparison_is_about(case: str) -> None:
    calls = truth_calls(case)
    per_task = truth_per_task(case)
    assert sorted(per_task) == TASKS
    for task, t in per_task.items():
        assert t["retried"] >= 2 and t["succeeded"] < t["requests"], task  # retries, failures
    assert per_task["qa"]["fell_back"] >= 1
    assert sum(len(v) == 3 for k, v in calls.items() if task_of(k) == "support") >= 1
    research_runs = {k.split("/")[1] for k in calls if task_of(k) == "research"}
    assert len(research_runs) * 4 > per_task["research"]["requests"]  # some runs stopped early
    spans = traces(case).read_text(encoding="utf-8")
    assert ('"invoke_agent researcher"' in spans) == case.startswith("openai-v2")
    assert ('"stringValue":"AGENT"' in spans) == (case == "openinference")
    assert ('"name":"POST"' in spans) == (case in WITH_HTTP_SPANS)


def test_both_producers_saw_the_same_traffic() -> None:
    """The fake server answers by seed, request key and try: the two runs got the same answers."""
    a, b = truth_calls("openai-v2"), truth_calls("openinference")

    def shape(calls: dict[str, list[Call]]) -> dict[str, list[tuple[Any, ...]]]:
        return {k: [(c.model, c.http_status, c.completion_tokens) for c in v] for k, v in calls.items()}  # fmt: skip

    assert shape(a) == shape(b)


# -- per task: the items 3 to 5 ---------------------------------------------------------


def test_per_task_counts_equal_the_truth(ledger: tuple[str, Path]) -> None:
    case, home = ledger
    truth, got = truth_per_task(case), routeledger_per_task(home)
    assert sorted(got) == TASKS  # the parent span's task reached its calls (item 5)
    for task, t in truth.items():
        g = got[task]
        assert g["requests"] == t["requests"], task  # one call and its retries (item 3)
        assert g["succeeded"] == t["succeeded"], task
        assert g["fell_back"] == t["fell_back"], task  # a retry on one model is none (item 4)
        assert g["attempts"] == t["visible_attempts"], task
        assert g["retried"] == t["visibly_retried"], task
        assert (g["prompt_tokens"], g["output_tokens"]) == (t["prompt_tokens"], t["output_tokens"])
        assert g["unpriced"] == 0, task  # an HTTP error response used no tokens
        assert g["spend"] == t["spend"], task  # DECIMAL, exactly


def test_with_http_spans_nothing_is_missing(ledger: tuple[str, Path]) -> None:
    case, _ = ledger
    truth = truth_per_task(case)
    missing = {t: truth[t]["attempts"] - truth[t]["visible_attempts"] for t in truth}
    if case in WITH_HTTP_SPANS:
        assert set(missing.values()) == {0}
    else:  # the SDK's retries, pinned: no span shows them
        assert missing == {"assistant": 2, "qa": 0, "research": 18, "support": 3}


def test_stats_json_equals_the_truth(ledger: tuple[str, Path]) -> None:
    case, home = ledger
    truth = truth_per_task(case)
    stats = _run("--home", str(home), "stats", *WINDOW)
    tasks = {t["task"]: t for t in stats["tasks"]}
    assert sorted(tasks) == TASKS and stats["unpriced_attempts"] == 0
    for task, t in truth.items():
        s = tasks[task]
        assert (s["logical_requests"], s["succeeded"]) == (t["requests"], t["succeeded"]), task
        assert s["spend_usd"] == pytest.approx(float(t["spend"]), abs=1e-12)
        assert s["price_coverage"] == 1.0
        cps = t["spend"] / t["succeeded"]
        assert s["cost_per_successful_request_usd"] == pytest.approx(float(cps), rel=1e-9)
        assert s["retry_rate"] == pytest.approx(t["visibly_retried"] / t["requests"])
        assert s["fallback_rate"] == pytest.approx(t["fell_back"] / t["requests"])
    models = {
        (m["model"], m["task"]): (m["attempts"], m["successes"])
        for m in stats["models"]
        if m["provider"] == "openai"
    }
    assert models == truth_per_model(case)  # a failed attempt counts under its requested model


def test_every_request_is_the_truths_attempt_for_attempt(ledger: tuple[str, Path]) -> None:
    """The app ran one call at a time, so the server's calls that started within an attempt's
    time span are the calls it stands for: one with HTTP spans, the SDK's tries of one call
    without. A logical request's attempts stand for one request key's calls, all of them, in
    order, and each has the outcome, status and model of its last call, and the agent name and
    conversation id of its agent run."""
    case, home = ledger
    calls = truth_calls(case)
    starts = sorted((c.start, key, c) for key, v in calls.items() for c in v)
    rows = _rows(
        home,
        "SELECT logical_request_id, started_at, ended_at, status, http_status, model, task, "
        "agent_name, conversation_id FROM attempts ORDER BY logical_request_id, attempt_index",
    )
    requests: dict[str, list[tuple[str, list[Call]]]] = defaultdict(list)
    for rid, start, end, status, http_status, model, task, agent, conversation in rows:
        inside = [(k, c) for s, k, c in starts if start <= s <= end]
        keys = {k for k, _ in inside}
        assert len(keys) == 1, (rid, start, end, inside)
        key = keys.pop()
        assert len(inside) == 1 or case not in WITH_HTTP_SPANS, (rid, inside)
        last = inside[-1][1]
        assert (status, model, task) == ("success" if last.ok else "error", last.model, task_of(key))  # fmt: skip
        assert http_status == (None if last.ok else last.http_status)
        assert (agent, conversation) == labels_of(key), (rid, key)
        requests[rid].append((key, [c for _, c in inside]))
    seen = []
    for rid, attempts in requests.items():
        keys = {key for key, _ in attempts}
        assert len(keys) == 1, (rid, keys)
        key = keys.pop()
        assert [c for _, cs in attempts for c in cs] == calls[key], rid
        seen.append(key)
    assert sorted(seen) == sorted(calls)  # every request once


def test_agent_runs_name_their_agent_and_conversation(ledger: tuple[str, Path]) -> None:
    """Per task, the logical requests that carry an agent name and a conversation id: every
    request of an agent run and no other, one conversation per run."""
    case, home = ledger
    truth = truth_per_task(case)
    runs = {key.split("/")[1] for key in truth_calls(case) if task_of(key) == "research"}
    got = _rows(
        home,
        "SELECT task, agent_name, count(*), count(conversation_id),"
        " count(DISTINCT conversation_id) FROM logical_requests GROUP BY ALL ORDER BY task",
    )
    n = truth["research"]["requests"]
    assert got == [
        (t, "researcher", n, n, len(runs))
        if t == "research"
        else (t, None, truth[t]["requests"], 0, 0)
        for t in TASKS
    ]


def test_the_explorer_lists_and_totals_an_agents_requests(ledger: tuple[str, Path]) -> None:
    """The request explorer narrows to an agent and to one conversation, and Spend by agent
    totals the agent's requests: the same counts as the truth."""
    from app import queries

    case, home = ledger
    truth = truth_per_task(case)["research"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        (since, until) = con.execute(
            "SELECT min(local_day), max(local_day) FROM logical_requests"
        ).fetchone()
        f = queries.Filters(since, until)
        n = queries.explorer_summary(con, f, queries.Narrowing(agent="researcher"), "UTC")
        assert n["requests"] == truth["requests"] and n["succeeded"] == truth["succeeded"]
        one = queries.explorer_requests(
            con, f, queries.Narrowing(conversation="conv-0001"), "UTC", page_size=500
        )
        assert len(one) > 0 and set(one["conversation"]) == {"conv-0001"}
        assert set(one["agent"]) == {"researcher"} and set(one["task"]) == {"research"}
        by = queries.spend_by(con, f, "agent").set_index("grp")
        assert by.loc["researcher", "logical_requests"] == truth["requests"]
        assert by.loc["(none)", "logical_requests"] == sum(
            t["requests"] for k, t in truth_per_task(case).items() if k != "research"
        )
