"""Why spend moved: the change of the week's known spend split into requests, retries and
failures, model mix, price changes, cache, request size and unpriced attempts, whose parts add
up to the change exactly (docs/reports.md), on constructed weeks whose answers are known, on
random ones, and through the real pipeline with a price change and a cache."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.demo.build import BuildResult
from app.reports import build
from collectors import config
from collectors.pipeline import ingest, refresh_prices
from tests.demo.conftest import demo  # noqa: F401  (the session's small demo home)

WEEK, PREV = (date(2026, 3, 2), date(2026, 3, 8)), (date(2026, 2, 23), date(2026, 3, 1))


def row(this_week: bool, model: str, attempts: int, spend: str, *, priced: int | None = None,
        saved: float = 0.0, before: float | None = None, repriced: int = 0) -> dict[str, Any]:  # fmt: skip
    """One model's week as ``queries.spend_drivers`` gives it."""
    cost = Decimal(spend)
    return {
        "this_week": this_week,
        "provider": "p",
        "model": model,
        "attempts": attempts,
        "priced_attempts": attempts if priced is None else priced,
        "spend_usd": cost,
        "cache_saved_usd": saved,
        "gross_week_before_usd": float(cost) + saved if before is None else before,
        "repriced_attempts": repriced,
    }


def parts(d: dict[str, Any]) -> dict[str, Decimal]:
    return {p["part"]: p["usd"] for p in d["parts"]}


def only(d: dict[str, Any], part: str) -> None:
    """All of the change is ``part``; every other part is exactly zero."""
    got = parts(d)
    assert got[part] == d["change_usd"] != 0, got
    assert all(v == 0 for k, v in got.items() if k != part), got


def test_the_parts_are_the_seven_factors_in_order() -> None:
    d = build.drivers([row(False, "a", 10, "1"), row(True, "a", 10, "1")], 10, 10)
    assert [p["part"] for p in d["parts"]] == [k for k, _ in build.PARTS] == [
        "volume", "retries_failures", "model_mix", "prices", "cache", "request_size", "unpriced",
    ]  # fmt: skip
    assert d["change_usd"] == 0 and all(v == 0 for v in parts(d).values())


def test_twice_the_requests_is_all_volume() -> None:
    d = build.drivers([row(False, "a", 120, "1.2"), row(True, "a", 240, "2.4")], 100, 200)
    only(d, "volume")
    assert d["change_usd"] == Decimal("1.2")


def test_more_attempts_per_request_is_retries_and_failures() -> None:
    d = build.drivers([row(False, "a", 100, "1.0"), row(True, "a", 130, "1.3")], 100, 100)
    only(d, "retries_failures")


def test_the_same_attempts_at_new_prices_is_price_changes() -> None:
    # this week's attempts cost 1.8, and 1.2 at the prices in force a week earlier
    cur = row(True, "a", 100, "1.8", before=1.2, repriced=100)
    d = build.drivers([row(False, "a", 100, "1.2"), cur], 100, 100)
    only(d, "prices")
    assert parts(d)["prices"] == Decimal("0.6")


def test_what_a_cache_saved_is_cache() -> None:
    # the same attempts would have cost 1.2 before any cache; caching saved 0.3 of it
    d = build.drivers(
        [row(False, "a", 100, "1.2"), row(True, "a", 100, "0.9", saved=0.3)], 100, 100
    )
    only(d, "cache")
    assert parts(d)["cache"] == Decimal("-0.3")


def test_larger_requests_on_the_same_model_are_request_size() -> None:
    d = build.drivers([row(False, "a", 100, "1.0"), row(True, "a", 100, "1.5")], 100, 100)
    only(d, "request_size")


def test_moving_traffic_to_a_cheaper_model_is_model_mix() -> None:
    prev = [row(False, "big", 80, "8.0"), row(False, "small", 20, "0.2")]
    cur = [row(True, "big", 20, "2.0"), row(True, "small", 80, "0.8")]
    d = build.drivers(prev + cur, 100, 100)
    only(d, "model_mix")
    assert parts(d)["model_mix"] == Decimal("-5.4")
    shift = next(p for p in d["parts"] if p["part"] == "model_mix")["shifts"][0]
    assert {shift["share"], shift["prev_share"]} == {0.2, 0.8}


def test_a_new_model_is_model_mix_and_a_week_without_traffic_is_volume() -> None:
    d = build.drivers([row(False, "a", 100, "1"), row(True, "a", 50, "0.5"),
                       row(True, "new", 50, "2.5")], 100, 100)  # fmt: skip
    only(d, "model_mix")
    d = build.drivers([row(True, "a", 100, "1.5")], 0, 100)
    only(d, "volume")
    d = build.drivers([row(False, "a", 100, "1.5")], 100, 0)
    only(d, "volume")
    assert d["change_usd"] == Decimal("-1.5")


def test_fewer_attempts_priced_is_unpriced() -> None:
    d = build.drivers(
        [row(False, "a", 100, "1.0"), row(True, "a", 100, "0.5", priced=50)], 100, 100
    )
    only(d, "unpriced")


money = st.decimals(min_value=0, max_value=1000, places=12, allow_nan=False)


@st.composite
def weeks(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int, int]:
    out = []
    n = [draw(st.integers(0, 500)), draw(st.integers(0, 500))]
    for this_week in (False, True):
        if not n[this_week]:
            continue
        for m in draw(st.sets(st.sampled_from("abcde"), min_size=1)):
            attempts = draw(st.integers(1, 400))
            priced = draw(st.integers(0, attempts))
            spend = draw(money) if priced else Decimal(0)
            saved = draw(st.floats(0, 50)) if priced else 0.0
            # this week's attempts at last week's prices: prices moved up to 10x either way
            before = (float(spend) + saved) * draw(st.floats(0.1, 10)) if priced else 0.0
            out.append(row(this_week, m, attempts, str(spend), priced=priced, saved=saved,
                           before=before))  # fmt: skip
    return out, n[0], n[1]


@settings(max_examples=60, deadline=None)
@given(weeks())
def test_the_parts_always_add_up_to_the_change_exactly(case: Any) -> None:
    rows, prev_n, n = case
    d = build.drivers(rows, prev_n, n)
    total = sum((r["spend_usd"] for r in rows if r["this_week"]), Decimal(0)) - sum(
        (r["spend_usd"] for r in rows if not r["this_week"]), Decimal(0)
    )
    assert d["change_usd"] == total
    assert sum(p["usd"] for p in d["parts"]) == total  # exactly, in Decimal
    assert all(p["usd"] == p["usd"].quantize(Decimal("1e-12")) for p in d["parts"])


# -- through the real pipeline -------------------------------------------------------------------

OVERRIDES = """\
prices:
  - provider: selfhosted
    model: llama-x
    input_per_mtok: 1.0
    cached_input_per_mtok: 0.1
    output_per_mtok: 2.0
    valid_from: 2026-01-01
  - provider: selfhosted
    model: llama-x
    input_per_mtok: 2.0
    cached_input_per_mtok: 0.2
    output_per_mtok: 4.0
    valid_from: 2026-03-02
"""


def _attempts() -> list[dict[str, Any]]:
    """50 single-attempt requests a week: 1,000 input and 100 output tokens each; this week 400
    of the input tokens are prompt-cache reads and 5 requests are gateway cache hits."""
    out = []
    for week, first in enumerate((date(2026, 2, 23), date(2026, 3, 2))):
        for i in range(50):
            start = datetime.combine(first + timedelta(days=i % 7), datetime.min.time(), UTC)
            start += timedelta(hours=10, minutes=i)
            row = {
                "attempt_id": f"w{week}-{i}",
                "started_at": start.isoformat().replace("+00:00", "Z"),
                "ended_at": (start + timedelta(seconds=1)).isoformat().replace("+00:00", "Z"),
                "provider": "selfhosted",
                "model": "llama-x",
                "task": "chat",
                "input_tokens": 1000,
                "cached_input_tokens": 400 if week else 0,
                "output_tokens": 100,
                "status": "success",
            }
            if week and i < 5:
                row["gateway_cache_hit"] = True
            out.append(row)
    return out


@pytest.fixture(scope="module")
def priced_cfg(tmp_path_factory: pytest.TempPathFactory) -> config.Config:
    home = tmp_path_factory.mktemp("why") / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        '[calendar]\ntimezone = "Europe/Berlin"\n\n[prices]\nauto_catalog = false\n',
        encoding="utf-8",
    )
    (home / "price_overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    log = home / "logs" / "router.jsonl"
    log.parent.mkdir()
    log.write_text("".join(json.dumps(r) + "\n" for r in _attempts()), encoding="utf-8")
    cfg = config.load(home)
    refresh_prices(cfg, ["overrides"])
    ingest(cfg, [str(log)])
    return cfg


def test_a_price_rise_and_a_cache_through_the_pipeline(priced_cfg: config.Config) -> None:
    report = build.build(priced_cfg, build.parse_week("2026-W10", priced_cfg.week_start))
    d, t = report["drivers"], report["totals"]
    # last week: 50 x (1,000 x $1 + 100 x $2) / 1M; this week 45 x (600 x $2 + 400 x $0.2 +
    # 100 x $4) / 1M and 5 cache hits at $0
    assert t["prev"]["spend_usd"] == Decimal("0.06") == d["prev_spend_usd"]
    assert t["spend_usd"] == Decimal("0.0756") == d["spend_usd"]
    assert d["change_usd"] == t["spend_usd"] - t["prev"]["spend_usd"]
    assert sum(p["usd"] for p in d["parts"]) == d["change_usd"]
    got = {k: float(v) for k, v in parts(d).items()}
    # spend = 0.06 x price factor (2) x (1 - share cached (0.37)); each factor's Shapley value:
    # prices ((0.12 - 0.06) + (0.0756 - 0.0378)) / 2, cache ((0.0378 - 0.06) + (0.0756 - 0.12)) / 2
    assert got["prices"] == pytest.approx(0.0489, abs=1e-9)
    assert got["cache"] == pytest.approx(-0.0333, abs=1e-9)
    assert all(abs(v) < 1e-9 for k, v in got.items() if k not in ("prices", "cache")), got
    prices = next(p for p in d["parts"] if p["part"] == "prices")
    assert prices["repriced_attempts"] == 50 and prices["models"] == ["llama-x (selfhosted)"]
    cache = next(p for p in d["parts"] if p["part"] == "cache")
    assert cache["saved_usd"] == pytest.approx(0.0444) and cache["prev_saved_usd"] == 0
    why = report["summary"]["lines"][1]
    assert why == "Why: +$0.0489 price changes, -$0.0333 cache.", why


def test_the_report_parts_add_up_to_the_weeks_change(built_home: Path) -> None:
    cfg = config.load(built_home)
    report = build.build(cfg, build.parse_week("2026-W10", cfg.week_start))
    t, d = report["totals"], report["drivers"]
    change = t["spend_usd"] - t["prev"]["spend_usd"]
    assert d["change_usd"] == change != 0
    assert sum(p["usd"] for p in d["parts"]) == change  # exactly
    # the known changes of these weeks: far more retries on debugging, no price or cache
    got = parts(d)
    assert got["retries_failures"] > 0 and got["prices"] == 0 and got["cache"] == 0


def test_the_demo_weeks_parts_add_up_with_real_prices(
    demo: BuildResult,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The demo month: prices from the bundled sources, tiers, prompt caching, failures billed
    by policy; every week's parts add up to its change exactly."""
    home = tmp_path_factory.mktemp("why-demo") / "home"
    shutil.copytree(demo.home, home)
    cfg = config.load(home)
    for week in ("2026-W44", "2026-W45"):
        report = build.build(cfg, build.parse_week(week, cfg.week_start))
        t, d = report["totals"], report["drivers"]
        assert d["spend_usd"] == t["spend_usd"] and d["prev_spend_usd"] == t["prev"]["spend_usd"]
        assert sum(p["usd"] for p in d["parts"]) == d["change_usd"], week
        cache = next(p for p in d["parts"] if p["part"] == "cache")
        assert cache["saved_usd"] > 0, week  # the demo's gateways cache and read cached prompts
        assert report["summary"]["lines"][1].startswith("Why: ")
