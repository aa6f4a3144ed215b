"""A spool file whose rows are only skipped (the receiver was sent spans that are not LLM calls)
is not a file that "loaded nothing": `routeledger ingest` exits 0 for it. A spool file whose
rows were all quarantined still is (a source configured with the wrong format), and a user's log
of skipped rows still is (a wrong --format)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from collectors import config
from collectors.remote import spool

ROOT = Path(__file__).resolve().parents[2]


def _span_line(name: str) -> bytes:
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": name,
        "kind": 2,
        "startTimeUnixNano": "1764990000000000000",
        "endTimeUnixNano": "1764990001000000000",
        "attributes": [{"key": "http.route", "value": {"stringValue": "/health"}}],
        "status": {},
    }
    doc = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    return json.dumps(doc).encode() + b"\n"


def _ingest(home: Path, *args: str) -> tuple[int, dict]:
    p = subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(home), "ingest", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return p.returncode, json.loads(p.stdout)


def _home(tmp_path: Path, toml: str = "") -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n" + toml)
    return home


def test_receiver_spans_that_are_not_llm_calls_are_no_failure(tmp_path: Path) -> None:
    home = _home(tmp_path, '\n[receiver]\notlp_http = "127.0.0.1:4318"\n')
    cfg = config.load(home)
    spool.write(spool.receiver_folder(cfg), "seg-000001.jsonl", _span_line("GET /health") * 3)
    code, out = _ingest(home)
    assert code == 0, out
    assert out["files_loaded_nothing"] == []
    assert out["files"] == 1 and out["attempts_loaded"] == 0


def test_a_user_log_of_the_same_spans_still_names_the_file(tmp_path: Path) -> None:
    home = _home(tmp_path)
    log = tmp_path / "spans.jsonl"
    log.write_bytes(_span_line("GET /health") * 3)
    code, out = _ingest(home, str(log), "--format", "otel")
    assert code == 1
    assert [f["file"] for f in out["files_loaded_nothing"]] == [str(log)]


def test_a_spool_file_all_quarantined_is_still_named(tmp_path: Path) -> None:
    home = _home(tmp_path, '\n[[sources]]\ndsn_env = "RL_UNSET_DSN"\n')
    cfg = config.load(home)
    where = spool.folder(cfg, cfg.sources[0].label)
    bad = spool.write(where, "20261201T000000Z-000001.jsonl", b'{"request_id": "r1"}\n' * 2)
    code, out = _ingest(home)
    assert code == 1
    assert str(bad) in [f["file"] for f in out["files_loaded_nothing"]]
