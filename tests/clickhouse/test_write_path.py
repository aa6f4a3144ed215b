"""The ClickHouse write path on chdb: real log lines through the real normaliser, committed batch
by batch (collectors/warehouse/clickhouse/load.py), the marts refreshed by swaps
(refresh.py), against the same log ingested into DuckDB by the real pipeline; a crash between
the rows and the cursor, a batch sent twice, another file with the same attempts; readers during
a rebuild; the raw tables' retention; the client's URLs and failures."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from collectors import config, logs, pipeline
from collectors.errors import WarehouseError
from collectors.ingest.batch import mem_connection, normalize_batch, run_format
from collectors.warehouse.clickhouse import apply, client, load, refresh
from collectors.warehouse.ledger import now_utc
from collectors.warehouse.migrate import TABLE_LAYERS, materialized_files, sql_files
from tests.clickhouse import parity

LOG = Path(__file__).parents[1] / "fixtures" / "logs" / "litellm_proxy_real" / "litellm_slp.jsonl"
BAD_LINES = b"garbage, not JSON\n"
WRITTEN_BY_INGEST = {"raw_attempts", "raw_quarantine", "loads", "file_cursors"}
DERIVED = {"derived_state", "derived_matches", "derive_scope", "derive_scope_days"}
VERSION = "test-normaliser-1"
_GROWN = itertools.count()
DUCK_FIGURES = (
    "SELECT (SELECT count(*) FROM logical_requests), (SELECT sum(spend_usd) FROM spend_per_day)"
)


@dataclass
class Home:
    """The log ingested into DuckDB by collectors.pipeline (the reference)."""

    log: Path
    key: str
    duck: duckdb.DuckDBPyConnection


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    root = tmp_path_factory.mktemp("write_path")
    log = root / "litellm_slp.jsonl"
    data = LOG.read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1  # a bad line in the middle: quarantined
    log.write_bytes(data[:half] + BAD_LINES + data[half:])
    (root / "home").mkdir()
    cfg = config.load(root / "home")
    pipeline.ingest(cfg, [str(log)])
    duck = duckdb.connect(str(root / "home" / "warehouse.duckdb"), read_only=True)
    yield Home(log, str(log.resolve()), duck)
    duck.close()


def _database(chdb_client: Callable[[str], Any], name: str, home: Home) -> Any:
    """A new database: the generated SQL applied, the tables ingest does not write (prices,
    model matches, configuration) copied from the DuckDB reference."""
    ch = chdb_client(name)
    apply.apply(ch, name)
    for f in sql_files():
        if f.layer in TABLE_LAYERS and f.name not in WRITTEN_BY_INGEST | DERIVED:
            table = home.duck.sql(f"SELECT * FROM {f.name}").to_arrow_table()
            if table.num_rows:
                ch.insert_arrow(f.name, table)
    return ch


@dataclass
class Span:
    start: int
    end: int
    lines: int  # the file's lines through this span (the cursor after it)
    con: duckdb.DuckDBPyConnection  # to_insert and bad, as normalize_batch leaves them
    total_ok: int


def _spans(log: Path, key: str, tmp: Path, n: int = 3) -> list[Span]:
    """The log cut into ``n`` spans of whole lines, each through the real reader and
    normaliser."""
    data = log.read_bytes()
    fmt = logs.get("litellm")
    cuts = [0] + [data.index(b"\n", len(data) * i // n) + 1 for i in range(1, n)] + [len(data)]
    out, lines = [], 0
    for i, (start, end) in enumerate(zip(cuts, cuts[1:], strict=False)):
        chunk = data[start:end]
        con = mem_connection()
        (tmp / f"span{i}").mkdir()
        res = run_format(con, fmt, "jsonl", chunk, lines + 1, tmp / f"span{i}", 1 << 24)
        parsed = normalize_batch(con, fmt, key, chunk.count(b"\n"), res.quarantine)
        lines += chunk.count(b"\n")
        out.append(Span(start, end, lines, con, parsed.total_ok))
    return out


def _commit(ch: Any, span: Span, load_id: str, key: str, size: int) -> dict[str, int]:
    return load.commit_batch(
        ch,
        span.con,
        load_id=load_id,
        source="litellm",
        file_key=key,
        start=span.start,
        end=span.end,
        lines=span.lines,
        head_hash="head",
        size=size,
        nbytes=span.end - span.start,
        normaliser_version=VERSION,
        total_ok=span.total_ok,
    )


def _one(ch: Any, sql: str) -> Any:
    return ch.query(sql, settings=apply.SETTINGS).result_rows[0][0]


def _figures(ch: Any) -> tuple[int, Decimal | None]:
    return _one(ch, "SELECT count() FROM logical_requests"), _one(
        ch, "SELECT sum(spend_usd) FROM spend_per_day"
    )


def _mart_rows(ch: Any) -> dict[str, list[Any]]:
    out = {}
    for f in materialized_files():
        rows = ch.query(f"SELECT * FROM {f.name}", settings=apply.SETTINGS).result_rows
        out[f.name] = sorted(repr(r) for r in rows)
    return out


# -- (a) real batches, full then incremental, against DuckDB's pipeline -----------------------


def test_real_batches_committed_and_refreshed_match_the_duckdb_pipeline(
    home: Home, chdb_client: Callable[[str], Any], tmp_path: Path
) -> None:
    ch = _database(chdb_client, "wp_real", home)
    size = home.log.stat().st_size
    spans = _spans(home.log, home.key, tmp_path)
    load.start_load(ch, "L1", "R1", "litellm", home.key)
    _commit(ch, spans[0], "L1", home.key, size)
    assert refresh.refresh(ch) == "full"  # the first build
    partial = _figures(ch)
    for span in spans[1:]:
        _commit(ch, span, "L1", home.key, size)
    load.end_load(ch, "L1", "ok")
    assert refresh.refresh(ch, slack=timedelta(0)) == "incremental"
    assert refresh.refresh(ch, slack=timedelta(0)) == "none"  # nothing landed since

    duck = home.duck
    for table in ("raw_attempts", "raw_quarantine"):
        want = duck.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        assert _one(ch, f"SELECT count() FROM {table}") == want, table
    assert _one(ch, "SELECT count() FROM raw_quarantine") == 1
    n, spend = _figures(ch)
    assert (n, spend) == duck.sql(DUCK_FIGURES).fetchall()[0]
    assert n > partial[0] and spend is not None and spend > 0
    for name in ("logical_requests", "spend_per_day", "incident_hours", "unpriced_usage"):
        f = next(f for f in sql_files() if f.name == name)
        assert parity.differences(f, duck, ch) == [], name

    row = load.read_load(ch, "L1")
    assert row is not None and row["status"] == "ok"
    assert row["rows_loaded"] == _one(ch, "SELECT count() FROM raw_attempts")
    assert row["quarantined"] == 1 and row["bytes_read"] == size
    cur = load.read_cursor(ch, home.key)
    assert (cur.offset, cur.lines) == (size, spans[-1].lines)

    # the swaps leave what a plain rebuild (apply.build_marts) leaves, and no __next behind
    swapped = _mart_rows(ch)
    assert refresh.refresh(ch, force=True) == "full"
    assert _mart_rows(ch) == swapped
    apply.build_marts(ch)
    assert _mart_rows(ch) == swapped
    left = ch.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                    "AND name LIKE '%\\_\\_next%'").result_rows  # fmt: skip
    assert left == []
    kinds = ch.query("SELECT kind FROM derived_state").result_rows
    assert kinds == [("full",)]  # the last build only


# -- (b) a crash between the rows and the cursor ----------------------------------------------


def test_a_crash_before_the_cursor_resends_blocks_the_engine_drops(
    home: Home, chdb_client: Callable[[str], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = _database(chdb_client, "wp_crash", home)
    size = home.log.stat().st_size
    spans = _spans(home.log, home.key, tmp_path)
    load.start_load(ch, "crashed", "R1", "litellm", home.key)
    _commit(ch, spans[0], "crashed", home.key, size)

    def crash(*args: Any) -> None:
        raise KeyboardInterrupt  # killed after the inserts, before the cursor

    monkeypatch.setattr(load, "advance_cursor", crash)
    with pytest.raises(KeyboardInterrupt):
        _commit(ch, spans[1], "crashed", home.key, size)
    monkeypatch.undo()
    landed = _one(ch, "SELECT count() FROM raw_attempts")
    assert landed == spans[0].total_ok + spans[1].total_ok  # the rows are there
    assert load.read_cursor(ch, home.key).offset == spans[0].end  # the cursor is not

    # the next run: the crashed load is marked, the file resumes at its cursor
    monkeypatch.setattr(load, "alive", lambda pid: False)
    assert load.mark_interrupted_loads(ch) == 1
    monkeypatch.undo()
    assert load.read_load(ch, "crashed")["status"] == "interrupted"  # type: ignore[index]
    load.start_load(ch, "rerun", "R2", "litellm", home.key)
    resume = [s for s in spans if s.start >= load.read_cursor(ch, home.key).offset]
    assert resume == spans[1:]
    for span in resume:
        _commit(ch, span, "rerun", home.key, size)
    load.end_load(ch, "rerun", "ok")

    want = home.duck.sql("SELECT count(*) FROM raw_attempts").fetchall()[0][0]
    assert _one(ch, "SELECT count() FROM raw_attempts") == want  # span 1 once, not twice
    assert _one(ch, "SELECT count() FROM raw_quarantine") == 1
    by_load = dict(
        ch.query("SELECT load_id, count() FROM raw_attempts GROUP BY load_id").result_rows
    )
    assert by_load == {"crashed": landed, "rerun": spans[2].total_ok}  # span 1's re-send dropped
    loaded = _one(ch, "SELECT sum(rows_loaded) FROM loads FINAL")
    assert loaded == want  # counted once: the crashed load never counted span 1
    refresh.refresh(ch)
    assert _figures(ch) == home.duck.sql(DUCK_FIGURES).fetchall()[0]


# -- (c) the same batch twice; the same attempts from another file --------------------------------


def test_a_batch_sent_twice_lands_once_and_another_file_is_deduped_by_the_marts(
    home: Home, chdb_client: Callable[[str], Any], tmp_path: Path
) -> None:
    ch = _database(chdb_client, "wp_twice", home)
    size = home.log.stat().st_size
    (span,) = _spans(home.log, home.key, tmp_path, n=1)
    load.start_load(ch, "L1", "R1", "litellm", home.key)
    _commit(ch, span, "L1", home.key, size)
    _commit(ch, span, "L1", home.key, size)  # the same token: dropped
    assert _one(ch, "SELECT count() FROM raw_attempts") == span.total_ok
    assert _one(ch, "SELECT count() FROM raw_quarantine") == 1
    refresh.refresh(ch)
    once = _figures(ch)

    copy = tmp_path / "copy.jsonl"
    shutil.copy(home.log, copy)
    load.start_load(ch, "L2", "R1", "litellm", str(copy))
    counts = _commit(ch, span, "L2", str(copy), size)  # other file: other token, same ids
    assert counts["rows_loaded"] == span.total_ok  # counted by its load ...
    assert _one(ch, "SELECT count() FROM raw_attempts") == 2 * span.total_ok  # ... and landed
    # ... but the marts hold each attempt once already: nothing to recompute
    assert refresh.touched_days(ch, datetime(2000, 1, 1)) == []
    assert refresh.refresh(ch, slack=timedelta(0)) == "none"
    assert refresh.refresh(ch, force=True) == "full"
    assert _figures(ch) == once  # a full rebuild counts each attempt once too
    assert _one(ch, "SELECT count() FROM attempts") == span.total_ok
    assert _one(ch, "SELECT uniqExact(load_id) FROM attempts") == 1  # the first landed kept
    assert load.batch_token(home.key, 0, size, VERSION, "raw_attempts", "head") != (
        load.batch_token(str(copy), 0, size, VERSION, "raw_attempts", "head")
    )


def test_a_token_names_the_file_span_normaliser_table_and_head() -> None:
    base = ("f", 0, 10, "v1", "raw_attempts", "h")
    token = load.batch_token(*base)
    assert len(token) == 64 and token == load.batch_token(*base)
    for i, other in enumerate(("g", 1, 11, "v2", "raw_quarantine", "h2")):
        changed = list(base)
        changed[i] = other
        assert load.batch_token(*changed) != token, f"argument {i} is not in the token"


# -- (d) readers during a full rebuild ----------------------------------------------------------


@pytest.fixture
def grown(home: Home, chdb_client: Callable[[str], Any], tmp_path: Path) -> Any:
    """Marts built over the first span, then the rest of the log landed (not yet derived)."""
    ch = _database(chdb_client, f"wp_grown_{next(_GROWN)}", home)
    size = home.log.stat().st_size
    spans = _spans(home.log, home.key, tmp_path, n=2)
    load.start_load(ch, "L1", "R1", "litellm", home.key)
    _commit(ch, spans[0], "L1", home.key, size)
    refresh.refresh(ch)
    old = _figures(ch)
    _commit(ch, spans[1], "L1", home.key, size)
    return ch, old


def test_readers_see_the_old_or_the_new_marts_during_a_full_rebuild(
    grown: Any, chdb_client: Callable[[str], Any]
) -> None:
    ch, old = grown
    reader = chdb_client(_one(ch, "SELECT currentDatabase()"))
    seen: list[tuple[int, Any]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set() or len(seen) < 3:
            seen.append(_figures(reader))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        refresh.refresh(ch, force=True)
        new = _figures(ch)
        for _ in range(3):
            seen.append(_figures(reader))
    finally:
        done.set()
        thread.join(timeout=60)
    assert new != old and new[0] > old[0]
    counts, sums = {n for n, _ in seen}, {s for _, s in seen}
    assert counts <= {old[0], new[0]} and sums <= {old[1], new[1]}, seen
    assert new[0] in counts and len(seen) > 10


class _Probing:
    """A client that reads the figures on another client after every statement it runs."""

    def __init__(self, inner: Any, reader: Any) -> None:
        self.inner, self.reader, self.seen = inner, reader, []  # type: list[Any]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner.command(*args, **kwargs)
        self.seen.append(_figures(self.reader))
        return out


def test_between_any_two_statements_a_reader_sees_whole_marts(
    grown: Any, chdb_client: Callable[[str], Any]
) -> None:
    ch, old = grown
    reader = chdb_client(_one(ch, "SELECT currentDatabase()"))
    probing = _Probing(ch, reader)
    refresh.rebuild_full(probing)
    new = _figures(ch)
    assert len(probing.seen) > 20
    assert set(probing.seen) <= {old, new, (new[0], old[1]), (old[0], new[1])}
    # the check itself: a plain TRUNCATE + INSERT rebuild shows readers empty marts
    naive = _Probing(ch, reader)
    apply.build_marts(naive)
    assert any(n == 0 or s is None for n, s in naive.seen)


def test_an_incremental_refresh_replaces_only_the_days_touched(grown: Any) -> None:
    ch, old = grown
    dates = [r[0] for r in ch.query("SELECT DISTINCT toDate(started_at) FROM raw_attempts "
                                    "ORDER BY 1").result_rows]  # fmt: skip
    around = sorted({d + timedelta(days=k) for d in dates for k in (-1, 0, 1)})
    assert refresh.touched_days(ch, datetime(2000, 1, 1)) == around
    # a row on another day's partition: an incremental refresh leaves that partition alone
    ch.command(
        "INSERT INTO spend_per_day (local_day, provider, model, attempts) "
        "VALUES ('2025-01-15', 'planted', 'planted', 1)"
    )
    planted = "SELECT count() FROM spend_per_day WHERE provider = 'planted'"
    assert refresh.refresh(ch, slack=timedelta(0)) == "incremental"
    assert _figures(ch)[0] > old[0]
    assert _one(ch, planted) == 1
    # nothing of the build is left: no scoped view, an empty scope
    assert _one(ch, "SELECT count() FROM system.tables WHERE database = currentDatabase() "
                    f"AND name LIKE '%{refresh.SCOPED}'") == 0  # fmt: skip
    assert _one(ch, "SELECT count() FROM derive_scope") == 0
    assert refresh.refresh(ch, force=True) == "full"  # a full rebuild does not keep it
    assert _one(ch, planted) == 0
    keys = dict(ch.query("SELECT name, partition_key FROM system.tables "
                         "WHERE database = currentDatabase()").result_rows)  # fmt: skip
    by_day = {f.name for f in materialized_files() if keys[f.name] == "toYYYYMMDD(local_day)"}
    assert by_day == {"attempts", "logical_requests", "spend_per_day", "bill_gateway_days",
                      "incident_hours", "incident_model_days"}  # fmt: skip


def test_an_incremental_refresh_equals_a_full_rebuild(grown: Any) -> None:
    """The days recomputed from their own requests (the scoped logic) give every mart exactly
    what a full rebuild gives."""
    ch, _ = grown
    assert refresh.refresh(ch, slack=timedelta(0)) == "incremental"
    incremental = _mart_rows(ch)
    assert refresh.refresh(ch, force=True) == "full"
    assert _mart_rows(ch) == incremental
    assert incremental["attempts"] and incremental["logical_requests"]


class _Counting:
    """A client that keeps every statement it runs."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.sql = inner, []  # type: Any, list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def command(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self.sql.append(sql)
        return self.inner.command(sql, *args, **kwargs)


def test_a_full_rebuild_in_parts_equals_one_in_one_piece(
    grown: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past refresh.PART_ATTEMPTS raw attempts the marts keyed by logical request are derived
    part by part (from the scoped logic, reading attempts__next); every mart comes out as from
    one piece, and nothing of the parts is left behind."""
    ch, _ = grown  # the live marts hold the first span only: the parts must not read them
    raw = _one(ch, "SELECT count() FROM raw_attempts")
    monkeypatch.setattr(refresh, "PART_ATTEMPTS", max(1, raw // 5))
    counting = _Counting(ch)
    assert refresh.refresh(counting, force=True) == "full"
    fills = [s for s in counting.sql if "cityHash64(logical_request_id) %" in s]
    assert len(fills) >= 5
    parted = _mart_rows(ch)
    monkeypatch.setattr(refresh, "PART_ATTEMPTS", raw + 1)
    assert refresh.refresh(ch, force=True) == "full"
    whole = _mart_rows(ch)
    assert parted == whole
    assert whole["attempts"] and whole["logical_requests"]
    assert _one(ch, "SELECT count() FROM system.tables WHERE database = currentDatabase() "
                    f"AND (name LIKE '%{refresh.SCOPED}' OR name LIKE '%{refresh.NEXT}')") == 0  # fmt: skip
    assert _one(ch, "SELECT count() FROM derive_scope") == 0


def test_the_scoped_views_read_only_the_requests_in_scope(grown: Any) -> None:
    """The copies a build reads are cut to derive_scope; the views readers use are not."""
    ch, _ = grown
    some = ch.query("SELECT DISTINCT logical_request_id FROM raw_attempts ORDER BY 1 LIMIT 3")
    ids = [r[0] for r in some.result_rows]
    ch.insert("derive_scope", [[i] for i in ids], column_names=["logical_request_id"])
    db = ch.query("SELECT currentDatabase()").result_rows[0][0]
    made = refresh._create_scoped(ch, db)
    try:
        scoped = _one(ch, f"SELECT uniqExact(logical_request_id) FROM logical_requests__logic"
                          f"{refresh.SCOPED}")  # fmt: skip
        assert scoped == len(ids)
        whole = _one(ch, "SELECT uniqExact(logical_request_id) FROM stg_gateway__attempts")
        assert whole == _one(ch, "SELECT uniqExact(logical_request_id) FROM raw_attempts") > 3
    finally:
        for name in made:
            ch.command(f"DROP VIEW IF EXISTS {name}")
        ch.command("TRUNCATE TABLE derive_scope")
    assert {f.name for f in refresh.scoped_chain()} >= {"stg_gateway__attempts"}


def test_a_mart_of_more_than_a_hundred_days_is_built(
    home: Home, chdb_client: Callable[[str], Any]
) -> None:
    """ClickHouse refuses an insert spanning more than 100 partitions by default: a year of
    days must still build (and swap in)."""
    ch = _database(chdb_client, "wp_many_days", home)
    ch.command(
        "INSERT INTO raw_attempts (attempt_id, logical_request_id, started_at, provider, "
        "served_model, status, source, source_file, source_line, load_id, ingested_at) "
        "SELECT concat('a', toString(number)), concat('r', toString(number)), "
        "toDateTime64('2026-01-01 12:00:00', 6) + toIntervalDay(number), 'openai', 'gpt-4o', "
        "'success', 'litellm', 'f', number, 'l1', now64(6) FROM numbers(150)"
    )
    assert refresh.refresh(ch) == "full"
    assert _one(ch, "SELECT count() FROM attempts") == 150
    parts = "SELECT uniqExact(partition) FROM system.parts WHERE database = currentDatabase() "
    assert _one(ch, parts + "AND table = 'attempts' AND active") == 150
    ch.command(
        "INSERT INTO raw_attempts (attempt_id, logical_request_id, started_at, provider, "
        "served_model, status, source, source_file, source_line, load_id, ingested_at) "
        "VALUES ('b1', 'r5', '2026-01-06 13:00:00', 'openai', 'gpt-4o', 'success', 'litellm', "
        "'f', 999, 'l2', now64(6) + toIntervalSecond(1))"
    )
    assert refresh.refresh(ch, slack=timedelta(0)) == "incremental"
    assert _one(ch, "SELECT attempts FROM logical_requests WHERE logical_request_id = 'r5'") == 2


# -- (e) retention ---------------------------------------------------------------------------------


def test_retention_sets_and_removes_a_ttl_on_the_raw_tables(
    chdb_client: Callable[[str], Any],
) -> None:
    ch = chdb_client("wp_retention")
    apply.apply(ch, "wp_retention", retention_days=30)
    for table in apply.RETENTION:
        assert apply.has_ttl(ch, table), table
    query = _one(ch, "SELECT create_table_query FROM system.tables WHERE database = "
                     "currentDatabase() AND name = 'raw_quarantine'")  # fmt: skip
    assert "TTL toDateTime(quarantined_at) + toIntervalDay(30)" in query
    now = now_utc()
    when = [now - timedelta(days=90), now - timedelta(days=1)]
    rows = [["L", "s", "f", i, "r", None, None, t] for i, t in enumerate(when)]
    ch.insert("raw_quarantine", rows, settings={"insert_deduplicate": 0})
    ch.command("OPTIMIZE TABLE raw_quarantine FINAL")
    assert _one(ch, "SELECT groupArray(source_line) FROM raw_quarantine") == [1]  # the old expired
    apply.set_retention(ch, None)
    assert not any(apply.has_ttl(ch, t) for t in apply.RETENTION)
    apply.set_retention(ch, None)  # nothing to remove: no error
    with pytest.raises(WarehouseError, match="retention_days"):
        apply.set_retention(ch, 0)


# -- (f) the client: URLs and failures ---------------------------------------------------------


def test_urls_are_parsed_with_the_default_database() -> None:
    t = client.parse_url("chdb:///var/lib/rl")
    assert (t.kind, t.path, t.database) == ("chdb", "/var/lib/rl", "routeledger")
    assert client.parse_url("chdb:///var/lib/rl?database=team_a").database == "team_a"
    t = client.parse_url("https://ana@ch.example.com/costs")
    assert (t.kind, t.host, t.port, t.user, t.database) == (
        "https", "ch.example.com", 8443, "ana", "costs"
    )  # fmt: skip
    t = client.parse_url("http://10.0.0.5:9123")
    assert (t.port, t.user, t.database) == (9123, "default", "routeledger")
    for bad, why in [
        ("chdb://relative/path", "absolute path"),
        ("http://h:8123/costs;drop", "not a database name"),
        ("ftp://h/db", "chdb:///path or http"),
        ("http:///db", "no host"),
    ]:
        with pytest.raises(WarehouseError, match=why):
            client.parse_url(bad)
    with pytest.raises(WarehouseError) as e:
        client.parse_url("http://ana:hunter2@h:8123/db")
    assert "hunter2" not in str(e.value) and "password_env" in str(e.value)


@pytest.fixture
def session_path(chdb_client: Callable[[str], Any]) -> Iterator[str]:
    """The session's chdb path, held open by a client for the test (chdb closes its engine when
    no client is left, and would then open another path)."""
    held = chdb_client("wp_client")
    yield str(held.path)
    held.close()


def test_chdb_opens_the_named_database_and_creates_it_only_when_asked(session_path: str) -> None:
    path = session_path
    with pytest.raises(WarehouseError, match="wp_missing: the database does not exist"):
        client.connect(f"chdb://{path}?database=wp_missing")
    ch = client.connect(f"chdb://{path}?database=wp_made", create=True)
    assert _one(ch, "SELECT currentDatabase()") == "wp_made"
    settings = ch.query("SELECT getSetting('join_use_nulls'), getSetting('session_timezone')")
    assert settings.result_rows[0] == (True, "UTC")  # apply.SETTINGS on every query


def test_a_second_chdb_path_is_one_line_naming_both(session_path: str, tmp_path: Path) -> None:
    path = session_path
    with pytest.raises(WarehouseError) as e:
        client.connect(f"chdb://{tmp_path}/other")
    said = str(e.value)
    assert "\n" not in said and os.path.realpath(path) in said and f"{tmp_path}/other" in said
    assert "one data path per process" in said


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_is_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RL_TEST_CH_PASSWORD", "s3cret-Pw")
    url = f"http://ana@127.0.0.1:{_closed_port()}/costs"
    with pytest.raises(WarehouseError) as e:
        client.connect(url, password_env="RL_TEST_CH_PASSWORD")
    said = str(e.value)
    assert "unreachable" in said and "ana@127.0.0.1" in said
    assert "\n" not in said and "s3cret-Pw" not in said
    monkeypatch.delenv("RL_TEST_CH_PASSWORD")
    with pytest.raises(WarehouseError, match="RL_TEST_CH_PASSWORD"):
        client.connect(url, password_env="RL_TEST_CH_PASSWORD")


class _Refusing(BaseHTTPRequestHandler):
    """A ClickHouse HTTP interface that refuses every password, as a server does."""

    def _refuse(self) -> None:
        body = (
            b"Code: 516. DB::Exception: ana: Authentication failed: password is incorrect, "
            b"or there is no user with such name. (AUTHENTICATION_FAILED) (version 25.8.1.1)\n"
        )
        self.send_response(516)
        self.send_header("X-ClickHouse-Exception-Code", "516")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: Any) -> None:
        pass


def test_a_wrong_password_is_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("RL_TEST_CH_PASSWORD", "wr0ng-Pw")
        url = f"http://ana@127.0.0.1:{server.server_address[1]}/costs"
        with pytest.raises(WarehouseError) as e:
            client.connect(url, password_env="RL_TEST_CH_PASSWORD")
    finally:
        server.shutdown()
        server.server_close()
    said = str(e.value)
    assert "user ana was refused" in said
    assert "\n" not in said and "wr0ng-Pw" not in said
