"""Acceptance: a real LiteLLM proxy's log, counted against the truth of the server behind it.

``tests/fixtures/logs/litellm_proxy_real/`` (SOURCES.md) holds what litellm 1.108.7's proxy
logged for 240 requests over three tasks, through two model groups with retries and a fallback,
streamed and not, in front of ``tests/producers/fake_openai.py``, and that server's truth file:
one line per call it received, each tagged with the client's request key ``<task>-<nnnn>``.
RouteLedger ingests the log into a fresh home priced like the proxy's ``config.yaml``; per task
its logical requests, successes, retried requests, fallbacks, attempts, spend and cost per
successful request must equal the truth's.

Two of those the log cannot fully show, and the tests say exactly how much: the proxy logs a
request's first failure and its success, nothing in between, and only a non-streamed success
says how many retries and fallbacks came before it (docs/log-formats.md, "LiteLLM"). So the
truth's attempts and retried requests are compared as the log can prove them
(:func:`provable_attempts`), and the attempts it cannot prove are pinned separately.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import LOG_FIXTURES
from tests.producers.prices import overrides

FIX = LOG_FIXTURES / "litellm_proxy_real"
# USD per 1M tokens: the fake models at the prices the proxy's config.yaml gives them
PRICES = {
    "fake-large": (Decimal("2.5"), Decimal("10")),
    "fake-small": (Decimal("0.15"), Decimal("0.6")),
}
OVERRIDES = overrides(PRICES)
WINDOW = ["--since", "2026-12-01", "--until", "2026-12-31"]

# -- the truth ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    start: str
    model: str
    ok: bool
    streamed: bool
    prompt_tokens: int
    completion_tokens: int


def truth_calls() -> dict[str, list[Call]]:
    """Request key -> its calls in the order the server received them."""
    calls: dict[str, list[Call]] = defaultdict(list)
    for line in (FIX / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        calls[t["request_key"]].append(
            Call(
                t["start"],
                t["model"],
                t["outcome"] == "success",
                t["streamed"],
                t["prompt_tokens"],
                t["completion_tokens"],
            )
        )
    return {k: sorted(v, key=lambda c: c.start) for k, v in calls.items()}


def task_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


def cost(c: Call) -> Decimal:
    i, o = PRICES[c.model]
    return (c.prompt_tokens * i + c.completion_tokens * o) / 1_000_000


def provable_attempts(calls: list[Call]) -> int:
    """The attempts of one request that litellm 1.108.7's log proves: a record for its first
    failure and one for its success; for a non-streamed success, also its counters: the
    retries in its own model group plus one attempt for each model group it fell back from."""
    logged = int(any(not c.ok for c in calls)) + int(calls[-1].ok)
    final = calls[-1]
    if not final.ok or final.streamed:
        return logged
    retries = sum(1 for c in calls if c.model == final.model) - 1
    fallbacks = len({c.model for c in calls if c.model != final.model})
    return max(logged, retries + fallbacks + 1)


def truth_per_task() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(lambda: Counter())
    for key, calls in truth_calls().items():
        t = out[task_of(key)]
        t["requests"] += 1
        t["succeeded"] += calls[-1].ok
        t["retried"] += len(calls) > 1
        t["fell_back"] += calls[-1].model != calls[0].model
        t["attempts"] += len(calls)
        t["provable_attempts"] += provable_attempts(calls)
        t["provably_retried"] += provable_attempts(calls) > 1
        t["spend"] = t.get("spend", Decimal(0)) + sum((cost(c) for c in calls), Decimal(0))
    return {k: dict(v) for k, v in out.items()}


# -- RouteLedger --------------------------------------------------------------------------------


def _run(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(main, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.output))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    h = tmp_path_factory.mktemp("litellm_real") / "home"
    h.mkdir()
    (h / "routeledger.toml").write_text(
        '[prices]\nauto_catalog = false\noverrides = "overrides.yaml"\n', encoding="utf-8"
    )
    (h / "overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    _run("--home", str(h), "prices", "refresh", "--source", "overrides")
    log = str(FIX / "litellm_slp.jsonl")
    summary = _run("--home", str(h), "ingest", log, "--format", "litellm")
    assert summary["quarantined"] == 0 and summary["attempts_loaded"] == 317
    return h


def _rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def routeledger_per_task(home: Path) -> dict[str, dict[str, Any]]:
    rows = _rows(
        home,
        "SELECT task, count(*), count(*) FILTER (WHERE succeeded), count(*) FILTER (WHERE retried),"
        " count(*) FILTER (WHERE fell_back), sum(attempts), sum(cost_usd),"
        " count(*) FILTER (WHERE NOT priced) FROM logical_requests GROUP BY task",
    )
    names = "requests succeeded retried fell_back attempts spend unpriced".split()
    return {r[0]: dict(zip(names, r[1:], strict=True)) for r in rows}


def request_keys() -> dict[str, str]:
    """The log's trace id -> the client's request key (the proxy logs the client's x- headers)."""
    keys = {}
    for line in (FIX / "litellm_slp.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        keys[d["trace_id"]] = d["metadata"]["requester_custom_headers"]["x-client-request-id"]
    return keys


# -- the recording itself -----------------------------------------------------------------------


def test_the_recording_holds_every_request_and_the_client_agrees_with_the_truth() -> None:
    calls = truth_calls()
    keys = request_keys()
    assert len(calls) == 240 and sorted(keys.values()) == sorted(calls)  # one trace a request
    client = [json.loads(x) for x in (FIX / "client.jsonl").read_text().splitlines()]
    assert {c["request_key"]: c["ok"] for c in client} == {k: v[-1].ok for k, v in calls.items()}
    # the scenario covers what the comparison is about
    assert sum(len(v) > 1 and v[-1].streamed for v in calls.values()) >= 20  # streamed retries
    assert sum(v[-1].model != v[0].model for v in calls.values()) >= 5  # fallbacks
    assert sum(not v[-1].ok for v in calls.values()) >= 3  # failed for good
    same = sum(len(v) > 1 and v[0].model == v[-1].model for v in calls.values())
    assert same >= 20  # retried within a model group


# -- what needs no ordering: requests, spend ----------------------------------------------------


def test_requests_and_spend_per_task_equal_the_truth(ledger: Path) -> None:
    truth, got = truth_per_task(), routeledger_per_task(ledger)
    assert sorted(got) == sorted(truth) == ["classify", "draft", "summarize"]
    for task in truth:
        assert got[task]["requests"] == truth[task]["requests"], task
        assert got[task]["unpriced"] == 0, task
        assert got[task]["spend"] == truth[task]["spend"], task  # DECIMAL, exactly


def test_the_proxys_reported_cost_is_the_computed_one(ledger: Path) -> None:
    """The proxy priced the fake models as the override does (config.yaml): every attempt's
    reported cost equals RouteLedger's, to LiteLLM's float precision."""
    rows = _rows(ledger, "SELECT reported_cost_usd, cost_usd, status FROM attempts")
    assert len(rows) == 317
    for reported, computed, _status in rows:
        assert abs(Decimal(reported) - Decimal(computed)) < Decimal("1e-12")


def test_stats_json_agrees_with_the_marts(ledger: Path) -> None:
    stats = _run("--home", str(ledger), "stats", *WINDOW)
    got = routeledger_per_task(ledger)
    for t in stats["tasks"]:
        g = got[t["task"]]
        assert t["logical_requests"] == g["requests"] and t["succeeded"] == g["succeeded"]
        assert t["spend_usd"] == pytest.approx(float(g["spend"]), abs=1e-12)
        assert t["retry_rate"] == pytest.approx(g["retried"] / g["requests"], abs=1e-12)
        assert t["fallback_rate"] == pytest.approx(g["fell_back"] / g["requests"], abs=1e-12)


# -- order, outcome and attempts: the items 1 and 2 ---------------------------------------


def test_outcomes_fallbacks_and_cost_per_success_per_task_equal_the_truth(ledger: Path) -> None:
    truth, got = truth_per_task(), routeledger_per_task(ledger)
    stats = {t["task"]: t for t in _run("--home", str(ledger), "stats", *WINDOW)["tasks"]}
    for task in truth:
        assert got[task]["succeeded"] == truth[task]["succeeded"], task
        assert got[task]["fell_back"] == truth[task]["fell_back"], task
        cps = truth[task]["spend"] / truth[task]["succeeded"]
        assert stats[task]["cost_per_successful_request_usd"] == pytest.approx(
            float(cps), rel=1e-12
        )


def test_every_request_has_the_truths_first_and_final_model_and_outcome(ledger: Path) -> None:
    calls, keys = truth_calls(), request_keys()
    rows = _rows(
        ledger,
        "SELECT logical_request_id, first_model, final_model, succeeded, attempts "
        "FROM logical_requests",
    )
    wrong = []
    for rid, first, final, succeeded, attempts in rows:
        c = calls[keys[rid]]
        want = (c[0].model, c[-1].model, c[-1].ok, provable_attempts(c))
        if (first, final, succeeded, attempts) != want:
            wrong.append((keys[rid], (first, final, succeeded, attempts), want))
    assert wrong == []


def test_attempts_and_retries_are_what_the_log_proves_and_no_more_is_missing(ledger: Path) -> None:
    truth, got = truth_per_task(), routeledger_per_task(ledger)
    for task in truth:
        assert got[task]["attempts"] == truth[task]["provable_attempts"], task
        assert got[task]["retried"] == truth[task]["provably_retried"], task
    # what the log cannot show, pinned: retries inside streamed requests and requests that
    # failed for good (no record counts them), earlier tries of a model group fallen back from
    unproven = {t: truth[t]["attempts"] - truth[t]["provable_attempts"] for t in truth}
    assert unproven == {"classify": 11, "draft": 0, "summarize": 16}
    assert {t: truth[t]["retried"] - truth[t]["provably_retried"] for t in truth} == {
        "classify": 5,
        "draft": 0,
        "summarize": 0,
    }


def test_the_explorer_shows_each_requests_unlogged_attempts(ledger: Path) -> None:
    """The request explorer's attempt chain lists the logged attempts and counts the rest: per
    request, its rows plus its unlogged attempts are the attempts the log proves."""
    from app import queries

    calls, keys = truth_calls(), request_keys()
    with duckdb.connect(str(ledger / "warehouse.duckdb"), read_only=True) as con:
        ids = [
            r[0] for r in con.execute("SELECT logical_request_id FROM logical_requests").fetchall()
        ]
        unlogged = 0
        for rid in ids:
            got = queries.request_attempts(con, rid)
            hidden = int(got["unlogged_attempts"].iloc[0])
            assert len(got) + hidden == provable_attempts(calls[keys[rid]]), keys[rid]
            unlogged += hidden
    assert unlogged == 16  # SOURCES.md: 16 calls proven by a success's counters, not logged
