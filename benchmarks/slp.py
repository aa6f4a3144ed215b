"""StandardLoggingPayload lines as templates: the recorded fixtures with holes, serialized once.

:class:`Templates` reads ``tests/fixtures/logs/litellm/slp_router_{success,failure_retry_trace}``
(payloads litellm 1.109.1 wrote), puts holes where a line varies, and serializes each
(model, outcome) once; :meth:`Template.fill` then joins literal parts and values, so a line costs
one ``str.join`` of pre-rendered JSON fragments.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from traffic import (
    ANSWERS,
    ERRORS,
    KEYS_PER_TEAM,
    MODELS,
    PROMPTS,
    PROVIDER_NAMES,
    TEAMS,
    TRACEBACK,
)

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "logs" / "litellm"
# ``minimal``: only the keys RouteLedger's LiteLLM normaliser reads (``collectors/logs/litellm.py``),
# about 1.5 kB a line (three UUIDs, a SHA-256 key hash, the usage object: every field read and
# little else; records of about 600 bytes would carry fewer); every value it reads is the one
# the full line carries, so both give the same warehouse
MINIMAL_KEYS = (
    "id litellm_call_id trace_id cache_hit stream status custom_llm_provider startTime endTime "
    "completionStartTime model metadata response_cost prompt_tokens completion_tokens "
    "request_tags end_user model_group model_id model_parameters hidden_params error_str "
    "error_information model_map_information"
).split()
MINIMAL_METADATA = (
    "user_api_key_hash user_api_key_alias user_api_key_team_id user_api_key_team_alias "
    "user_api_key_user_id user_api_key_request_route usage_object requester_metadata"
).split()
_HOLE = re.compile(r'"@@(\w+)@@"')
_ECHO = {"usage": '"@@usage@@"', "reqmeta": '"@@reqmeta@@"'}  # fills a metadata hole with itself


def _hole(name: str) -> str:
    return f"@@{name}@@"


class Template:
    """JSON text with holes: literal parts and hole names alternate; :meth:`fill` joins them."""

    __slots__ = ("holes", "parts")

    def __init__(self, obj: Any) -> None:
        self.parts = _HOLE.split(json.dumps(obj))  # [text, name, text, name, ..., text]
        assert not any("@@" in p for p in self.parts[::2])
        self.holes = [(i, self.parts[i]) for i in range(1, len(self.parts), 2)]

    def fill(self, values: dict[str, str]) -> str:
        seq = self.parts.copy()
        for i, name in self.holes:
            seq[i] = values[name]
        return "".join(seq)


def _dumps(obj: Any) -> str:
    return json.dumps(obj)


class Templates:
    """Everything that varies little, serialized once."""

    def __init__(self, model_map: str) -> None:
        ok = json.loads((FIXTURES / "slp_router_success.json").read_text())
        fail = json.loads((FIXTURES / "slp_router_failure_retry_trace.json").read_text())[0]
        self.line: dict[tuple[str, str], Template] = {}
        self.response: dict[str, Template] = {}
        self.hidden: dict[str, Template] = {}
        self.hidden_fail = _dumps(fail["hidden_params"])
        mmv = ok["model_map_information"]["model_map_value"]
        for name, lmodel, provider, prices, _reason, *_ in MODELS:
            value = self._model_map_value(mmv, name, provider, prices, model_map)
            for variant, base in (("success", ok), ("failure", fail)):
                d = copy.deepcopy(base)
                d.update(
                    {
                        k: _hole(k)
                        for k in (
                            "id",
                            "litellm_call_id",
                            "trace_id",
                            "cache_hit",
                            "stream",
                            "startTime",
                            "endTime",
                            "completionStartTime",
                            "response_time",
                            "metadata",
                            "cache_key",
                            "response_cost",
                            "cost_breakdown",
                            "saved_cache_cost",
                            "total_tokens",
                            "prompt_tokens",
                            "completion_tokens",
                            "request_tags",
                            "end_user",
                            "model_group",
                            "model_id",
                            "messages",
                            "response",
                            "model_parameters",
                            "hidden_params",
                            "error_str",
                            "error_information",
                        )
                    }
                )
                d["custom_llm_provider"] = provider
                d["model"] = lmodel
                d["model_map_information"] = {"model_map_key": lmodel, "model_map_value": value}
                if model_map == "minimal":
                    d = {k: d[k] for k in MINIMAL_KEYS}
                    d["model_map_information"] = {"model_map_value": {"key": value["key"]}}
                self.line[(name, variant)] = line = Template(d)
                line.parts[-1] += "\n"
            resp = copy.deepcopy(ok["response"])
            resp.update(id=_hole("id"), created=_hole("created"), model=name, usage=_hole("usage"))
            resp["choices"][0]["message"]["content"] = _hole("content")
            self.response[name] = Template(resp)
            hp = copy.deepcopy(ok["hidden_params"])
            hp.update(
                model_id=_hole("model_id"),
                response_cost=_hole("cost"),
                litellm_overhead_time_ms=_hole("overhead"),
                litellm_model_name=lmodel,
            )
            hp["additional_headers"] = {
                "x-litellm-model-group": _hole("group"),
                "x-litellm-attempted-retries": _hole("retries"),
                "x-litellm-attempted-fallbacks": _hole("fallbacks"),
            }
            self.hidden[name] = Template(hp)
        cb = copy.deepcopy(ok["cost_breakdown"])
        cb.update(
            total_cost=_hole("total"),
            input_cost=_hole("input"),
            output_cost=_hole("output"),
            original_cost=_hole("total"),
        )
        self.cost_breakdown = Template(cb)
        self.metadata = self._metadata(ok["metadata"])
        self.usage_openai = Template({
            "completion_tokens": _hole("c"), "prompt_tokens": _hole("p"), "total_tokens": _hole("t"),
            "completion_tokens_details": {"accepted_prediction_tokens": None, "audio_tokens": None, "reasoning_tokens": _hole("r"), "rejected_prediction_tokens": None, "text_tokens": None},
            "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": _hole("k"), "text_tokens": None, "image_tokens": None},
        })  # fmt: skip
        self.usage_anthropic = Template({
            "completion_tokens": _hole("c"), "prompt_tokens": _hole("p"), "total_tokens": _hole("t"),
            "completion_tokens_details": None,
            "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": _hole("k"), "text_tokens": None, "image_tokens": None, "cache_creation_tokens": _hole("w")},
            "cache_creation_input_tokens": _hole("w"), "cache_read_input_tokens": _hole("k"),
        })  # fmt: skip
        self.errors: dict[tuple[str, str], tuple[str, str]] = {}
        for provider, pname in PROVIDER_NAMES.items():
            for kind, (cls, code, msg, norm) in ERRORS.items():
                text = msg.format(p=pname)
                info = copy.deepcopy(fail["error_information"])
                info.update(
                    error_code=code,
                    error_class=cls,
                    llm_provider=provider,
                    traceback=TRACEBACK.format(err=text),
                    error_message=text,
                    error_rate_limit_category="vendor_rate_limit" if code == "429" else None,
                    normalized_error=norm,
                )
                self.errors[(provider, kind)] = (_dumps(text), _dumps(info))
        self.empty_error = _dumps(ok["error_information"])
        self.messages = {
            task: [
                _dumps(
                    [
                        {"role": "system", "content": "You are a senior software engineer."},
                        {"role": "user", "content": p},
                    ]
                )
                for p in prompts
            ]
            for task, prompts in PROMPTS.items()
        }
        self.answers = [_dumps(a) for a in ANSWERS]
        if model_map == "minimal":
            self._minimal()

    def _minimal(self) -> None:
        """The nested values cut to what the normaliser reads (see :data:`MINIMAL_KEYS`)."""
        self.metadata = [
            Template({k: v for k, v in json.loads(t.fill(_ECHO)).items() if k in MINIMAL_METADATA})
            for t in self.metadata
        ]
        counters = {
            "x-litellm-model-group": _hole("group"),
            "x-litellm-attempted-retries": _hole("retries"),
            "x-litellm-attempted-fallbacks": _hole("fallbacks"),
        }
        for name in self.hidden:
            self.hidden[name] = Template({"additional_headers": counters})
        self.hidden_fail = _dumps({"additional_headers": None})
        self.errors = {
            key: (text, _dumps({k: json.loads(info)[k] for k in ("error_code", "error_class")}))
            for key, (text, info) in self.errors.items()
        }
        self.empty_error = _dumps({"error_code": "", "error_class": ""})
        self.usage_openai = Template({
            "completion_tokens": _hole("c"), "prompt_tokens": _hole("p"), "total_tokens": _hole("t"),
            "completion_tokens_details": {"reasoning_tokens": _hole("r")},
            "prompt_tokens_details": {"cached_tokens": _hole("k")},
        })  # fmt: skip
        self.usage_anthropic = Template({
            "completion_tokens": _hole("c"), "prompt_tokens": _hole("p"), "total_tokens": _hole("t"),
            "prompt_tokens_details": {"cached_tokens": _hole("k"), "cache_creation_tokens": _hole("w")},
            "cache_creation_input_tokens": _hole("w"), "cache_read_input_tokens": _hole("k"),
        })  # fmt: skip

    @staticmethod
    def _model_map_value(
        mmv: dict[str, Any],
        name: str,
        provider: str,
        prices: tuple[float, float, float, float],
        mode: str,
    ) -> dict[str, Any]:
        inp, cached, write, out = prices
        v = copy.deepcopy(mmv)
        v.update(
            key=name,
            litellm_provider=provider,
            input_cost_per_token=inp,
            output_cost_per_token=out,
            cache_read_input_token_cost=cached or None,
            cache_creation_input_token_cost=write or None,
            cache_creation_input_token_cost_above_1hr=write * 1.6 or None,
            input_cost_per_token_batches=inp / 2,
            output_cost_per_token_batches=out / 2,
            cache_read_input_token_cost_batches=cached / 2 or None,
            cache_creation_input_token_cost_batches=write / 2 or None,
            supports_prompt_caching=bool(cached),
            supports_assistant_prefill=provider == "anthropic",
        )
        if mode == "compact":
            v = {k: x for k, x in v.items() if x is not None}
        return v

    @staticmethod
    def _metadata(meta: dict[str, Any]) -> list[Template]:
        """One metadata template per API key, with holes for the usage and requester metadata."""
        out = []
        agents = [
            "OpenAI/Python 1.99.1",
            "AsyncOpenAI/Python 1.99.1",
            "litellm/1.109.1",
            "node-fetch/1.0",
        ]
        for t, team in enumerate(TEAMS):
            for k in range(KEYS_PER_TEAM):
                m = copy.deepcopy(meta)
                team_id = hashlib.md5(team.encode()).hexdigest()  # noqa: S324 (an id, not security)
                m.update(
                    user_api_key_hash=hashlib.sha256(f"sk-bench-{team}-{k}".encode()).hexdigest(),
                    user_api_key_alias=f"{team}-svc-{k}",
                    user_api_key_team_id=team_id,
                    user_api_key_team_alias=team,
                    team_alias=team,
                    team_id=team_id,
                    user_api_key_user_id=f"user-{t * KEYS_PER_TEAM + k:03d}" if k % 2 else None,
                    user_api_key_request_route="/chat/completions"
                    if k % 3
                    else "/v1/chat/completions",
                    user_agent=agents[(t + k) % len(agents)],
                    usage_object=_hole("usage"),
                    requester_metadata=_hole("reqmeta"),
                )
                out.append(Template(m))
        return out
