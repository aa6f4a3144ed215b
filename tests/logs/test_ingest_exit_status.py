"""`routeledger ingest` exit status and its summary (issue 13, items 6 and 7): 0 when everything
given loaded (quarantined rows included); 1 when the run completed but a file loaded nothing or
a glob matched nothing, each named with why; a `--mapping` path is read from the working
directory, not the home."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main
from collectors.logs.mapped import MAPPINGS_DIR
from tests.conftest import LOG_FIXTURES

V04 = LOG_FIXTURES / "envoy_ai_gateway_v04"


def _ingest(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, ["--home", str(home), "ingest", *args, "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_a_file_that_loads_nothing_is_named_and_the_run_exits_1(home: Path) -> None:
    code, out = _ingest(home, str(V04 / "accesslog.jsonl"), "--mapping", "envoy-ai-gateway")
    assert code == 1
    assert out["attempts_loaded"] == 0 and out["quarantined_by_reason"] == {"missing_timestamp": 1}
    (nothing,) = out["files_loaded_nothing"]
    assert nothing["file"].endswith("accesslog.jsonl")
    assert nothing["why"] == "1 row quarantined (missing_timestamp 1)"


def test_the_aigw_key_set_loads_with_the_shipped_mapping(home: Path) -> None:
    code, out = _ingest(
        home, str(V04 / "accesslog_with_start_time.jsonl"), "--mapping", "envoy-ai-gateway"
    )
    assert code == 0 and out["attempts_loaded"] == 1 and out["files_loaded_nothing"] == []
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute(
            "SELECT served_model, requested_model, deployment_id, input_tokens, output_tokens, "
            "status, latency_ms FROM raw_attempts"
        ).fetchall()
    assert row == [("qwen2.5:0.5b", "qwen2.5:0.5b", "default/ollama/route/aigw-run/rule/0/ref/0",
                    44, 12, "success", 108.0)]  # fmt: skip


def test_a_glob_that_matches_nothing_exits_1(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    shutil.copyfile(V04 / "accesslog_with_start_time.jsonl", log)
    code, out = _ingest(
        home, str(log), str(tmp_path / "none-*.jsonl"), "--mapping", "envoy-ai-gateway"
    )
    assert code == 1
    assert out["attempts_loaded"] == 1  # what matched still loaded
    assert out["unmatched_globs"] == [str(tmp_path / "none-*.jsonl")]


def test_a_mapping_path_is_read_from_the_working_directory(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(MAPPINGS_DIR / "envoy-ai-gateway.yaml", work / "gw.yaml")
    (home / "gw.yaml").write_text("name: wrong\nfields: {served_model: nope}\n", encoding="utf-8")
    monkeypatch.chdir(work)
    code, out = _ingest(home, str(V04 / "accesslog_with_start_time.jsonl"), "--mapping", "gw.yaml")
    assert code == 0, out
    assert out["attempts_loaded"] == 1
