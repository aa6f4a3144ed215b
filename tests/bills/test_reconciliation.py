"""The reconciliation mart against a hand-computed truth on a small warehouse (exact Decimal),
idempotent imports, and the CLI.

The day (prices: gpt-4o-mini $1/$2 per 1M in/out; claude-haiku-4-5 $1 in, $0.10 cache read,
$5 out): OpenAI logged a success (1M in, 500k out: $2.00, the gateway reported $2.50), a
timeout (2M in: $2.00, billed at its usage by the default policy) and a rate limit (500k in:
$0.50 at usage, not billed by the policy); OpenAI billed $1 input + $1 output. Anthropic logged
1M fresh input, 2M cache reads, 200k output ($1.00 + $0.20 + $1.00) and billed the cache reads
at the input price ($2.00) and $5.00 of a model the gateway never saw."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner

from app.cli import main
from collectors.bills import api
from tests.bills.conftest import FIXTURES, write_bills

D = Decimal


def _rows(cfg: Any, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(cfg.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_mart_matches_the_hand_computed_truth(home: Any, tmp_path: Path) -> None:
    cfg = home()
    api.import_files(cfg, write_bills(tmp_path / "bills"))
    got = _rows(
        cfg,
        """SELECT day, provider, model, billed_usd, recomputed_usd, reported_usd,
        drift_usd, origin, failed_usd, failed_unbilled_usd FROM bill_reconciliation
        ORDER BY day, provider, model""",
    )
    assert got == [
        (date(2026, 3, 3), "anthropic", "claude-haiku-4-5", D(4), D("2.2"), None, D("1.8"),
         "cache_tokens", None, None),
        (date(2026, 3, 3), "anthropic", "claude-opus-4-1", D(5), D(0), None, D(5), "bill_only",
         None, None),
        (date(2026, 3, 3), "openai", "gpt-4o-mini", D(2), D(4), D("2.5"), D(-2),
         "failed_not_billed", D(2), D("0.5")),
        (date(2026, 3, 4), "openai", "(all)", D(1), D(1), None, D(0), "matches", None, None),
    ]  # fmt: skip
    classes = _rows(
        cfg,
        """SELECT token_class, billed_usd, recomputed_usd, gateway_tokens
        FROM bill_reconciliation_classes WHERE model = 'claude-haiku-4-5' ORDER BY 1""",
    )
    assert classes == [("cached_input", D(2), D("0.2"), 2_000_000), ("input", D(1), D(1), 1_000_000),
                       ("output", D(1), D(1), 200_000)]  # fmt: skip


def test_importing_again_or_overlapping_never_counts_twice(home: Any, tmp_path: Path) -> None:
    cfg = home()
    files = write_bills(tmp_path / "bills")
    first = api.import_files(cfg, files)
    assert (first["lines_loaded"], first["days_replaced"]) == (7, 3)
    again = api.import_files(cfg, files)
    assert (again["lines_loaded"], again["days_unchanged"]) == (0, 3)
    total = "SELECT sum(billed_usd) FROM bill_reconciliation"
    assert _rows(cfg, total) == [(D(12),)]
    # a corrected export of 03-03 replaces that day instead of adding to it
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    doc["data"][0]["results"][1]["amount"]["value"] = 3.0
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(doc), encoding="utf-8")
    res = api.import_files(cfg, [fixed])
    assert res["days_replaced"] == 1
    assert _rows(cfg, total) == [(D(14),)]
    assert _rows(cfg, "SELECT count(*) FROM provider_bills") == [(9,)]


def test_quarantined_rows_reach_data_health_once(home: Any, tmp_path: Path) -> None:
    cfg = home()
    bad = tmp_path / "anthropic-cost-bad.csv"
    text = (FIXTURES / "anthropic" / "cost_export.csv").read_text(encoding="utf-8")
    bad.write_text(text + "2026-08-06,Claude Haiku 4.5,Default,k,message,x,output,-1,0,token,na,,k1,active\n",
                   encoding="utf-8")  # fmt: skip
    for _ in range(2):
        res = api.import_files(cfg, [bad])
        assert res["quarantined_by_reason"] == {"negative_amount": 1}
    assert _rows(cfg, "SELECT reason, count(*) FROM quarantined_rows GROUP BY 1") == [
        ("negative_amount", 1)]  # fmt: skip


def test_cli_import_and_drift(home: Any, tmp_path: Path) -> None:
    cfg = home()
    files = [str(p) for p in write_bills(tmp_path / "bills")]
    r = CliRunner()
    res = r.invoke(main, ["--home", str(cfg.home), "bills", "import", *files, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["lines_loaded"] == 7
    junk = tmp_path / "junk.csv"
    junk.write_text("foo,bar\n1,2\n", encoding="utf-8")
    res = r.invoke(main, ["--home", str(cfg.home), "bills", "import", str(junk), "--json"])
    assert res.exit_code == 1 and "foo, bar" in json.loads(res.stdout)["files"][0]["error"]
    res = r.invoke(main, ["--home", str(cfg.home), "bills", "drift", "--since", "2026-03-01",
                          "--until", "2026-03-31", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    days = {(d["day"], d["provider"]): d for d in json.loads(res.stdout)["days"]}
    assert days[("2026-03-03", "anthropic")]["drift_usd"] == 6.8
    assert days[("2026-03-03", "openai")]["origin"] == "failed_not_billed"
    res = r.invoke(main, ["--home", str(cfg.home), "bills", "drift", "--since", "2026-03-01",
                          "--until", "2026-03-31"])  # fmt: skip
    assert res.exit_code == 0 and "failed attempts not billed" in res.output
