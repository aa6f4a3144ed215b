"""The Tokens and cache page under AppTest: on a small home with known prices (a price override
with an input and a cached-input price, a discount) and a routing manifest with output caps,
its figures equal a hand computation (cache hit rate, what the prompt cache saved, the gateway's
cache, answers at the cap); on the dashboard's fixture warehouse, its totals equal the marts."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from app import money, ui
from app.cli import main
from tests.app.test_explorer import card, charts, values
from tests.app.test_pages import assert_clean, metric, open_app, window

PAGE = "views/tokens.py"
DAY = date(2026, 3, 3)
# acme-large from a LiteLLM map (a list price: the negotiated discount applies to it; an
# override price is taken as already negotiated), acme-small from an override
LITELLM_MAP = {
    "acme-large": {
        "mode": "chat",
        "litellm_provider": "acme",
        "input_cost_per_token": 2.0e-6,
        "cache_read_input_token_cost": 0.5e-6,
        "output_cost_per_token": 8.0e-6,
    }
}
OVERRIDES = """prices:
  - provider: acme
    model: acme-small
    input_per_mtok: 1.0
    output_per_mtok: 4.0
discounts:
  - provider: acme
    model: acme-large
    percent: 10
"""
MANIFEST = """routing:
  max_output_tokens:
    extract: 2000
providers:
  - name: acme-large
  - name: acme-small
tasks:
  summarize:
    chain: [acme-large, acme-small]
    max_output_tokens: 1024
"""


def _attempt(rid: str, i: int, model: str, task: str, **kw: Any) -> dict[str, Any]:
    minute = int(rid[1:]) * 11 + i  # from 09:12 UTC (10:12 in Berlin) to 10:17 UTC
    return {
        "attempt_id": f"{rid}-{i}",
        "logical_request_id": rid,
        "attempt_index": i,
        "started_at": f"{DAY}T{9 + minute // 60:02d}:{minute % 60:02d}:00Z",
        "ended_at": f"{DAY}T{9 + minute // 60:02d}:{minute % 60:02d}:02Z",
        "provider": kw.pop("provider", "acme"),
        "model": model,
        "task": task,
        "status": kw.pop("status", "success"),
        **kw,
    }


# input_tokens count the cached ones (the default, as OpenAI reports them)
ROWS = [
    _attempt("r1", 1, "acme-large", "summarize", input_tokens=10000, cached_input_tokens=4000,
             output_tokens=500),
    # a 429 (not billed: its cache read saved nothing), then an answer exactly at the cap
    _attempt("r2", 1, "acme-large", "summarize", status="error", error_class="rate_limit",
             input_tokens=3000, cached_input_tokens=1000, output_tokens=0),
    _attempt("r2", 2, "acme-large", "summarize", input_tokens=3000, cached_input_tokens=2000,
             output_tokens=1024),
    # no cached price: a cache read costs the input price, nothing saved
    _attempt("r3", 1, "acme-small", "summarize", input_tokens=5000, cached_input_tokens=1000,
             output_tokens=200),
    # no price anywhere: its cache read is counted, not valued
    _attempt("r4", 1, "mystery-1", "chat", provider="initech", input_tokens=2000,
             cached_input_tokens=1500, output_tokens=100),
    # answered from the gateway's cache: $0, left out of the token figures
    _attempt("r5", 1, "acme-large", "summarize", input_tokens=8000, output_tokens=300,
             gateway_cache_hit=True),
    _attempt("r6", 1, "acme-small", "extract", input_tokens=4000, output_tokens=2048),
    _attempt("r7", 1, "acme-large", "extract", input_tokens=1000, output_tokens=100),
]  # fmt: skip
DISCOUNT = 0.9
SAVED = (4000 + 2000) * (2.0 - 0.5) / 1e6 * DISCOUNT  # r1 and r2's answer
GATEWAY_SAVED = (8000 * 2.0 + 300 * 8.0) / 1e6 * DISCOUNT  # r5 at the price in force


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tokens")
    home = root / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        '[calendar]\ntimezone = "Europe/Berlin"\n\n'
        '[prices]\nauto_catalog = false\noverrides = "overrides.yaml"\n\n'
        '[tuner]\nmanifest = "manifest.yaml"\n',
        encoding="utf-8",
    )
    (home / "overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    (home / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    log = root / "router.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    prices = root / "litellm.json"
    prices.write_text(json.dumps(LITELLM_MAP), encoding="utf-8")
    r = CliRunner()
    res = r.invoke(
        main,
        ["--home", str(home), "prices", "refresh", "--source", "overrides", "--source",
         "litellm", "--from-file", f"litellm={prices}", "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert all(s["status"] == "ok" for s in json.loads(res.output)["sources"]), res.output
    res = r.invoke(main, ["--home", str(home), "ingest", str(log), "--json"])
    assert res.exit_code == 0, res.output
    return home


def tokens_page(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    at = open_app(home, monkeypatch, PAGE)
    assert_clean(at)
    return at


def sent(key: str) -> int:
    """The sum of a log field over the attempts sent to a provider (no gateway cache hit)."""
    return sum(int(r.get(key, 0)) for r in ROWS if not r.get("gateway_cache_hit"))


def test_the_fixture_prices_what_the_hand_computation_assumes(home: Path) -> None:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        got = dict(
            con.execute(
                "SELECT attempt_id, cost_usd FROM attempts WHERE attempt_id LIKE '%r1-1'"
            ).fetchall()
        )
    # 6000 fresh at $2, 4000 cached at $0.5, 500 out at $8, 10% off
    assert float(next(iter(got.values()))) == pytest.approx(
        (6000 * 2.0 + 4000 * 0.5 + 500 * 8.0) / 1e6 * DISCOUNT
    )


def test_cache_figures_equal_a_hand_computation(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = tokens_page(home, monkeypatch)
    prompt, cached = sent("input_tokens"), sent("cached_input_tokens")
    assert metric(at, "Prompt tokens") == f"{prompt:,}"
    assert metric(at, "Output tokens") == f"{sent('output_tokens'):,}"
    assert metric(at, "Prompt-cache hit rate") == ui.pct(cached / prompt)
    # the unpriced model's cache read is counted beside the known saving, never as $0
    assert card(at, "Prompt cache saved") == money.spend_text(SAVED, 1)
    assert card(at, "Prompt cache saved") == "$0.008100 + 1 unpriced attempt"
    assert metric(at, "Gateway cache hits") == ui.pct(1 / len(ROWS))

    per_model = next(d.value for d in at.dataframe if d.value.columns[0] == "model")
    per_model = per_model.set_index("model")
    assert per_model.loc["acme-large", "prompt_cache_saved_usd"] == pytest.approx(SAVED)
    assert per_model.loc["acme-large", "gateway_cache_saved_usd"] == pytest.approx(GATEWAY_SAVED)
    assert per_model.loc["acme-large", "gateway_cache_hits"] == 1
    assert per_model.loc["acme-small", "prompt_cache_saved_usd"] == 0  # no cached price
    assert pd.isna(per_model.loc["mystery-1", "prompt_cache_saved_usd"])  # unpriced, not $0
    assert per_model.loc["mystery-1", "cached_unpriced_attempts"] == 1
    assert per_model.loc["acme-large", "cache_hit_rate"] == pytest.approx(
        (4000 + 1000 + 2000) / (10000 + 3000 + 3000 + 1000)
    )


def test_answers_at_the_cap_equal_a_hand_count(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = tokens_page(home, monkeypatch)
    # summarize (cap 1024 from tasks.summarize): r1, r2's answer (at the cap), r3; r5 is a
    # gateway cache hit and r2's 429 returned nothing. extract (cap 2000 from routing): r6 at
    # the cap, r7. chat has no cap.
    assert metric(at, "Answers that reached their task's cap") == ui.pct(2 / 5)
    caps = next(d.value for d in at.dataframe if "max_output_tokens" in d.value.columns)
    rows = {(r.task, r.model): r for r in caps.itertuples()}
    assert rows[("summarize", "(all models)")].max_output_tokens == 1024
    assert (
        rows[("summarize", "(all models)")].answers,
        rows[("summarize", "(all models)")].at_cap,
    ) == (3, 1)
    assert rows[("summarize", "acme-large")].at_cap == 1
    assert rows[("summarize", "acme-small")].at_cap == 0
    assert rows[("extract", "(all models)")].max_output_tokens == 2000
    assert rows[("extract", "acme-small")].cap_hit_rate == 1.0
    assert rows[("extract", "acme-large")].cap_hit_rate == 0.0
    assert pd.isna(rows[("chat", "(all models)")].max_output_tokens)
    assert pd.isna(rows[("chat", "(all models)")].at_cap)  # no cap: not "0 at the cap"


def test_a_short_range_is_charted_per_local_hour(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = tokens_page(home, monkeypatch)
    assert window(at) == (DAY, DAY)  # the data is one day
    assert "Tokens per local hour" in [h.value for h in at.subheader]
    chart = next(c for c in charts(at) if c["layout"].get("barmode") == "stack")
    fresh = next(t for t in chart["data"] if t.get("name") == "input (fresh)")
    got = {
        datetime.fromisoformat(x): y
        for x, y in zip(values(fresh["x"]), values(fresh["y"]), strict=True)
    }
    want: dict[datetime, int] = {}
    for r in ROWS:  # Berlin is UTC+1 in March
        if not r.get("gateway_cache_hit"):
            hour = datetime(2026, 3, 3, int(r["started_at"][11:13]) + 1)
            fresh_input = r["input_tokens"] - r.get("cached_input_tokens", 0)
            want[hour] = want.get(hour, 0) + fresh_input
    assert got == want and len(want) == 2


def test_totals_equal_the_marts_on_the_dashboard_fixture(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, PAGE)
    at.multiselect(key="rl_tasks").set_value(["extract"]).run()
    assert_clean(at)
    since, until = window(at)
    with duckdb.connect(str(dashboard_home / "warehouse.duckdb"), read_only=True) as con:
        prompt, out, cached = con.execute(
            "SELECT sum(prompt_tokens), sum(output_tokens), sum(cache_read_tokens) FROM attempts "
            "WHERE local_day BETWEEN ? AND ? AND task = 'extract' AND NOT gateway_cache_hit",
            [since, until],
        ).fetchone()
    assert metric(at, "Prompt tokens") == f"{int(prompt):,}"
    assert metric(at, "Output tokens") == f"{int(out):,}"
    assert metric(at, "Prompt-cache hit rate") == ui.pct(cached / prompt)
    assert "No routing manifest" in " ".join(c.value for c in at.caption)
