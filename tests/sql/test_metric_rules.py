"""The metric rules of issue 14, end to end through the real pipeline (ingest, prices, marts,
`stats --json`): the failed-attempt billing policy, cost per successful request over priced
requests only with its coverage, and one canonical name per model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main

OVERRIDES = """prices:
  - provider: acme
    model: acme-large
    input_per_mtok: 1.0
    output_per_mtok: 2.0
"""


def _attempt(rid: str, i: int, model: str, status: str, **kw: Any) -> dict[str, Any]:
    minute = int(rid[1:]) * 5 + i
    return {
        "attempt_id": f"{rid}-{i}",
        "logical_request_id": rid,
        "attempt_index": i,
        "started_at": f"2026-03-03T10:{minute:02d}:00Z",
        "ended_at": f"2026-03-03T10:{minute:02d}:01Z",
        "provider": kw.pop("provider", "acme"),
        "model": model,
        "task": "t",
        "status": status,
        **kw,
    }


ROWS = [
    # r1: a 429 (usage logged), then a success: 1000 in / 500 out = $0.002
    _attempt("r1", 1, "acme-large", "error", error_class="rate_limit", input_tokens=1000),
    _attempt("r1", 2, "acme-large", "success", input_tokens=1000, output_tokens=500),
    # r2: a timeout that produced 100 tokens ($0.0012 of usage), then a success
    _attempt(
        "r2", 1, "acme-large", "error", error_class="timeout", input_tokens=1000, output_tokens=100
    ),
    _attempt("r2", 2, "acme-large", "success", input_tokens=1000, output_tokens=500),
    # r3: a server error the gateway reported at $0.5 ($0.001 of usage), then a success
    _attempt(
        "r3", 1, "acme-large", "error", error_class="server_error", input_tokens=1000, cost_usd=0.5
    ),
    _attempt("r3", 2, "acme-large", "success", input_tokens=1000, output_tokens=500),
    # r4: a model no source prices
    _attempt("r4", 1, "mystery-1", "success", provider="initech", input_tokens=10),
    # r5: the dated snapshot fails, the plain name succeeds: a retry, not a fallback
    _attempt(
        "r5",
        1,
        "acme-large-2025-01-01",
        "error",
        error_class="timeout",
        input_tokens=1000,
        output_tokens=100,
    ),
    _attempt("r5", 2, "acme-large", "success", input_tokens=1000, output_tokens=500),
]
OK = 0.002  # a successful attempt
TIMEOUT = 0.0012  # the usage of a timed-out attempt


def _home(tmp_path: Path, toml: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        '[prices]\nauto_catalog = false\noverrides = "overrides.yaml"\n\n' + toml, encoding="utf-8"
    )
    (home / "overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    log = tmp_path / "router.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    r = CliRunner()
    res = r.invoke(main, ["--home", str(home), "prices", "refresh", "--source", "overrides"])
    assert res.exit_code == 0, res.output
    res = r.invoke(main, ["--home", str(home), "ingest", str(log), "--json"])
    assert res.exit_code == 0, res.output
    return home


def _stats(home: Path) -> dict[str, Any]:
    res = CliRunner().invoke(
        main,
        ["--home", str(home), "stats", "--since", "2026-03-01", "--until", "2026-03-31", "--json"],
    )
    assert res.exit_code == 0, res.output
    return dict(json.loads(res.output))


def _costs(home: Path) -> dict[str, tuple[float | None, str]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT attempt_id, cost_usd, cost_basis FROM attempts").fetchall()
    return {a.removeprefix("rl:"): (None if c is None else float(c), b) for a, c, b in rows}


@pytest.mark.parametrize(
    ("toml", "r1_429", "r2_timeout", "r3_server_error"),
    [
        # the default: logged usage, 429 / auth / bad request / context length not billed
        ("", (0.0, "not_billed"), (TIMEOUT, "computed"), (0.001, "computed")),
        # the provider's policy: the gateway's reported cost where it reported one
        (
            '[billing.providers.acme]\nfailed_attempts = "reported"\n',
            (0.0, "not_billed"),
            (TIMEOUT, "computed"),
            (0.5, "reported"),
        ),
        # nothing for any failure
        (
            '[billing]\nfailed_attempts = "none"\n',
            (0.0, "not_billed"),
            (0.0, "not_billed"),
            (0.0, "not_billed"),
        ),
        # every failure billed at its usage, 429s included
        (
            "[billing]\nnot_billed_error_classes = []\n",
            (0.001, "computed"),
            (TIMEOUT, "computed"),
            (0.001, "computed"),
        ),
    ],
    ids=["default", "reported", "none", "bill_everything"],
)
def test_failed_attempts_cost_what_the_billing_policy_says(
    tmp_path: Path,
    toml: str,
    r1_429: tuple[float, str],
    r2_timeout: tuple[float, str],
    r3_server_error: tuple[float, str],
) -> None:
    home = _home(tmp_path, "[metrics]\nmin_price_coverage = 0.7\n" + toml)
    costs = _costs(home)
    for aid, (want, basis) in (
        ("r1-1", r1_429),
        ("r2-1", r2_timeout),
        ("r3-1", r3_server_error),
        ("r5-1", r2_timeout),
    ):
        got, got_basis = costs[aid]
        assert got == pytest.approx(want, abs=1e-12), aid
        assert got_basis == basis, aid
    assert costs["r4-1"] == (None, "unpriced")

    t = _stats(home)["tasks"][0]
    failures = r1_429[0] + r2_timeout[0] + r3_server_error[0] + r2_timeout[0]
    spend = 4 * OK + failures
    assert t["spend_usd"] == pytest.approx(spend, rel=1e-9)
    # over priced requests only: r4 is left out of the numerator and the denominator
    assert t["priced_requests"] == 4 and t["logical_requests"] == 5
    assert t["price_coverage"] == pytest.approx(0.8)
    assert t["cost_per_successful_request_usd"] == pytest.approx(spend / 4, rel=1e-9)
    assert t["cost_unknown_reason"] is None
    assert t["unpriced_attempts"] == 1


def test_cost_per_success_is_unknown_below_the_coverage_threshold(tmp_path: Path) -> None:
    home = _home(tmp_path, "[metrics]\nmin_price_coverage = 0.9\n")
    t = _stats(home)["tasks"][0]
    assert t["price_coverage"] == pytest.approx(0.8)
    assert t["cost_per_successful_request_usd"] is None
    assert t["cost_unknown_reason"] == "only 80% of requests priced"
    assert t["spend_usd"] is not None  # the known part is still shown, with the unpriced count
    unpriced = [m for m in _stats(home)["models"] if m["model"] == "mystery-1"]
    assert unpriced[0]["spend_usd"] is None  # nothing priced: unknown, never $0
    assert unpriced[0]["cost_per_success_usd"] is None
    assert unpriced[0]["cost_unknown_reason"] == "only 0% of attempts priced"


def test_a_dated_snapshot_is_the_same_model(tmp_path: Path) -> None:
    home = _home(tmp_path, "")
    models = {(m["provider"], m["model"]): m for m in _stats(home)["models"]}
    assert set(models) == {("acme", "acme-large"), ("initech", "mystery-1")}
    large = models[("acme", "acme-large")]
    assert large["logged_models"] == ["acme-large", "acme-large-2025-01-01"]
    assert large["attempts"] == 8 and large["successes"] == 4
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        r5 = con.execute(
            "SELECT retried, fell_back, chain FROM logical_requests WHERE logical_request_id LIKE '%r5'"
        ).fetchall()[0]
        snap = con.execute(
            "SELECT served_model, model, model_snapshot FROM attempts WHERE attempt_id = 'rl:r5-1'"
        ).fetchall()[0]
    assert r5 == (True, False, ["acme-large", "acme-large"])
    assert snap == ("acme-large-2025-01-01", "acme-large", "2025-01-01")
