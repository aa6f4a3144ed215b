"""No raw API key and no prompt or response text in the warehouse, the reports or the logs.

tests/logs/test_bad_input.py checks the ingest function against the warehouse. Here the real
`routeledger` runs in its own processes, as a user runs it, with ``-v``: logs carrying keys and
prompts in every field gateways put them (tests/security/planted.py) are ingested into a real
home, then ``stats``, ``report weekly`` and ``prices unmatched`` run on it. Every column of every
table and view of the DuckDB file, every report file and everything the commands printed
(stdout and stderr) is scanned for the planted secrets and prompt words, in any letter case
(``planted.leaks``). Each scan has a positive control, so it cannot pass by scanning nothing.

The tests at the end pin gaps the review found in the ingest engine and that are now closed:
quarantine details redacted, a string ``response`` quarantined instead of ending the run, no
prompt in the excerpt of a quarantined CSV row or OTLP document, more providers' key shapes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main
from collectors import jobs
from collectors.config import Config
from collectors.ingest import parse_bytes
from collectors.pipeline import ingest
from tests.logs.helpers import rl_row, slp
from tests.reports.conftest import Hook, webhook_toml
from tests.security import planted
from tests.security.planted import WEEK, leaks

# Every column whose values can hold text: scanned as VARCHAR.
_TEXTY = ("VARCHAR", "JSON", "[]", "STRUCT", "MAP", "UNION", "BLOB")


@dataclass
class Run:
    home: Path
    ingested: dict[str, object]
    transcript: str  # stdout and stderr of every command, with -v


def cli(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ROUTELEDGER_HOME"}
    env["COLUMNS"] = "400"  # rich tables at full width: a truncated cell would hide a leak
    p = subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    if check:
        assert p.returncode == 0, p.stderr
    return p


def new_home(root: Path, extra_toml: str = "") -> Path:
    home = root / "home"
    home.mkdir(parents=True)
    (home / "routeledger.toml").write_text(
        "[prices]\nauto_catalog = false\n" + extra_toml, encoding="utf-8"
    )
    return home


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("planted")
    home = new_home(root)
    logs = planted.write_logs(root / "logs")
    done = [cli(home, "-v", "ingest", *map(str, logs), "--json")]
    ingested = json.loads(done[0].stdout)
    done.append(
        cli(home, "-v", "stats", "--since", "2026-10-01", "--until", "2026-10-31", "--json")
    )
    done.append(cli(home, "-v", "stats", "--since", "2026-10-01", "--until", "2026-10-31"))
    done.append(cli(home, "-v", "report", "weekly", "--week", WEEK, "--json"))
    done.append(cli(home, "-v", "prices", "unmatched"))
    transcript = "\n".join(f"{p.args}\n{p.stdout}\n{p.stderr}" for p in done)
    return Run(home, ingested, transcript)


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        "ORDER BY table_name, ordinal_position"
    ).fetchall()
    return [(s, t, c) for s, t, c, dt in rows if any(k in dt.upper() for k in _TEXTY)]


def scan_warehouse(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[str, str, str]], set[str]]:
    """Every distinct text value of every table and view: (table, column, value) of those that
    hold a planted needle in any letter case, and the ``table.column`` names scanned."""
    found, scanned = [], set()
    for schema, table, column in text_columns(con):
        scanned.add(f"{table}.{column}")
        values = con.execute(
            f'SELECT DISTINCT "{column}"::VARCHAR FROM "{schema}"."{table}"'
        ).fetchall()
        found += [(table, column, v[:160]) for (v,) in values if v and leaks(v)]
    return found, scanned


def test_the_planted_logs_were_loaded_not_dropped(run: Run) -> None:
    # 3 LiteLLM payloads, 1 SpendLogs row, 1 OTel span, 1 OpenRouter body, 2 + 1 own rows
    assert run.ingested["attempts_loaded"] == 9 and run.ingested["failed_files"] == []
    assert run.ingested["quarantined_by_reason"] == {"invalid_json": 1}
    with duckdb.connect(str(run.home / "warehouse.duckdb"), read_only=True) as con:
        teams = {r[0] for r in con.execute("SELECT DISTINCT team FROM attempts").fetchall()}
        hashes = {r[0] for r in con.execute("SELECT DISTINCT key_hash FROM attempts").fetchall()}
        routes = {r[0] for r in con.execute("SELECT DISTINCT route FROM attempts").fetchall()}
    assert "[REDACTED]" in teams  # the Bearer token and the key that were team names
    assert planted.RAW_PROXY_KEY_SHA256 in hashes  # the raw key is kept as its SHA-256 only
    assert "/v1/chat/completions?key=[REDACTED]" in routes  # redacted inside a longer string


def test_no_table_or_view_holds_a_key_or_a_prompt(run: Run) -> None:
    with duckdb.connect(str(run.home / "warehouse.duckdb"), read_only=True) as con:
        found, scanned = scan_warehouse(con)
    assert not found, found
    must_scan = {
        "raw_attempts.team",
        "raw_attempts.user_id",
        "raw_attempts.key_alias",
        "raw_attempts.route",
        "raw_attempts.error_type",
        "raw_quarantine.raw_excerpt",
        "raw_quarantine.detail",
        "attempts.task",
        "logical_requests.team",
        "loads.error",
        "model_matches.logged_model",
    }
    assert must_scan <= scanned, must_scan - scanned


def test_the_report_files_hold_no_key_or_prompt(run: Run) -> None:
    folder = run.home / "reports" / WEEK
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert {p.name for p in files} >= {"report.html", "report.txt", "report.json"}
    for path in files:
        assert not leaks(path.read_text(encoding="utf-8")), path.name
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "[REDACTED]" in html  # the planted rows are in the report: their names redacted


def test_what_the_commands_printed_holds_no_key_or_prompt(run: Run) -> None:
    assert "committed through line" in run.transcript  # -v logging really ran
    assert "[REDACTED]" in run.transcript  # stats listed the redacted task names
    assert not leaks(run.transcript)


def test_a_webhook_url_is_never_logged_even_with_verbose(
    tmp_path: Path, webhook: Callable[..., Hook]
) -> None:
    """httpx logs every request URL at INFO; Slack puts the webhook's secret in the path."""
    hook = webhook(503, 200)  # one retry: its INFO line shows -v logging ran
    home = new_home(tmp_path, webhook_toml(hook))
    cli(home, "ingest", *map(str, planted.write_logs(tmp_path / "logs")))
    p = cli(home, "-v", "report", "weekly", "--week", WEEK, "--send", "--json")
    assert len(hook.bodies) == 2 and json.loads(p.stdout)["deliveries"][0]["status"] == "sent"
    assert "attempt 1 failed (HTTP 503), retrying" in p.stderr
    assert "secret-token" not in p.stderr + p.stdout
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        targets = con.execute("SELECT target, detail FROM report_deliveries").fetchall()
    assert targets and "secret-token" not in repr(targets)
    # the Slack payload itself: the planted rows are in it, their names redacted
    sent = json.dumps(hook.bodies, ensure_ascii=False)
    assert "[REDACTED]" in sent and not leaks(sent)
    assert not leaks(p.stderr + p.stdout)


UNEXPECTED = duckdb.InvalidInputException(
    f"Invalid Input Error: JSON transform error in line 2: Expected OBJECT, but got VARCHAR: "
    f'"{planted.ANSWER} {planted.OPENAI_KEY}"\nTry setting auto_detect'
)


def test_an_unexpected_error_is_one_line_without_the_data_it_quoted(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception that is not RouteLedger's own may quote a log value (DuckDB does): the CLI
    prints its type and message with quoted values elided and keys redacted, no traceback."""

    def boom(*args: object, **kwargs: object) -> None:
        raise UNEXPECTED

    monkeypatch.setattr("app.cli.stats.pipeline.update_marts", boom)
    res = CliRunner().invoke(main, ["--home", str(home), "stats", "--json"])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("routeledger: error: InvalidInputException:")
    assert "Expected OBJECT, but got VARCHAR" in lines[0]  # still says what went wrong
    assert not leaks(res.output) and "Traceback" not in res.output


def test_a_failed_jobs_recorded_detail_carries_no_key_or_prompt(cfg: Config) -> None:
    """`routeledger serve` records a failed job's error in job_runs (shown on Data health)."""

    def boom(cfg: Config, stop: threading.Event) -> jobs.Outcome:
        raise UNEXPECTED

    def partial(cfg: Config, stop: threading.Event) -> jobs.Outcome:
        return jobs.Outcome("failed", f"1 failed: x.jsonl: bad key {planted.OPENAI_KEY}")

    assert jobs.run(cfg, "boom", boom).status == "failed"
    assert jobs.run(cfg, "partial", partial).status == "failed"
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        rows = dict(con.execute("SELECT job, detail FROM job_runs").fetchall())
    assert rows["boom"].startswith("InvalidInputException: ") and not leaks(rows["boom"])
    assert rows["partial"] == "1 failed: x.jsonl: bad key [REDACTED]"


def test_the_logging_filter_redacts_messages_arguments_and_tracebacks() -> None:
    import io
    import logging

    from collectors.redact import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.security.redact")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("route %s failed", f"/v1?key={planted.OPENAI_KEY}")
        try:
            raise ValueError(f"auth header {planted.BEARER}")
        except ValueError:
            logger.exception("request failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "route /v1?key=[REDACTED] failed" in out and "Traceback" in out
    assert "auth header [REDACTED]" in out and not leaks(out)


# -- known gaps of the ingest engine (collectors/ingest/, collectors/redact.py) -----------------


def _warehouse_text(cfg: Config) -> str:
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        return "".join(
            repr(con.execute(f'SELECT * FROM "{t}"').fetchall())
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        )


def _jl(path: Path, *docs: object) -> str:
    path.write_bytes(b"".join(json.dumps(d).encode() + b"\n" for d in docs))
    return str(path)


def test_a_quarantine_detail_is_redacted(cfg: Config, tmp_path: Path) -> None:
    path = _jl(
        tmp_path / "q.jsonl",
        rl_row(1, started_at=f"yesterday {planted.OPENAI_KEY}"),
        rl_row(2, status=f"maybe {planted.BEARER}"),
    )
    assert ingest(cfg, [path], fmt="routeledger").quarantined == 2
    found = leaks(_warehouse_text(cfg))
    assert not found


def test_a_string_response_does_not_stop_the_ingest(cfg: Config, tmp_path: Path) -> None:
    path = _jl(tmp_path / "r.jsonl", slp(1), slp(2, response=planted.ANSWER))
    summary = ingest(cfg, [path], fmt="litellm")
    assert summary.attempts_loaded + summary.quarantined == 2
    found = leaks(_warehouse_text(cfg))
    assert not found


def test_a_quarantined_csv_row_keeps_no_prompt(cfg: Config, tmp_path: Path) -> None:
    path = tmp_path / "spend.csv"
    path.write_text(
        "request_id,startTime,endTime,model,messages,status\n"
        f'r1,2026-10-07 10:00:00,2026-10-07 10:00:01,gpt-4o,"{planted.PROMPT}",success,extra\n',
        encoding="utf-8",
    )
    assert ingest(cfg, [str(path)], fmt="litellm-spendlogs").quarantined == 1
    found = leaks(_warehouse_text(cfg))
    assert not found


@pytest.mark.parametrize("key", ["request_body", "response_body", "Request_Body"])
def test_a_quarantined_json_line_is_cut_at_a_body_key(key: str) -> None:
    """A broken JSON line's excerpt stops at a ``request_body`` key as a CSV row's stops at a
    ``request_body`` column: both cut at the one list of prompt keys (collectors/redact.py)."""
    line = f'{{"attempt_id": "a1", "{key}": "{planted.PROMPT}", "started_at": '.encode()
    result = parse_bytes("routeledger", line + b"\n", "cut.jsonl")
    assert not result.attempts
    (q,) = result.quarantined
    assert q.reason == "invalid_json"
    assert q.raw_excerpt == f'{{"attempt_id": "a1", "{key}": [dropped]'
    assert "Zorblax" not in q.raw_excerpt and not leaks(q.raw_excerpt)


def test_a_quarantined_otel_document_keeps_no_prompt(cfg: Config, tmp_path: Path) -> None:
    resource = {"attributes": [{"key": "gen_ai.prompt", "value": {"stringValue": planted.PROMPT}}]}
    path = _jl(tmp_path / "o.jsonl", {"resourceSpans": [{"resource": resource, "scopeSpans": 7}]})
    assert ingest(cfg, [path], fmt="otel").quarantined == 1
    found = leaks(_warehouse_text(cfg))
    assert not found


@pytest.mark.parametrize(
    "key",
    [
        "gsk_PLANTEDgroq0123456789abcdefghijklmnopqrstuvwxyzAB",  # Groq
        "hf_PLANTEDhuggingface0123456789abcdefgh",  # Hugging Face
        "xai-PLANTEDxai0123456789abcdefghijklmnopqrstuvwxyz0123",  # xAI
        "pplx-PLANTEDperplexity0123456789abcdefghijklmn",  # Perplexity
        "r8_PLANTEDreplicate0123456789abcdefghijkl",  # Replicate
        "github_pat_11PLANTEDgithub0123456789_abcdefghijklmnop",  # GitHub fine-grained
    ],
)
def test_other_providers_key_shapes_are_redacted(cfg: Config, tmp_path: Path, key: str) -> None:
    path = _jl(tmp_path / "k.jsonl", rl_row(1, team=key, user=f"user {key}"))
    assert ingest(cfg, [path], fmt="routeledger").attempts_loaded == 1
    assert _warehouse_text(cfg).count("PLANTED") == 0
