"""Every credential shape, in every text field, through every log format: none is stored or shown.

Issue 15 (item 2): AWS temporary key ids and secret access keys, bare JWTs, ``BEARER`` in upper
case, ``Authorization: Basic``, percent-encoded keys were stored verbatim in team, user, task, key
alias, route, model, error and deployment fields of every format, and from there reached the
marts, the quarantine, the report and the Slack payload; the provider was lowercased after
redaction (``BEARER x`` became ``bearer x``, which the pattern did not know).

The hostile corpus has one file per format (``tests/hostile/corpus_logs.py``,
``CREDENTIAL_FILES``) in which every shape sits in every text field once. The real CLI ingests
them all into one home, with ``-v``, then runs ``stats`` (JSON and tables), ``report weekly``
(built, and sent to a loopback Slack webhook) and ``prices unmatched``. Every text column of
every table and view, every report file, every webhook body and everything the commands
printed is searched for the planted credentials in any letter case. Positive controls: each
line has its outcome, each planted field is stored as exactly its redacted text (so the scans
saw the rows), the quarantine kept redacted excerpts and details, and the report and the
payload show ``[REDACTED]``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import product
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.hostile.conftest import copy_corpus, make_home, run
from tests.hostile.corpus_logs import (
    CREDENTIAL_COLUMNS,
    CREDENTIAL_FILES,
    CREDENTIAL_PREFIX,
    CREDENTIAL_SQUARES,
    N_SHAPES,
    SHAPES,
    SQUARE,
    label,
)
from tests.hostile.payloads import WEEK, LogFile
from tests.hostile.test_logs import Outcome, check_accounting
from tests.security.planted import AWS_SECRET_JSON, leaks
from tests.security.test_no_secrets import scan_warehouse

BY_NAME = {lf.name: lf for lf in CREDENTIAL_FILES}
MASK = "[REDACTED]"
ID_COLUMNS = ("attempt_id", "logical_request_id")
HASHED = re.compile(r"#[0-9a-f]{16}$")  # what an id that held a credential ends in


def masked(shape: str) -> str:
    """What a planted value becomes, written out (not computed by the code under test)."""
    return '{"' + MASK + '"}' if shape == AWS_SECRET_JSON else MASK


@dataclass
class Run:
    home: Path
    outcomes: dict[str, Outcome]
    transcript: str  # stdout and stderr of every command
    report_files: dict[str, Path]
    bodies: list[Any] = field(default_factory=list)  # what the webhook received


@contextmanager
def slack_hook() -> Iterator[tuple[str, list[Any]]]:
    """A loopback Slack webhook: its URL and the JSON bodies it received."""
    bodies: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/hook-token", bodies
    finally:
        server.shutdown()
        server.server_close()


def _ingest(home: Path, lf: LogFile, log: Path) -> tuple[Outcome, str]:
    args = ["-v", "ingest", str(log), "--format", lf.format, "--json"]
    if lf.mapping:
        args += ["--mapping", lf.mapping]
    p = run(home, *args)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr[-2000:]
    key = str(log.resolve())
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        cur = con.execute("SELECT * FROM raw_attempts WHERE source_file = ?", [key])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        loaded = {r["source_line"]: r for r in rows}
        bad = con.execute(
            "SELECT source_line, reason, raw_excerpt FROM raw_quarantine WHERE source_file = ?",
            [key],
        ).fetchall()
    out = Outcome(
        log, json.loads(p.stdout), loaded, {n: r for n, r, _ in bad}, [e or "" for *_, e in bad]
    )
    return out, f"{p.args}\n{p.stdout}\n{p.stderr}"


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    root = tmp_path_factory.mktemp("credentials")
    with slack_hook() as (url, bodies):
        home = make_home(
            root / "home", f'\n[delivery]\nwebhook_url = "{url}"\nwebhook_kind = "slack"\n'
        )
        outcomes, printed = {}, []
        for lf in CREDENTIAL_FILES:
            outcomes[lf.name], out = _ingest(home, lf, copy_corpus(f"logs/{lf.name}", root))
            printed.append(out)
        since = ("--since", "2025-09-01", "--until", "2025-09-30")
        commands = [
            ("-v", "stats", *since, "--json"),
            ("-v", "stats", *since),
            ("-v", "report", "weekly", "--week", WEEK, "--json"),
            ("-v", "report", "weekly", "--week", WEEK, "--send", "--json"),
            ("-v", "prices", "unmatched"),
        ]
        files: dict[str, Path] = {}
        for args in commands:
            p = run(home, *args)
            assert p.returncode == 0 and "Traceback" not in p.stderr, (args, p.stderr[-2000:])
            printed.append(f"{p.args}\n{p.stdout}\n{p.stderr}")
            if "report" in args:
                files = {k: Path(v) for k, v in json.loads(p.stdout)["files"].items()}
        yield Run(home, outcomes, "\n".join(printed), files, bodies)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_line_has_its_outcome(corpus_run: Run, name: str) -> None:
    """Loaded, or quarantined with its reason: redaction neither drops an attempt nor merges
    two (the square's ids all hold a credential, and two attempts' whole ids are keys)."""
    check_accounting(BY_NAME[name], corpus_run.outcomes[name])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_planted_field_is_stored_redacted(corpus_run: Run, name: str) -> None:
    """Line k of the square holds shape k + i in field i: stored as the text around it with the
    credential replaced by ``[REDACTED]`` (upper case, the provider too), raw keys as SHA-256."""
    lf, out = BY_NAME[name], corpus_run.outcomes[name]
    in_square = [line.why.startswith(SQUARE) for line in lf.lines]
    starts = [n + 1 for n, s in enumerate(in_square) if s and (n == 0 or not in_square[n - 1])]
    squares = CREDENTIAL_SQUARES[name]
    assert len(starts) == len(squares)
    prefix = CREDENTIAL_PREFIX.get(name, "")
    wrong = []
    for (first, columns), k in product(zip(starts, squares, strict=True), range(N_SHAPES)):
        row = out.loaded[first + k]
        for i, (path, column) in enumerate(columns.items()):
            shape = SHAPES[(k + i) % N_SHAPES]
            planted = f"{prefix}{label(path)} {shape} end"
            want = f"{prefix}{label(path)} {masked(shape)} end"
            got = row[column]
            if column == "key_hash":
                ok = got == hashlib.sha256(planted.encode()).hexdigest()
            elif column in ID_COLUMNS:
                ok = want in got and bool(HASHED.search(got))
            else:
                ok = got == want
            if not ok:
                wrong.append((first + k, path, column, got))
    assert not wrong, wrong


def test_a_key_as_a_whole_id_keeps_two_attempts_apart(corpus_run: Run) -> None:
    rows = corpus_run.outcomes["credentials_routeledger.jsonl"].loaded.values()
    ids = sorted(r["attempt_id"] for r in rows if r["attempt_id"].startswith("rl:[REDACTED]#"))
    assert len(ids) == 2 and ids[0] != ids[1], ids


def test_no_table_or_view_holds_a_credential_in_any_case(corpus_run: Run) -> None:
    with duckdb.connect(str(corpus_run.home / "warehouse.duckdb"), read_only=True) as con:
        found, scanned = scan_warehouse(con)
        # the mask is never lowercased, nor a credential
        lowered = con.execute(
            "SELECT count(*) FROM raw_attempts WHERE provider LIKE '%[redacted]%'"
        ).fetchall()[0][0]
    assert not found, found
    assert lowered == 0
    stored = set(CREDENTIAL_COLUMNS["credentials_litellm.jsonl"].values()) - {"key_hash"}
    must_scan = {f"raw_attempts.{c}" for c in stored} | {
        "raw_quarantine.raw_excerpt",
        "raw_quarantine.detail",
        "attempts.team",
        "attempts.provider",
        "logical_requests.team",
        "model_matches.logged_model",
    }
    assert must_scan <= scanned, must_scan - scanned


def test_the_quarantine_kept_redacted_details_and_excerpts(corpus_run: Run) -> None:
    """The refused rows are there, quoting their credentials as ``[REDACTED]``: the details of
    ``bad_timestamp``, ``unknown_status`` and ``bad_id``, the SQL excerpt of a refused row, the
    Python excerpt of a cut line and of a CSV row with a column too many."""
    with duckdb.connect(str(corpus_run.home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT reason, detail, raw_excerpt FROM raw_quarantine").fetchall()
    by_reason: dict[str, list[tuple[str, str]]] = {}
    for reason, detail, excerpt in rows:
        by_reason.setdefault(reason, []).append((detail or "", excerpt or ""))
    for reason in ("bad_timestamp", "unknown_status", "bad_id"):
        assert any(MASK in d for d, _ in by_reason[reason]), reason
    for reason in ("invalid_json", "csv_extra_columns", "bad_timestamp", "unknown_status"):
        assert all(MASK in e for _, e in by_reason[reason]), reason
    assert len(by_reason["invalid_json"]) == N_SHAPES * (len(CREDENTIAL_FILES) - 1)


def test_the_report_files_hold_no_credential(corpus_run: Run) -> None:
    files = corpus_run.report_files
    assert {"html", "text", "csv", "json"} <= set(files)
    folder = files["html"].parent
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        assert not leaks(path.read_text(encoding="utf-8")), path.name
    for kind in ("html", "text", "csv"):  # the planted rows are in them, their names redacted
        assert MASK in files[kind].read_text(encoding="utf-8"), kind


def test_the_slack_payload_holds_no_credential(corpus_run: Run) -> None:
    assert corpus_run.bodies, "the report was not sent"
    sent = json.dumps(corpus_run.bodies, ensure_ascii=False)
    assert MASK in sent and not leaks(sent)


def test_what_the_commands_printed_holds_no_credential(corpus_run: Run) -> None:
    assert "committed through line" in corpus_run.transcript  # -v logging ran
    assert MASK in corpus_run.transcript  # stats listed redacted names
    assert not leaks(corpus_run.transcript)
    assert "hook-token" not in corpus_run.transcript
