"""The first read of a log as one DuckDB stream (collectors/ingest/stream.py): batches planned
by the line counter, rows taken off the scan one a line, and the span-by-span read taking over
exactly where the stream cannot go on."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from collectors.ingest import Ingester, stream
from collectors.pipeline import ingest
from tests.logs.helpers import ingest_home, slp, slp_lines, warehouse_rows

_home = ingest_home
_rows = warehouse_rows


def _plan(path: Path, max_rows: int, max_bytes: int, max_line: int = 1 << 20) -> tuple[list, str]:
    stop = threading.Event()
    planner = stream.ChunkPlanner(path, path.stat().st_size, max_rows, max_bytes, max_line, stop)
    chunks = []
    while True:
        item = planner.out.get(timeout=30)
        if isinstance(item, stream._Stop):
            return chunks, item.reason
        chunks.append((item.start, item.end, item.lines))


@pytest.fixture(params=[7, 64, 1 << 20], ids=["block7", "block64", "block1M"])
def small_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The counter's read buffer, small enough for lines and batches to straddle blocks."""
    monkeypatch.setattr(stream, "BLOCK_BYTES", request.param)
    return int(request.param)


def _ends(data: bytes) -> list[int]:
    return [i + 1 for i, b in enumerate(data) if b == 10]


def test_planner_cuts_whole_lines_by_rows_and_bytes(tmp_path: Path, small_blocks: int) -> None:
    lines = [b'{"a": "%s"}' % (b"x" * (i % 13)) for i in range(50)]
    data = b"\n".join(lines) + b"\n"
    p = tmp_path / "a.jsonl"
    p.write_bytes(data)
    ends = _ends(data)
    for max_rows, max_bytes in [(7, 1 << 20), (1000, 100), (4, 60), (1, 1)]:
        chunks, reason = _plan(p, max_rows, max_bytes)
        assert reason is None
        assert chunks[0][0] == 0 and chunks[-1][1] == len(data)
        assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))  # contiguous
        assert sum(c[2] for c in chunks) == 50
        for start, end, n in chunks:
            assert end in ends and (start == 0 or start in ends)  # whole lines only
            assert data[start:end].count(b"\n") == n
            assert n <= max_rows
            assert end - start <= max_bytes or n == 1  # a line longer than a batch: alone
        if max_bytes >= len(data):  # bytes never bind: every batch but the last is full
            assert [c[2] for c in chunks[:-1]] == [max_rows] * (len(chunks) - 1)


@pytest.mark.parametrize(
    "bad, why",
    [
        (b"", "does not start"),  # a blank line: DuckDB skips it, the rows would shift
        (b"   ", "does not start"),  # whitespace only: skipped too
        (b"[1, 2]", "does not start"),  # not an object
        (b' {"a": "1"}', "does not start"),  # leading space: left to the careful path
        (b'{"a": "%s"}' % (b"y" * 500), "over the line limit"),
    ],
)
def test_planner_stops_before_a_line_the_stream_cannot_take_one_for_one(
    tmp_path: Path, small_blocks: int, bad: bytes, why: str
) -> None:
    lines = [b'{"a": "%d"}' % i for i in range(40)]
    lines[23] = bad
    data = b"\n".join(lines) + b"\n"
    p = tmp_path / "a.jsonl"
    p.write_bytes(data)
    chunks, reason = _plan(p, 5, 1 << 20, max_line=200)
    assert reason is not None and why in reason
    assert chunks[-1][1] == _ends(data)[22]  # the batches end exactly before line 24
    assert sum(c[2] for c in chunks) == 23


def test_planner_refuses_a_byte_order_mark_at_the_start(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": "1"}\n{"a": "2"}\n')
    chunks, reason = _plan(p, 10, 1 << 20)
    assert chunks == [] and reason and "byte 0" in reason


def _count_streams(monkeypatch: pytest.MonkeyPatch) -> list[stream.RowStream]:
    made: list[stream.RowStream] = []
    real = stream.RowStream.__init__

    def spy(self, *a, **k):  # type: ignore[no-untyped-def]
        real(self, *a, **k)
        made.append(self)

    monkeypatch.setattr(stream.RowStream, "__init__", spy)
    return made


def test_a_log_read_from_its_start_is_streamed_with_its_own_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_streams(monkeypatch)
    cfg = _home(tmp_path, batch_bytes=40_000)
    log = tmp_path / "a.jsonl"
    log.write_bytes(slp_lines(120))
    commits: list[int] = []
    s = Ingester(cfg, progress=lambda _f, done, _t: commits.append(done)).run(
        [(log, "litellm", None)]
    )
    assert len(made) == 1 and made[0].reason is None and made[0].resume_offset == log.stat().st_size
    assert s.attempts_loaded == 120 and s.quarantined == 0
    assert len(commits) >= 30 and commits == sorted(commits)  # ~3 lines a 40 kB batch
    got = _rows(cfg, "SELECT source_line, attempt_id FROM raw_attempts ORDER BY source_line")
    assert got == [(i + 1, f"litellm:call-{i:08d}") for i in range(120)]
    assert _rows(cfg, "SELECT offset_bytes, lines_read FROM file_cursors") == [
        (log.stat().st_size, 120)
    ]
    # what the stream read equals what the careful path reads from the same lines
    other = _home(tmp_path / "b", batch_bytes=1 << 30)
    ingest(other, [str(log)], refresh=False)
    cols = (
        "attempt_id, source_line, started_at, ended_at, served_model, input_tokens, key_hash, task"
    )
    assert _rows(cfg, f"SELECT {cols} FROM raw_attempts ORDER BY 1") == _rows(
        other, f"SELECT {cols} FROM raw_attempts ORDER BY 1"
    )


def test_a_bad_line_mid_stream_hands_the_rest_to_the_span_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_streams(monkeypatch)
    cfg = _home(tmp_path, batch_bytes=30_000)
    lines = [json.dumps(slp(i)).encode() for i in range(60)]
    lines[40] = b'{"id": "x", "startTime": oops}'  # starts like an object: DuckDB refuses it
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    s = ingest(cfg, [str(log)], refresh=False)
    # DuckDB parses a buffer ahead of the rows it hands on, so it may refuse the file before the
    # first batch: the stream never hands on a batch past the bad line, whatever it read
    assert made[0].reason and "DuckDB stopped" in made[0].reason
    assert made[0].resume_offset <= sum(len(x) + 1 for x in lines[:40])
    assert (s.attempts_loaded, s.quarantined) == (59, 1)
    assert _rows(cfg, "SELECT source_line, reason FROM raw_quarantine") == [(41, "invalid_json")]
    got = [r[0] for r in _rows(cfg, "SELECT source_line FROM raw_attempts ORDER BY 1")]
    assert got == [i for i in range(1, 61) if i != 41]


def test_a_blank_line_hands_over_exactly_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_streams(monkeypatch)
    cfg = _home(tmp_path, batch_bytes=30_000)
    lines = [json.dumps(slp(i)).encode() for i in range(60)]
    lines[30] = b""
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    s = ingest(cfg, [str(log)], refresh=False)
    assert made[0].reason and "does not start" in made[0].reason
    assert made[0].resume_offset == sum(len(x) + 1 for x in lines[:30])  # 30 lines streamed
    assert (s.attempts_loaded, s.quarantined) == (59, 0)
    got = [r[0] for r in _rows(cfg, "SELECT source_line FROM raw_attempts ORDER BY 1")]
    assert got == [i for i in range(1, 61) if i != 31]
    assert _rows(cfg, "SELECT offset_bytes, lines_read FROM file_cursors") == [
        (log.stat().st_size, 60)
    ]


def test_a_non_finite_number_in_a_streamed_batch_is_placed_by_the_careful_path(
    tmp_path: Path,
) -> None:
    cfg = _home(tmp_path, batch_bytes=30_000)
    lines = [json.dumps(slp(i)).encode() for i in range(30)]
    lines[12] = lines[12].replace(b'"prompt_tokens": 105', b'"prompt_tokens": NaN')
    assert b"NaN" in lines[12]
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    s = ingest(cfg, [str(log)], refresh=False)
    assert (s.attempts_loaded, s.quarantined) == (29, 1)
    assert _rows(cfg, "SELECT source_line, reason FROM raw_quarantine") == [(13, "invalid_json")]


def test_lines_appended_while_streaming_wait_for_the_next_run(tmp_path: Path) -> None:
    """The stream takes the lines the file had when the run began; what a writer appends
    during the run, even a half-written line, is read by the next run, once."""
    cfg = _home(tmp_path, batch_bytes=30_000)
    log = tmp_path / "a.jsonl"
    log.write_bytes(slp_lines(50))
    size = log.stat().st_size
    appended = {"n": 0}

    def grow(_f: str, _done: int, _total: int) -> None:
        if appended["n"] < 3:
            with open(log, "ab") as f:
                f.write(slp_lines(1, start=100 + appended["n"]))
                if appended["n"] == 2:
                    f.write(json.dumps(slp(103)).encode()[:200])  # a line being written
            appended["n"] += 1

    s = Ingester(cfg, progress=grow).run([(log, "litellm", None)])
    assert s.attempts_loaded == 50
    assert _rows(cfg, "SELECT offset_bytes, lines_read FROM file_cursors") == [(size, 50)]
    with open(log, "ab") as f:
        f.write(json.dumps(slp(103)).encode()[200:] + b"\n")
    again = ingest(cfg, [str(log)], refresh=False)
    assert (again.attempts_loaded, again.duplicates_skipped, again.quarantined) == (4, 0, 0)
    assert _rows(cfg, "SELECT count(*), count(DISTINCT attempt_id) FROM raw_attempts") == [(54, 54)]


def test_a_log_whose_path_holds_a_quote_streams(tmp_path: Path) -> None:
    cfg = _home(tmp_path, batch_bytes=30_000)
    d = tmp_path / "it's here"
    d.mkdir()
    log = d / "o'clock.jsonl"
    log.write_bytes(slp_lines(20))
    s = ingest(cfg, [str(log)], refresh=False)
    assert s.attempts_loaded == 20 and s.quarantined == 0 and not s.failed_files


def test_closing_the_stream_mid_file_stops_its_threads(tmp_path: Path) -> None:
    from collectors.ingest.batch import mem_connection
    from collectors.ingest.read_jsonl import stream_read_sql
    from collectors.logs import get

    log = tmp_path / "a.jsonl"
    log.write_bytes(slp_lines(200))
    fmt = get("litellm")
    con = mem_connection(threads=2)
    rs = stream.RowStream(
        con,
        fmt,  # type: ignore[arg-type]
        log,
        log.stat().st_size,
        stream_read_sql(fmt, log, 1 << 20),
        5,
        1 << 30,
        1 << 20,
    )
    first = next(iter(rs))
    assert first.lines == 5 and first.table is not None and first.table.num_rows == 5
    rs.close()
    assert not rs.thread.is_alive() and not rs.planner.thread.is_alive()
    con.close()
