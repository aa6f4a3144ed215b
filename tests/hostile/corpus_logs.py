"""The hostile log files: one per log format, plus one file per bug the corpus found in the ingest engine.

Every file ends in a truncated line with no newline (a log being written): it must wait for the
next run (``waiting_bytes``), not be quarantined or lost. Dates are in ISO week 2025-W36 so the
dashboard and the weekly report show them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.hostile.payloads import (
    ANSI,
    BIDI,
    DIALOG,
    DUP,
    FORMULA,
    IFRAME,
    IMG,
    LONG,
    MAX_LINE_BYTES,
    MD_IMG,
    MD_LINK,
    NONE,
    NUL,
    OK,
    QUARANTINED,
    RICH,
    SCRIPT,
    SKIP,
    SVG,
    TEMPLATE,
    TITLE,
    Line,
    LogFile,
    deep_closed,
    deep_open,
    epoch,
    j,
    ts,
    with_raw,
)

# -- RouteLedger JSONL ----------------------------------------------------------------------------


def rl(n: int, day: int = 1, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "attempt_id": f"h{n:03d}",
        "logical_request_id": f"hr{n:03d}",
        "attempt_index": 1,
        "started_at": ts(day, n * 7),
        "ended_at": ts(day, n * 7 + 2),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "task": "summarize",
        "team": "search",
        "user": "u1",
        "status": "success",
        "input_tokens": 120,
        "output_tokens": 30,
    }
    row.update(over)
    return row


def routeledger_jsonl() -> LogFile:
    base = j(rl(1))
    lines = [
        Line(base, OK, "a plain attempt"),
        Line(
            j(rl(2, model=SCRIPT, task=IMG, team=SVG, user=TITLE, key_alias=IFRAME)),
            OK,
            "markup in model, task, team, user and key alias: stored as data",
        ),
        Line(
            j(rl(3, model=IMG, task=TITLE, team=RICH, user=FORMULA, provider="<b>acme</b>")),
            OK,
            "more markup, rich markup, a spreadsheet formula, markup in the provider",
        ),
        Line(
            j(rl(4, model=MD_LINK, task=TEMPLATE, team=MD_IMG, user=DIALOG, day=2)),
            OK,
            "Markdown link and image, template syntax, a dialog payload",
        ),
        Line(
            j(rl(5, model=NUL, task=ANSI, team=BIDI, day=2)),
            OK,
            "JSON-escaped NUL, terminal escape and bidi override characters",
        ),
        Line(j(rl(6, model=LONG, day=3)), OK, "a 60 kB model name"),
        # a fallback: SCRIPT fails with a rate limit, IMG rescues it (reliability flows)
        Line(
            j(
                rl(
                    7,
                    logical_request_id="hfall",
                    model=SCRIPT,
                    status="error",
                    error_class="rate_limit",
                    http_status=429,
                    day=2,
                )
            ),
            OK,
            "a failed attempt on a hostile model",
        ),
        Line(
            j(rl(8, logical_request_id="hfall", attempt_index=2, model=IMG, day=2)),
            OK,
            "its fallback on another hostile model",
        ),
        Line(
            with_raw(base.replace(b'"h001"', b'"h009"'), "cost_usd", b"Infinity"),
            "invalid_json",
            "Infinity literal",
        ),
        Line(
            with_raw(base.replace(b'"h001"', b'"h010"'), "cost_usd", b"-Infinity"),
            "invalid_json",
            "-Infinity literal",
        ),
        Line(
            with_raw(base.replace(b'"h001"', b'"h011"'), "reasoning_tokens", b"NaN"),
            "invalid_json",
            "NaN literal",
        ),
        Line(
            base.replace(b'"input_tokens": 120', b'"input_tokens": 1e400'),
            "bad_number",
            "1e400 tokens (a float overflow)",
        ),
        Line(
            j(rl(13)).replace(b'"input_tokens": 120', b'"input_tokens": 99999999999999999999999'),
            "bad_number",
            "a token count beyond 64 bits",
        ),
        Line(j(rl(14, output_tokens=100_000_001)), "absurd_tokens", "over 100M tokens"),
        Line(j(rl(15, cost_usd="1e400")), "bad_cost", "an infinite reported cost"),
        Line(j(rl(16, started_at=1e300)), "bad_timestamp", "epoch 1e300"),
        Line(
            b'{"attempt_id": "h017", "model": ' + deep_open(),
            "too_deeply_nested",
            "100,000 unclosed [",
        ),
        Line(
            with_raw(j(rl(18)), "route", deep_closed(30_000)),
            "too_deeply_nested",
            "30,000 levels of closed arrays",
        ),
        Line(
            j(rl(19)).replace(b'"gpt-4o-mini"', b'"gpt\x00raw"'),
            "invalid_json",
            "a raw NUL byte",
        ),
        Line(
            j(rl(20)).replace(b'"gpt-4o-mini"', b'"gpt\x01\x1b[2J"'),
            "invalid_json",
            "raw control characters",
        ),
        Line(j(rl(21)).replace(b"summarize", b"summ\xff\xfearize"), "invalid_utf8", "bad UTF-8"),
        Line(
            j(rl(22, model="x" * (MAX_LINE_BYTES + 1000))),
            "line_too_long",
            "a line over ingest.max_line_bytes",
        ),
        Line(b"[1, 2, 3]", "not_an_object", "a JSON array"),
        Line(b'{"attempt_id": "h024", "started_at": ', "invalid_json", "cut mid-record"),
        Line(j({k: v for k, v in rl(25).items() if k != "model"}), "missing_field", "no model"),
        Line(base, DUP, "line 1 again"),
        Line(j(rl(2, model="other")), DUP, "attempt id h002 again, other content"),
        Line(j(rl(28, day=3)), OK, "a plain attempt after all of that"),
    ]
    tail = j(rl(29, day=3))[:60]
    return LogFile(
        "routeledger.jsonl",
        "routeledger",
        tuple(lines),
        tail,
        what="RouteLedger JSONL: markup in every name, huge and non-finite numbers, deep "
        "nesting, NUL and control bytes, bad UTF-8, an overlong line, duplicates, a cut tail",
    )


# -- RouteLedger CSV ------------------------------------------------------------------------------

CSV_FIELDS = (
    "attempt_id",
    "logical_request_id",
    "started_at",
    "ended_at",
    "provider",
    "model",
    "task",
    "team",
    "user",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_usd",
)


def _csv_line(values: list[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(values)
    return buf.getvalue().encode()


def _csv(n: int, day: int = 1, **over: Any) -> bytes:
    row = rl(n, day, **{"cost_usd": "", **over})
    row["attempt_id"] = f"c{n:03d}"
    row["logical_request_id"] = f"cr{n:03d}"
    return _csv_line([row[f] for f in CSV_FIELDS])


def routeledger_csv() -> LogFile:
    lines = [
        Line(_csv_line(list(CSV_FIELDS)), NONE, "the header"),
        Line(_csv(1), OK, "a plain attempt"),
        Line(_csv(2, model=SCRIPT, task=IMG, team=SVG, user=TITLE), OK, "markup, quoted"),
        Line(
            _csv(3, model=FORMULA, task="+SUM(1,2)", team="@cmd", user="-2+3"),
            OK,
            "spreadsheet formulas",
        ),
        Line(_csv(4, model='a "quoted", name', task=RICH, day=2), OK, "quotes and commas"),
        Line(_csv(5, input_tokens="1e400"), "bad_number", "1e400 tokens"),
        Line(_csv(6, input_tokens="99999999999999999999999"), "bad_number", "beyond 64 bits"),
        Line(_csv(7, input_tokens="NaN"), "bad_number", "NaN tokens"),
        Line(_csv(8, cost_usd="Infinity"), "bad_cost", "infinite cost"),
        Line(_csv(9, cost_usd="-Infinity"), "bad_cost", "negative infinite cost"),
        Line(_csv(10) + b",EXTRA", "csv_extra_columns", "one column too many"),
        Line(b"c011,cr011,2025-09-01T09:00:00Z", "csv_missing_columns", "a short row"),
        Line(_csv(12).replace(b"summarize", b"summ\xffarize"), "invalid_utf8", "bad UTF-8"),
        Line(_csv(1), DUP, "line 2 again"),
        Line(_csv(15, day=3), OK, "a plain attempt after all of that"),
    ]
    return LogFile(
        "routeledger.csv",
        "routeledger",
        tuple(lines),
        _csv(16, day=3)[:30],
        what="RouteLedger CSV: markup and spreadsheet formulas in names, huge and non-finite "
        "numbers as text, extra and missing columns, bad UTF-8, a duplicate, a cut tail",
    )


# -- LiteLLM StandardLoggingPayload ---------------------------------------------------------------


def slp(n: int, day: int = 1, **over: Any) -> dict[str, Any]:
    start = epoch(day, n * 11)
    doc: dict[str, Any] = {
        "id": f"chatcmpl-hostile-{n:03d}",
        "litellm_call_id": f"call-hostile-{n:03d}",
        "trace_id": f"trace-hostile-{n:03d}",
        "call_type": "acompletion",
        "cache_hit": None,
        "stream": False,
        "status": "success",
        "custom_llm_provider": "anthropic",
        "startTime": start,
        "endTime": start + 1.5,
        "completionStartTime": start + 0.4,
        "model": "claude-3-haiku",
        "model_group": "chat-default",
        "model_id": "dep-1",
        "response_cost": 0.00012,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "request_tags": ["task:extract", "env:test"],
        "end_user": "",
        "metadata": {
            "user_api_key_hash": "0" * 64,
            "user_api_key_alias": "ci-key",
            "user_api_key_team_alias": "platform",
            "user_api_key_user_id": "u2",
            "requester_metadata": {},
            "usage_object": {"prompt_tokens": 100, "completion_tokens": 20},
        },
        "messages": [{"role": "user", "content": "HOSTILE-CORPUS-PROMPT never stored"}],
        "error_str": None,
        "error_information": {"error_code": "", "error_class": ""},
    }
    for k, v in over.items():
        if k.startswith("meta_"):
            doc["metadata"][k[5:]] = v
        else:
            doc[k] = v
    return doc


def litellm_jsonl() -> LogFile:
    base = j(slp(1))
    hostile = slp(
        2,
        model=SCRIPT,
        model_group=IMG,
        request_tags=[f"task:{TITLE}"],
        end_user=MD_LINK,
        meta_user_api_key_team_alias=SVG,
        meta_user_api_key_alias=IFRAME,
    )
    lines = [
        Line(base, OK, "a plain payload"),
        Line(j(hostile), OK, "markup in model, model group, task tag, team, key alias, user"),
        Line(
            j(slp(3, custom_llm_provider=DIALOG, model=MD_IMG, day=2)),
            OK,
            "markup in the provider, a Markdown image as model",
        ),
        Line(
            j(slp(4, model=ANSI, request_tags=[f"task:{NUL}"], day=2)),
            OK,
            "terminal escapes and NUL, JSON-escaped",
        ),
        Line(
            with_raw(j(slp(5)), "response_cost", b"NaN").replace(
                b'"response_cost": 0.00012, ', b""
            ),
            "invalid_json",
            "NaN cost literal",
        ),
        Line(
            j(slp(6)).replace(b'"prompt_tokens": 100,', b'"prompt_tokens": 1e400,', 1),
            "bad_number",
            "1e400 prompt tokens",
        ),
        Line(
            j(slp(7)).replace(b'"prompt_tokens": 100,', b'"prompt_tokens": -Infinity,', 1),
            "invalid_json",
            "-Infinity literal",
        ),
        Line(
            j(slp(8)).replace(
                b'"completion_tokens": 20,', b'"completion_tokens": 99999999999999999999999,', 1
            ),
            "bad_number",
            "beyond 64 bits",
        ),
        Line(j(slp(9, response_cost=1e300)), "bad_cost", "an absurd reported cost"),
        Line(j(slp(10, startTime=1e300)), "bad_timestamp", "epoch 1e300"),
        Line(
            j(slp(11)).replace(
                b'"requester_metadata": {}', b'"requester_metadata": ' + deep_open()
            ),
            "too_deeply_nested",
            "100,000 unclosed [ in the metadata",
        ),
        Line(j(slp(12)).replace(b"chat-default", b"chat\x00default"), "invalid_json", "raw NUL"),
        Line(j(slp(13)).replace(b"platform", b"plat\xc3\x28form"), "invalid_utf8", "bad UTF-8"),
        Line(base, DUP, "line 1 again"),
        Line(j(slp(17, day=3)), OK, "a plain payload after all of that"),
    ]
    return LogFile(
        "litellm_slp.jsonl",
        "litellm",
        tuple(lines),
        j(slp(18, day=3))[:100],
        what="LiteLLM StandardLoggingPayload JSONL: markup in model, group, tags, team, key "
        "alias, user and provider; non-finite and huge numbers; deep metadata; NUL; bad UTF-8; a "
        "duplicate; a cut tail",
    )


# -- OpenTelemetry GenAI spans (OTLP/JSON lines) --------------------------------------------------


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, dict):
        return {"key": key, "value": value}
    return {"key": key, "value": {"stringValue": value}}


def span_doc(n: int, day: int = 1, resource: dict[str, Any] | None = None, **attrs: Any) -> dict:
    start = int(epoch(day, n * 13)) * 10**9
    a = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 200,
        "gen_ai.usage.output_tokens": 40,
        "app.task": "classify",
    }
    a.update(attrs)
    span = {
        "traceId": f"{n:032x}",
        "spanId": f"{n + 0x1000:016x}",
        "name": "chat",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 900_000_000),
        "attributes": [_attr(k, v) for k, v in a.items() if v is not None],
        "status": {},
    }
    res = {"service.name": "hostile-app", **(resource or {})}
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [_attr(k, v) for k, v in res.items()]},
                "scopeSpans": [{"scope": {"name": "hostile.instrumentation"}, "spans": [span]}],
            }
        ]
    }


def otel_jsonl() -> LogFile:
    base = j(span_doc(1))
    http_only = span_doc(9)
    http_only["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
        _attr("http.request.method", "POST")
    ]
    deep = j(span_doc(11)).replace(
        b'{"stringValue": "classify"}', b'{"arrayValue": {"values": ' + deep_open() + b"}}"
    )
    bad_id = span_doc(12)
    bad_id["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = SCRIPT
    not_list = span_doc(13)
    not_list["resourceSpans"][0]["scopeSpans"][0]["spans"] = SCRIPT
    lines = [
        Line(base, OK, "a plain chat span"),
        Line(
            j(
                span_doc(
                    2,
                    **{
                        "gen_ai.request.model": SCRIPT,
                        "app.task": IMG,
                        "gen_ai.provider.name": SVG,
                    },
                    resource={"team": TITLE},
                )
            ),
            OK,
            "markup in model, task, provider and team",
        ),
        Line(
            j(span_doc(3, day=2, **{"gen_ai.request.model": IFRAME, "user.id": RICH})),
            OK,
            "more markup, rich markup in the user",
        ),
        Line(
            j(span_doc(4)).replace(b'{"intValue": "200"}', b'{"doubleValue": 1e400}'),
            "bad_number",
            "1e400 input tokens",
        ),
        Line(
            j(span_doc(5, **{"gen_ai.usage.output_tokens": 99999999999999999999999})),
            "bad_number",
            "beyond 64 bits",
        ),
        Line(
            j(span_doc(6)).replace(b'{"intValue": "200"}', b'{"doubleValue": NaN}'),
            "invalid_json",
            "NaN literal",
        ),
        Line(
            j(span_doc(7)).replace(b'{"intValue": "40"}', b'{"doubleValue": Infinity}'),
            "invalid_json",
            "Infinity literal",
        ),
        Line(j(span_doc(8, **{"gen_ai.usage.cost": 1e300})), "bad_cost", "an absurd cost"),
        Line(j(http_only), NONE, "an HTTP span: no model call in it"),
        Line(j(span_doc(10)).replace(b"classify", b"clas\xffsify"), "invalid_utf8", "bad UTF-8"),
        Line(deep, "too_deeply_nested", "100,000 unclosed [ in an attribute"),
        Line(j(bad_id), "bad_id", "markup as the trace id"),
        Line(j(not_list), "bad_structure", "markup instead of the span list"),
        Line(base, DUP, "line 1 again"),
        Line(j(span_doc(15, day=3)), OK, "a plain span after all of that"),
    ]
    return LogFile(
        "otel_spans.jsonl",
        "otel",
        tuple(lines),
        j(span_doc(16, day=3))[:120],
        what="OTLP/JSON GenAI spans: markup in model, task, provider, team and user; huge, "
        "non-finite and 64-bit-overflowing numbers; deep attributes; markup as ids and "
        "structure; bad UTF-8; a duplicate; a cut tail",
    )


# -- a mapped format (Kong AI Gateway, shipped mapping) -------------------------------------------


def kong(n: int, day: int = 1, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "request": {"id": f"kong-hostile-{n:03d}"},
        "response": {"status": 200},
        "latencies": {"request": 1800},
        "started_at": int(epoch(day, n * 17) * 1000),
        "consumer": {"username": "team-kong"},
        "route": {"name": "llm-chat"},
        "ai": {
            "proxy": {
                "usage": {"prompt_tokens": 50, "completion_tokens": 10, "time_to_first_token": 300},
                "meta": {
                    "request_model": "command-r",
                    "provider_name": "cohere",
                    "response_model": "command-r",
                },
            }
        },
    }
    meta, usage = doc["ai"]["proxy"]["meta"], doc["ai"]["proxy"]["usage"]
    for k, v in over.items():
        if k in meta:
            meta[k] = v
        elif k in usage:
            usage[k] = v
        else:
            doc[k] = v
    return doc


def kong_jsonl() -> LogFile:
    base = j(kong(1))
    lines = [
        Line(base, OK, "a plain Kong log entry"),
        Line(
            j(kong(2, response_model=SCRIPT, provider_name=IMG, consumer={"username": TITLE})),
            OK,
            "markup in model, provider and user",
        ),
        Line(
            j(kong(3, route={"name": IFRAME}, response_model=MD_LINK, day=2)),
            OK,
            "markup in the route, a Markdown link as model",
        ),
        Line(
            j(kong(4)).replace(b'"prompt_tokens": 50', b'"prompt_tokens": 1e400'),
            "bad_number",
            "1e400 tokens",
        ),
        Line(
            j(kong(5)).replace(b'"prompt_tokens": 50', b'"prompt_tokens": NaN'),
            "invalid_json",
            "NaN literal",
        ),
        Line(j(kong(6, started_at="1e400")), "bad_timestamp", "an infinite start time"),
        Line(j(kong(7)).replace(b"team-kong", b"team\xfe-kong"), "invalid_utf8", "bad UTF-8"),
        Line(
            j(kong(8)).replace(b'"route": {"name": "llm-chat"}', b'"route": ' + deep_open()),
            "too_deeply_nested",
            "100,000 unclosed [",
        ),
        Line(j(kong(9, response={"status": 200}, ai={})), SKIP, "not an LLM call: skipped"),
        Line(base, DUP, "line 1 again"),
        Line(j(kong(11, day=3)), OK, "a plain entry after all of that"),
    ]
    return LogFile(
        "kong_mapped.jsonl",
        "mapped",
        tuple(lines),
        j(kong(12, day=3))[:80],
        mapping="kong-ai-gateway",
        what="Kong AI Gateway log (mapped format, shipped mapping): markup in model, "
        "provider, user and route; huge and non-finite numbers; bad UTF-8; deep nesting; a "
        "non-LLM entry; a duplicate; a cut tail",
    )


LOG_FILES: tuple[LogFile, ...] = (
    routeledger_jsonl(),
    routeledger_csv(),
    litellm_jsonl(),
    otel_jsonl(),
    kong_jsonl(),
)


# -- one file per bug this corpus found in the ingest engine at e04d274 (see test_logs.py) -------

BOM_JSONL = LogFile(
    "routeledger_bom.jsonl",
    "routeledger",
    (
        Line(b"\xef\xbb\xbf" + j(rl(51)), OK, "BOM, then a good record"),
        Line(b'{"attempt_id": "h052", "started_at": ', "invalid_json", "a broken line"),
        Line(j(rl(53)), OK),
    ),
    b"",
    what="RouteLedger JSONL starting with a UTF-8 byte order mark, with a broken line later",
)
BOM_CSV = LogFile(
    "routeledger_bom.csv",
    "routeledger",
    (
        Line(b"\xef\xbb\xbf" + _csv_line(list(CSV_FIELDS)), NONE, "BOM, then the header"),
        Line(_csv(53), OK),
    ),
    b"",
    what="RouteLedger CSV starting with a UTF-8 byte order mark",
)
LITERALS_JSONL = LogFile(
    "routeledger_literals.jsonl",
    "routeledger",
    (
        Line(j(rl(61)), OK),
        Line(j(rl(62)).replace(b'"gpt-4o-mini"', b"NaN"), "invalid_json", "NaN as the model"),
        Line(j(rl(63)).replace(b'"summarize"', b"Infinity"), "invalid_json", "Infinity as task"),
        Line(j(rl(64)), OK),
    ),
    b"",
    what="RouteLedger JSONL, otherwise valid, with NaN and Infinity literals as string values",
)
DUPKEYS_JSONL = LogFile(
    "routeledger_dupkeys.jsonl",
    "routeledger",
    (
        Line(j(rl(71)), OK),
        Line(
            j(rl(72))[:-1] + b', "model": "' + SCRIPT.encode() + b'"}',
            OK,
            "the key model twice (JSON keeps the last)",
        ),
        Line(j(rl(73)), OK),
    ),
    b"",
    what="RouteLedger JSONL with an object that repeats a key",
)
WRONG_TYPES_JSONL = LogFile(
    "litellm_wrong_types.jsonl",
    "litellm",
    (
        Line(j(slp(81)), OK),
        Line(j(slp(82, request_tags="task:not-a-list")), QUARANTINED, "tags a string, not a list"),
        Line(j(slp(83, metadata="not an object")), QUARANTINED, "metadata a string"),
        Line(j(slp(84, error_information=[SCRIPT])), QUARANTINED, "error information a list"),
        Line(j(slp(85)), OK),
    ),
    b"",
    what="LiteLLM StandardLoggingPayload JSONL, valid JSON, with fields of the wrong JSON type",
)
REGRESSIONS: tuple[LogFile, ...] = (
    BOM_JSONL,
    BOM_CSV,
    LITERALS_JSONL,
    DUPKEYS_JSONL,
    WRONG_TYPES_JSONL,
)
