"""The parallel batch pipeline: spans planned by their ends, copied and counted by workers,
line numbers chained across batches, commits in file order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.ingest.plan import copy_range, count_lines
from collectors.pipeline import ingest
from tests.logs.helpers import ingest_home, slp, slp_lines, warehouse_rows

_home = ingest_home
_rows = warehouse_rows


@pytest.mark.parametrize("buffer_bytes", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize(
    "data, lines, blank, longest",
    [
        (b"", 0, False, 0),
        (b"a\n", 1, False, 1),
        (b"\n", 1, True, 0),
        (b"a\nbcd\n", 2, False, 3),
        (b"a\n\nb\n", 3, True, 1),
        (b"ab\ncdefg\n\n", 3, True, 5),
        (b"\nab\n", 2, True, 2),
        (b"ab\ncd", 1, False, 2),  # no newline at the end: the tail is not a line yet
        (b"a\r\n\r\nb\n", 3, False, 2),  # \r\n blank lines are left to DuckDB's row count
    ],
)
def test_count_lines_across_buffer_boundaries(
    tmp_path: Path, buffer_bytes: int, data: bytes, lines: int, blank: bool, longest: int
) -> None:
    p = tmp_path / "x"
    p.write_bytes(data)
    assert count_lines(p, None, buffer_bytes) == (lines, blank, longest)


def test_count_lines_stops_at_length(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"a\nb\n\nc\n")
    assert count_lines(p, 4, 3) == (2, False, 1)
    assert count_lines(p, 5, 3) == (3, True, 1)


def test_copy_range_copies_exactly_the_span(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_bytes(bytes(range(256)) * 1000)
    copy_range(src, dst, 1000, 70_000)
    assert dst.read_bytes() == src.read_bytes()[1000:71_000]
    with pytest.raises(OSError, match="bytes short"):
        copy_range(src, dst, 255_000, 2000)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_many_batches_on_workers_keep_line_numbers_and_totals(tmp_path: Path, workers: int) -> None:
    """Hundreds of small batches parsed out of order by several workers: every line lands
    once, with its own line number, and bad lines are quarantined at theirs."""
    cfg = _home(tmp_path, batch_bytes=8192, workers=workers)
    lines = [json.dumps(slp(i)).encode() for i in range(400)]
    bad = {57: b"{not json", 190: b"", 333: b"[1, 2]"}  # a broken line, a blank one, an array
    for no, raw in bad.items():
        lines[no - 1] = raw
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    s = ingest(cfg, [str(log)])
    assert s.attempts_loaded == 400 - len(bad)
    assert s.quarantined == 2  # the blank line is nothing, not a bad row
    got = _rows(cfg, "SELECT source_line, attempt_id FROM raw_attempts ORDER BY source_line")
    want = [(i + 1, f"litellm:call-{i:08d}") for i in range(400) if i + 1 not in bad]
    assert got == want
    assert _rows(cfg, "SELECT source_line, reason FROM raw_quarantine ORDER BY 1") == [
        (57, "invalid_json"),
        (333, "not_an_object"),
    ]
    assert _rows(cfg, "SELECT offset_bytes, lines_read FROM file_cursors") == [
        (log.stat().st_size, 400)
    ]
    assert _rows(cfg, "SELECT count(*) > 20 FROM raw_attempts GROUP BY ALL") == [(True,)]


def test_span_stops_near_batch_rows_when_lines_are_short(tmp_path: Path) -> None:
    """A batch holds about BATCH_ROWS lines whatever ``batch_bytes`` allows, so a commit's
    lock time follows the rows (checked through the number of commits of a big file)."""
    from collectors.ingest import Ingester, plan

    cfg = _home(tmp_path)
    plan_rows = plan.BATCH_ROWS
    plan.BATCH_ROWS = 100  # lines of ~12 kB: batches of ~1.2 MB
    try:
        log = tmp_path / "a.jsonl"
        log.write_bytes(slp_lines(500))
        commits: list[int] = []
        s = Ingester(cfg, progress=lambda _n, done, _t: commits.append(done)).run(
            [(log, "litellm", None)]
        )
    finally:
        plan.BATCH_ROWS = plan_rows
    assert s.attempts_loaded == 500
    assert 4 <= len(commits) <= 6  # ~100 lines a batch, not one 1 GiB batch
    assert commits == sorted(commits) and commits[-1] == log.stat().st_size


def test_line_longer_than_a_batch_in_the_middle_is_quarantined_once(tmp_path: Path) -> None:
    cfg = _home(tmp_path, batch_bytes=8192, max_line_bytes=20_000)
    long = json.dumps(slp(5, model="m" * 30_000)).encode()
    lines = [json.dumps(slp(i)).encode() for i in range(12)]
    lines[5] = long
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    s = ingest(cfg, [str(log)])
    assert (s.attempts_loaded, s.quarantined) == (11, 1)
    assert _rows(cfg, "SELECT source_line, reason FROM raw_quarantine") == [(6, "line_too_long")]
    assert _rows(cfg, "SELECT max(source_line) FROM raw_attempts") == [(12,)]


def test_line_over_the_limit_inside_a_batch_is_quarantined_and_never_read_whole(
    tmp_path: Path,
) -> None:
    """A 1 MiB batch holding a line over ``max_line_bytes``: the careful path reads the
    span a part at a time and quarantines that line; its neighbours load."""
    cfg = _home(tmp_path, batch_bytes=1 << 20, max_line_bytes=20_000)
    lines = [json.dumps(slp(i)).encode() for i in range(30)]
    lines[10] = json.dumps(slp(10, model="m" * 30_000)).encode()
    lines[20] = b"{broken"
    log = tmp_path / "a.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    s = ingest(cfg, [str(log)])
    assert (s.attempts_loaded, s.quarantined) == (28, 2)
    assert _rows(cfg, "SELECT source_line, reason FROM raw_quarantine ORDER BY 1") == [
        (11, "line_too_long"),
        (21, "invalid_json"),
    ]
    assert _rows(cfg, "SELECT count(*) FROM raw_attempts WHERE source_line IN (12, 30)") == [(2,)]


def test_worker_failure_fails_the_file_after_committing_what_came_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose parse raises stops the file: the batches before it stay committed with
    their cursor, nothing after it is, and the next run resumes at the failed batch."""
    from collectors.errors import InputError
    from collectors.ingest import batch

    cfg = _home(tmp_path, batch_bytes=8192, workers=2)
    log = tmp_path / "a.jsonl"
    log.write_bytes(slp_lines(200))
    real = batch.normalize  # run on every batch, streamed or read span by span
    calls = {"n": 0}

    def flaky(*a, **k):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise InputError("disk said no")
        return real(*a, **k)

    monkeypatch.setattr(batch, "normalize", flaky)
    s = ingest(cfg, [str(log)])
    assert s.failed_files and "disk said no" in s.failed_files[0]["error"]
    ((n, lines),) = _rows(cfg, "SELECT count(*), max(source_line) FROM raw_attempts")
    (cursor_lines,) = _rows(cfg, "SELECT lines_read FROM file_cursors")[0]
    assert 0 < n < 200 and n == lines == cursor_lines  # whole batches, cursor agrees
    monkeypatch.setattr(batch, "normalize", real)
    again = ingest(cfg, [str(log)])
    assert again.attempts_loaded == 200 - n
    assert _rows(cfg, "SELECT count(*), count(DISTINCT attempt_id) FROM raw_attempts") == [
        (200, 200)
    ]
