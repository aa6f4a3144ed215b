"""LiteLLM's PostgreSQL spend logs (``[[sources]] dsn_env = ...``, table ``LiteLLM_SpendLogs``)
read into the spool as ``litellm-spendlogs`` JSON lines.

* **Access.** The DSN is read from the environment variable the source names, never from the
  configuration, and never shown: errors say what failed with the password and the DSN taken
  out. The session is read only (``default_transaction_read_only`` and a ``READ ONLY``
  transaction) with a statement timeout; the one privilege needed is ``SELECT`` on the table.
* **What is read.** Only the columns the ``litellm-spendlogs`` format reads
  (:data:`collectors.logs.litellm.SPENDLOGS`), those the table has (LiteLLM added them over
  releases). Never ``messages``, ``response`` or ``proxy_server_request``; of ``metadata`` only
  the paths the format reads (:data:`METADATA_PATHS`), so a huge or prompt-bearing metadata
  document stays in PostgreSQL.
* **Incremental.** Rows are read in pages ordered by ``("startTime", request_id)``, the
  table's own index. LiteLLM writes a row when its request *ends*, in batches, so a row can land
  after rows that started later: each read goes back :data:`OVERLAP` before the last position,
  and the cursor keeps a short digest of every request id it has read in that window, so only
  rows it has not spooled before are written. A row spooled twice anyway (a crash between the
  spool write and the cursor's record) is the same attempt (``attempt_id`` is
  ``litellm:<request_id>``), which the ingest anti-join keeps once.
* **Clock.** Rows starting more than :data:`FUTURE` after the server's clock wait until that
  time comes, so one row with a wrong clock cannot move the position past every real row.

Cursor (JSON): ``{"start_time": ISO, "request_id": ..., "seen": "<16 hex digits per id>"}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from collectors.config import Config, Source
from collectors.errors import SourceError, TerminalSourceError, TransientSourceError
from collectors.logs.litellm import SPENDLOGS
from collectors.remote import spool
from collectors.remote.sources import Fetched, State

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=30)  # how far back each read looks for rows that landed late
FUTURE = timedelta(days=1)  # rows starting further ahead of the server's clock wait
FLOOR = datetime(1, 1, 1)  # rows starting before (-infinity, BC) cannot be a position: not read
PAGE_ROWS = 5000  # rows a query returns, and the most a spool file holds
STATEMENT_TIMEOUT_MS = 60_000
CONNECT_TIMEOUT_S = 10
SEEN_MAX = 200_000  # digests kept in the cursor; past this the anti-join alone keeps it exact
DIGEST_HEX = 16

# The ``metadata`` paths the litellm-spendlogs format reads (collectors/logs/litellm.py); a test
# checks the format reads no other. Everything else in metadata stays in PostgreSQL.
METADATA_PATHS: tuple[tuple[str, ...], ...] = (
    ("user_api_key_alias",),
    ("user_api_key_team_alias",),
    ("user_api_key_request_route",),
    ("spend_logs_metadata", "task"),
    ("requester_metadata", "task"),
    ("error_information", "error_class"),
    ("error_information", "error_code"),
    ("model_info", "base_model"),
    ("model_map_information", "model_map_value", "key"),
    ("usage_object",),
)
JSONB_OID, JSON_OID = 3802, 114
TIMESTAMP_OIDS = (1114, 1184)  # timestamp, timestamptz
KEY_COLUMNS = ("startTime", "request_id")
WHO = "PostgreSQL"  # errors name the system; the read's record already names the source


def fetch(cfg: Config, source: Source, state: State, stop: threading.Event) -> Fetched:
    """Spool the rows of ``source``'s table not spooled before; the new cursor."""
    dsn = _dsn(source)
    pos = Position.parse(state.cursor, source.label)
    try:
        with _connect(dsn) as conn, conn.transaction():
            query = _page_query(conn, source.table)
            return _read(cfg, source, conn, query, pos, stop)
    except psycopg.Error as e:
        raise _source_error(source, dsn, e) from None


# -- the position --------------------------------------------------------------------------


@dataclass
class Position:
    start_time: datetime  # UTC, naive
    request_id: str
    seen: set[str] = field(default_factory=set)  # digests of the ids read in the overlap

    @classmethod
    def parse(cls, cursor: str | None, label: str) -> Position | None:
        """The stored cursor, or None (read from the start) when there is none. A cursor that
        cannot be read is read from the start too: a re-read costs time, never a double count."""
        if not cursor:
            return None
        try:
            doc = json.loads(cursor)
            seen = str(doc.get("seen") or "")
            return cls(
                datetime.fromisoformat(doc["start_time"]).replace(tzinfo=None),
                str(doc["request_id"]),
                {seen[i : i + DIGEST_HEX] for i in range(0, len(seen), DIGEST_HEX)},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("source %s: cursor not understood; reading the table from its start", label)
            return None

    def as_json(self, seen: list[str]) -> str:
        return json.dumps(
            {
                "start_time": self.start_time.isoformat(),
                "request_id": self.request_id,
                "seen": "".join(seen),
            },
            separators=(",", ":"),
        )


def digest(request_id: str) -> str:
    return hashlib.sha256(request_id.encode()).hexdigest()[:DIGEST_HEX]


# -- reading ------------------------------------------------------------------------------


@dataclass
class _Query:
    names: list[str]  # the selected columns, as the spool lines name them
    first: sql.Composed  # rows from the start of the table
    after: sql.Composed  # rows after a (start time, request id)
    overlap: sql.Composed  # the keys from a start time up to a (start time, request id)
    by_id: sql.Composed  # rows by request id


@dataclass
class _Reader:
    """One read's progress: the spool files it wrote and the ids it saw (the next overlap)."""

    names: list[str]
    where: Path
    out: Fetched = field(default_factory=lambda: Fetched(cursor=None))
    window: deque[tuple[datetime, str]] = field(default_factory=deque)  # (start, digest)
    page: int = 0

    def saw(self, start: datetime, rid: str) -> str:
        """Note a key read (in key order); its digest. The window keeps OVERLAP before it."""
        d = digest(rid)
        self.window.append((start, d))
        while self.window[0][0] < start - OVERLAP or len(self.window) > SEEN_MAX:
            self.window.popleft()
        self.out.newest_at = start
        return d

    def spool(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            data = b"".join(spool_line(dict(zip(self.names, r, strict=True))) for r in rows)
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{self.page:05d}{spool.SUFFIX}"
            self.out.files.append(str(spool.write(self.where, name, data)))
            self.out.rows += len(rows)
        self.page += 1


def _read(
    cfg: Config,
    source: Source,
    conn: psycopg.Connection[Any],
    q: _Query,
    pos: Position | None,
    stop: threading.Event,
) -> Fetched:
    r = _Reader(q.names, spool.folder(cfg, source.label))
    bounds = {"limit": PAGE_ROWS, "future": FUTURE, "floor": FLOOR}
    last = (pos.start_time, pos.request_id) if pos else None
    if pos is not None and not _read_overlap(conn, q, pos, r, bounds, stop):
        r.out.cursor = pos.as_json(sorted(pos.seen))  # its late rows are read again next time
        return r.out
    while not stop.is_set():
        if last is None:
            rows = conn.execute(q.first, bounds).fetchall()
        else:
            rows = conn.execute(q.after, {**bounds, "t": last[0], "id": last[1]}).fetchall()
        for row in rows:
            last = (_utc(row[0]), str(row[1]))
            r.saw(*last)
        r.spool(rows)
        if len(rows) < PAGE_ROWS:
            break
    r.out.cursor = Position(*last).as_json([d for _, d in r.window]) if last else None
    log.info("source %s: %d new rows in %d files", source.label, r.out.rows, len(r.out.files))
    return r.out


def _read_overlap(
    conn: psycopg.Connection[Any],
    q: _Query,
    pos: Position,
    r: _Reader,
    bounds: dict[str, Any],
    stop: threading.Event,
) -> bool:
    """Spool the rows from OVERLAP before the position up to it that the last read had not
    seen: their keys first (the index alone), then those rows by id. False when stopped."""
    params = {**bounds, "t": pos.start_time, "id": pos.request_id}
    keys = conn.execute(q.overlap, {**params, "start": pos.start_time - OVERLAP}).fetchall()
    late = [str(rid) for t, rid in keys if r.saw(_utc(t), str(rid)) not in pos.seen]
    for i in range(0, len(late), PAGE_ROWS):
        if stop.is_set():
            return False
        r.spool(conn.execute(q.by_id, {"ids": late[i : i + PAGE_ROWS]}).fetchall())
    return True


def spool_line(doc: dict[str, Any]) -> bytes:
    """One row as a ``litellm-spendlogs`` JSON line: times as ``YYYY-MM-DD HH:MM:SS.ffffff``
    (UTC), JSON columns as JSON text (LiteLLM's own export shape), a non-finite number as text
    (the format quarantines it)."""
    return (
        json.dumps(
            {k: _value(v) for k, v in doc.items()}, ensure_ascii=False, separators=(",", ":")
        ).encode()
        + b"\n"
    )


def _value(v: Any) -> Any:
    if isinstance(v, datetime):
        return _utc(v).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, Decimal):
        return str(v)
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return str(v)


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


# -- SQL ----------------------------------------------------------------------------------


def _connect(dsn: str) -> psycopg.Connection[Any]:
    """A read-only session: every transaction READ ONLY, a statement timeout, times in UTC."""
    conn = psycopg.connect(
        dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="routeledger"
    )
    try:
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(
            sql.SQL("SET statement_timeout = {}").format(sql.Literal(STATEMENT_TIMEOUT_MS))
        )
        conn.execute("SET TIME ZONE 'UTC'")
        conn.read_only = True  # conn.transaction() begins READ ONLY
    except BaseException:
        conn.close()
        raise
    return conn


def _page_query(conn: psycopg.Connection[Any], table: str) -> _Query:
    """The page queries over the columns the table has of those the format reads."""
    tbl = sql.Identifier(table)
    cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(tbl))
    types = {d.name: d.type_code for d in cur.description or ()}
    missing = [c for c in KEY_COLUMNS if c not in types]
    if missing or types["startTime"] not in TIMESTAMP_OIDS:
        what = f"no column {', '.join(missing)}" if missing else "a startTime that is no timestamp"
        raise TerminalSourceError(
            WHO, None, f"table {table} has {what}: is it LiteLLM's spend log?"
        )
    names = [*KEY_COLUMNS, *(c for c in SPENDLOGS.columns if c in types and c not in KEY_COLUMNS)]
    cols = sql.SQL(", ").join(_column(c, types[c]) for c in names)
    # LOCALTIMESTAMP is UTC (the session's time zone) and of the column's own type when it is
    # a plain timestamp (LiteLLM's): every condition is a range of the ("startTime",
    # request_id) index
    order = sql.SQL(
        ' AND "startTime" BETWEEN %(floor)s AND LOCALTIMESTAMP + %(future)s'
        ' ORDER BY "startTime", request_id'
    )
    page = sql.SQL("SELECT {} FROM {} WHERE ").format(cols, tbl)
    limit = sql.SQL(" LIMIT %(limit)s")
    return _Query(
        names,
        first=page + sql.SQL("TRUE") + order + limit,
        after=page + sql.SQL('("startTime", request_id) > (%(t)s, %(id)s)') + order + limit,
        overlap=sql.SQL(
            'SELECT "startTime", request_id FROM {} WHERE "startTime" >= %(start)s'
        ).format(tbl)
        + sql.SQL(' AND ("startTime", request_id) <= (%(t)s, %(id)s)')
        + order,
        by_id=page + sql.SQL("request_id = ANY(%(ids)s)"),
    )


def _column(name: str, type_oid: int) -> sql.Composable:
    ident = sql.Identifier(name)
    if type_oid in TIMESTAMP_OIDS and name != "startTime":
        # as text: 'infinity' or a year Python cannot hold must not stop the read (the format
        # quarantines a time it cannot read)
        utc = sql.SQL("{} AT TIME ZONE 'UTC'").format(ident) if type_oid == 1184 else ident
        return sql.SQL("to_char({}, 'YYYY-MM-DD HH24:MI:SS.US') AS {}").format(utc, ident)
    if name == "metadata" and type_oid == JSONB_OID:
        return sql.SQL("{}::text AS {}").format(_metadata_subset(ident), ident)
    if type_oid in (JSONB_OID, JSON_OID):
        return sql.SQL("{}::text AS {}").format(ident, ident)
    return ident


def _metadata_subset(col: sql.Composable) -> sql.Composable:
    """``jsonb`` holding only :data:`METADATA_PATHS` of ``col``, no empty object left (NULL
    when it had none of them)."""
    tree: dict[str, Any] = {}
    for path in METADATA_PATHS:
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = None

    def build(node: dict[str, Any], prefix: tuple[str, ...]) -> sql.Composable:
        parts: list[sql.Composable] = []
        for key, sub in node.items():
            path = (*prefix, key)
            value = (
                build(sub, path)
                if sub
                else sql.SQL("{} #> {}").format(col, sql.Literal(list(path)))
            )
            parts += [sql.Literal(key), value]
        return sql.SQL("nullif(jsonb_strip_nulls(jsonb_build_object({})), '{{}}')").format(
            sql.SQL(", ").join(parts)
        )

    return sql.SQL("CASE WHEN jsonb_typeof({c}) = 'object' THEN {b} END").format(
        c=col, b=build(tree, ())
    )


# -- errors -------------------------------------------------------------------------------


def _dsn(source: Source) -> str:
    name = str(source.dsn_env)
    dsn = os.environ.get(name, "").strip()
    if not dsn:
        raise TerminalSourceError(
            WHO,
            None,
            f"environment variable {name} is not set or empty; set it to the PostgreSQL DSN "
            "of LiteLLM's database (a role with SELECT on the spend log table is enough)",
        )
    return dsn


def _source_error(source: Source, dsn: str, e: psycopg.Error) -> SourceError:
    """``e`` as one line that names the table and never the DSN or its password."""
    table = source.table
    state = getattr(e, "sqlstate", None) or ""
    if isinstance(e, psycopg.errors.UndefinedTable):
        msg = f"table {table} does not exist in this database (is the DSN LiteLLM's database?)"
    elif isinstance(e, psycopg.errors.InsufficientPrivilege):
        msg = f"permission denied: grant SELECT on table {table} to the DSN's role"
    elif isinstance(e, psycopg.errors.QueryCanceled):
        msg = f"a query ran over the {STATEMENT_TIMEOUT_MS // 1000} s statement timeout"
    else:
        msg = _scrub(" ".join(str(e).split()), dsn) or type(e).__name__
    transient = isinstance(e, psycopg.OperationalError | psycopg.errors.QueryCanceled) and not (
        state.startswith("28") or state == "3D000"  # authentication, no such database
    )
    kind = TransientSourceError if transient else TerminalSourceError
    return kind(WHO, None, msg[:400])


_URL_CREDENTIALS = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def _scrub(message: str, dsn: str) -> str:
    """``message`` without the DSN, its password or anything shaped like one."""
    secrets = [dsn]
    try:
        password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        password = None
    if password:
        secrets.append(str(password))
    for s in sorted(secrets, key=len, reverse=True):
        message = message.replace(s, "[DSN]" if s == dsn else "[REDACTED]")
    message = _URL_CREDENTIALS.sub(r"\1[REDACTED]@", message)
    return _PASSWORD_KV.sub(r"\1[REDACTED]", message)
