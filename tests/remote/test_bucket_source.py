"""A bucket prefix as a log source, against a real S3-API server (moto, on 127.0.0.1).

The objects are LiteLLM bucket-logger objects: one StandardLoggingPayload each, keyed
``<prefix>/YYYY-MM-DD/time-HH-MM-SS-ffffff_<id>.json`` (tests/fixtures/remote/litellm_bucket/
SOURCES.md), their contents the 317 payloads a real LiteLLM proxy logged
(tests/fixtures/logs/litellm_proxy_real/). The truth is what those payloads hold: one attempt per
distinct ``id`` and the sum of their ``response_cost``; every test ingests through the real
pipeline and compares the warehouse with it.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from botocore.config import Config as BotoConfig
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.server import ThreadedMotoServer

from collectors import config as config_mod
from collectors import pipeline
from collectors.config import Source
from collectors.remote import bucket, objects, sources, spool
from tests.conftest import LOG_FIXTURES

SLP = LOG_FIXTURES / "litellm_proxy_real" / "litellm_slp.jsonl"
PREFIX = "litellm-logs"
KEY_ID, SECRET = "AKIDROUTELEDGERTEST", "routeledger-test-secret-value"


def payloads() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SLP.read_text(encoding="utf-8").splitlines()]


def key_of(doc: dict[str, Any], prefix: str = PREFIX) -> str:
    """LiteLLM's key for a payload (litellm/integrations/s3.py, get_s3_object_key)."""
    start = datetime.fromtimestamp(doc["startTime"], UTC)
    return f"{prefix}/{start:%Y-%m-%d}/time-{start:%H-%M-%S-%f}_{doc['id']}.json"


def truth(docs: list[dict[str, Any]]) -> tuple[int, Decimal]:
    """(attempts, reported spend) of these payloads: one attempt per distinct id."""
    first = {d["id"]: d for d in reversed(docs)}
    cents = Decimal("1e-10")  # raw_attempts.reported_cost_usd is DECIMAL(18, 10)
    costs = (Decimal(str(d.get("response_cost") or 0)).quantize(cents) for d in first.values())
    spend = sum(costs, Decimal(0))
    return len(first), spend


# -- the server and the bucket ------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials as a user gives them (environment variables), and no ~/.aws to fall back on."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Bucket:
    s3: Any
    name: str
    endpoint: str

    def put(self, key: str, body: bytes | str, **extra: Any) -> str:
        data = body.encode() if isinstance(body, str) else body
        return str(self.s3.put_object(Bucket=self.name, Key=key, Body=data, **extra)["ETag"])

    def put_payloads(self, docs: list[dict[str, Any]], prefix: str = PREFIX) -> None:
        """Many small objects at once, as LiteLLM's batch flush uploads them."""
        with_keys = [(key_of(d, prefix), json.dumps(d)) for d in docs]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda kv: self.put(*kv), with_keys))

    @property
    def url(self) -> str:
        return f"s3://{self.name}/{PREFIX}/"


@pytest.fixture
def bkt(endpoint: str) -> Bucket:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=BotoConfig(max_pool_connections=16),
    )
    name = f"logs-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return Bucket(s3, name, endpoint)


def configure(home: Path, url: str, endpoint: str, extra: str = "") -> config_mod.Config:
    with open(home / "routeledger.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[[sources]]\nurl = "{url}"\nendpoint_url = "{endpoint}"\n{extra}')
    return config_mod.load(home)


def ingest(cfg: config_mod.Config) -> Any:
    """``routeledger ingest`` with no paths, less the marts (the counts here are raw)."""
    return pipeline.ingest(cfg, refresh=False)


def warehouse(cfg: config_mod.Config) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(cfg.warehouse_path), read_only=True)


def loaded(cfg: config_mod.Config) -> tuple[int, int, Decimal]:
    """(rows, distinct attempt ids, reported spend) in raw_attempts."""
    with warehouse(cfg) as con:
        n, ids, spend = con.execute(
            "SELECT count(*), count(DISTINCT attempt_id), coalesce(sum(reported_cost_usd), 0)"
            " FROM raw_attempts"
        ).fetchone()
    return n, ids, Decimal(spend)


def read_row(cfg: config_mod.Config, label: str) -> dict[str, Any]:
    with warehouse(cfg) as con:
        cur = con.execute("SELECT * FROM source_reads WHERE source = ?", [label])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    return dict(zip(names, row, strict=True)) if row else {}


def spool_files(cfg: config_mod.Config, label: str) -> list[Path]:
    return spool.files(spool.folder(cfg, label))


# -- exactly once ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_hundreds_of_small_objects_are_read_once_and_counted_once(
    home: Path, bkt: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = payloads()
    bkt.put_payloads(docs)
    twice = docs[:7]  # the same payload under a second key, as a retried upload writes it
    for d in twice:
        bkt.put(key_of(d).replace("/time-", "/time-retry-"), json.dumps(d))
    monkeypatch.setattr(bucket, "FILE_OBJECTS", 100)
    cfg = configure(home, bkt.url, bkt.endpoint)

    first = ingest(cfg)
    assert [r.status for r in first.remote] == ["ok"]
    assert first.remote[0].rows == len(docs) + len(twice)
    n, spend = truth(docs)
    assert loaded(cfg) == (n, n, spend)
    assert first.attempts_loaded == n and first.duplicates_skipped == len(twice)
    files = spool_files(cfg, bkt.url)
    assert len(files) == -(-(len(docs) + len(twice)) // 100)  # many objects a file
    assert read_row(cfg, bkt.url)["newest_at"] == max(
        datetime.fromtimestamp(d["startTime"], UTC).replace(tzinfo=None) for d in docs
    )

    again = ingest(cfg)  # nothing new: nothing read, nothing loaded
    assert again.remote[0].status == "ok" and again.remote[0].rows == 0
    assert again.attempts_loaded == 0
    assert spool_files(cfg, bkt.url) == files
    assert loaded(cfg) == (n, n, spend)


@pytest.mark.slow
def test_late_objects_are_picked_up_and_read_ones_are_not_read_again(
    home: Path, bkt: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = payloads()
    early, recent_late, old_late = docs[:250], docs[250:260], docs[260:270]
    bkt.put_payloads(early)
    # an old date folder, read by the first run: its rows go past the horizon
    old = [dict(d, id=f"old-{i}", litellm_call_id=f"old-{i}") for i, d in enumerate(docs[270:])]
    for d in old:
        bkt.put(f"{PREFIX}/2026-10-01/time-00-00-00-000000_{d['id']}.json", json.dumps(d))
    monkeypatch.setattr(bucket, "SKEW", timedelta(0))
    time.sleep(1.1)  # LastModified before the first sweep began, at the Date header's 1 s grain
    cfg = configure(home, bkt.url, bkt.endpoint)
    ingest(cfg)
    assert loaded(cfg)[0] == truth(early + old)[0]
    cursor = json.loads(read_row(cfg, bkt.url)["cursor"])
    newest = datetime.fromisoformat(cursor["newest_day"]).date()
    assert cursor["sweep_at"]

    # late: one in the newest folder's day before (the window), one in a folder 30 days back
    for d in recent_late:
        day = newest - timedelta(days=1)
        bkt.put(f"{PREFIX}/{day}/time-23-59-59-000000_{d['id']}.json", json.dumps(d))
    for d in old_late:
        bkt.put(f"{PREFIX}/2026-10-01/time-23-00-00-000000_{d['id']}.json", json.dumps(d))
    windowed = ingest(cfg)  # the last sweep is recent: only the recent folders
    assert windowed.remote[0].rows == len(recent_late)
    assert loaded(cfg)[0] == truth(early + old + recent_late)[0]

    monkeypatch.setattr(bucket, "SWEEP_EVERY", timedelta(0))  # the next run is a sweep
    swept = ingest(cfg)
    # only the late ones: the old folder's first objects are known by their LastModified
    assert swept.remote[0].rows == len(old_late)
    every = early + old + recent_late + old_late
    n, spend = truth(every)
    assert loaded(cfg) == (n, n, spend)
    assert ingest(cfg).remote[0].rows == 0
    with warehouse(cfg) as con:
        days = con.execute(
            "SELECT min(day) FROM bucket_objects WHERE source = ?", [bkt.url]
        ).fetchone()
    assert days[0] >= newest - timedelta(days=bucket.HORIZON_DAYS)  # old rows were let go


@pytest.mark.slow
def test_an_object_overwritten_with_a_new_etag_is_read_again_and_counted_once(
    home: Path, bkt: Bucket
) -> None:
    docs = payloads()[:40]
    bkt.put_payloads(docs[:-1])
    last = docs[-1]
    bkt.put(key_of(last), json.dumps(last)[:500])  # cut short: an upload that failed halfway
    cfg = configure(home, bkt.url, bkt.endpoint)
    first = ingest(cfg)
    assert first.quarantined_by_reason == {"invalid_json": 1}
    assert loaded(cfg)[0] == len(docs) - 1

    bkt.put(key_of(last), json.dumps(last))  # written again, whole
    bkt.put(key_of(docs[0]), json.dumps(docs[0], indent=2))  # same record, new bytes, new ETag
    second = ingest(cfg)
    assert second.remote[0].rows == 2
    assert second.attempts_loaded == 1 and second.duplicates_skipped == 1
    n, spend = truth(docs)
    assert loaded(cfg) == (n, n, spend)


@pytest.mark.slow
@pytest.mark.parametrize("crash_at", ["after_spool_write", "after_marking_read"])
def test_a_crash_between_spool_and_cursor_still_counts_once(
    home: Path, bkt: Bucket, monkeypatch: pytest.MonkeyPatch, crash_at: str
) -> None:
    docs = payloads()[:60]
    bkt.put_payloads(docs)
    cfg = configure(home, bkt.url, bkt.endpoint)

    class Crash(BaseException):
        pass

    def crash(*_: Any, **__: Any) -> None:
        raise Crash

    with monkeypatch.context() as m:
        if crash_at == "after_spool_write":  # durable spool file, objects not marked read
            m.setattr(bucket.Seen, "remember", crash)
        else:  # spool file and objects marked read, cursor never recorded
            m.setattr(sources, "record", crash)
        with pytest.raises(Crash):
            ingest(cfg)
    assert spool_files(cfg, bkt.url)  # the crash came after the spool write

    ingest(cfg)
    n, spend = truth(docs)
    assert loaded(cfg) == (n, n, spend)
    # read again only when the crash came before the objects were marked read
    again = len(docs) if crash_at == "after_spool_write" else 0
    assert read_row(cfg, bkt.url)["rows_total"] == again
    ingest(cfg)
    assert loaded(cfg) == (n, n, spend)


# -- bad objects and hostile keys ----------------------------------------------------------------


@pytest.mark.slow
def test_unreadable_objects_are_quarantined_with_their_reason_and_key(
    home: Path, bkt: Bucket
) -> None:
    docs = payloads()[:30]
    good = docs[:20]
    bkt.put_payloads(good)
    day = f"{PREFIX}/2026-12-06"
    limit = 64 * 1024
    two = docs[20:22]
    pretty = docs[22]
    gz = docs[23]
    hostile = docs[24]
    bad = {
        f"{day}/truncated.json": (json.dumps(docs[25])[:700], "invalid_json"),
        f"{day}/not-json.json": ("<Error>oops</Error>", "invalid_json"),
        f"{day}/array.json": ("[1, 2, 3]", "not_an_object"),
        f"{day}/empty.json": ("", "empty_object"),
        f"{day}/latin1.json": (b'{"id": "caf\xe9"}', "invalid_utf8"),
        f"{day}/nan.json": ('{"id": "n", "response_cost": NaN}', "invalid_json"),
        f"{day}/deep.json": ("[" * 5000 + "]" * 5000, "too_deeply_nested"),
        f"{day}/big.json": (json.dumps(dict(docs[26], pad="x" * limit)), "object_too_large"),
        f"{day}/bomb.json.gz": (gzip.compress(b" " * (limit * 50)), "object_too_large"),
        f"{day}/cut.json.gz": (gzip.compress(json.dumps(docs[27]).encode())[:-30], "unreadable"),
        # a newline inside cannot make a second record: the whole object is one bad line
        f"{day}/smuggle.json": ("garbage\n" + json.dumps(docs[28]), "invalid_json"),
        f"{day}/tail.json": (json.dumps(docs[29]) + "\n}{", "invalid_json"),
    }
    for key, (body, _) in bad.items():
        bkt.put(key, body)
    bkt.put(f"{day}/two-lines.json", "\n".join(json.dumps(d) for d in two))
    bkt.put(f"{day}/pretty.json", json.dumps(pretty, indent=2))
    bkt.put(f"{day}/gz.json", gzip.compress(json.dumps(gz).encode()), ContentEncoding="gzip")
    bkt.put(f"{day}/hostile.json", json.dumps(dict(hostile, model='x\n{"id":"evil"}\u2028')))
    bkt.put(f"{PREFIX}/audit_logs/2026-12-06/12-00-00_a.json", '{"action": "created"}')
    toml = home / "routeledger.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "[ingest]\n", f"[ingest]\nmax_line_bytes = {limit}\n"
        ),
        encoding="utf-8",
    )
    cfg = configure(home, bkt.url, bkt.endpoint)

    summary = ingest(cfg)
    readable = good + two + [pretty, gz, hostile]
    n, spend = truth(readable)
    assert loaded(cfg) == (n, n, spend)
    assert summary.quarantined_by_reason == {"invalid_json": len(bad)}
    with warehouse(cfg) as con:
        excerpts = [r[0] for r in con.execute("SELECT raw_excerpt FROM raw_quarantine").fetchall()]
    for key, (_, reason) in bad.items():
        [hit] = [e for e in excerpts if json.dumps(f"s3://{bkt.name}/{key}") in e]
        assert reason in hit, (key, hit)
    assert not any("audit_logs" in e for e in excerpts)
    assert ingest(cfg).remote[0].rows == 0  # bad objects are not read again


@pytest.mark.slow
def test_unreadable_objects_alone_wait_for_a_readable_one_when_the_format_is_detected(
    home: Path, bkt: Bucket
) -> None:
    cfg = configure(home, bkt.url, bkt.endpoint)
    bkt.put(f"{PREFIX}/2026-12-06/a.json", "{not json")
    first = ingest(cfg)
    assert first.remote[0].status == "ok" and not first.failed_files
    assert first.quarantined == 0 and not spool_files(cfg, bkt.url)

    docs = payloads()[:3]
    bkt.put_payloads(docs)
    second = ingest(cfg)
    assert not second.failed_files
    assert second.attempts_loaded == 3 and second.quarantined_by_reason == {"invalid_json": 1}
    assert not list(spool.folder(cfg, bkt.url).glob(bucket.PENDING + "*"))
    assert ingest(cfg).quarantined == 0


def test_hostile_keys_load_and_stay_inside_the_spool(home: Path, bkt: Bucket) -> None:
    docs = payloads()[:6]
    day = f"{PREFIX}/2026-12-06"
    keys = [
        f"{day}/time-ünïcødé-日本語-🙂.json",
        f"{day}/../../../../etc/passwd.json",
        f"{day}/{'a' * 900}.json",
        f"{day}/sp ace+plus%25&amp;?#.json",
        f"{day}//double//slash.json",
        f"{PREFIX}/no-date-folder.json",
    ]
    for k, d in zip(keys, docs, strict=True):
        bkt.put(k, json.dumps(d))
    cfg = configure(home, bkt.url, bkt.endpoint)
    ingest(cfg)
    n, spend = truth(docs)
    assert loaded(cfg) == (n, n, spend)
    root = spool.folder(cfg, bkt.url).resolve()
    for p in (cfg.home / "spool").rglob("*"):
        assert p.resolve().is_relative_to(cfg.home / "spool")
    assert all(p.resolve().parent == root for p in spool_files(cfg, bkt.url))
    with warehouse(cfg) as con:
        known = {r[0] for r in con.execute("SELECT object_key FROM bucket_objects").fetchall()}
    assert known == set(keys)
    assert ingest(cfg).remote[0].rows == 0


def test_an_empty_prefix_is_an_ok_read_of_nothing(home: Path, bkt: Bucket) -> None:
    bkt.put("elsewhere/2026-12-06/x.json", json.dumps(payloads()[0]))  # outside the prefix
    cfg = configure(home, bkt.url, bkt.endpoint)
    summary = ingest(cfg)
    assert [(r.status, r.rows) for r in summary.remote] == [("ok", 0)]
    assert summary.attempts_loaded == 0 and not spool_files(cfg, bkt.url)
    assert read_row(cfg, bkt.url)["error"] is None


# -- failures --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("case", ["wrong_credentials", "no_credentials", "missing_bucket"])
def test_a_failed_read_is_recorded_as_one_line(
    home: Path, bkt: Bucket, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    bkt.put_payloads(payloads()[:3])
    url = bkt.url
    if case == "wrong_credentials":
        from moto import settings as moto_settings

        monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    elif case == "no_credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    else:
        url = f"s3://no-such-{bkt.name}/{PREFIX}/"
    cfg = configure(home, url, bkt.endpoint)
    summary = ingest(cfg)
    [r] = summary.remote
    expected = {
        "wrong_credentials": "access denied (InvalidAccessKeyId)",
        "no_credentials": "no credentials: set AWS_ACCESS_KEY_ID",
        "missing_bucket": f"bucket 'no-such-{bkt.name}' does not exist",
    }[case]
    assert r.status == "failed" and expected in str(r.error)
    assert "\n" not in str(r.error) and SECRET not in str(r.error)
    row = read_row(cfg, url)
    assert row["errors_total"] == 1 and row["error"] == r.error and row["cursor"] is None
    assert summary.attempts_loaded == 0 and not spool_files(cfg, url)


@pytest.mark.slow
def test_an_unreachable_endpoint_is_a_failed_read(home: Path) -> None:
    endpoint = f"http://127.0.0.1:{_free_port()}"
    cfg = configure(home, "s3://logs/litellm/", endpoint)
    [r] = ingest(cfg).remote
    assert r.status == "failed"
    assert r.error == f"s3://logs/litellm/: cannot reach {endpoint} (EndpointConnectionError)"


def test_without_boto3_the_error_says_what_to_install(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "botocore.exceptions", None)
    cfg = configure(home, "s3://logs/litellm/", "http://127.0.0.1:9")
    [r] = ingest(cfg).remote
    assert r.status == "failed" and r.error is not None
    assert "pip install 'routeledger[s3]'" in r.error


@pytest.mark.slow
def test_a_stopped_read_keeps_what_it_spooled_and_sweeps_again(
    home: Path, bkt: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = payloads()[:100]
    bkt.put_payloads(docs)
    cfg = configure(home, bkt.url, bkt.endpoint)
    monkeypatch.setattr(bucket, "FILE_OBJECTS", 25)
    monkeypatch.setattr(bucket, "LOOKUP_KEYS", 25)
    stop = threading.Event()
    real = bucket.Seen.remember

    def remember_then_stop(self: bucket.Seen, objs: list[bucket.Obj]) -> None:
        real(self, objs)
        stop.set()

    monkeypatch.setattr(bucket.Seen, "remember", remember_then_stop)
    [r] = sources.fetch_all(cfg, stop)
    assert r.status == "ok" and 0 < r.rows < len(docs)
    assert json.loads(read_row(cfg, bkt.url)["cursor"])["sweep_at"] is None
    monkeypatch.setattr(bucket.Seen, "remember", real)
    [rest] = sources.fetch_all(cfg)
    assert r.rows + rest.rows == len(docs)
    ingest(cfg)
    n, spend = truth(docs)
    assert loaded(cfg) == (n, n, spend)


# -- the command, end to end -----------------------------------------------------------------------


@pytest.mark.slow
def test_routeledger_ingest_reads_the_bucket_like_the_same_log_as_a_file(
    home: Path, tmp_path: Path, bkt: Bucket
) -> None:
    docs = payloads()
    bkt.put_payloads(docs)
    configure(home, bkt.url, bkt.endpoint, 'name = "litellm-s3"\nformat = "litellm"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    exe = str(Path(sys.executable).with_name("routeledger"))

    def run(h: Path, *args: str) -> dict[str, Any]:
        out = subprocess.run(
            [exe, "--home", str(h), *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    summary = run(home, "ingest")
    n, _ = truth(docs)
    assert summary["attempts_loaded"] == n and summary["quarantined"] == 0
    assert summary["remote_sources"] == [
        {"source": "litellm-s3", "kind": "bucket", "status": "ok", "rows": len(docs), "error": None}
    ]
    assert run(home, "ingest")["attempts_loaded"] == 0

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "routeledger.toml").write_text(
        (home / "routeledger.toml").read_text(encoding="utf-8").split("[[sources]]")[0],
        encoding="utf-8",
    )
    run(plain, "ingest", str(SLP))
    window = ["--since", "2026-12-01", "--until", "2026-12-31"]
    assert run(home, "stats", *window) == run(plain, "stats", *window)


# -- the pieces ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048) | st.text(max_size=512).map(str.encode))
def test_any_object_becomes_whole_lines_that_cannot_split(data: bytes) -> None:
    parsed = objects.parse(data, 4096)
    lines = parsed.lines if parsed.ok else [objects.marker("s3://b/k\n", "x", parsed.detail)]
    for line in lines:
        assert b"\n" not in line and b"\r" not in line
        assert line.isascii()
        if parsed.ok:
            assert isinstance(json.loads(line), dict)
        else:
            with pytest.raises(ValueError):
                json.loads(line)


def test_gs_urls_use_the_gcs_xml_api_unless_an_endpoint_is_given() -> None:
    gcs = bucket.client(Source(url="gs://my-bucket/litellm/"))
    assert gcs.meta.endpoint_url == bucket.GCS_ENDPOINT
    assert gcs.meta.region_name == "auto"
    mine = bucket.client(Source(url="gs://b/", endpoint_url="http://127.0.0.1:9000"))
    assert mine.meta.endpoint_url == "http://127.0.0.1:9000"
    assert bucket.split_url("s3://b") == ("s3", "b", "")
    assert bucket.split_url("s3://b/a/b") == ("s3", "b", "a/b/")


def test_a_cursor_that_cannot_be_read_starts_over() -> None:
    for text in (None, "", "[]", '{"newest_day": 5}', '{"sweep_at": "yesterday"}', "{"):
        assert bucket.Cursor.parse(text) == bucket.Cursor()
    c = bucket.Cursor.parse('{"newest_day": "2026-12-06", "sweep_at": "2026-12-07T05:00:00"}')
    assert bucket.Cursor.parse(c.dumps()) == c
