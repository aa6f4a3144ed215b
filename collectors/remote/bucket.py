"""A bucket prefix (``s3://bucket/prefix/``, ``gs://bucket/prefix/``, any S3-compatible
endpoint) read into the spool: every object once per ETag, many small objects to a spool file.

LiteLLM's bucket loggers write one StandardLoggingPayload per object in date folders:
``<prefix>/[<team>/]YYYY-MM-DD/time-HH-MM-SS-ffffff_<id>.json`` (``s3``, ``s3_v2``) and
``<prefix>/YYYY-MM-DD/<id>`` (``gcs_bucket``). Objects can land late and out of order, so:

* The objects read are kept by key and ETag in ``bucket_objects``, written only once the spool
  file holding them is durable. An object whose ETag changed is read again; the ingest's
  anti-join on ``attempt_id`` keeps its attempts from counting twice.
* A run lists the date folders from the newest day seen minus :data:`LOOKBACK_DAYS` (folders
  found with a ``/`` delimiter, up to :data:`MAX_DEPTH` levels down, as team folders are), and
  every key outside a date folder.
* At least every :data:`SWEEP_EVERY` a sweep lists the whole prefix. A key ``bucket_objects``
  does not hold at its ETag is read unless its LastModified is before the previous sweep began
  (less :data:`SKEW`): such an object was listed by that sweep, and so read. By induction, once a
  sweep ends every object that existed when it began has been read, wherever it landed. Rows of
  folders older than :data:`HORIZON_DAYS` before the newest day are then dropped.

The cursor (JSON): ``{"newest_day": "YYYY-MM-DD", "sweep_at": "<ISO UTC>"}``, times the
server's (its ``Date`` header). Keys whose first folder is ``audit_logs`` (LiteLLM's audit log,
not LLM calls) are not read. :mod:`collectors.remote.objects` turns an object into lines; an
unreadable one's line goes after the readable ones, so a file's first line tells its format (with
``format = "auto"``, unreadable objects alone wait in a ``pending-*`` file for readable ones).
Credentials come from boto3's default chain (``AWS_ACCESS_KEY_ID`` ... or a profile);
``gs://`` uses GCS's S3-compatible XML API with HMAC keys unless ``endpoint_url`` says otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from collectors.config import Config, Source
from collectors.errors import InputError, SourceError, TerminalSourceError, TransientSourceError
from collectors.remote import objects, spool
from collectors.remote.sources import Fetched, State
from collectors.warehouse import Warehouse, transaction

log = logging.getLogger(__name__)

LOOKBACK_DAYS = 1  # date folders listed on every run: the newest day's and the day before
HORIZON_DAYS = 7  # read keys remembered by ETag for this many days of folders
SWEEP_EVERY = timedelta(hours=24)  # the whole prefix listed at least this often
SKEW = timedelta(hours=1)  # margin between a listing's Date header and LastModified times
MAX_DEPTH = 2  # folders walked down to find the date folder (a team folder is one)
SKIPPED = frozenset({"audit_logs"})
FILE_OBJECTS = 1000  # objects per spool file at most
FILE_BYTES = 32 * 1024 * 1024  # bytes per spool file at most (one object may pass it)
LOOKUP_KEYS = 1000  # listed keys checked against bucket_objects at once
WORKERS = 8  # objects downloaded at once
GCS_ENDPOINT = "https://storage.googleapis.com"
PENDING = "pending-"  # spool files of unreadable objects' lines waiting for a readable one
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_RETRYABLE = {"SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError", "Throttling"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"}


@dataclass(frozen=True)
class Obj:
    key: str
    etag: str
    size: int
    modified: datetime  # naive UTC
    day: date | None  # the key's date folder


@dataclass
class Cursor:
    newest_day: date | None = None
    sweep_at: datetime | None = None  # when the last whole sweep began (server time, naive UTC)

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """A cursor from ``source_reads``; anything unreadable starts over (a sweep)."""
        try:
            doc = json.loads(text or "{}")
            day = doc.get("newest_day")
            at = doc.get("sweep_at")
            return cls(
                date.fromisoformat(day) if day else None,
                datetime.fromisoformat(at) if at else None,
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

    def dumps(self) -> str:
        return json.dumps(
            {
                "newest_day": self.newest_day.isoformat() if self.newest_day else None,
                "sweep_at": self.sweep_at.isoformat() if self.sweep_at else None,
            }
        )


def split_url(url: str) -> tuple[str, str, str]:
    """(scheme, bucket, prefix) of ``s3://bucket/prefix``; the prefix is a folder: '' or
    ending in ``/``."""
    scheme, _, rest = url.partition("://")
    bucket, _, path = rest.partition("/")
    path = path.strip("/")
    return scheme, bucket, path + "/" if path else ""


def day_of(segment: str) -> date | None:
    if not _DAY.fullmatch(segment):
        return None
    try:
        return date.fromisoformat(segment)
    except ValueError:
        return None


def key_day(relative: str) -> date | None:
    """The date folder of a key below the prefix: the first of its top folders named
    YYYY-MM-DD, as the listing walk finds it."""
    for segment in relative.split("/")[:-1][: MAX_DEPTH + 1]:
        day = day_of(segment)
        if day:
            return day
    return None


class Seen:
    """``bucket_objects`` of one source: each call one short connection."""

    def __init__(self, wh: Warehouse, label: str) -> None:
        self.wh, self.label = wh, label

    def etags(self, keys: list[str]) -> dict[str, str]:
        with self.wh.connect() as con:
            rows = con.execute(
                "SELECT object_key, etag FROM bucket_objects WHERE source = ?"
                " AND object_key IN (SELECT unnest(?::VARCHAR[]))",
                [self.label, keys],
            ).fetchall()
        return {k: e for k, e in rows}

    def remember(self, objs: list[Obj]) -> None:
        objs = list({o.key: o for o in objs}.values())  # one row a key
        if not objs:
            return
        with self.wh.connect() as con, transaction(con):
            con.execute(
                "INSERT OR REPLACE INTO bucket_objects SELECT ?, unnest(?::VARCHAR[]),"
                " unnest(?::VARCHAR[]), unnest(?::DATE[]), unnest(?::BIGINT[]), ?",
                [
                    self.label,
                    [o.key for o in objs],
                    [o.etag for o in objs],
                    [o.day for o in objs],
                    [o.size for o in objs],
                    datetime.now(UTC).replace(tzinfo=None),
                ],
            )

    def forget_before(self, day: date) -> None:
        with self.wh.connect() as con:
            con.execute(
                "DELETE FROM bucket_objects WHERE source = ? AND day < ?", [self.label, day]
            )


def fetch(cfg: Config, source: Source, state: State, stop: threading.Event) -> Fetched:
    """Read the objects of ``source`` that are new since ``state.cursor`` into its spool."""
    try:
        import botocore.exceptions as bx
    except ImportError:
        raise InputError("bucket sources need boto3: pip install 'routeledger[s3]'") from None
    reader = Reader(cfg, source, state)
    try:
        return reader.run(stop)
    except bx.ClientError as e:
        raise client_error(source, reader.bucket, e) from None
    except bx.NoCredentialsError:
        raise TerminalSourceError(
            source.label,
            None,
            "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (GCS: HMAC keys) "
            "or AWS_PROFILE in the environment",
        ) from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as e:
        where = reader.endpoint or "the S3 endpoint"
        raise TransientSourceError(
            source.label, None, f"cannot reach {where} ({type(e).__name__})"
        ) from None
    except bx.BotoCoreError as e:
        raise SourceError(source.label, None, one_line(f"{type(e).__name__}: {e}")) from None


def client_error(source: Source, bucket: str, e: Any) -> SourceError:
    """A botocore ``ClientError`` as one line: what failed and what to do; no secrets."""
    err = e.response.get("Error", {})
    code = str(err.get("Code", ""))
    status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code == "NoSuchBucket":
        return TerminalSourceError(source.label, None, f"bucket {bucket!r} does not exist")
    if code in _DENIED or status in (401, 403):
        return TerminalSourceError(
            source.label,
            None,
            f"access denied ({code or status}): check the credentials, and that they may "
            "list and read the prefix",
        )
    message = one_line(f"{code or status}: {err.get('Message', '')}")
    if code in _RETRYABLE or status >= 500 or status == 429:
        return TransientSourceError(source.label, None, message)
    return TerminalSourceError(source.label, None, message)


def one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def client(source: Source) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    scheme, _, _ = split_url(str(source.url))
    endpoint = source.endpoint_url or (GCS_ENDPOINT if scheme == "gs" else None)
    session = boto3.session.Session()
    region = source.region or ("auto" if scheme == "gs" else session.region_name) or "us-east-1"
    conf = BotoConfig(
        connect_timeout=10,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 4},
        max_pool_connections=WORKERS + 2,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="routeledger",
        s3={"addressing_style": "path"} if endpoint else None,
    )
    return session.client("s3", endpoint_url=endpoint, region_name=region, config=conf)


@dataclass
class _Batch:
    lines: list[bytes] = field(default_factory=list)
    marks: list[bytes] = field(default_factory=list)
    read: list[Obj] = field(default_factory=list)
    unreadable: list[Obj] = field(default_factory=list)
    size: int = 0


class Reader:
    """One read of one bucket source."""

    def __init__(self, cfg: Config, source: Source, state: State) -> None:
        self.scheme, self.bucket, self.prefix = split_url(str(source.url))
        self.source = source
        self.endpoint = source.endpoint_url or (GCS_ENDPOINT if self.scheme == "gs" else None)
        self.limit = int(cfg.get("ingest.max_line_bytes"))
        self.auto = source.format == "auto"
        self.where: Path = spool.folder(cfg, source.label)
        self.seen = Seen(Warehouse.from_config(cfg), source.label)
        self.before = Cursor.parse(state.cursor)
        self.batch = _Batch()
        self.files: list[str] = []
        self.rows = 0
        self.newest_at: datetime | None = None
        self.newest_day = self.before.newest_day
        self.floor = self.newest_day - timedelta(days=LOOKBACK_DAYS) if self.newest_day else None
        self.now = datetime.now(UTC).replace(tzinfo=None)
        self.count = 0
        self.seq = 0

    def run(self, stop: threading.Event) -> Fetched:
        self.s3 = client(self.source)
        now = self.now = self.server_now()
        prev = self.before.sweep_at
        sweep = prev is None or not (now - SWEEP_EVERY < prev <= now + SKEW)
        listed = self.list_all(stop) if sweep else self.walk(self.prefix, 0, stop)
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="bucket") as pool:
            for chunk in _chunks(listed, LOOKUP_KEYS):
                self.read(pool, self.new(chunk, prev if sweep else None), stop)
                if stop.is_set():
                    break
        self.flush()
        done = not stop.is_set()
        after = Cursor(self.newest_day, self.before.sweep_at)
        if done:
            if sweep:
                after.sweep_at = now
            if self.newest_day:
                self.seen.forget_before(self.newest_day - timedelta(days=HORIZON_DAYS))
        log.info(
            "bucket %s: %s, %d objects read, %d lines in %d spool files",
            self.source.label,
            ("sweep" if sweep else "recent folders") + ("" if done else " (stopped)"),
            self.count,
            self.rows,
            len(self.files),
        )
        return Fetched(after.dumps(), self.rows, self.newest_at, self.files)

    def server_now(self) -> datetime:
        """The server's time (its Date header); also checks the bucket and the credentials."""
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        header = r.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        try:
            return parsedate_to_datetime(header).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError):
            return datetime.now(UTC).replace(tzinfo=None)

    # -- listing ---------------------------------------------------------------------------

    def pages(self, prefix: str, delimiter: bool, stop: threading.Event) -> Iterator[Any]:
        args = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            args["Delimiter"] = "/"
        for page in self.s3.get_paginator("list_objects_v2").paginate(**args):
            yield page
            if stop.is_set():
                return

    def listed_in(self, page: Any) -> Iterator[Obj]:
        for o in page.get("Contents", ()):
            key = str(o["Key"])
            relative = key[len(self.prefix) :]
            if not key.startswith(self.prefix) or not relative or relative.endswith("/"):
                continue  # the prefix itself, or a folder marker
            if relative.split("/", 1)[0] in SKIPPED and "/" in relative:
                continue
            modified = o["LastModified"].astimezone(UTC).replace(tzinfo=None)
            size = int(o.get("Size", 0))
            etag = str(o.get("ETag") or f"{size}@{modified.isoformat()}")
            yield Obj(key, etag, size, modified, key_day(relative))

    def list_all(self, stop: threading.Event) -> Iterator[Obj]:
        for page in self.pages(self.prefix, False, stop):
            yield from self.listed_in(page)

    def walk(self, prefix: str, depth: int, stop: threading.Event) -> Iterator[Obj]:
        """The keys of recent date folders below ``prefix`` and every key outside one."""
        floor = self.floor
        for page in self.pages(prefix, True, stop):
            yield from self.listed_in(page)
            for common in page.get("CommonPrefixes", ()):
                folder = str(common["Prefix"])
                segment = folder[len(prefix) : -1]
                day = day_of(segment)
                if depth == 0 and segment in SKIPPED:
                    continue
                if day is not None:
                    if floor is None or day >= floor:
                        for sub in self.pages(folder, False, stop):
                            yield from self.listed_in(sub)
                elif depth < MAX_DEPTH:
                    yield from self.walk(folder, depth + 1, stop)
                else:
                    for sub in self.pages(folder, False, stop):
                        yield from self.listed_in(sub)

    def new(self, listed: list[Obj], swept_at: datetime | None) -> list[Obj]:
        """The listed objects not read yet at their ETag. In a sweep, one that
        ``bucket_objects`` no longer holds is new only when it changed after ``swept_at``,
        the previous sweep's start."""
        latest = self.now.date() + timedelta(days=1)  # a key dated later does not move it
        for o in listed:
            if o.day and o.day <= latest and (self.newest_day is None or o.day > self.newest_day):
                self.newest_day = o.day
        known = self.seen.etags([o.key for o in listed])
        out = []
        for o in listed:
            etag = known.get(o.key)
            if etag == o.etag:
                continue
            if etag is None and swept_at is not None and o.modified < swept_at - SKEW:
                continue
            out.append(o)
        return out

    # -- reading ---------------------------------------------------------------------------

    def read(self, pool: ThreadPoolExecutor, todo: list[Obj], stop: threading.Event) -> None:
        for part in _chunks(iter(todo), WORKERS * 2):  # at most this many objects in memory
            for got in pool.map(self.download, part):
                if got is not None:
                    self.add(*got)
            if stop.is_set():
                return

    def download(self, o: Obj) -> tuple[Obj, objects.Parsed] | None:
        """The object and its lines; None when it was deleted since it was listed. A version
        written after the listing may be what is read: it is remembered by the listed ETag, so
        the next listing reads it once more (and the ingest counts it once)."""
        if o.size > self.limit:
            return o, objects.bad("object_too_large", f"{o.size:,} bytes, over {self.limit:,}")
        import botocore.exceptions as bx

        try:
            r = self.s3.get_object(Bucket=self.bucket, Key=o.key)
        except bx.ClientError as e:
            if str(e.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404"):
                return None
            raise
        body = r["Body"]
        try:
            data = body.read(self.limit + 1)
        finally:
            body.close()
        if len(data) > self.limit:
            return o, objects.bad("object_too_large", f"over {self.limit:,} bytes")
        return o, objects.parse(data, self.limit)

    def add(self, o: Obj, parsed: objects.Parsed) -> None:
        self.count += 1
        b = self.batch
        if parsed.ok:
            b.lines += parsed.lines
            b.read.append(o)
            b.size += sum(len(line) + 1 for line in parsed.lines)
            at = parsed.newest_at or o.modified
            self.newest_at = at if self.newest_at is None else max(self.newest_at, at)
        else:
            url = f"{self.scheme}://{self.bucket}/{o.key}"
            log.warning("bucket object %s not loaded: %s: %s", url, parsed.reason, parsed.detail)
            b.marks.append(objects.marker(url, str(parsed.reason), parsed.detail))
            b.unreadable.append(o)
        if len(b.read) + len(b.unreadable) >= FILE_OBJECTS or b.size >= FILE_BYTES:
            self.flush()

    def flush(self) -> None:
        """The batch as one durable spool file, then its objects marked read.

        With ``format = "auto"`` the ingest tells a file's format from its first line, so the
        lines of unreadable objects alone go to a ``pending-*`` file of the spool folder (which
        the ingest does not read) and join the next file that has readable lines."""
        b = self.batch
        if not b.lines and not b.marks:
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self.seq += 1
        if not b.lines and self.auto:
            spool.write(self.where, f"{PENDING}{stamp}-{self.seq:06d}", b"\n".join(b.marks))
            self.seen.remember(b.unreadable)
            self.batch = _Batch()
            return
        waiting = sorted(self.where.glob(PENDING + "*")) if b.lines else []
        for p in waiting:
            b.marks += p.read_bytes().split(b"\n")
        data = b"\n".join(b.lines + b.marks) + b"\n"
        path = spool.write(self.where, f"{stamp}-{self.seq:06d}{spool.SUFFIX}", data)
        self.seen.remember(b.read + b.unreadable)
        for p in waiting:
            p.unlink()
        self.files.append(str(path))
        self.rows += len(b.lines) + len(b.marks)
        self.batch = _Batch()


def _chunks(items: Iterator[Obj], n: int) -> Iterator[list[Obj]]:
    chunk: list[Obj] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
