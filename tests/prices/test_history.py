"""Price history in the warehouse: refreshes -> versions, reviews, source status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from app import queries
from collectors import config as config_mod
from collectors import http
from collectors.prices import api, openrouter
from collectors.prices.common import identity, is_skip, prices_of
from collectors.prices.refresh import refresh
from collectors.prices.versions import SINCE_EVER
from collectors.warehouse import Warehouse
from tests.prices.conftest import FIXTURES, PAGES

T1 = datetime(2025, 2, 8, 12, tzinfo=UTC)
T2 = datetime(2026, 8, 19, 12, tzinfo=UTC)
T3 = datetime(2026, 8, 20, 12, tzinfo=UTC)
NAIVE = {T1: T1.replace(tzinfo=None), T2: T2.replace(tzinfo=None), T3: T3.replace(tzinfo=None)}
NO_WAIT = http.RetryPolicy(attempts=2, sleep=lambda _: None)


def at(t: datetime):
    return lambda: t


def rows(cfg, sql: str, params: list | None = None) -> list[dict]:
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def versions(cfg, source: str, provider: str, model: str, variant: str = "standard", tier: int = 0):
    return rows(
        cfg,
        "SELECT * FROM price_versions WHERE source = ? AND provider = ? AND model_id = ? "
        "AND variant = ? AND tier_min_prompt_tokens = ? AND window_start_utc IS NULL "
        "ORDER BY valid_from",
        [source, provider, model, variant, tier],
    )


def by_source(summary) -> dict:
    return {s.source: s for s in summary.sources}


# --- the two real OpenRouter captures -------------------------------------------------------


@pytest.fixture(scope="module")
def openrouter_history(tmp_path_factory):
    home = tmp_path_factory.mktemp("orhome")
    cfg = config_mod.load(home)
    old = FIXTURES / "openrouter_models_2025-02-08.json"
    new = FIXTURES / "openrouter_models.json"
    first = refresh(cfg, from_files={"openrouter": old}, now=at(T1))
    second = refresh(cfg, from_files={"openrouter": new}, now=at(T2))
    return cfg, first, second


def _lists(path: Path) -> dict[tuple[str, str], dict[tuple, tuple]]:
    """Each model's whole price list in a capture: identity -> prices (as the parser reads it)."""
    out: dict[tuple[str, str], dict[tuple, tuple]] = {}
    for o in openrouter.parse(path.read_bytes(), T1):
        if not is_skip(o):
            out.setdefault((o.provider, o.model_id), {})[identity(o)] = prices_of(o)
    return out


def test_changed_price_gets_a_new_version_from_the_second_refresh(openrouter_history):
    cfg, _, _ = openrouter_history
    # deepseek/deepseek-chat: prompt "0.00000014" (2025-02-08) -> "0.0000002574" (2026): x1.84
    v = versions(cfg, "openrouter", "deepseek", "deepseek-chat")
    assert [(x["input_per_mtok"], x["valid_from"], x["valid_to"]) for x in v] == [
        (Decimal("0.14"), SINCE_EVER, NAIVE[T2]),
        (Decimal("0.2574"), NAIVE[T2], None),
    ]
    assert v[0]["first_observed_at"] == NAIVE[T1] and v[1]["first_observed_at"] == NAIVE[T2]


def test_unchanged_price_keeps_one_open_version(openrouter_history):
    cfg, _, _ = openrouter_history
    # openai/gpt-3.5-turbo: prompt "0.0000005", completion "0.0000015" in both captures
    v = versions(cfg, "openrouter", "openai", "gpt-3.5-turbo")
    assert len(v) == 1 and v[0]["valid_to"] is None and v[0]["input_per_mtok"] == Decimal("0.5")
    assert (v[0]["first_observed_at"], v[0]["last_observed_at"]) == (NAIVE[T1], NAIVE[T2])


def test_a_dimension_appearing_is_a_change_without_review(openrouter_history):
    cfg, _, _ = openrouter_history
    # openai/gpt-4o-mini: 2025 has image "0.007225" and no cache key; 2026 drops the image
    # price and adds input_cache_read "0.000000075": same token prices, new price list
    v = versions(cfg, "openrouter", "openai", "gpt-4o-mini")
    assert [(x["cached_input_per_mtok"], x["per_image"], x["valid_to"]) for x in v] == [
        (None, Decimal("0.007225"), NAIVE[T2]),
        (Decimal("0.075"), None, None),
    ]


def test_jumps_beyond_the_factor_are_held_and_the_rest_applied(openrouter_history):
    cfg, _, second = openrouter_history
    old = _lists(FIXTURES / "openrouter_models_2025-02-08.json")
    new = _lists(FIXTURES / "openrouter_models.json")
    jumped, moved = set(), set()
    for model in old.keys() & new.keys():
        if old[model] != new[model]:
            moved.add(model)
        for key in old[model].keys() & new[model].keys():
            for a, b in zip(old[model][key], new[model][key], strict=True):
                if a is None or b is None or a == b:
                    continue
                if a == 0 or b == 0 or not Decimal(1) / 5 <= b / a <= 5:
                    jumped.add(model)
    held = {
        (r["provider"], r["model_id"])
        for r in rows(
            cfg, "SELECT * FROM price_reviews WHERE kind = 'price_jump' AND status = 'pending'"
        )
    }
    assert held == jumped and jumped  # e.g. qwen/qwen-2.5-coder-32b-instruct 0.07 -> 0.66
    assert by_source(second)["openrouter"].changed == len(moved - jumped)
    # a held model keeps its old price in force
    v = versions(cfg, "openrouter", "openrouter", "qwen/qwen-2.5-coder-32b-instruct")
    assert [(x["input_per_mtok"], x["valid_to"]) for x in v] == [(Decimal("0.07"), None)]


def test_vanished_models_are_held_and_keep_their_price(openrouter_history):
    cfg, _, second = openrouter_history
    old = set(_lists(FIXTURES / "openrouter_models_2025-02-08.json"))
    new = set(_lists(FIXTURES / "openrouter_models.json"))
    vanished = {
        (r["provider"], r["model_id"])
        for r in rows(
            cfg, "SELECT * FROM price_reviews WHERE kind = 'vanished' AND status = 'pending'"
        )
    }
    assert vanished == old - new and vanished
    provider, model = sorted(vanished)[0]
    assert all(v["valid_to"] is None for v in versions(cfg, "openrouter", provider, model))
    assert by_source(second)["openrouter"].pending_review == len(vanished) + len(
        rows(cfg, "SELECT 1 FROM price_reviews WHERE kind = 'price_jump' AND status = 'pending'")
    )


# --- the two real Anthropic captures --------------------------------------------------------


def test_anthropic_captures_one_new_model_no_changed_price(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(
        cfg, from_files={"anthropic": PAGES / "anthropic_docs_pricing_2025-11-22.md"}, now=at(T1)
    )
    before = rows(cfg, "SELECT version_id, model_id FROM price_versions")
    second = refresh(
        cfg, from_files={"anthropic": PAGES / "anthropic_docs_pricing_2025-11-25.md"}, now=at(T2)
    )
    after = rows(cfg, "SELECT * FROM price_versions")
    result = by_source(second)["anthropic"]
    assert (result.status, result.changed, result.pending_review) == ("ok", 0, 0)
    assert {r["model_id"] for r in after} - {r["model_id"] for r in before} == {"claude-opus-4-5"}
    assert {r["version_id"] for r in before} <= {r["version_id"] for r in after}
    assert all(r["valid_to"] is None for r in after)
    opus = [r for r in after if r["model_id"] == "claude-opus-4-5"]
    assert {r["first_observed_at"] for r in opus} == {NAIVE[T2]}
    assert rows(cfg, "SELECT * FROM price_reviews") == []


# --- failures, 304 and unchanged bodies ---------------------------------------------------


def test_failing_source_keeps_prices_and_records_the_failure(tmp_path):
    cfg = config_mod.load(tmp_path)
    body = (FIXTURES / "openrouter_models.json").read_bytes()
    ok = httpx.MockTransport(lambda r: httpx.Response(200, content=body, headers={"ETag": '"e1"'}))
    first = by_source(refresh(cfg, ["openrouter"], transport=ok, policy=NO_WAIT, now=at(T1)))
    before = rows(cfg, "SELECT * FROM price_versions ORDER BY version_id")
    broken = httpx.MockTransport(lambda r: httpx.Response(500))
    summary = refresh(cfg, ["openrouter"], transport=broken, policy=NO_WAIT, now=at(T2))
    result = by_source(summary)["openrouter"]
    assert (
        result.status == "failed" and "HTTP 500" in result.error and openrouter.URL in result.error
    )
    assert result.models == first["openrouter"].models > 300  # what it knew before the failure
    assert rows(cfg, "SELECT * FROM price_versions ORDER BY version_id") == before
    status = rows(cfg, "SELECT * FROM price_source_status WHERE source = 'openrouter'")[0]
    assert status["status"] == "failed" and status["last_success_at"] == NAIVE[T1]
    assert status["last_attempt_at"] == NAIVE[T2] and status["models"] == result.models
    assert status["etag"] == '"e1"'  # kept for the next conditional request


def test_not_modified_is_unchanged_and_sends_the_stored_etag(tmp_path):
    cfg = config_mod.load(tmp_path)
    body = (FIXTURES / "openrouter_models.json").read_bytes()
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"e1"':
            return httpx.Response(304)
        return httpx.Response(200, content=body, headers={"ETag": '"e1"'})

    refresh(cfg, ["openrouter"], transport=httpx.MockTransport(handler), now=at(T1))
    summary = refresh(cfg, ["openrouter"], transport=httpx.MockTransport(handler), now=at(T2))
    assert seen == [None, '"e1"']
    assert by_source(summary)["openrouter"].status == "unchanged"
    assert rows(cfg, "SELECT count(DISTINCT refresh_id) AS n FROM price_observations")[0]["n"] == 1


def test_same_body_again_is_unchanged(tmp_path):
    cfg = config_mod.load(tmp_path)
    page = PAGES / "deepseek_pricing_2026-09.html"
    refresh(cfg, from_files={"deepseek": page}, now=at(T1))
    again = refresh(cfg, from_files={"deepseek": page}, now=at(T2))
    assert by_source(again)["deepseek"].status == "unchanged"
    assert by_source(again)["deepseek"].models == 4  # deepseek-flash, its two legacy names, v4-pro


# --- review decisions on synthetic feeds -------------------------------------------------


def _feed(tmp_path: Path, name: str, prices: dict[str, str]) -> Path:
    data = {
        "data": [
            {"id": mid, "canonical_slug": mid, "pricing": {"prompt": p, "completion": "0.000002"}}
            for mid, p in prices.items()
        ]
    }
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_ten_x_jump_is_held_until_confirmed(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(
        cfg,
        from_files={"openrouter": _feed(tmp_path, "a.json", {"acme/x": "0.000001"})},
        now=at(T1),
    )
    second = refresh(
        cfg, from_files={"openrouter": _feed(tmp_path, "b.json", {"acme/x": "0.00001"})}, now=at(T2)
    )
    assert (
        by_source(second)["openrouter"].changed,
        by_source(second)["openrouter"].pending_review,
    ) == (0, 1)
    review = rows(cfg, "SELECT * FROM price_reviews")[0]
    assert review["kind"] == "price_jump" and "x10" in review["detail"]
    assert [v["input_per_mtok"] for v in versions(cfg, "openrouter", "openrouter", "acme/x")] == [
        Decimal(1)
    ]
    shown = api.show(cfg, "openrouter/acme/x", now=T3)
    assert shown["current"][0]["input_per_mtok"] == 1.0 and shown["pending_review"]

    decided = api.confirm(cfg, "openrouter/acme/x", "openrouter", decided_by="tester", now=at(T3))
    assert decided["decision"] == "confirmed" and len(decided["reviews"]) == 1
    v = versions(cfg, "openrouter", "openrouter", "acme/x")
    assert [(x["input_per_mtok"], x["valid_from"], x["valid_to"]) for x in v] == [
        (Decimal(1), SINCE_EVER, NAIVE[T2]),
        (Decimal(10), NAIVE[T2], None),  # from the first observation of the new price
    ]
    assert rows(cfg, "SELECT pending_review FROM price_source_status")[0]["pending_review"] == 0


def test_rejected_jump_stays_rejected_on_later_refreshes(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(
        cfg,
        from_files={"openrouter": _feed(tmp_path, "a.json", {"acme/x": "0.000001"})},
        now=at(T1),
    )
    jumped = _feed(tmp_path, "b.json", {"acme/x": "0.00001"})
    refresh(cfg, from_files={"openrouter": jumped}, now=at(T2))
    api.confirm(cfg, "openrouter/acme/x", reject=True, decided_by="tester", now=at(T2))
    third = _feed(tmp_path, "c.json", {"acme/x": "0.00001", "acme/y": "0.000001"})  # new body
    summary = refresh(cfg, from_files={"openrouter": third}, now=at(T3))
    assert by_source(summary)["openrouter"].pending_review == 0
    assert [v["input_per_mtok"] for v in versions(cfg, "openrouter", "openrouter", "acme/x")] == [
        Decimal(1)
    ]
    assert rows(cfg, "SELECT status FROM price_reviews") == [{"status": "rejected"}]


def test_vanished_model_confirmed_ends_its_version(tmp_path):
    cfg = config_mod.load(tmp_path)
    both = {"acme/x": "0.000001", "acme/y": "0.000002"}
    refresh(cfg, from_files={"openrouter": _feed(tmp_path, "a.json", both)}, now=at(T1))
    refresh(
        cfg,
        from_files={"openrouter": _feed(tmp_path, "b.json", {"acme/x": "0.000001"})},
        now=at(T2),
    )
    assert versions(cfg, "openrouter", "openrouter", "acme/y")[0]["valid_to"] is None
    api.confirm(cfg, "openrouter/acme/y", decided_by="tester", now=at(T3))
    assert versions(cfg, "openrouter", "openrouter", "acme/y")[0]["valid_to"] == NAIVE[T2]


def test_confirm_without_a_pending_review_is_an_error(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(
        cfg,
        from_files={"openrouter": _feed(tmp_path, "a.json", {"acme/x": "0.000001"})},
        now=at(T1),
    )
    with pytest.raises(api.InputError, match="no pending price review"):
        api.confirm(cfg, "openrouter/acme/x")


# --- overrides --------------------------------------------------------------------------


def test_overrides_discount_splits_versions_and_own_prices_rank_first(tmp_path):
    (tmp_path / "price_overrides.yaml").write_text(
        "discounts:\n  - provider: anthropic\n    percent: 10\n    valid_from: 2025-06-01\n"
        "prices:\n  - provider: anthropic\n    model: claude-haiku-4-5\n"
        "    input_per_mtok: 0.8\n    output_per_mtok: 4\n",
        encoding="utf-8",
    )
    cfg = config_mod.load(tmp_path)
    refresh(
        cfg,
        ["overrides"],
        from_files={"anthropic": PAGES / "anthropic_docs_pricing_2025-11-22.md"},
        now=at(T1),
    )
    sonnet = versions(cfg, "anthropic", "anthropic", "claude-sonnet-4-5")
    june = datetime(2025, 6, 1)
    assert [(v["discount_pct"], v["valid_from"], v["valid_to"]) for v in sonnet] == [
        (None, SINCE_EVER, june),
        (Decimal(10), june, None),
    ]
    assert {v["input_per_mtok"] for v in sonnet} == {
        Decimal(3)
    }  # list price kept; discount beside it
    haiku = api.show(cfg, "claude-haiku-4-5", now=T2)["current"]
    assert (haiku[0]["source"], haiku[0]["input_per_mtok"], haiku[0]["discount_pct"]) == (
        "override",
        0.8,
        None,
    )


def test_malformed_overrides_fail_that_source_only(tmp_path):
    (tmp_path / "price_overrides.yaml").write_text("prices: [{provider: x}]\n", encoding="utf-8")
    cfg = config_mod.load(tmp_path)
    summary = refresh(cfg, ["overrides", "catalog"], now=at(T1))
    result = by_source(summary)
    assert result["overrides"].status == "failed" and "prices[0].model" in result["overrides"].error
    assert result["catalog"].status == "ok" and result["catalog"].models > 1000


# --- a source's first reading of a model against the price in force (issue 15, item 5) ----


def _litellm_map(tmp_path: Path, name: str, zero: bool) -> Path:
    """The recorded LiteLLM entry of gpt-4.1-nano ($0.10 / $0.40, as the catalog has it), or
    the same entry with every cost set to 0 (the map that took effect at once)."""
    entry = json.loads((FIXTURES / "litellm_model_prices.json").read_bytes())["gpt-4.1-nano"]
    if zero:
        entry = {k: (0 if "cost" in k else v) for k, v in entry.items()}
    path = tmp_path / name
    path.write_text(json.dumps({"gpt-4.1-nano": entry}), encoding="utf-8")
    return path


def _standard(cfg, source: str) -> list[tuple]:
    return [
        (v["input_per_mtok"], v["output_per_mtok"], v["valid_from"], v["valid_to"])
        for v in versions(cfg, source, "openai", "gpt-4.1-nano")
    ]


def test_first_reading_of_zero_against_the_catalog_is_held_until_confirmed(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(cfg, ["catalog"], now=at(T1))
    assert api.show(cfg, "gpt-4.1-nano", now=T2)["current"][0]["input_per_mtok"] == 0.1

    summary = refresh(
        cfg, from_files={"litellm": _litellm_map(tmp_path, "zero.json", True)}, now=at(T2)
    )
    result = by_source(summary)["litellm"]
    assert (result.status, result.changed, result.pending_review) == ("ok", 0, 1)
    review = rows(cfg, "SELECT * FROM price_reviews")[0]
    assert (review["source"], review["provider"], review["model_id"]) == (
        "litellm",
        "openai",
        "gpt-4.1-nano",
    )
    assert (review["kind"], review["status"], review["detected_at"]) == (
        "first_reading",
        "pending",
        NAIVE[T2],
    )
    assert "catalog" in review["detail"] and "zero" in review["detail"], review["detail"]
    # held: litellm has no version, the catalog's price stays in force
    assert _standard(cfg, "litellm") == []
    assert _standard(cfg, "catalog") == [(Decimal("0.1"), Decimal("0.4"), SINCE_EVER, None)]
    shown = api.show(cfg, "gpt-4.1-nano", now=T3)
    assert (shown["current"][0]["source"], shown["current"][0]["input_per_mtok"]) == (
        "catalog",
        0.1,
    )
    assert [(p["source"], p["kind"]) for p in shown["pending_review"]] == [
        ("litellm", "first_reading")
    ]
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        page = queries.pending_reviews(con)  # the Prices page's table of held changes
    assert list(zip(page["source"], page["model_id"], page["kind"], strict=True)) == [
        ("litellm", "gpt-4.1-nano", "first_reading")
    ]

    # a later refresh of the same map keeps it held (one review, not one per refresh)
    again = refresh(
        cfg,
        ["catalog"],
        from_files={"litellm": _litellm_map(tmp_path, "z2.json", True)},
        now=at(T3),
    )
    assert by_source(again)["litellm"].pending_review == 1
    assert len(rows(cfg, "SELECT * FROM price_reviews")) == 1 and _standard(cfg, "litellm") == []

    decided = api.confirm(cfg, "gpt-4.1-nano", "litellm", decided_by="tester", now=at(T3))
    assert decided["decision"] == "confirmed" and len(decided["reviews"]) == 1
    assert _standard(cfg, "litellm") == [(Decimal(0), Decimal(0), SINCE_EVER, None)]
    shown = api.show(cfg, "gpt-4.1-nano", now=T3)
    assert (shown["current"][0]["source"], shown["current"][0]["input_per_mtok"]) == (
        "litellm",
        0.0,
    )
    assert shown["pending_review"] == []
    assert rows(cfg, "SELECT pending_review FROM price_source_status WHERE source = 'litellm'") == [
        {"pending_review": 0}
    ]


def test_first_reading_rejected_stays_out(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(cfg, ["catalog"], now=at(T1))
    zero = _litellm_map(tmp_path, "zero.json", True)
    refresh(cfg, from_files={"litellm": zero}, now=at(T2))
    api.confirm(cfg, "gpt-4.1-nano", "litellm", reject=True, decided_by="tester", now=at(T2))
    refresh(cfg, ["catalog"], from_files={"litellm": zero}, now=at(T3))
    assert _standard(cfg, "litellm") == []
    assert rows(cfg, "SELECT status FROM price_reviews") == [{"status": "rejected"}]


def test_first_reading_within_the_factor_is_applied_at_once(tmp_path):
    cfg = config_mod.load(tmp_path)
    refresh(cfg, ["catalog"], now=at(T1))
    summary = refresh(
        cfg, from_files={"litellm": _litellm_map(tmp_path, "real.json", False)}, now=at(T2)
    )
    assert by_source(summary)["litellm"].pending_review == 0
    assert rows(cfg, "SELECT * FROM price_reviews") == []
    assert _standard(cfg, "litellm") == [(Decimal("0.1"), Decimal("0.4"), SINCE_EVER, None)]
    assert api.show(cfg, "gpt-4.1-nano", now=T3)["current"][0]["source"] == "litellm"


def test_first_reading_beyond_the_factor_up_is_held_too(tmp_path):
    """x6 against the catalog's $0.10 (the factor is 5): held, whichever way it moves."""
    cfg = config_mod.load(tmp_path)
    refresh(cfg, ["catalog"], now=at(T1))
    path = _litellm_map(tmp_path, "real.json", False)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["gpt-4.1-nano"]["input_cost_per_token"] = 6e-07
    path.write_text(json.dumps(data), encoding="utf-8")
    summary = refresh(cfg, from_files={"litellm": path}, now=at(T2))
    assert by_source(summary)["litellm"].pending_review == 1
    assert "x6" in rows(cfg, "SELECT detail FROM price_reviews")[0]["detail"]
    assert _standard(cfg, "litellm") == []


def test_overrides_first_reading_is_never_held(tmp_path):
    (tmp_path / "price_overrides.yaml").write_text(
        "prices:\n  - provider: openai\n    model: gpt-4.1-nano\n"
        "    input_per_mtok: 0\n    output_per_mtok: 0\n",
        encoding="utf-8",
    )
    cfg = config_mod.load(tmp_path)
    refresh(cfg, ["catalog"], now=at(T1))
    summary = refresh(cfg, ["overrides"], now=at(T2))
    assert by_source(summary)["overrides"].pending_review == 0
    assert _standard(cfg, "override") == [(Decimal(0), Decimal(0), SINCE_EVER, None)]


def test_sources_read_together_on_a_new_warehouse_are_applied(tmp_path):
    """Nothing is in force before the first refresh: no first reading is held against a price
    read in the same run (the fault tests' clean run of every source relies on it)."""
    cfg = config_mod.load(tmp_path)
    summary = refresh(
        cfg, ["catalog"], from_files={"litellm": _litellm_map(tmp_path, "z.json", True)}, now=at(T1)
    )
    assert by_source(summary)["litellm"].pending_review == 0
    assert _standard(cfg, "litellm") == [(Decimal(0), Decimal(0), SINCE_EVER, None)]


def test_an_applied_first_reading_is_not_held_later_by_a_newly_read_lower_source(tmp_path):
    """Judged once, against what was in force when it was read: loading the catalog after
    LiteLLM never takes back a price LiteLLM has been pricing with."""
    cfg = config_mod.load(tmp_path)
    refresh(cfg, from_files={"litellm": _litellm_map(tmp_path, "z.json", True)}, now=at(T1))
    summary = refresh(cfg, ["catalog"], now=at(T2))
    assert all(s.pending_review == 0 for s in summary.sources)
    assert _standard(cfg, "litellm") == [(Decimal(0), Decimal(0), SINCE_EVER, None)]
    assert rows(cfg, "SELECT * FROM price_reviews") == []


def test_a_held_change_that_comes_back_is_pending_again(tmp_path):
    """1 -> 10 (held) -> 1 (the held change is moot: superseded) -> 10 again: held *and*
    pending, never held with no review to confirm."""
    cfg = config_mod.load(tmp_path)
    t4 = datetime(2026, 8, 21, 12, tzinfo=UTC)
    for i, (t, p) in enumerate(
        [(T1, "0.000001"), (T2, "0.00001"), (T3, "0.000001"), (t4, "0.00001")]
    ):
        feed = _feed(tmp_path, f"f{i}.json", {"acme/x": p, "acme/y": f"0.00000{i + 1}"})
        summary = refresh(cfg, from_files={"openrouter": feed}, now=at(t))
    assert by_source(summary)["openrouter"].pending_review == 1
    assert [r["status"] for r in rows(cfg, "SELECT status FROM price_reviews")] == ["pending"]
    api.confirm(cfg, "openrouter/acme/x", decided_by="tester", now=at(t4))
    assert [v["input_per_mtok"] for v in versions(cfg, "openrouter", "openrouter", "acme/x")] == [
        Decimal(1),
        Decimal(10),
    ]
