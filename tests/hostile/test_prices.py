"""Hostile price sources through ``routeledger prices refresh --from-file``: a hostile entry is
rejected with a note (or not emitted at all), a broken document fails its source with one clear
line and the last known prices stay in force, and no bogus price is ever stored."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from collectors.prices.common import MAX_PER_MTOK, MAX_PER_UNIT, PRICE_FIELDS
from tests.hostile.conftest import make_home, run_json, warehouse
from tests.hostile.corpus import generated_files
from tests.hostile.corpus_inputs import price_files
from tests.hostile.payloads import CORPUS

FILES = {f.name: f for f in price_files()}
HOSTILE = {f.meta["source"]: f.name for f in FILES.values() if "good" in f.meta}
BROKEN = {  # a second and a third refresh: every document here is unusable as a whole
    "openrouter": ("openrouter_deep.json", "openrouter_truncated.json"),
    "litellm": ("litellm_deep.json", "litellm_truncated.json"),
    "deepseek": ("deepseek_deep.html", None),
}
MARKUP_CHARS = set("<>\"'`[](){}") | {" "}


def refresh(home: Path, files: dict[str, Path]) -> dict[str, dict[str, Any]]:
    args = ["prices", "refresh"]
    for source, path in files.items():
        args += ["--source", source, "--from-file", f"{source}={path}"]
    out = run_json(home, *args)
    return {s["source"]: s for s in out["sources"]}


def stored(home: Path) -> list[dict[str, Any]]:
    with warehouse(home) as con:
        cur = con.execute("SELECT * FROM price_observations")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def current(home: Path) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(source, model id) -> (input, output) of the unwindowed standard price in force."""
    with warehouse(home) as con:
        rows = con.execute(
            "SELECT source, model_id, input_per_mtok, output_per_mtok FROM price_versions "
            "WHERE valid_to IS NULL AND variant = 'standard' AND tier_min_prompt_tokens = 0 "
            "AND window_start_utc IS NULL"
        ).fetchall()
    return {(s, m): (i, o) for s, m, i, o in rows}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = make_home(tmp_path_factory.mktemp("hostile-prices") / "home")
    started = time.monotonic()
    first = refresh(home, {s: CORPUS / "prices" / n for s, n in HOSTILE.items()})
    assert time.monotonic() - started < 60
    assert {s: r["status"] for s, r in first.items()} == dict.fromkeys(HOSTILE, "ok"), first
    return home


def test_only_the_good_prices_are_stored(home: Path) -> None:
    priced = [o for o in stored(home) if not o["skipped"]]
    for source, name in HOSTILE.items():
        good = {m: (Decimal(i), Decimal(o)) for m, (i, o) in FILES[name].meta["good"].items()}
        got = {
            o["model_id"]: (o["input_per_mtok"], o["output_per_mtok"])
            for o in priced
            if o["source"] == source and o["window_start_utc"] is None
        }
        assert got == good, source


def test_no_stored_price_is_bogus(home: Path) -> None:
    for o in stored(home):
        if o["skipped"]:
            assert all(o[f] is None for f in PRICE_FIELDS) and o["note"], o
            continue
        for f in PRICE_FIELDS:
            limit = MAX_PER_UNIT if f in ("per_request", "per_image") else MAX_PER_MTOK
            assert o[f] is None or 0 <= o[f] <= limit, (o["model_id"], f, o[f])
        assert not MARKUP_CHARS & set(o["model_id"] + o["provider"]), o["model_id"]


def test_each_hostile_entry_is_rejected_with_its_reason(home: Path) -> None:
    notes = {(o["source"], o["model_id"]): o["note"] for o in stored(home) if o["skipped"]}
    expect = {
        ("openrouter", "hostile/nan-model"): "not a finite number",
        ("openrouter", "hostile/inf-model"): "not a finite number",
        ("openrouter", "hostile/negative-model"): "negative price",
        ("openrouter", "hostile/huge-number-model"): "implausible",
        ("openrouter", "hostile/huge-exponent-model"): "implausible",  # was a decimal.Overflow
        ("openrouter", "hostile/script-price-model"): "not a number",
        ("openrouter", "hostile/conflict-model"): "conflicting duplicate",
        ("litellm", "hostile-nan"): "not a finite number",
        ("litellm", "hostile-negative"): "negative price",
        ("litellm", "hostile-tier-nan"): "not a finite number",
        ("openai", "gpt-hostile-nan"): "not a per-1M-token price",
        ("openai", "gpt-hostile-huge"): "implausible",
        ("anthropic", "claude-opus-98"): "not a per-1M-token price",
        ("anthropic", "claude-opus-96"): "implausible",
    }
    for key, why in expect.items():
        assert why in (notes.get(key) or ""), (key, notes.get(key))


def test_a_broken_document_fails_its_source_and_keeps_the_last_prices(
    home: Path, tmp_path: Path
) -> None:
    before = current(home)
    assert ("openrouter", "hostile/good-model") in before
    generated = {g.name: g.data for g in generated_files()}
    (tmp_path / "deepseek_deep.html").write_bytes(generated["prices/deepseek_deep.html"])
    for round_ in (0, 1):
        files = {}
        for source, names in BROKEN.items():
            name = names[round_]
            if name is None:
                continue
            path = tmp_path / name if name == "deepseek_deep.html" else CORPUS / "prices" / name
            files[source] = path
        started = time.monotonic()
        result = refresh(home, files)
        assert time.monotonic() - started < 60, "a hostile document took too long"
        for source in files:
            r = result[source]
            assert r["status"] == "failed", r
            assert r["error"].startswith(source) and "\n" not in r["error"], r["error"]
        assert current(home) == before  # the last known prices stay in force


def test_a_page_cut_inside_a_row_never_prices_the_cut_cell(home: Path, tmp_path: Path) -> None:
    """The cut page ends in '$1' of '$12.50': that row is dropped, never priced at $1."""
    other = make_home(tmp_path / "home")
    result = refresh(other, {"openai": CORPUS / "prices" / "openai_truncated.md"})
    assert result["openai"]["status"] == "failed", result
    assert result["openai"]["error"].startswith("openai"), result
    assert not [o for o in stored(other) if not o["skipped"]]


def test_a_zero_price_map_on_its_first_reading_is_held_not_applied(tmp_path: Path) -> None:
    """Issue 15 item 5, through the CLI: the catalog prices gpt-4.1-nano at $0.10 / $0.40; a
    LiteLLM map giving it $0 (its first reading) is held: `prices refresh --json` counts it in
    `pending_review`, `prices show` keeps the catalog's price in force and lists the review, and
    `prices confirm` applies it."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "prices"
    entry = json.loads((fixtures / "litellm_model_prices.json").read_bytes())["gpt-4.1-nano"]
    zero = tmp_path / "litellm_zero.json"
    zero.write_text(
        json.dumps({"gpt-4.1-nano": {k: (0 if "cost" in k else v) for k, v in entry.items()}}),
        encoding="utf-8",
    )
    home = make_home(tmp_path / "home")
    first = run_json(home, "prices", "refresh", "--source", "catalog")["sources"]
    assert [(s["source"], s["status"], s["pending_review"]) for s in first] == [
        ("catalog", "ok", 0)
    ]
    result = refresh(home, {"litellm": zero})["litellm"]
    assert (result["status"], result["pending_review"], result["changed"]) == ("ok", 1, 0)
    shown = run_json(home, "prices", "show", "gpt-4.1-nano")
    assert (shown["current"][0]["source"], shown["current"][0]["input_per_mtok"]) == (
        "catalog",
        0.1,
    )
    assert [(r["source"], r["kind"]) for r in shown["pending_review"]] == [
        ("litellm", "first_reading")
    ]
    run_json(home, "prices", "confirm", "gpt-4.1-nano", "--source", "litellm")
    shown = run_json(home, "prices", "show", "gpt-4.1-nano")
    assert (shown["current"][0]["source"], shown["current"][0]["input_per_mtok"]) == (
        "litellm",
        0.0,
    )
    assert shown["pending_review"] == []
