"""The native manifest exported to the gateways' own formats.

* :func:`litellm`: a LiteLLM proxy ``config.yaml``. Per task a model group named after the task
  whose deployments are the chain's models with ``order`` 1, 2, 3 (the chain's preference while
  a deployment cools down), ``router_settings.fallbacks`` from the task group to one group per
  fallback model (named after the provider), ``timeout`` and ``max_tokens``. Given an existing
  config, everything else in it is kept (comments included); a deployment replacing one of the
  same model keeps that one's other ``litellm_params`` (``api_key``, ``api_base``, ...).
* :func:`portkey`: a Portkey config: a ``conditional`` strategy on ``metadata.task`` whose named
  targets are, per task, a ``fallback`` strategy with the chain's ordered targets, each with
  ``override_params`` (model, max_tokens) and ``request_timeout`` (ms).
* An experiment under way (``tasks.<name>.experiment``, :mod:`app.tuner.explore`): LiteLLM
  gets the experiment's first model as another ``order: 1`` deployment of the task's group, the
  two weighted (``weight``: the share, and the rest; LiteLLM's simple-shuffle picks by weight),
  and the experiment's fallbacks after the chain's (LiteLLM's fallbacks are per group, not per
  deployment); Portkey gets a ``loadbalance`` of the two chains, exact. OpenRouter has no
  weighted split: its preferences stay the task's chain.
* :func:`openrouter`: OpenRouter request preferences per task: the ``models`` fallback array
  and the ``provider`` object (``order``, ``allow_fallbacks``; for a task limited to
  ``allowed_providers``, ``only`` and ``data_collection: deny``).

A provider entry may carry ``portkey_provider``, ``openrouter_model`` or ``openrouter_provider``
to override the names derived from its ``model`` string.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from app.tuner.manifest import Manifest, ManifestError, Provider, Task
from collectors import yamlguard

FORMATS = ("native", "litellm", "portkey", "openrouter")
# LiteLLM provider prefix -> (OpenRouter model prefix, OpenRouter provider slug)
_OPENROUTER = {
    "openai": ("openai", "openai"),
    "azure": ("openai", "azure"),
    "anthropic": ("anthropic", "anthropic"),
    "gemini": ("google", "google-ai-studio"),
    "google": ("google", "google-ai-studio"),
    "vertex_ai": ("google", "google-vertex"),
    "mistral": ("mistralai", "mistral"),
    "deepseek": ("deepseek", "deepseek"),
    "groq": (None, "groq"),
    "together_ai": (None, "together"),
    "fireworks_ai": (None, "fireworks"),
    "bedrock": (None, "amazon-bedrock"),
}


def _bare(p: Provider) -> str:
    return p.model.split("/", 1)[1] if p.vendor else p.model


def _timeout_s(m: Manifest, t: Task) -> float | None:
    if m.timeout_s:
        return m.timeout_s
    return math.ceil(t.latency_target_ms / 1000) if t.latency_target_ms else None


def _chains(m: Manifest) -> list[tuple[Task, list[Provider]]]:
    return [(t, [m.providers[n] for n in t.chain]) for t in m.tasks.values()]


def _experiment_chain(m: Manifest, t: Task) -> list[Provider] | None:
    """The chain of the task's experiment under way, or None."""
    return None if t.experiment is None else [m.providers[n] for n in t.experiment.chain]


# -- LiteLLM --------------------------------------------------------------------------------------


def _deployment(
    group: str,
    p: Provider,
    order: int,
    timeout: float | None,
    cap: int | None,
    base: dict[str, Any],
    weight: float | None = None,
) -> CommentedMap:
    params = CommentedMap()
    params["model"] = p.model
    for k, v in base.items():  # credentials and endpoint of an existing deployment of the model
        if k not in ("model", "order", "timeout", "max_tokens"):
            params[k] = v
    if "api_key" not in params and p.vendor:
        params["api_key"] = f"os.environ/{p.vendor.upper()}_API_KEY"
    params["order"] = order
    if weight is not None:
        params["weight"] = weight
    if timeout:
        params["timeout"] = int(timeout) if float(timeout).is_integer() else timeout
    if cap:
        params["max_tokens"] = cap
    d = CommentedMap()
    d["model_name"] = group
    d["litellm_params"] = params
    return d


def litellm(m: Manifest, base: str | None = None) -> str:
    """The LiteLLM proxy config; ``base`` is the text of an existing config to update."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    try:
        if base:
            yamlguard.check(base)
        doc = y.load(base) if base and base.strip() else CommentedMap()
    except yamlguard.YamlLimitError as e:
        raise ManifestError("litellm config", e.line, e.col, f"refused: {e}") from None
    except YAMLError as e:
        raise ManifestError("litellm config", None, None, f"not valid YAML: {e}") from None
    if not isinstance(doc, CommentedMap):
        raise ManifestError("litellm config", 1, None, "expected a mapping (model_list, ...)")
    old = doc.get("model_list")
    old = old if isinstance(old, list) else CommentedSeq()
    by_model: dict[str, dict[str, Any]] = {}
    for d in old:
        params = d.get("litellm_params") if isinstance(d, dict) else None
        if isinstance(params, dict) and isinstance(params.get("model"), str):
            by_model.setdefault(params["model"], dict(params))
    new: list[CommentedMap] = []
    fallbacks: list[CommentedMap] = []
    groups: set[str] = set()
    for t, chain in _chains(m):
        timeout = _timeout_s(m, t)
        groups.add(t.name)
        exp = _experiment_chain(m, t)
        share = t.experiment.share if t.experiment is not None else None
        for i, p in enumerate(chain):
            weight = None if share is None or i else round(1 - share, 6)
            new.append(
                _deployment(
                    t.name,
                    p,
                    i + 1,
                    timeout,
                    t.max_output_tokens,
                    by_model.get(p.model, {}),
                    weight,
                )
            )
        rest = [p.name for p in chain[1:]]
        if exp is not None and share is not None:  # the experiment's first model, by weight
            first = exp[0]
            new.append(
                _deployment(
                    t.name,
                    first,
                    1,
                    timeout,
                    t.max_output_tokens,
                    by_model.get(first.model, {}),
                    share,
                )
            )
            rest += [p.name for p in exp[1:] if p.name not in rest]
        if rest:
            fb = CommentedMap()
            fb[t.name] = rest
            fallbacks.append(fb)
    fallback_models = [p for _, chain in _chains(m) for p in chain[1:]]
    fallback_models += [p for t in m.tasks.values() for p in (_experiment_chain(m, t) or [])[1:]]
    for p in {p.name: p for p in fallback_models}.values():
        if p.name not in groups:
            groups.add(p.name)
            new.append(_deployment(p.name, p, 1, m.timeout_s, None, by_model.get(p.model, {})))
    kept = [d for d in old if not (isinstance(d, dict) and d.get("model_name") in groups)]
    model_list = CommentedSeq(kept + new)
    doc["model_list"] = model_list
    router = doc.get("router_settings")
    if not isinstance(router, CommentedMap):
        router = CommentedMap()
        doc["router_settings"] = router
    old_fb = router.get("fallbacks") if isinstance(router.get("fallbacks"), list) else []
    router["fallbacks"] = CommentedSeq(
        [f for f in old_fb if not (isinstance(f, dict) and set(f) & groups)] + fallbacks
    )
    if m.timeout_s:
        router["timeout"] = m.timeout_s
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


# -- Portkey --------------------------------------------------------------------------------------


def portkey_task(m: Manifest, task: str) -> dict[str, Any]:
    """One task's Portkey config: the fallback strategy over the chain's ordered targets; with
    an experiment under way, a ``loadbalance`` strategy sending its share to the experiment's
    chain (a fallback strategy of its own) and the rest to the task's."""
    t = m.tasks[task]
    main = _portkey_fallback(m, t, t.chain)
    if t.experiment is None:
        return main
    share = t.experiment.share
    return {
        "strategy": {"mode": "loadbalance"},
        "targets": [
            {"weight": round(1 - share, 6), **main},
            {"weight": share, **_portkey_fallback(m, t, t.experiment.chain)},
        ],
    }


def _portkey_fallback(m: Manifest, t: Task, chain: tuple[str, ...]) -> dict[str, Any]:
    timeout = _timeout_s(m, t)
    targets = []
    for p in (m.providers[n] for n in chain):
        override: dict[str, Any] = {"model": _bare(p)}
        if t.max_output_tokens:
            override["max_tokens"] = t.max_output_tokens
        target: dict[str, Any] = {
            "provider": str(p.extra.get("portkey_provider") or f"@{p.vendor or p.name}"),
            "override_params": override,
        }
        if timeout:
            target["request_timeout"] = int(timeout * 1000)
        targets.append(target)
    return {"strategy": {"mode": "fallback"}, "targets": targets}


def portkey(m: Manifest) -> dict[str, Any]:
    """One Portkey config for every task: requests carry ``metadata.task``; those without one
    take the ``unlabeled`` task's chain (else the first task's)."""
    names = list(m.tasks)
    default = "unlabeled" if "unlabeled" in m.tasks else names[0]
    return {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"metadata.task": {"$eq": t}}, "then": t} for t in names],
            "default": default,
        },
        "targets": [{"name": t, **portkey_task(m, t)} for t in names],
    }


# -- OpenRouter -----------------------------------------------------------------------------------


def _openrouter_ids(p: Provider) -> tuple[str, str]:
    prefix, slug = _OPENROUTER.get(p.vendor or "", (p.vendor, p.vendor or p.name))
    model = p.extra.get("openrouter_model") or (f"{prefix}/{_bare(p)}" if prefix else p.model)
    return str(model), str(p.extra.get("openrouter_provider") or slug)


def openrouter(m: Manifest) -> dict[str, Any]:
    """Request preferences per task, to merge into the chat-completions body."""
    out: dict[str, Any] = {}
    for t, chain in _chains(m):
        ids = [_openrouter_ids(p) for p in chain]
        provider: dict[str, Any] = {"order": list(dict.fromkeys(s for _, s in ids))}
        if t.allowed_providers:
            allowed = [m.providers[a] for a in t.allowed_providers if a in m.providers]
            only = [_openrouter_ids(p)[1] for p in allowed] or list(t.allowed_providers)
            provider.update(
                only=list(dict.fromkeys(only)), allow_fallbacks=False, data_collection="deny"
            )
        else:
            provider["allow_fallbacks"] = True
        body: dict[str, Any] = {"models": [mid for mid, _ in ids], "provider": provider}
        if t.max_output_tokens:
            body["max_tokens"] = t.max_output_tokens
        out[t.name] = body
    return out


def export(m: Manifest, fmt: str, base: str | None = None) -> str:
    """The manifest as text in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "native":
        return m.text
    if fmt == "litellm":
        return litellm(m, base)
    if fmt == "portkey":
        return json.dumps(portkey(m), indent=2) + "\n"
    if fmt == "openrouter":
        return json.dumps(openrouter(m), indent=2) + "\n"
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
