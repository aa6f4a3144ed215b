"""LiteLLM's PostgreSQL spend log as a source, against a real PostgreSQL server holding the table
as LiteLLM's own migrations build it (tests/fixtures/remote/litellm_postgres/), read by a role
that may only SELECT it.

The truth every test compares with is computed here from the rows it inserted."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from app.cli import main
from collectors import config, pipeline
from collectors.remote import postgres, sources, spool
from collectors.warehouse import Warehouse
from tests.remote import pg

ENV = "LITELLM_SPENDLOGS_DSN"
_ids = count()


@pytest.fixture(scope="module")
def srv() -> Iterator[pg.Server]:
    with pg.server() as s:
        yield s


@pytest.fixture
def db(srv: pg.Server) -> pg.SpendLogsDB:
    return pg.spendlogs_db(srv, f"litellm_{next(_ids)}")


def _home(home: Path, extra: str = "") -> Path:
    with open(home / "routeledger.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[[sources]]\ndsn_env = "{ENV}"\n{extra}')
    return home


@pytest.fixture
def cfg(home: Path, db: pg.SpendLogsDB, monkeypatch: pytest.MonkeyPatch) -> config.Config:
    monkeypatch.setenv(ENV, db.reader_dsn)
    return config.load(_home(home))


# -- rows and their truth -------------------------------------------------------------------

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
T0 = NOW - timedelta(hours=2)


@dataclass
class Truth:
    """What the inserted rows should become: loaded attempts and quarantined rows."""

    good: dict[str, dict[str, Any]] = field(default_factory=dict)  # request_id -> row
    bad: dict[str, str] = field(default_factory=dict)  # request_id -> quarantine reason

    def add(self, rows: list[dict[str, Any]], bad: str | None = None) -> list[dict[str, Any]]:
        for r in rows:
            if bad:
                self.bad[r["request_id"]] = bad
            else:
                self.good[r["request_id"]] = r
        return rows

    @property
    def spend(self) -> Decimal:
        return sum((Decimal(repr(r["spend"])) for r in self.good.values()), Decimal(0))

    @property
    def sessions(self) -> int:
        return len({r.get("session_id") or r["request_id"] for r in self.good.values()})


def key_hash(i: int) -> str:
    return hashlib.sha256(f"sk-virtual-{i}".encode()).hexdigest()  # LiteLLM stores the hash


def row(rid: str, start: datetime, **over: Any) -> dict[str, Any]:
    """A success row as LiteLLM 1.108.7 writes it (the columns its proxy fills)."""
    n = int(hashlib.sha256(rid.encode()).hexdigest()[:6], 16)
    spend = Decimal(n % 9_000_000 + 1) / Decimal(10**10)  # exact in DECIMAL(18, 10)
    meta = {
        "user_api_key_hash": key_hash(n % 3),
        "user_api_key_alias": f"key-{n % 3}",
        "user_api_key_team_id": f"team-id-{n % 2}",
        "user_api_key_team_alias": f"team-{n % 2}",
        "user_api_key_request_route": "/chat/completions",
        "usage_object": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        "model_map_information": {"model_map_key": "gpt-4o", "model_map_value": {"key": "gpt-4o"}},
        "error_information": {"error_code": "", "error_class": "", "error_message": ""},
    }
    r = {
        "request_id": rid,
        "call_type": "acompletion",
        "api_key": key_hash(n % 3),
        "spend": float(spend),
        "total_tokens": 120,
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "startTime": start,
        "endTime": start + timedelta(milliseconds=800),
        "model": "gpt-4o",
        "model_id": "dep-1",
        "model_group": "smart",
        "custom_llm_provider": "openai",
        "api_base": "https://api.openai.com/v1",
        "user": "",
        "metadata": meta,
        "cache_hit": "None",
        "cache_key": "Cache OFF",
        "request_tags": ["task:summarize", "env:test"],
        "team_id": f"team-id-{n % 2}",
        "end_user": "",
        "messages": {},
        "response": {},
        "session_id": f"trace-{rid}",
        "status": "success",
        "proxy_server_request": {},
    }
    r.update(over)
    return r


def failure(rid: str, start: datetime, session: str, **over: Any) -> dict[str, Any]:
    r = row(rid, start, session_id=session, status="failure", spend=0.0, **over)
    r["metadata"] = {
        **r["metadata"],
        "error_information": {
            "error_code": "429",
            "error_class": "RateLimitError",
            "error_message": "litellm.RateLimitError: slow down",
            "traceback": "Traceback (most recent call last): ...",
        },
    }
    return r


def insert(db: pg.SpendLogsDB, rows: list[dict[str, Any]]) -> None:
    db.insert(
        [{k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in r.items()} for r in rows]
    )


def mixed(prefix: str, start: datetime, n: int = 12) -> tuple[list[dict[str, Any]], datetime]:
    """Successes, a failed try retried in the same trace, streamed requests (first token
    time), a cache hit; one every 7 s from ``start``. The last row's start time too."""
    rows: list[dict[str, Any]] = []
    t = start
    for i in range(n):
        t = start + timedelta(seconds=7 * i, milliseconds=123)
        rid = f"{prefix}-{i:03d}"
        if i % 4 == 1:  # a failed try, then its retry: one trace, two attempts
            rows.append(failure(f"{rid}-try1", t, session=f"trace-{rid}"))
            t2 = t + timedelta(seconds=1)
            rows.append(row(rid, t2, session_id=f"trace-{rid}"))
        elif i % 4 == 2:  # streamed
            rows.append(row(rid, t, completionStartTime=t + timedelta(milliseconds=250)))
        elif i % 4 == 3:
            rows.append(row(rid, t, cache_hit="True", spend=0.0))
        else:
            rows.append(row(rid, t))
    return rows, max(r["startTime"] for r in rows)


def wh_rows(cfg: config.Config, query: str, params: list[Any] | None = None) -> list[Any]:
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def assert_truth(cfg: config.Config, truth: Truth) -> None:
    """Every good row loaded once with its spend; every bad row quarantined once, by reason."""
    got = wh_rows(cfg, "SELECT attempt_id, reported_cost_usd FROM raw_attempts")
    ids = [a for a, _ in got]
    assert len(ids) == len(set(ids)), "an attempt loaded twice"
    assert sorted(ids) == sorted(f"litellm:{rid}" for rid in truth.good)
    assert sum((c for _, c in got), Decimal(0)) == truth.spend
    q = wh_rows(cfg, "SELECT reason, count(*) FROM raw_quarantine GROUP BY ALL")
    want: dict[str, int] = {}
    for reason in truth.bad.values():
        want[reason] = want.get(reason, 0) + 1
    assert dict(q) == want


def ingest(cfg: config.Config) -> Any:
    """Fetch the sources and load the spool (the marts are the CLI test's)."""
    summary = pipeline.ingest(cfg, refresh=False)
    assert [r.status for r in summary.remote] == ["ok"], summary.remote
    return summary


# -- exactly once, incrementally -----------------------------------------------------------


@pytest.mark.slow
def test_rows_load_once_and_late_rows_inside_the_overlap_are_picked_up(
    cfg: config.Config, db: pg.SpendLogsDB, tmp_path: Path
) -> None:
    truth = Truth()
    first, last = mixed("a", T0)
    insert(db, truth.add(first))
    s1 = ingest(cfg)
    assert s1.remote[0].rows == len(first)
    assert_truth(cfg, truth)
    traces = wh_rows(cfg, "SELECT count(DISTINCT logical_request_id) FROM raw_attempts")
    assert traces[0][0] == truth.sessions < len(truth.good)

    # what LiteLLM's row says comes through: a failed try and its retry share the trace
    cols = "status, error_class, http_status, team, key_hash, key_alias, requested_model, task"
    got = wh_rows(
        cfg,
        f"SELECT attempt_id, {cols}, logical_request_id FROM raw_attempts"
        " WHERE attempt_id IN ('litellm:a-001-try1', 'litellm:a-001') ORDER BY attempt_id",
    )
    want = []
    for rid, status, err in (("a-001", "success", None), ("a-001-try1", "error", "rate_limit")):
        r, m = truth.good[rid], truth.good[rid]["metadata"]
        http = int(m["error_information"]["error_code"] or 0) or None
        want.append((f"litellm:{rid}", status, err, http, m["user_api_key_team_alias"],
                     r["api_key"], m["user_api_key_alias"], r["model_group"],
                     r["request_tags"][0].removeprefix("task:"), "trace-a-001"))  # fmt: skip
    assert got == want
    hits = wh_rows(cfg, "SELECT count(*) FROM raw_attempts WHERE gateway_cache_hit")[0][0]
    assert hits == sum(r["cache_hit"] == "True" for r in truth.good.values()) > 0

    # a second run finds nothing new, and spools nothing
    files = spool.files(spool.folder(cfg, cfg.sources[0].label))
    s2 = ingest(cfg)
    assert (s2.remote[0].rows, s2.attempts_loaded) == (0, 0)
    assert spool.files(spool.folder(cfg, cfg.sources[0].label)) == files
    assert_truth(cfg, truth)

    # rows that landed after the read: newer ones, late ones that started before the position
    # (inside the overlap), and ones at the position's very time with other request ids
    newer, _ = mixed("b", last + timedelta(seconds=30), n=5)
    late = [row(f"late-{i}", last - timedelta(minutes=i + 1)) for i in range(4)]
    tie = [row(f"{c}-tie", last) for c in ("0", "a-011", "zzz")]  # sorts before/after the id
    insert(db, truth.add(newer + late + tie))
    s3 = ingest(cfg)
    assert s3.remote[0].rows == len(newer + late + tie)  # only the rows not spooled before
    assert s3.duplicates_skipped == 0
    assert_truth(cfg, truth)
    reads = wh_rows(cfg, "SELECT rows_total, newest_at, error FROM source_reads")
    assert reads == [(len(truth.good), max(r["startTime"] for r in newer), None)]

    # the same rows exported by LiteLLM itself (its GCS Pub/Sub shape) are the same attempts
    export = tmp_path / "spend_logs.jsonl"
    with open(export, "w", encoding="utf-8") as f:
        for r in truth.good.values():
            doc = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in r.items()}
            f.write(json.dumps(doc, default=str) + "\n")
    s4 = pipeline.ingest(cfg, [str(export)], fmt="litellm-spendlogs", refresh=False)
    assert (s4.attempts_loaded, s4.duplicates_skipped) == (0, len(truth.good))


@pytest.mark.slow
def test_pages_with_ties_across_their_edges_read_every_row_once(
    cfg: config.Config, db: pg.SpendLogsDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "PAGE_ROWS", 7)
    truth = Truth()
    # 40 rows, three on each start time: page edges (every 7 rows) fall inside runs of ties
    rows = [row(f"p-{i:02d}", T0 + timedelta(seconds=i // 3)) for i in range(40)]
    insert(db, truth.add(rows))
    s = ingest(cfg)
    files = spool.files(spool.folder(cfg, cfg.sources[0].label))
    assert len(files) == 6 and all(len(f.read_bytes().splitlines()) <= 7 for f in files)
    assert s.remote[0].rows == 40
    assert_truth(cfg, truth)


def _stop_after_a_spool_write(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    stop = threading.Event()
    real = spool.write

    def write_then_stop(*a: Any) -> Path:
        stop.set()  # a shutdown arrives while a page is written
        return real(*a)

    monkeypatch.setattr(spool, "write", write_then_stop)
    return stop


@pytest.mark.slow
def test_a_stopped_read_keeps_its_place_and_the_next_reads_the_rest(
    cfg: config.Config, db: pg.SpendLogsDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "PAGE_ROWS", 5)
    truth = Truth()
    rows = truth.add([row(f"s-{i:02d}", T0 + timedelta(seconds=i)) for i in range(23)])
    insert(db, rows)
    with monkeypatch.context() as m:
        (r,) = sources.fetch_all(cfg, _stop_after_a_spool_write(m))
    assert (r.status, r.rows) == ("ok", 5)
    s = ingest(cfg)
    assert (s.remote[0].rows, s.attempts_loaded, s.duplicates_skipped) == (18, 23, 0)
    assert_truth(cfg, truth)

    # stopped among the late rows: the position stays, and what was spooled of them counts once
    late = truth.add([row(f"s-late-{i}", rows[-1]["startTime"] - timedelta(minutes=i + 1))
                      for i in range(7)])  # fmt: skip
    insert(db, late)
    with monkeypatch.context() as m:
        (r,) = sources.fetch_all(cfg, _stop_after_a_spool_write(m))
    assert (r.status, r.rows) == ("ok", 5)
    s = ingest(cfg)
    assert (s.remote[0].rows, s.attempts_loaded, s.duplicates_skipped) == (7, 7, 5)
    assert_truth(cfg, truth)


@pytest.mark.slow
def test_rows_deleted_by_litellm_retention_do_not_lose_the_place(
    cfg: config.Config, db: pg.SpendLogsDB
) -> None:
    truth = Truth()
    rows, last = mixed("d", T0, n=6)
    insert(db, truth.add(rows))
    ingest(cfg)
    with db.srv.admin(db.name) as c:  # LiteLLM's retention job deletes the old rows
        c.execute('DELETE FROM "LiteLLM_SpendLogs"')
    more = [row("d-late", last - timedelta(minutes=5)), row("d-new", last + timedelta(minutes=1))]
    insert(db, truth.add(more))
    assert ingest(cfg).remote[0].rows == 2
    assert ingest(cfg).remote[0].rows == 0
    assert_truth(cfg, truth)


@pytest.mark.slow
def test_a_crash_between_the_spool_and_the_cursor_reads_again_and_counts_once(
    cfg: config.Config, db: pg.SpendLogsDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = Truth()
    rows, _ = mixed("c", T0)
    insert(db, truth.add(rows))
    real = sources.record

    def crash(wh: Any, label: str, kind: str, fetched: Any, error: Any) -> None:
        raise KeyboardInterrupt  # the process dies after the spool file is durable

    monkeypatch.setattr(sources, "record", crash)
    with pytest.raises(KeyboardInterrupt):
        pipeline.ingest(cfg, refresh=False)
    assert wh_rows(cfg, "SELECT count(*) FROM source_reads")[0][0] == 0
    assert len(spool.files(spool.folder(cfg, cfg.sources[0].label))) == 1
    monkeypatch.setattr(sources, "record", real)
    s = ingest(cfg)
    # the cursor never moved: the rows are read and spooled again, and count once
    assert s.remote[0].rows == len(rows)
    assert s.attempts_loaded == len(rows) and s.duplicates_skipped == len(rows)
    assert_truth(cfg, truth)
    assert ingest(cfg).remote[0].rows == 0


# -- hostile rows ----------------------------------------------------------------------------


@pytest.mark.slow
def test_hostile_rows_load_or_are_quarantined_once_with_a_reason(
    cfg: config.Config, db: pg.SpendLogsDB
) -> None:
    truth = Truth()
    t = T0
    huge = {"blob": "x" * 3_000_000, "user_api_key_alias": "big"}
    sqlish = 'x\'); DROP TABLE "LiteLLM_SpendLogs"; --'
    good = [
        row("ctl\x01\x1b[31m\u2028id", t, model="gpt\x07-4o\ttab", end_user="e\x1f"),
        row(sqlish, t + timedelta(seconds=1), model_group=sqlish, team_id=sqlish),
        row(
            "nulls",
            t + timedelta(seconds=2),
            metadata=None,
            request_tags=None,
            model_group=None,
            custom_llm_provider=None,
            status=None,
            session_id=None,
            cache_hit=None,
            model_id=None,
            completionStartTime=None,
        ),  # fmt: skip
        row("meta-array", t + timedelta(seconds=3), metadata=[1, "two"], request_tags={"a": 1}),
        row("meta-string", t + timedelta(seconds=4), metadata=Jsonb("not an object")),
        row("huge-meta", t + timedelta(seconds=5), metadata=huge),
        row("dup-looking", t + timedelta(seconds=6)),
        row("DUP-LOOKING", t + timedelta(seconds=6)),  # another id, not a duplicate
    ]
    bad = {
        "bad_cost": [row("nan-spend", t + timedelta(seconds=7), spend=float("nan")),
                     row("neg-spend", t + timedelta(seconds=8), spend=-1.5)],
        "missing_model": [row("no-model", t + timedelta(seconds=9), model="", model_group="")],
        "end_before_start": [row("backwards", t + timedelta(seconds=10),
                                 endTime=t + timedelta(seconds=9))],
        "missing_timestamp": [row("inf-end", t + timedelta(seconds=11), endTime="infinity")],
        "negative_tokens": [row("neg-tok", t + timedelta(seconds=12), prompt_tokens=-5)],
        "unknown_status": [row("odd-status", t + timedelta(seconds=13), status="maybe")],
    }  # fmt: skip
    insert(db, truth.add(good))
    for reason, rows in bad.items():
        insert(db, truth.add(rows, bad=reason))
    # never read: a start LiteLLM's clock cannot have written (a row from a wrong clock waits
    # for its time; -infinity and BC times cannot be a position)
    never = [row("future", NOW + timedelta(days=400)), row("minus-inf", t, startTime="-infinity"),
             row("bc", t, startTime="0044-03-15 12:00:00 BC")]  # fmt: skip
    insert(db, never)

    s = pipeline.ingest(cfg, refresh=False)
    assert s.remote[0].status == "ok"
    assert_truth(cfg, truth)
    # the huge metadata stayed in PostgreSQL: only the keys the format reads were spooled
    lines = [
        json.loads(line)
        for f in spool.files(spool.folder(cfg, cfg.sources[0].label))
        for line in f.read_bytes().splitlines()
    ]
    assert max(len(json.dumps(d)) for d in lines) < 5000
    big = next(d for d in lines if d["request_id"] == "huge-meta")
    assert json.loads(big["metadata"]) == {"user_api_key_alias": "big"}
    assert not any({"messages", "response", "proxy_server_request"} & d.keys() for d in lines)
    names = wh_rows(cfg, "SELECT served_model FROM raw_attempts WHERE attempt_id LIKE ?",
                    ["litellm:ctl%"])  # fmt: skip
    assert names == [("gpt\x07-4o\ttab",)]
    reasons = wh_rows(cfg, "SELECT detail FROM raw_quarantine WHERE reason = 'bad_cost'")
    assert len(reasons) == 2 and all("cost" in d for (d,) in reasons)

    # later rows still come after the wrong-clock row; nothing is read or quarantined twice
    later = truth.add([row("after", t + timedelta(minutes=1))])
    insert(db, later)
    assert ingest(cfg).remote[0].rows == 1
    assert ingest(cfg).remote[0].rows == 0
    assert_truth(cfg, truth)
    with psycopg.connect(db.reader_dsn) as c:  # the table is as it was written
        assert c.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone() == (
            len(truth.good) + len(truth.bad) + len(never),
        )


def test_a_table_from_an_older_litellm_without_the_newer_columns(
    srv: pg.Server, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ddl = pg.SPENDLOGS_DDL.read_text().split("-- migrations/20250326162113_baseline")[1]
    baseline = ddl.split(";")[0] + ";"  # the table as litellm's baseline migration made it
    old = pg.spendlogs_db(srv, f"litellm_{next(_ids)}", ddl=baseline)
    monkeypatch.setenv(ENV, old.reader_dsn)
    cfg = config.load(_home(home))
    truth = Truth()
    rows = [row(f"o-{i}", T0 + timedelta(seconds=i)) for i in range(3)]
    for r in rows:
        for newer in ("session_id", "status", "proxy_server_request"):
            del r[newer]
    insert(old, truth.add(rows))
    ingest(cfg)
    assert_truth(cfg, truth)
    assert wh_rows(cfg, "SELECT DISTINCT status FROM raw_attempts") == [("success",)]


# -- access and failures ---------------------------------------------------------------------


def test_select_is_all_it_needs_and_its_session_cannot_write(
    srv: pg.Server, db: pg.SpendLogsDB, cfg: config.Config
) -> None:
    with srv.admin(db.name) as c:
        privs = c.execute(
            "SELECT p, has_table_privilege(%s, '\"LiteLLM_SpendLogs\"', p)"
            " FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p",
            [db.reader],
        ).fetchall()
    assert dict(privs) == {"SELECT": True, "INSERT": False, "UPDATE": False,
                           "DELETE": False, "TRUNCATE": False}  # fmt: skip
    insert(db, [row("ro-1", T0)])
    assert ingest(cfg).remote[0].rows == 1
    # even with a role that could write, RouteLedger's session refuses to
    with postgres._connect(srv.dsn(db=db.name)) as conn, conn.transaction():
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute('DELETE FROM "LiteLLM_SpendLogs"')
    with postgres._connect(srv.dsn(db=db.name)) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)


@pytest.mark.parametrize(
    "case",
    ["missing_env", "empty_env", "wrong_password", "no_server", "no_table", "no_grant", "bad_dsn"],
)
def test_a_failed_read_is_recorded_in_one_line_without_the_password(
    case: str, srv: pg.Server, db: pg.SpendLogsDB, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-Pa55"
    dsn = {
        "missing_env": None,
        "empty_env": "  ",
        "wrong_password": srv.dsn(db.reader, secret, db.name),
        "no_server": f"postgresql://u:{secret}@127.0.0.1:{pg.free_port()}/x?connect_timeout=3",
        "no_table": db.reader_dsn,
        "no_grant": srv.dsn(db.reader, pg.READER_PASSWORD, db.name),
        "bad_dsn": f"host=127.0.0.1 password={secret} nonsense",
    }[case]
    extra = 'table = "LiteLLM_Missing"\n' if case == "no_table" else ""
    if case == "no_grant":
        with srv.admin(db.name) as c:
            c.execute(f'REVOKE SELECT ON "LiteLLM_SpendLogs" FROM {db.reader}')
    if dsn is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, dsn)
    cfg = config.load(_home(home, extra))
    (r,) = sources.fetch_all(cfg)
    assert r.status == "failed"
    err = str(r.error)
    assert "\n" not in err and secret not in err and pg.READER_PASSWORD not in err
    assert "PostgreSQL" in err or ENV in err
    expect = {
        "missing_env": ENV,
        "empty_env": ENV,
        "wrong_password": "password authentication failed",
        "no_server": "connect",
        "no_table": "LiteLLM_Missing does not exist",
        "no_grant": "grant SELECT",
        "bad_dsn": "PostgreSQL",
    }[case]
    assert expect in err
    got = wh_rows(cfg, "SELECT errors_total, error, cursor, rows_total FROM source_reads")
    assert got == [(1, err, None, 0)]
    # the CLI says it in one line and exits 1
    res = CliRunner().invoke(main, ["--home", str(cfg.home), "ingest"])
    assert res.exit_code == 1
    assert secret not in res.output and pg.READER_PASSWORD not in res.output


@pytest.mark.slow
def test_the_cli_loads_a_configured_source_end_to_end(home: Path, db: pg.SpendLogsDB) -> None:
    truth = Truth()
    rows, last = mixed("cli", T0, n=16)
    insert(db, truth.add(rows))
    _home(home, 'name = "litellm-prod"\n')
    runner = CliRunner()
    env = {ENV: db.reader_dsn, "ROUTELEDGER_HOME": str(home)}
    res = runner.invoke(main, ["ingest", "--json"], env=env)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["remote_sources"] == [{"source": "litellm-prod", "kind": "postgres",
                                      "status": "ok", "rows": len(rows), "error": None}]  # fmt: skip
    assert out["attempts_loaded"] == len(rows)
    insert(db, truth.add([row("cli-late", last - timedelta(minutes=3))]))
    again = json.loads(runner.invoke(main, ["ingest", "--json"], env=env).output)
    assert (again["remote_sources"][0]["rows"], again["attempts_loaded"]) == (1, 1)

    stats = runner.invoke(main, ["stats", "--json"], env=env)
    assert stats.exit_code == 0, stats.output
    models = json.loads(stats.output)["models"]
    assert sum(m["attempts"] for m in models) == len(truth.good)
    # no price list here: every attempt costs what LiteLLM reported (a cache hit nothing)
    spent = sum(Decimal(str(m["spend_usd"])) for m in models if m["spend_usd"] is not None)
    assert spent == truth.spend


# -- units ------------------------------------------------------------------------------------


def test_metadata_keeps_every_path_the_format_reads() -> None:
    import re

    from collectors.logs.litellm import SPENDLOGS

    first_cte = SPENDLOGS.select().split("FROM src")[0]
    paths = {tuple(p.split(".")) for p in re.findall(r"'\$\.([A-Za-z0-9_.]+)'", first_cte)}
    assert paths, "the format reads no metadata path: the test no longer sees them"
    kept = set(postgres.METADATA_PATHS)
    assert all(any(p[: len(k)] == k for k in kept) for p in paths), paths - kept


@pytest.mark.parametrize(
    "cursor",
    ["", "not json", "[]", '{"start_time": 5}', '{"start_time": "x", "request_id": "a"}', "null"],
)
def test_a_cursor_it_cannot_read_means_reading_from_the_start(cursor: str) -> None:
    assert postgres.Position.parse(cursor, "src") is None


def test_a_cursor_round_trips() -> None:
    p = postgres.Position(datetime(2025, 1, 2, 3, 4, 5, 678000), "req-1")
    seen = [postgres.digest("a"), postgres.digest("b")]
    back = postgres.Position.parse(p.as_json(seen), "src")
    assert back == postgres.Position(p.start_time, "req-1", set(seen))


@pytest.mark.parametrize(
    ("message", "dsn"),
    [
        ('could not parse "postgresql://u:hunter2x@h/db"', "postgresql://u:hunter2x@h/db"),
        ("failed for postgresql://other:hunter2x@db.internal:5432/x", "host=h"),
        ("missing = after 'password=hunter2x host=h'", "password=hunter2x host=h"),
        ("auth failed (password hunter2x)", "postgresql://u:hunter2x@h/db"),
    ],
)
def test_errors_never_carry_the_dsn_or_its_password(message: str, dsn: str) -> None:
    assert "hunter2x" not in postgres._scrub(message, dsn)


def test_without_postgresql_the_tests_skip_but_fail_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pg, "bin_dir", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="initdb"):
        pg.require_bin_dir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="initdb"):
        pg.require_bin_dir()
