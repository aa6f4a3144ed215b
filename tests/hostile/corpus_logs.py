"""The hostile log files: one per log format, plus one file per bug the corpus found in the ingest engine.

Every file ends in a truncated line with no newline (a log being written): it must wait for the
next run (``waiting_bytes``), not be quarantined or lost. Dates are in ISO week 2025-W36 so the
dashboard and the weekly report show them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
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
from tests.security.planted import CREDENTIALS, OPENAI_KEY

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


# -- credentials in every stored field, through every format ------------------------------------
# tests/security/test_credential_corpus.py ingests these files and looks for the credentials in
# every table, the report, the Slack payload and the CLI's output, in any letter case. The loaded
# lines of a file form a Latin square: line k puts credential shape k + i (of
# tests.security.planted.CREDENTIALS) in the i-th text field, so every shape sits in every field
# once, each inside a longer string ("team <credential> end": redacted where it hides, not only
# as a whole value). Then two lines whose whole attempt id is a key (still two attempts after
# redaction), lines quarantined for a credential in their time or status with more in their id
# and model (the quarantine detail and the SQL excerpt), and lines cut after a credential (the
# excerpt of a line that is not JSON).

SHAPES: tuple[str, ...] = tuple(CREDENTIALS.values())
N_SHAPES = len(SHAPES)
OTHER_OPENAI_KEY = OPENAI_KEY.replace("0123456789", "9876543210")  # same shape, same needle
SQUARE = "credential shapes in"  # how a square's lines start their description
Build = Callable[[int, int, bool, dict[str, str]], bytes]  # (n, day, error, path -> value)


def cred(k: int, label: str) -> str:
    """Credential shape ``k`` (cyclic) inside a longer string."""
    return f"{label} {SHAPES[k % N_SHAPES]} end"


def label(path: str) -> str:
    """The text a field's credential is wrapped in: the last part of its path."""
    return path.rsplit("/", 1)[-1]


def put(doc: Any, path: str, value: Any) -> None:
    """Set ``value`` at ``path`` in ``doc``: keys (they may hold dots) and list indexes, "/"
    between them; objects on the way are created."""
    *head, last = path.split("/")
    for key in head:
        doc = doc[int(key)] if isinstance(doc, list) else doc.setdefault(key, {})
    if isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


def _credential_lines(
    build: Build,
    fields: tuple[str, ...],
    first: int,
    bad: Callable[[int], tuple[dict[str, str], str]],
    id_field: str | None,
    cut_key: str,
    prefix: str = "",
) -> list[Line]:
    """The square from line ``first`` on (``prefix`` before each label keeps the attempt ids
    of two files of one family apart), two whole-key ids, refused rows, cut lines."""
    lines = [
        Line(
            build(
                first + k,
                1 + k % 3,
                k % 2 == 1,
                {f: cred(k + i, prefix + label(f)) for i, f in enumerate(fields)},
            ),
            OK,
            f"{SQUARE} {', '.join(label(f) for f in fields)}",
        )
        for k in range(N_SHAPES)
    ]
    n = first + N_SHAPES
    if id_field:
        lines += [
            Line(build(n, 1, False, {id_field: f"{OPENAI_KEY}-{n}"}), OK, "a key as the id"),
            Line(
                build(n + 1, 1, False, {id_field: f"{OTHER_OPENAI_KEY}-{n}"}),
                OK,
                "another such key: a second attempt",
            ),
        ]
    for k in range(N_SHAPES):
        values, reason = bad(k)
        lines.append(Line(build(n + 2 + k, 2, False, values), reason, "credentials, refused"))
    lines += [
        Line(
            f'{{"{cut_key}": {json.dumps(cred(k, "cut"))}, "started_at": '.encode(),
            "invalid_json",
            "a line cut after a credential",
        )
        for k in range(N_SHAPES)
    ]
    return lines


# RouteLedger: JSONL and CSV

RL_FIELDS = (
    "attempt_id",
    "logical_request_id",
    "provider",
    "model",
    "requested_model",
    "task",
    "team",
    "user",
    "error_class",
    "deployment_id",
    "key_alias",
    "route",
)
CSV_PREFIX = "csv "  # the CSV file's square is the JSONL file's: its ids must differ
RL_CSV_FIELDS = ("started_at", "ended_at", "status", "input_tokens", "output_tokens", *RL_FIELDS)


def _rl_doc(n: int, day: int, error: bool, values: dict[str, str]) -> dict[str, Any]:
    return rl(n, day, **{"status": "error" if error else "success", **values})


def _bad_rows(
    id_key: str, model_key: str, start_key: str, status_key: str, *, model_tag: str = "model"
) -> Callable[[int], tuple[dict[str, str], str]]:
    """The bad rows of a format's credential corpus: a credential-laden id and model, then a
    credential as the start time (odd ``k``: ``bad_timestamp``) or as the status
    (``unknown_status``)."""

    def bad(k: int) -> tuple[dict[str, str], str]:
        values = {id_key: cred(k + 1, "id"), model_key: cred(k + 2, model_tag)}
        if k % 2:
            return values | {start_key: cred(k, "soon")}, "bad_timestamp"
        return values | {status_key: cred(k, "maybe")}, "unknown_status"

    return bad


_rl_bad = _bad_rows("attempt_id", "model", "started_at", "status", model_tag="model")


def _rl_csv_row(doc: dict[str, Any]) -> bytes:
    return _csv_line([doc.get(f, "") for f in RL_CSV_FIELDS])


def credentials_routeledger_jsonl() -> LogFile:
    lines = _credential_lines(
        lambda n, d, e, v: j(_rl_doc(n, d, e, v)), RL_FIELDS, 101, _rl_bad, "attempt_id", "team"
    )
    return LogFile(
        "credentials_routeledger.jsonl",
        "routeledger",
        tuple(lines),
        b"",
        what="RouteLedger JSONL: credential shapes in every text field",
    )


def credentials_routeledger_csv() -> LogFile:
    lines = [
        Line(_csv_line(list(RL_CSV_FIELDS)), NONE, "the header"),
        *_credential_lines(
            lambda n, d, e, v: _rl_csv_row(_rl_doc(n, d, e, v)),
            RL_FIELDS,
            201,
            _rl_bad,
            "attempt_id",
            "team",
            CSV_PREFIX,
        )[:-N_SHAPES],  # a CSV line is not cut JSON: extra columns instead
    ]
    lines += [
        Line(
            _rl_csv_row(_rl_doc(240 + k, 3, False, {"team": cred(k, "team")}))
            + b","
            + _csv_line([cred(k + 1, "extra")]),
            "csv_extra_columns",
            "a column too many, credentials in the row",
        )
        for k in range(N_SHAPES)
    ]
    return LogFile(
        "credentials_routeledger.csv",
        "routeledger",
        tuple(lines),
        b"",
        what="RouteLedger CSV: credential shapes in every text field",
    )


# LiteLLM: StandardLoggingPayload and SpendLogs rows

SLP_FIELDS = (
    "id",
    "trace_id",
    "custom_llm_provider",
    "model_group",
    "model",
    "model_id",
    "metadata/model_info/base_model",
    "request_tags",
    "metadata/user_api_key_team_alias",
    "end_user",
    "metadata/user_api_key_alias",
    "metadata/user_api_key_request_route",
    "error_information/error_class",
    "metadata/user_api_key_hash",  # a raw key where the hash belongs: kept as its SHA-256
)


def _tagged(doc: dict[str, Any], values: dict[str, str]) -> None:
    for path, value in values.items():
        put(doc, path, [f"task:{value}", "env:test"] if path == "request_tags" else value)


def _slp_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    doc = slp(n, day)
    if error:
        doc["status"] = "failure"
        doc["error_information"] = {"error_code": "500", "error_class": "InternalServerError"}
    _tagged(doc, values)
    return j(doc)


_slp_bad = _bad_rows("id", "model", "startTime", "status", model_tag="model")


def credentials_litellm_jsonl() -> LogFile:
    lines = _credential_lines(_slp_build, SLP_FIELDS, 301, _slp_bad, "id", "end_user")
    return LogFile(
        "credentials_litellm.jsonl",
        "litellm",
        tuple(lines),
        b"",
        what="LiteLLM StandardLoggingPayload JSONL: credential shapes in every text field",
    )


SPEND_FIELDS = (
    "request_id",
    "session_id",
    "custom_llm_provider",
    "model_group",
    "model",
    "model_id",
    "metadata/model_info/base_model",
    "request_tags",
    "team_id",
    "user",
    "metadata/user_api_key_alias",
    "metadata/user_api_key_request_route",
    "metadata/error_information/error_class",
    "api_key",  # a raw key: kept as its SHA-256
)


def _spend_time(day: int, second: float) -> str:
    t = datetime.fromtimestamp(epoch(day, 0) + second, UTC)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def _spend_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    row: dict[str, Any] = {
        "request_id": f"spend-cred-{n:03d}",
        "session_id": f"spend-session-{n:03d}",
        "call_type": "acompletion",
        "api_key": "0" * 64,
        "startTime": _spend_time(day, n * 11),
        "endTime": _spend_time(day, n * 11 + 1.5),
        "completionStartTime": _spend_time(day, n * 11 + 0.4),
        "model": "gpt-4o",
        "user": "",
        "team_id": "",
        "metadata": {"usage_object": {"prompt_tokens": 10, "completion_tokens": 20}},
        "spend": 0.000225,
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "request_tags": [],
        "end_user": "",
        "model_group": "",
        "model_id": "",
        "custom_llm_provider": "openai",
        "messages": "{}",
        "response": "{}",
        "status": "failure" if error else "success",
    }
    _tagged(row, values)
    row["metadata"] = json.dumps(row["metadata"])
    row["request_tags"] = json.dumps(row["request_tags"])  # SpendLogs keeps both as JSON text
    return j(row)


_spend_bad = _bad_rows("request_id", "model", "startTime", "status", model_tag="model")


def credentials_spendlogs_jsonl() -> LogFile:
    lines = _credential_lines(_spend_build, SPEND_FIELDS, 401, _spend_bad, "request_id", "user")
    return LogFile(
        "credentials_spendlogs.jsonl",
        "litellm-spendlogs",
        tuple(lines),
        b"",
        what="LiteLLM SpendLogs rows (JSONL): credential shapes in every text field",
    )


# OpenTelemetry GenAI spans

OTEL_FIELDS = (
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "app.task",
    "resource/team",
    "user.id",
    "resource/service.name",
    "error.type",
)


def _otel_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    attrs = {k: v for k, v in values.items() if "/" not in k}
    resource = {k[9:]: v for k, v in values.items() if k.startswith("resource/")}
    doc = span_doc(n, day, resource=resource, **attrs)
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    if error:
        span["status"] = {"code": 2, "message": "Error code: 500"}
    for k, v in values.items():
        if k.startswith("span/"):
            span[k[5:]] = v
    return j(doc)


def _otel_bad(k: int) -> tuple[dict[str, str], str]:
    values = {"gen_ai.request.model": cred(k + 2, "model")}
    if k % 2:
        return values | {"span/startTimeUnixNano": cred(k, "soon")}, "bad_timestamp"
    return values | {"span/traceId": cred(k, "trace")}, "bad_id"


def credentials_otel_jsonl() -> LogFile:
    lines = _credential_lines(_otel_build, OTEL_FIELDS, 501, _otel_bad, None, "resourceSpans")
    return LogFile(
        "credentials_otel.jsonl",
        "otel",
        tuple(lines),
        b"",
        what="OTLP/JSON GenAI spans: credential shapes in every attribute RouteLedger keeps",
    )


# OpenRouter: generation stats and chat-completion bodies

OPENROUTER_FIELDS = (
    "data/id",
    "data/provider_responses/0/provider_name",
    "data/model",
    "data/provider_responses/0/model_permaslug",
    "data/provider_responses/0/endpoint_id",
    "data/external_user",
)
COMPLETION_FIELDS = ("id", "provider", "model")


def _generation_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    doc = {
        "data": {
            "id": f"gen-cred-{n:03d}",
            "created_at": ts(day, n * 13),
            "model": "openai/gpt-4o-mini",
            "provider_name": "OpenAI",
            "native_tokens_prompt": 100,
            "native_tokens_completion": 20,
            "total_cost": 0.0001,
            "generation_time": 900,
            "latency": 300,
            "external_user": "u1",
            "provider_responses": [
                {
                    "provider_name": "OpenAI",
                    "status": 500 if error else 200,
                    "latency": 300,
                    "endpoint_id": "ep-1",
                    "model_permaslug": "openai/gpt-4o-mini",
                }
            ],
        }
    }
    for path, value in values.items():
        put(doc, path, value)
    return j(doc)


def _completion_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    doc: dict[str, Any] = {
        "id": f"gen-completion-{n:03d}",
        "object": "chat.completion",
        "created": int(epoch(day, n * 13)),
        "model": "openai/gpt-4o-mini",
        "provider": "OpenAI",
        "choices": [{"finish_reason": "error" if error else "stop", "message": {"content": ""}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.0001},
    }
    doc.update(values)
    return j(doc)


def _generation_bad(k: int) -> tuple[dict[str, str], str]:
    values = {"data/id": cred(k + 1, "id"), "data/model": cred(k + 2, "model")}
    return values | {"data/created_at": cred(k, "soon")}, "bad_timestamp"


def credentials_openrouter_jsonl() -> LogFile:
    lines = _credential_lines(
        _generation_build, OPENROUTER_FIELDS, 601, _generation_bad, "data/id", "data"
    )
    lines += [
        Line(
            _completion_build(
                701 + k,
                1 + k % 3,
                k % 2 == 1,
                {f: cred(k + i, label(f)) for i, f in enumerate(COMPLETION_FIELDS)},
            ),
            OK,
            f"{SQUARE} a chat completion's id, provider and model",
        )
        for k in range(N_SHAPES)
    ]
    return LogFile(
        "credentials_openrouter.jsonl",
        "openrouter",
        tuple(lines),
        b"",
        what="OpenRouter generation stats and chat completions: credential shapes in every "
        "text field",
    )


# mapped formats: Kong AI Gateway and Envoy AI Gateway (shipped mappings)

KONG_FIELDS = (
    "request/id",
    "ai/proxy/meta/provider_name",
    "ai/proxy/meta/request_model",
    "ai/proxy/meta/response_model",
    "consumer/username",
    "route/name",
)


def _kong_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    doc = kong(n, day)
    if error:
        doc["response"] = {"status": 500}
    for path, value in values.items():
        put(doc, path, value)
    return j(doc)


_kong_bad = _bad_rows(
    "request/id", "ai/proxy/meta/response_model", "started_at", "response/status", model_tag="m"
)


def credentials_kong_jsonl() -> LogFile:
    lines = _credential_lines(_kong_build, KONG_FIELDS, 801, _kong_bad, "request/id", "consumer")
    return LogFile(
        "credentials_kong.jsonl",
        "mapped",
        tuple(lines),
        b"",
        mapping="kong-ai-gateway",
        what="Kong AI Gateway log (shipped mapping): credential shapes in every mapped text field",
    )


ENVOY_FIELDS = (
    "x-request-id",
    "session.id",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "route_name",
)


def _envoy_build(n: int, day: int, error: bool, values: dict[str, str]) -> bytes:
    doc: dict[str, Any] = {
        "start_time": ts(day, n * 17),
        "duration": 1500,
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 15,
        "gen_ai.usage.output_tokens": 7,
        "response_code": 500 if error else 200,
        "route_name": "httproute/default/aigw-run/rule/0/match/0/*",
        "x-request-id": f"envoy-cred-{n:03d}",
        "session.id": f"envoy-session-{n:03d}",
    }
    doc.update(values)
    return j(doc)


_envoy_bad = _bad_rows(
    "x-request-id", "gen_ai.response.model", "start_time", "response_code", model_tag="m"
)


def credentials_envoy_jsonl() -> LogFile:
    lines = _credential_lines(
        _envoy_build, ENVOY_FIELDS, 901, _envoy_bad, "x-request-id", "route_name"
    )
    return LogFile(
        "credentials_envoy.jsonl",
        "mapped",
        tuple(lines),
        b"",
        mapping="envoy-ai-gateway",
        what="Envoy AI Gateway access log (shipped mapping): credential shapes in every mapped "
        "text field",
    )


CREDENTIAL_FILES: tuple[LogFile, ...] = (
    credentials_routeledger_jsonl(),
    credentials_routeledger_csv(),
    credentials_litellm_jsonl(),
    credentials_spendlogs_jsonl(),
    credentials_otel_jsonl(),
    credentials_openrouter_jsonl(),
    credentials_kong_jsonl(),
    credentials_envoy_jsonl(),
)
# where each file's planted fields are stored: source path -> raw_attempts column
CREDENTIAL_COLUMNS: dict[str, dict[str, str]] = {
    "credentials_routeledger.jsonl": {
        "attempt_id": "attempt_id",
        "logical_request_id": "logical_request_id",
        "provider": "provider",
        "model": "served_model",
        "requested_model": "requested_model",
        "task": "task",
        "team": "team",
        "user": "user_id",
        "error_class": "error_type",
        "deployment_id": "deployment_id",
        "key_alias": "key_alias",
        "route": "route",
    },
    "credentials_litellm.jsonl": {
        "id": "attempt_id",
        "trace_id": "logical_request_id",
        "custom_llm_provider": "provider",
        "model_group": "requested_model",
        "model": "served_model",
        "model_id": "deployment_id",
        "metadata/model_info/base_model": "base_model",
        "request_tags": "task",
        "metadata/user_api_key_team_alias": "team",
        "end_user": "user_id",
        "metadata/user_api_key_alias": "key_alias",
        "metadata/user_api_key_request_route": "route",
        "error_information/error_class": "error_type",
        "metadata/user_api_key_hash": "key_hash",
    },
    "credentials_spendlogs.jsonl": {
        "request_id": "attempt_id",
        "session_id": "logical_request_id",
        "custom_llm_provider": "provider",
        "model_group": "requested_model",
        "model": "served_model",
        "model_id": "deployment_id",
        "metadata/model_info/base_model": "base_model",
        "request_tags": "task",
        "team_id": "team",
        "user": "user_id",
        "metadata/user_api_key_alias": "key_alias",
        "metadata/user_api_key_request_route": "route",
        "metadata/error_information/error_class": "error_type",
        "api_key": "key_hash",
    },
    "credentials_otel.jsonl": {
        "gen_ai.provider.name": "provider",
        "gen_ai.request.model": "requested_model",
        "gen_ai.response.model": "served_model",
        "app.task": "task",
        "resource/team": "team",
        "user.id": "user_id",
        "resource/service.name": "route",
        "error.type": "error_type",
    },
    "credentials_openrouter.jsonl": {
        "data/id": "attempt_id",
        "data/provider_responses/0/provider_name": "provider",
        "data/model": "requested_model",
        "data/provider_responses/0/model_permaslug": "served_model",
        "data/provider_responses/0/endpoint_id": "deployment_id",
        "data/external_user": "user_id",
    },
    "credentials_kong.jsonl": {
        "request/id": "attempt_id",
        "ai/proxy/meta/provider_name": "provider",
        "ai/proxy/meta/request_model": "requested_model",
        "ai/proxy/meta/response_model": "served_model",
        "consumer/username": "user_id",
        "route/name": "route",
    },
    "credentials_envoy.jsonl": {
        "x-request-id": "attempt_id",
        "session.id": "logical_request_id",
        "gen_ai.provider.name": "provider",
        "gen_ai.request.model": "requested_model",
        "gen_ai.response.model": "served_model",
        "route_name": "route",
    },
}
CREDENTIAL_COLUMNS["credentials_routeledger.csv"] = CREDENTIAL_COLUMNS[
    "credentials_routeledger.jsonl"
]
# what each file's square puts before a field's label (default: nothing)
CREDENTIAL_PREFIX: dict[str, str] = {"credentials_routeledger.csv": CSV_PREFIX}
# the columns of each square of a file, in the order of the file (OpenRouter has two)
COMPLETION_COLUMNS = {"id": "attempt_id", "provider": "provider", "model": "served_model"}
CREDENTIAL_SQUARES: dict[str, tuple[dict[str, str], ...]] = {
    name: (columns, COMPLETION_COLUMNS) if name == "credentials_openrouter.jsonl" else (columns,)
    for name, columns in CREDENTIAL_COLUMNS.items()
}
