"""Bad and hostile input: each bad row is quarantined with its line and reason, the run goes on,
nothing is lost or counted twice, and no raw API key or prompt reaches the warehouse."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.config import Config
from collectors.errors import InputError
from collectors.ingest import parse_bytes
from collectors.logs import FORMAT_NAMES
from collectors.pipeline import ingest
from tests.logs.helpers import rl_row, slp


def jl(*rows: object) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


BAD_ROWS = [
    (b'{"attempt_id": "x", "started_at": ', "invalid_json"),
    (b"[1, 2, 3]", "not_an_object"),
    (b'{"attempt_id": "n", "started_at": NaN}', "invalid_json"),
    (b'{"a": "\xff\xfe broken"}', "invalid_utf8"),
    (json.dumps(rl_row(1, input_tokens="lots")).encode(), "bad_number"),
    (json.dumps(rl_row(2, input_tokens=-5)).encode(), "negative_tokens"),
    (json.dumps(rl_row(3, output_tokens=10**12)).encode(), "absurd_tokens"),
    (json.dumps(rl_row(4, started_at=None)).encode(), "missing_field"),
    (json.dumps(rl_row(5, started_at="yesterday-ish")).encode(), "bad_timestamp"),
    (json.dumps(rl_row(6, ended_at="2026-10-01T09:00:00Z")).encode(), "end_before_start"),
    (json.dumps(rl_row(7, status="maybe")).encode(), "unknown_status"),
    (json.dumps(rl_row(8, cost_usd="-3")).encode(), "bad_cost"),
    (json.dumps(rl_row(9, started_at="1e300")).encode(), "bad_timestamp"),
    (json.dumps(rl_row(10, latency_ms="1e300", ended_at=None)).encode(), "missing_field"),
    (json.dumps(rl_row(11, model={"nested": [1, 2]})).encode(), None),  # odd but readable
]


def test_every_bad_row_is_quarantined_with_line_and_reason() -> None:
    good = [json.dumps(rl_row(100 + i)).encode() for i in range(3)]
    payload = jl(good[0], *[r for r, _ in BAD_ROWS], good[1], b"", good[2])
    result = parse_bytes("routeledger", payload, "bad.jsonl")
    by_line = {q.source_line: q.reason for q in result.quarantined}
    for i, (_, reason) in enumerate(BAD_ROWS, start=2):
        if reason is None:
            assert i not in by_line
        else:
            assert by_line.get(i) == reason, f"line {i}: {by_line.get(i)} != {reason}"
    ok_lines = sorted(a.source_line for a in result.attempts)
    assert ok_lines == [1, 2 + len(BAD_ROWS) - 1, 2 + len(BAD_ROWS), 2 + len(BAD_ROWS) + 2]
    assert len(result.attempts) + len(result.quarantined) == len(BAD_ROWS) + 3


def test_a_10mb_line_is_quarantined_and_the_rest_loads(cfg: Config, tmp_path: Path) -> None:
    huge = json.dumps(
        slp(1, messages=[{"role": "user", "content": "x" * (10 * 1024 * 1024)}])
    ).encode()
    log = tmp_path / "huge.jsonl"
    (tmp_path / "home").mkdir(exist_ok=True)
    log.write_bytes(jl(slp(0), huge, slp(2)))
    cfg.values["ingest.max_line_bytes"] = 4 * 1024 * 1024
    s = ingest(cfg, [str(log)])
    assert s.attempts_loaded == 2
    assert dict(s.quarantined_by_reason) == {"line_too_long": 1}


def test_empty_and_whitespace_files_are_fine(cfg: Config, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_bytes(b"\n\n  \n")
    s = ingest(cfg, [str(tmp_path / "empty.jsonl"), str(tmp_path / "blank.jsonl")])
    assert s.attempts_loaded == 0 and s.quarantined == 0 and not s.failed_files


def _csv(rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def test_csv_with_extra_and_missing_columns() -> None:
    header = ["attempt_id", "started_at", "ended_at", "model", "status", "input_tokens"]
    rows = [
        header,
        ["a1", "2026-10-01T10:00:00Z", "2026-10-01T10:00:02Z", "gpt-4o", "success", "12"],
        ["a2", "2026-10-01T10:00:00Z", "2026-10-01T10:00:02Z", "gpt-4o", "success", "12", "EXTRA"],
        ["a3", "2026-10-01T10:00:00Z", "2026-10-01T10:00:02Z"],
        ["a4", "1790000000", "1790000001.5", "gpt-4o", "error", ""],
    ]
    result = parse_bytes("routeledger", _csv(rows), "x.csv")
    assert [a.attempt_id for a in result.attempts] == ["rl:a1", "rl:a4"]
    assert [a.source_line for a in result.attempts] == [2, 5]
    assert {(q.source_line, q.reason) for q in result.quarantined} == {
        (3, "csv_extra_columns"),
        (4, "csv_missing_columns"),
    }
    assert result.attempts[1].latency_ms == pytest.approx(1500.0)


def test_agent_name_and_conversation_id_of_every_kind() -> None:
    """RouteLedger's optional ``agent_name`` and ``conversation_id``: text as it comes, other
    JSON values as their text (as for every text field), trimmed of spaces, cut to 200
    characters, credentials masked (the id keeps a hash), control characters kept as data for
    the display to escape; blank or absent is NULL, and the row loads either way."""
    key = "sk-proj-AbCdEf0123456789AbCdEf0123456789"
    rows = [
        rl_row(1, agent_name="planner", conversation_id="conv-1"),
        rl_row(2, agent_name=42, conversation_id=7.5),
        rl_row(3, agent_name=True, conversation_id={"id": "c"}),
        rl_row(4, agent_name=["a"], conversation_id=None),
        rl_row(5, agent_name="x" * 70_000, conversation_id="y" * 70_000),
        rl_row(6, agent_name=" \x00\x1b[2Jagent\r\n ", conversation_id=f"Bearer {key}"),
        rl_row(7, agent_name="  ", conversation_id=""),
        rl_row(8),
    ]
    result = parse_bytes("routeledger", jl(*rows), "agents.jsonl")
    assert result.quarantined == []
    got = {a.source_line: (a.agent_name, a.conversation_id) for a in result.attempts}
    assert got[1] == ("planner", "conv-1")
    assert got[2] == ("42", "7.5")
    assert got[3] == ("true", '{"id":"c"}')
    assert got[4] == ('["a"]', None)
    assert got[5] == ("x" * 200, "y" * 200)
    assert got[6][0] == "\x00\x1b[2Jagent\r\n"
    assert got[6][1].startswith("[REDACTED]#") and key[8:] not in got[6][1]
    assert got[7] == got[8] == (None, None)
    header = "attempt_id,started_at,ended_at,model,status,agent_name,conversation_id\n"
    body = "a1,1790000000,1790000001,m,success,planner,c-1\na2,1790000000,1790000001,m,success,,\n"
    from_csv = parse_bytes("routeledger", (header + body).encode(), "agents.csv").attempts
    assert [(a.agent_name, a.conversation_id) for a in from_csv] == [("planner", "c-1"), (None, None)]  # fmt: skip


def test_agent_name_and_conversation_id_reach_the_marts(cfg: Config, tmp_path: Path) -> None:
    """Through ingest (the streamed path) into ``attempts`` and ``logical_requests``, which
    takes its first attempt's."""
    log = tmp_path / "agents.jsonl"
    log.write_bytes(
        jl(
            rl_row(
                1,
                logical_request_id="r",
                agent_name="planner",
                conversation_id="c-1",
                status="error",
            ),
            rl_row(
                2,
                logical_request_id="r",
                agent_name="critic",
                conversation_id="c-2",
                started_at="2026-10-01T10:00:02Z",
                ended_at="2026-10-01T10:00:03Z",
            ),
            rl_row(3),
        )
    )
    assert ingest(cfg, [str(log)], fmt="routeledger").attempts_loaded == 3
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        attempts = con.execute(
            "SELECT attempt_id, agent_name, conversation_id FROM attempts ORDER BY 1"
        ).fetchall()
        requests = con.execute(
            "SELECT logical_request_id, agent_name, conversation_id FROM logical_requests "
            "ORDER BY 1"
        ).fetchall()
    assert attempts == [("rl:a1", "planner", "c-1"), ("rl:a2", "critic", "c-2"), ("rl:a3", None, None)]  # fmt: skip
    assert requests == [("r", "planner", "c-1"), ("r3", None, None)]


def test_csv_without_required_columns_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="model, status"):
        parse_bytes("routeledger", b"attempt_id,started_at,ended_at\na,1,2\n", "x.csv")


SECRET = "sk-proj-AbCdEf0123456789AbCdEf0123456789"


def test_raw_api_keys_and_prompts_never_reach_the_warehouse(cfg: Config, tmp_path: Path) -> None:
    hostile = slp(
        1,
        end_user=f"user {SECRET}",
        model_group=f"Bearer {SECRET}",
        request_tags=[f"task:{SECRET}"],
        messages=[{"role": "user", "content": "TOP-SECRET-PROMPT"}],
        response={"choices": [{"message": {"content": "TOP-SECRET-ANSWER"}}]},
    )
    hostile["metadata"]["user_api_key_hash"] = SECRET
    rl = rl_row(2, team=SECRET, user="AKIAABCDEFGHIJKLMNOP", task="<script>alert(1)</script>")
    broken = f'{{"attempt_id": "{SECRET}", "prompt": "TOP-SECRET-PROMPT"'.encode()
    (tmp_path / "a.jsonl").write_bytes(jl(hostile))
    (tmp_path / "b.jsonl").write_bytes(jl(rl, broken))
    ingest(cfg, [str(tmp_path / "a.jsonl")], fmt="litellm")
    s = ingest(cfg, [str(tmp_path / "b.jsonl")], fmt="routeledger")
    assert s.quarantined == 1
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    dump = ""
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
            dump += repr(row)
    con.close()
    for needle in (
        SECRET,
        "AbCdEf0123456789",
        "AKIAABCDEFGHIJKLMNOP",
        "TOP-SECRET-PROMPT",
        "TOP-SECRET-ANSWER",
    ):
        assert needle not in dump, needle
    assert "[REDACTED]" in dump
    assert "<script>alert(1)</script>" in dump  # stored as data; escaping is the display's job


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.binary(max_size=2000),
    fmt=st.sampled_from([n for n in FORMAT_NAMES if n != "mapped"]),  # mapped needs a file
)
def test_random_bytes_never_crash_a_parser(payload: bytes, fmt: str) -> None:
    try:
        result = parse_bytes(fmt, payload, "fuzz")
    except InputError:
        return  # e.g. a CSV header without the required columns: one clear error
    assert all(q.reason for q in result.quarantined)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "attempt_id",
                    "started_at",
                    "ended_at",
                    "model",
                    "status",
                    "input_tokens",
                    "cost_usd",
                    "latency_ms",
                    "ttft_ms",
                ]
            ),
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(),
                st.floats(allow_nan=False),
                st.text(max_size=20),
            ),
        ),
        max_size=8,
    )
)
def test_random_records_are_loaded_or_quarantined_never_lost(rows: list[dict[str, object]]) -> None:
    payload = jl(*rows)
    result = parse_bytes("routeledger", payload, "fuzz.jsonl")
    lines = {a.source_line for a in result.attempts} | {q.source_line for q in result.quarantined}
    assert lines == set(range(1, len(rows) + 1))


def test_a_file_of_only_broken_lines_quarantines_each_line() -> None:
    """A JSONL file whose first line is broken is still JSONL: every bad line is its own row."""
    payload = b'{"attempt_id": tru}\n{"b": fals}\n{"c"\n{"d": 1,\n'
    result = parse_bytes("routeledger", payload, "broken.jsonl")
    assert [(q.source_line, q.reason) for q in result.quarantined] == [
        (1, "invalid_json"),
        (2, "invalid_json"),
        (3, "invalid_json"),
        (4, "invalid_json"),
    ]
