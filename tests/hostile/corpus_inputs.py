"""The hostile price sources, routing manifests and configuration files."""

from __future__ import annotations

import json
from typing import Any

from tests.hostile.payloads import (
    IMG,
    MD_LINK,
    RICH,
    SCRIPT,
    TITLE,
    File,
    deep_closed,
    deep_open,
)

# -- price sources --------------------------------------------------------------------------------
# Each priced file lists "good" models whose prices must be stored exactly, and hostile entries
# that must never be stored as a price (``meta["good"]``: model id -> (input, output) USD/Mtok).


def _or(model_id: str, prompt: Any, completion: Any = "0.000002") -> dict[str, Any]:
    return {
        "id": model_id,
        "canonical_slug": model_id,
        "pricing": {"prompt": prompt, "completion": completion},
    }


OPENROUTER_HOSTILE = {
    "data": [
        _or("hostile/good-model", "0.000001"),
        _or(f"hostile/{SCRIPT}", "0.000001"),
        _or(IMG, "0.000001"),
        _or("hostile/markdown", "0.000001") | {"id": f"hostile/{MD_LINK}"},
        _or("hostile/nan-model", "__NAN__"),
        _or("hostile/inf-model", "Infinity"),
        _or("hostile/neg-inf-model", "__NEG_INFINITY__"),
        _or("hostile/negative-model", "-0.000003"),
        _or("hostile/huge-number-model", "__1E400__"),
        _or("hostile/huge-string-model", "99999999999999999999999"),
        _or("hostile/huge-exponent-model", "1e999999999"),
        _or("hostile/script-price-model", SCRIPT),
        _or("hostile/nested-price-model", {"usd": [[["0.000001"]]]}),
        _or("hostile/conflict-model", "0.000001"),
        _or("hostile/conflict-model", "0.000009"),
        _or("hostile/good-model-2", "0.0000005", "0.0000015"),
    ]
}


def openrouter_json() -> bytes:
    text = json.dumps(OPENROUTER_HOSTILE, indent=1)
    return (
        text.replace('"__NAN__"', "NaN")
        .replace('"__NEG_INFINITY__"', "-Infinity")
        .replace('"__1E400__"', "1e400")
        .encode()
    )


LITELLM_HOSTILE: dict[str, Any] = {
    "sample_spec": {"mode": "chat", "input_cost_per_token": 0, "litellm_provider": "one of"},
    "hostile-good-model": {"mode": "chat", "litellm_provider": "openai",
                           "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
    SCRIPT: {"mode": "chat", "litellm_provider": "openai",
             "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
    "hostile-markup-provider": {"mode": "chat", "litellm_provider": IMG,
                                "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
    "hostile-nan": {"mode": "chat", "litellm_provider": "openai",
                    "input_cost_per_token": "__NAN__", "output_cost_per_token": 2e-06},
    "hostile-infinity": {"mode": "chat", "litellm_provider": "openai",
                         "input_cost_per_token": "__INFINITY__", "output_cost_per_token": 2e-06},
    "hostile-negative": {"mode": "chat", "litellm_provider": "openai",
                         "input_cost_per_token": -1e-06, "output_cost_per_token": 2e-06},
    "hostile-huge": {"mode": "chat", "litellm_provider": "openai",
                     "input_cost_per_token": "__1E400__", "output_cost_per_token": 2e-06},
    "hostile-tier-nan": {"mode": "chat", "litellm_provider": "openai",
                         "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                         "input_cost_per_token_above_200k_tokens": "__NAN__"},
    "hostile-string-price": {"mode": "chat", "litellm_provider": "openai",
                             "input_cost_per_token": SCRIPT, "output_cost_per_token": 2e-06},
    "hostile-good-model-2": {"mode": "chat", "litellm_provider": "anthropic",
                             "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05},
}  # fmt: skip


def litellm_json() -> bytes:
    text = json.dumps(LITELLM_HOSTILE, indent=1)
    return (
        text.replace('"__NAN__"', "NaN")
        .replace('"__INFINITY__"', "Infinity")
        .replace('"__1E400__"', "1e400")
        .encode()
    )


OPENAI_PAGE = f"""# Pricing

Standard

| Model | Input | Cached input | Output |
| --- | --- | --- | --- |
| gpt-hostile-good | $1.00 | $0.10 | $12.50 |
| {SCRIPT} | $1.00 | - | $2.00 |
| {IMG} | $1.00 | - | $2.00 |
| gpt-hostile-nan | $NaN | - | $2.00 |
| gpt-hostile-inf | $Infinity | - | $2.00 |
| gpt-hostile-negative | $-1.00 | - | $2.00 |
| gpt-hostile-huge | $99999999999 | - | $2.00 |
| gpt-hostile-exponent | $1e400 | - | $2.00 |
| gpt-hostile-script-price | {SCRIPT} | - | $2.00 |

<script>window.__pwned=7</script>

{"[" * 100_000}
"""

ANTHROPIC_PAGE = f"""# Pricing

## Model pricing

| Model | Base Input Tokens | 5m Cache Writes | 1h Cache Writes | Cache Hits & Refreshes | Output Tokens |
| --- | --- | --- | --- | --- | --- |
| Claude Haiku 9 | $1 / MTok | $1.25 / MTok | $2 / MTok | $0.10 / MTok | $5 / MTok |
| Claude Opus 98 | $NaN / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |
| Claude Opus 97 | $-3 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |
| Claude Opus 96 | $99999999 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |
| {SCRIPT} | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |
| Claude Sonnet 95 {IMG} | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok | $1 / MTok |

{">" * 100_000} Cache writes are 1.25 times the base input tokens price
"""

_DS_MODEL = "deepseek-hostile"


def deepseek_page(first_model: str = _DS_MODEL, input_price: str = "$0.30") -> str:
    return f"""<!doctype html><html><head><title>Models &amp; Pricing</title>
<script>window.__pwned=8</script></head><body><article>
<table><tbody>
<tr><td colspan="3">MODEL</td><td>{first_model}<sup>(1)</sup></td><td>{SCRIPT}<sup>(2)</sup></td></tr>
<tr><td rowspan="6">PRICING<sup>(3)</sup></td><td rowspan="2">1M INPUT TOKENS<br>(CACHE HIT)</td>
<td>OFF-PEAK</td><td>$0.01</td><td>$0.01</td></tr>
<tr><td>PEAK</td><td>$0.02</td><td>$0.02</td></tr>
<tr><td rowspan="2">1M INPUT TOKENS<br>(CACHE MISS)</td><td>OFF-PEAK</td><td>$0.15</td><td>$NaN</td></tr>
<tr><td>PEAK</td><td>{input_price}</td><td>$-1</td></tr>
<tr><td rowspan="2">1M OUTPUT TOKENS</td><td>OFF-PEAK</td><td>$0.6</td><td>$Infinity</td></tr>
<tr><td>PEAK</td><td>$1.2</td><td>$99999999</td></tr>
</tbody></table>
<p>(3) Off-peak rates are half of the peak rates. Peak hours are 01:00 - 04:00 UTC, Monday
through Friday (all other hours are off-peak).</p>
</article></body></html>
"""


def price_files() -> list[File]:
    or_doc = openrouter_json()
    ll_doc = litellm_json()
    return [
        File(
            "openrouter_hostile.json",
            or_doc,
            "OpenRouter /api/v1/models with markup model ids, NaN/Infinity/-Infinity literals, "
            "negative, 1e400 and 1e999999999 prices, markup and objects as prices, a "
            "conflicting duplicate, and two good models",
            {
                "source": "openrouter",
                "good": {"hostile/good-model": ("1", "2"), "hostile/good-model-2": ("0.5", "1.5")},
            },
        ),
        File(
            "openrouter_deep.json",
            b'{"data": ' + deep_open(),
            "OpenRouter list that is 100,000 unclosed [",
            {"source": "openrouter"},
        ),
        File(
            "openrouter_truncated.json",
            or_doc[: len(or_doc) // 2],
            "openrouter_hostile.json cut in the middle",
            {"source": "openrouter"},
        ),
        File(
            "litellm_hostile.json",
            ll_doc,
            "LiteLLM price map with a markup model key and provider, NaN/Infinity literals, "
            "negative, 1e400 and markup prices, a NaN long-context tier, and two good models",
            {
                "source": "litellm",
                "good": {"hostile-good-model": ("1", "2"), "hostile-good-model-2": ("3", "15")},
            },
        ),
        File(
            "litellm_deep.json",
            b'{"m": {"mode": "chat", "x": ' + deep_closed(50_000) + b"}}",
            "LiteLLM map with 50,000 levels of nested arrays",
            {"source": "litellm"},
        ),
        File(
            "litellm_truncated.json",
            ll_doc[: len(ll_doc) * 2 // 3],
            "litellm_hostile.json cut two thirds in",
            {"source": "litellm"},
        ),
        File(
            "openai_hostile.md",
            OPENAI_PAGE.encode(),
            "OpenAI pricing page (Markdown) with markup model cells, $NaN, $Infinity, "
            "negative, huge and 1e400 prices, markup as a price, a script block and a line of "
            "100,000 [",
            {"source": "openai", "good": {"gpt-hostile-good": ("1", "12.5")}},
        ),
        File(
            "openai_truncated.md",
            OPENAI_PAGE.encode()[: OPENAI_PAGE.index("$12.50") + 2],
            "openai_hostile.md cut inside its first price row",
            {"source": "openai"},
        ),
        File(
            "anthropic_hostile.md",
            ANTHROPIC_PAGE.encode(),
            "Anthropic pricing page (Markdown) with $NaN, negative and huge prices, markup in "
            "model cells and a 100,000-character line of > (a regex was quadratic on it)",
            {"source": "anthropic", "good": {"claude-haiku-9": ("1", "5")}},
        ),
        File(
            "deepseek_hostile.html",
            deepseek_page().encode(),
            "DeepSeek pricing page (HTML) with a markup model column whose prices are $NaN, "
            "negative, infinite and huge, and script elements in the page",
            {"source": "deepseek", "good": {_DS_MODEL: ("0.15", "0.6")}},
        ),
    ]


# -- routing manifests ----------------------------------------------------------------------------

MANIFEST_OK = """# a small valid manifest (ai-router.config.yaml shape)
routing: {default_budget_limit: 0.50, timeout_s: 30}
providers:
  - {name: mini, model: openai/gpt-4o-mini, cost_per_output_token: 0.0000006, supported_tasks: [summarize]}
  - {name: haiku, model: anthropic/claude-3-haiku, cost_per_output_token: 0.00000125, supported_tasks: [summarize]}
tasks:
  summarize:
    chain: [mini, haiku]
    success_target: 0.95
"""


# names a browser must show as text: the Routing page renders this one
def _q(name: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(name)


MANIFEST_SCRIPT_NAMES = f"""# valid, with markup in task and provider names
routing: {{default_budget_limit: 0.50}}
providers:
  - name: {_q(SCRIPT)}
    model: {_q("openai/" + IMG)}
    cost_per_output_token: 0.0000006
    supported_tasks: [{_q(TITLE)}]
  - name: {_q(MD_LINK)}
    model: gpt-4o-mini
    cost_per_output_token: 0.0000006
tasks:
  {_q(TITLE)}:
    chain: [{_q(SCRIPT)}, {_q(MD_LINK)}]
    success_target: 0.95
  {_q(RICH)}:
    chain: [{_q(MD_LINK)}]
"""


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n" + MANIFEST_OK.split("\n", 1)[1]


def manifest_files() -> list[File]:
    body = MANIFEST_OK.split("\n", 1)[1]
    return [
        File(
            "python_tag.yaml",
            (
                "pwn: !!python/object/apply:os.system ['touch /tmp/routeledger-hostile-pwned']\n"
                + body
            ).encode(),
            "a !!python/object/apply:os.system tag: refused, never run",
            {"error": "tag"},
        ),
        File(
            "python_tag_top.yaml",
            b"!!python/object/new:os.system ['touch /tmp/routeledger-hostile-pwned']\n",
            "the whole document is a !!python/object/new tag",
            {"error": "tag"},
        ),
        File(
            "custom_tag.yaml",
            b"routing: {}\nproviders: !include /etc/passwd\ntasks: {}\n",
            "an application tag (!include /etc/passwd)",
            {"error": "tag"},
        ),
        File(
            "billion_laughs.yaml",
            billion_laughs().encode(),
            "anchors and aliases expanding to 9^10 strings (billion laughs)",
            {"error": "alias"},
        ),
        File(
            "recursive_alias.yaml",
            ("loop: &loop [1, *loop]\n" + body).encode(),
            "an alias inside its own anchor (a cycle)",
            {"error": "alias"},
        ),
        File(
            "deep_nesting.yaml",
            b"x: " + deep_open() + b"\n" + body.encode(),
            "100,000 unclosed flow sequences ([)",
            {"error": "nest"},
        ),
        File(
            "wrong_types.yaml",
            b"routing: 1\nproviders: {name: mini}\ntasks: [summarize]\n",
            "providers a mapping, tasks a list",
            {"error": "providers"},
        ),
        File(
            "wrong_chain.yaml",
            body.replace("chain: [mini, haiku]", "chain: {mini: 1}").encode(),
            "a chain that is a mapping",
            {"error": "chain"},
        ),
        File(
            "nan_target.yaml",
            body.replace("success_target: 0.95", "success_target: .nan").encode(),
            "a NaN success target",
            {"error": "success_target"},
        ),
        File(
            "inf_cost.yaml",
            body.replace("0.0000006", ".inf", 1).encode(),
            "an infinite provider price",
            {"error": "cost_per_output_token"},
        ),
        File(
            "inf_cap.yaml",
            body.replace("success_target: 0.95", "max_output_tokens: .inf").encode(),
            "an infinite max_output_tokens (int() of it raised OverflowError)",
            {"error": "max_output_tokens"},
        ),
        File(
            "script_names.yaml",
            MANIFEST_SCRIPT_NAMES.encode(),
            "a valid manifest with markup in task and provider names",
            {"error": None},
        ),
        File(
            "not_utf8.yaml",
            body.encode().replace(b"mini", b"m\xffni", 1),
            "bad UTF-8",
            {"error": "read"},
        ),
    ]


# -- configuration with paths that leave the home --------------------------------------------------

CONFIG_TRAVERSAL = """# every path setting pointing out of the home
[warehouse]
path = "../outside/warehouse.duckdb"

[tuner]
manifest = "../../etc/passwd"

[prices]
overrides = "../../../../etc/shadow"

[[sources]]
path = "../../var/log/*.jsonl"
format = "routeledger"
"""


def config_files() -> list[File]:
    return [
        File(
            "traversal.toml",
            CONFIG_TRAVERSAL.encode(),
            "routeledger.toml whose warehouse, manifest, overrides and source paths climb out "
            "of the home with ../",
        ),
    ]
