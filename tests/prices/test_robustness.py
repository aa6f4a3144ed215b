"""Every parser, fed garbage, hostile or cut-off input: a clear error or a noted skip, never a
crash and never a silently wrong price."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.errors import ConfigError, SourceError
from collectors.prices import catalog, litellm_map, openrouter, overrides
from collectors.prices.common import (
    PRICE_FIELDS,
    SKIP_REASONS,
    identity,
    is_skip,
    prices_of,
    skip_counts,
)
from collectors.prices.pages import anthropic, deepseek, openai
from collectors.records import PriceObservation
from tests.prices.conftest import OBSERVED, PAGES, fixture_bytes, one

Parser = Callable[[bytes | str], list[PriceObservation]]
PARSERS: dict[str, Parser] = {
    "openrouter": lambda p: openrouter.parse(p, OBSERVED),
    "litellm": lambda p: litellm_map.parse(p, OBSERVED),
    "openai": lambda p: openai.parse(p, OBSERVED),
    "anthropic": lambda p: anthropic.parse(p, OBSERVED),
    "deepseek": lambda p: deepseek.parse(p, OBSERVED),
}
PAGE_FILES = {
    "openai": PAGES / "openai_docs_pricing_2026-08.md",
    "anthropic": PAGES / "anthropic_docs_pricing_2025-11-22.md",
    "deepseek": PAGES / "deepseek_pricing_2026-09.html",
}
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sane(observations: list[PriceObservation]) -> None:
    """What any parser output must satisfy, whatever the input."""
    for obs in observations:
        for field in PRICE_FIELDS:
            value = getattr(obs, field)
            assert value is None or (
                isinstance(value, Decimal) and value.is_finite() and value >= 0
            )


def run(parser: Parser, payload: bytes | str) -> None:
    try:
        sane(parser(payload))
    except SourceError:
        pass


@pytest.mark.parametrize("name", sorted(PARSERS))
@FAST
@given(payload=st.binary(max_size=2000))
def test_random_bytes_never_crash(name, payload):
    run(PARSERS[name], payload)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FAST
@given(payload=st.text(max_size=2000))
def test_random_text_never_crash(name, payload):
    run(PARSERS[name], payload)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["-1", "0", "NaN", "1e400", "-0.000001", "0.000003", "<script>x</script>"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
PRICE_KEYS = st.sampled_from(
    [
        "prompt",
        "completion",
        "input_cache_read",
        "request",
        "image",
        "overrides",
        "internal_reasoning",
        "x",
    ]
)


@FAST
@given(
    models=st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(max_size=30) | JSON_VALUES,
                "pricing": st.dictionaries(PRICE_KEYS, JSON_VALUES, max_size=5),
            }
        ),
        max_size=5,
    )
)
def test_openrouter_shaped_garbage(models):
    run(PARSERS["openrouter"], json.dumps({"data": models}))


LITELLM_KEYS = st.sampled_from(
    [
        "mode",
        "litellm_provider",
        "input_cost_per_token",
        "output_cost_per_token",
        "input_cost_per_token_above_200k_tokens",
        "cache_read_input_token_cost_batches",
        "input_cost_per_request",
        "output_cost_per_token_priority",
    ]
)


@FAST
@given(
    models=st.dictionaries(
        st.text(max_size=20), st.dictionaries(LITELLM_KEYS, JSON_VALUES, max_size=6), max_size=5
    )
)
def test_litellm_shaped_garbage(models):
    for entry in models.values():
        entry.setdefault("mode", "chat")
    run(PARSERS["litellm"], json.dumps(models))


@FAST
@given(payload=st.text(max_size=500) | JSON_VALUES.map(json.dumps))
def test_overrides_garbage_is_config_error_or_parsed(payload):
    try:
        sane(overrides.parse(payload, OBSERVED))
    except ConfigError:
        pass


# --- cut in half / truncated anywhere ----------------------------------------------------------


def _cuts(text: str, n: int = 40) -> list[int]:
    return sorted({len(text) // 2, *range(len(text) // n, len(text), max(1, len(text) // n))})


@pytest.mark.parametrize("name", sorted(PAGE_FILES))
def test_truncated_pages_never_yield_a_price_the_full_page_does_not_have(name):
    text = PAGE_FILES[name].read_text(encoding="utf-8")
    full = {identity(o): prices_of(o) for o in PARSERS[name](text) if not is_skip(o)}
    for cut in _cuts(text):
        try:
            partial = PARSERS[name](text[:cut])
        except SourceError:
            continue
        for obs in partial:
            if not is_skip(obs):
                assert full.get(identity(obs)) == prices_of(obs), (cut, obs.model_id)


@pytest.mark.parametrize("name", ["openrouter_models.json", "litellm_model_prices.json"])
def test_json_cut_in_half_is_terminal(name):
    data = fixture_bytes(name)
    source = "openrouter" if name.startswith("openrouter") else "litellm"
    with pytest.raises(SourceError, match=source):
        PARSERS[source](data[: len(data) // 2])


# --- duplicated and hostile entries -----------------------------------------------------------


def _or_model(model_id: str, prompt: object, completion: object = "0.000002") -> dict:
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "pricing": {"prompt": prompt, "completion": completion},
    }


def test_duplicated_model_same_price_merges_different_price_is_skipped():
    payload = json.dumps(
        {
            "data": [
                _or_model("acme/same", "0.000001"),
                _or_model("acme/same", "0.000001"),
                _or_model("acme/clash", "0.000001"),
                _or_model("acme/clash", "0.000009"),
            ]
        }
    )
    obs = openrouter.parse(payload, OBSERVED)
    assert one(obs, "acme/same").input_per_mtok == 1
    assert "conflicting duplicate" in one(obs, "acme/clash", priced=False).note
    assert len(obs) == 2


@pytest.mark.parametrize(
    ("prompt", "why"),
    [
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("-0.000003", "negative"),
        ("1e308", "implausible"),
        ("0.5", "implausible"),  # $500,000 per 1M tokens
        ("<script>alert(1)</script>", "not a number"),
        ("", "not a number"),
        (None, "not a number"),
        ({"usd": 1}, "not a number"),
    ],
)
def test_hostile_openrouter_prices_are_skipped_with_a_note(prompt, why):
    payload = json.dumps(
        {"data": [_or_model("acme/bad", prompt), _or_model("acme/good", "0.000001")]}
    )
    obs = openrouter.parse(payload, OBSERVED)
    assert why in one(obs, "acme/bad", priced=False).note
    assert one(obs, "acme/good").input_per_mtok == 1


def test_hostile_page_cells_are_skipped_not_priced():
    text = PAGE_FILES["anthropic"].read_text(encoding="utf-8")
    row = "| Claude Haiku 3    | $0.25 / MTok      | $0.30 / MTok    | $0.50 / MTok    | $0.03 / MTok | $1.25 / MTok  |"
    assert row in text
    hostile = text.replace(
        row,
        row
        + "\n| Claude Opus 9 | $NaN / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |"
        + "\n| Claude Opus 8 | $-3 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |"
        + "\n| Claude Opus 7 | $99999999 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |"
        + "\n| <script>alert(1)</script> | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |",
    )
    obs = anthropic.parse(hostile, OBSERVED)
    for model in ("claude-opus-9", "claude-opus-8", "claude-opus-7"):
        assert "unusable price" in one(obs, model, priced=False).note
    assert not [o for o in obs if "script" in o.model_id]
    assert one(obs, "claude-3-haiku").input_per_mtok == Decimal("0.25")


def test_hostile_openai_model_cell_is_skipped():
    text = PAGE_FILES["openai"].read_text(encoding="utf-8")
    row = "| gpt-4o-mini | $0.15 | $0.075 | - | $0.60 | - | - | - | - |"
    obs = openai.parse(
        text.replace(
            row, row + "\n| <img src=x onerror=alert(1)> | $1 | - | - | $2 | - | - | - | - |", 1
        ),
        OBSERVED,
    )
    skipped = [o for o in obs if is_skip(o) and "not a model id" in o.note]
    assert len(skipped) == 1
    assert not [o for o in obs if "<" in o.model_id and not is_skip(o)]


# --- bad values, every source: dropped as a skip row with a named, counted reason -------------
# (issue 15, item 5) negative, NaN, infinite and absurd (over $10,000 per 1M tokens) prices.

BAD = {  # model suffix -> (value in USD per 1M tokens as a page writes it, the reason named)
    "neg": ("-0.15", "negative_price"),
    "nan": ("NaN", "not_finite"),
    "inf": ("Infinity", "not_finite"),
    "absurd": ("20000", "implausible_price"),  # $0.02 a token: over the $10,000 limit
}
WANT = {"negative_price": 1, "not_finite": 2, "implausible_price": 1}


def _per_token(per_mtok: str) -> str:
    return per_mtok if per_mtok in ("NaN", "Infinity") else str(Decimal(per_mtok).scaleb(-6))


def refused(observations: list[PriceObservation]) -> dict[str, int]:
    """The skip rows of bad values, counted by their named reason (``extra['skip_reason']``)."""
    named = [o.extra.get("skip_reason") for o in observations if is_skip(o) and "bad" in o.model_id]
    return dict(Counter(str(r) for r in named))


def _bad_openrouter() -> list[PriceObservation]:
    models = [_or_model(f"acme/bad-{k}", _per_token(v)) for k, (v, _) in BAD.items()]
    return openrouter.parse(
        json.dumps({"data": [*models, _or_model("acme/good", "0.000001")]}), OBSERVED
    )


def _bad_litellm() -> list[PriceObservation]:
    def entry(value: object) -> dict[str, object]:
        return {
            "mode": "chat",
            "litellm_provider": "acme",
            "input_cost_per_token": value,
            "output_cost_per_token": 0.000002,
        }

    doc: dict[str, object] = {f"bad-{k}": entry(None) for k in BAD}
    text = json.dumps({**doc, "good": entry(0.000001)})
    for k, (v, _) in BAD.items():  # NaN / Infinity as bare JSON constants, the rest as numbers
        text = text.replace(
            f'"bad-{k}": {{"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": null',
            f'"bad-{k}": {{"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": '
            + _per_token(v),
        )
    return litellm_map.parse(text, OBSERVED)


def _bad_openai() -> list[PriceObservation]:
    text = PAGE_FILES["openai"].read_text(encoding="utf-8")
    row = "| gpt-4o-mini | $0.15 | $0.075 | - | $0.60 | - | - | - | - |"
    assert row in text
    bad = "".join(
        f"\n| gpt-bad-{k} | ${v} | $0.075 | - | $0.60 | - | - | - | - |"
        for k, (v, _) in BAD.items()
    )
    return openai.parse(text.replace(row, row + bad, 1), OBSERVED)


def _bad_anthropic() -> list[PriceObservation]:
    text = PAGE_FILES["anthropic"].read_text(encoding="utf-8")
    row = "| Claude Haiku 3    | $0.25 / MTok      | $0.30 / MTok    | $0.50 / MTok    | $0.03 / MTok | $1.25 / MTok  |"
    assert row in text
    bad = "".join(
        f"\n| Claude Opus {90 + i} | ${v} / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |"
        for i, (v, _) in enumerate(BAD.values())
    )
    obs = anthropic.parse(text.replace(row, row + bad), OBSERVED)
    names = {f"claude-opus-{90 + i}": f"bad-{k}" for i, k in enumerate(BAD)}
    return [replace(o, model_id=names.get(o.model_id, o.model_id)) for o in obs]


def _bad_deepseek() -> list[PriceObservation]:
    cells = [("deepseek-good", "0.15"), *((f"deepseek-bad-{k}", v) for k, (v, _) in BAD.items())]
    names = "".join(f"<td>{m}</td>" for m, _ in cells)
    miss = "".join(f"<td>${v}</td>" for _, v in cells)
    same = "".join("<td>$0.6</td>" for _ in cells)
    html = (
        "<html><body><table><tbody>"
        f'<tr><td colspan="3">MODEL</td>{names}</tr>'
        '<tr><td rowspan="2">PRICING</td><td>1M INPUT TOKENS (CACHE MISS)</td>'
        f"<td>ALL</td>{miss}</tr>"
        f"<tr><td>1M OUTPUT TOKENS</td><td>ALL</td>{same}</tr>"
        "</tbody></table></body></html>"
    )
    return deepseek.parse(html, OBSERVED)


def _bad_catalog(monkeypatch: pytest.MonkeyPatch) -> list[PriceObservation]:
    from genai_prices import types as gp

    def model(model_id: str, value: str) -> gp.ModelInfo:
        price = gp.ModelPrice(input_mtok=Decimal(value), output_mtok=Decimal("0.6"))
        return gp.ModelInfo(id=model_id, match=gp.ClauseEquals(equals=model_id), prices=price)

    models = [model(f"bad-{k}", v) for k, (v, _) in BAD.items()] + [model("good", "0.15")]
    provider = gp.Provider(id="acme", name="Acme", api_pattern="acme", models=models)
    monkeypatch.setattr(catalog, "get_snapshot", lambda: SimpleNamespace(providers=[provider]))
    return catalog.parse(OBSERVED)


@pytest.mark.parametrize(
    "source", ["openrouter", "litellm", "openai", "anthropic", "deepseek", "catalog"]
)
def test_bad_values_are_skipped_with_a_named_counted_reason(source, monkeypatch):
    obs = {
        "openrouter": _bad_openrouter,
        "litellm": _bad_litellm,
        "openai": _bad_openai,
        "anthropic": _bad_anthropic,
        "deepseek": _bad_deepseek,
    }.get(source, lambda: _bad_catalog(monkeypatch))()
    sane(obs)
    assert refused(obs) == WANT, [(o.model_id, o.note) for o in obs if is_skip(o)]
    assert not [o for o in obs if "bad" in o.model_id and not is_skip(o)]
    good = {"openai": "gpt-4o-mini", "anthropic": "claude-3-haiku", "deepseek": "deepseek-good"}
    assert one(obs, good.get(source, "good" if source != "openrouter" else "acme/good"))
    for o in obs:
        if is_skip(o) and "bad" in o.model_id:  # the note says it in words too
            reason = o.extra["skip_reason"]
            assert SKIP_REASONS[reason] in o.note, (reason, o.note)
    assert skip_counts(obs) == Counter(WANT) + skip_counts(
        [o for o in obs if "bad" not in o.model_id]
    )


def test_parse_result_counts_refused_values():
    payload = json.dumps({"data": [_or_model("acme/bad", "-0.000003"), _or_model("acme/x", "0")]})
    result = openrouter.parse_result(payload, OBSERVED)
    assert result.refused == Counter({"negative_price": 1})
    assert result.priced and result.priced[0].input_per_mtok == 0  # a real $0 is a price


@pytest.mark.parametrize(
    ("value", "why"),
    [("-1", "negative"), (".nan", "finite"), (".inf", "finite"), ("20000", "implausible")],
)
def test_bad_override_values_fail_the_file_naming_the_key(value, why):
    """The user's own file is never half-applied: a bad value fails it, naming key and reason."""
    text = f"prices:\n  - provider: acme\n    model: x\n    input_per_mtok: {value}\n"
    with pytest.raises(ConfigError, match=rf"prices\[0\]\.input_per_mtok.*{why}"):
        overrides.parse(text, OBSERVED)
