"""One logical request through the LiteLLM gateway: attempts down the task's chain, each written
as a StandardLoggingPayload line, priced with the gateway's own cost arithmetic. What every
request shares (outcomes, latency, tokens, keys, templates) is in :mod:`app.demo.traffic`.

The chain walk follows the demo manifest: retries on the same model as ``routing.retry_policy``
allows for the error's class (a retry after a failure fails the same way with probability
:data:`app.demo.spec.STICKY`: a degraded deployment), then the next model; a malformed request
(400) is neither retried nor sent elsewhere. A request the gateway's response cache answers is
one attempt with ``cache_hit`` true and cost 0.
"""

from __future__ import annotations

import random

from app.demo import payloads as pl
from app.demo import spec
from app.demo.spec import ERRORS, ModelSpec, TaskSpec
from app.demo.traffic import (
    Fragments,
    GenerateResult,
    Key,
    attempt_outcome,
    error_latency,
    timing,
    tokens,
    uuid4,
)


def _price_at(inc: spec.Incidents, m: ModelSpec, t: float, prompt: int) -> spec.Prices:
    """The price in the gateway's own map at ``t`` (it learns of the cut late), at the
    long-context tier when the prompt is above it."""
    prices = m.tier[1] if m.tier and prompt > m.tier[0] else m.prices
    if m.name == inc.cut_model and t >= inc.cut_at + inc.gateway_map_lag_s:
        return tuple(p * inc.cut_factor for p in prices)  # type: ignore[return-value]
    return prices


def request(
    rng: random.Random,
    ms: Fragments,
    inc: spec.Incidents,
    key: Key,
    task: TaskSpec,
    t: float,
    lines: list[str],
    res: GenerateResult,
) -> None:
    """One logical request through the gateway: attempts down the task's chain."""
    routing = ms.routing
    cap = routing.max_output_tokens[task.name]
    prompt = tokens(rng, task.prompt, 1_000_000)
    out_tokens = tokens(rng, task.output, cap * 2)
    finish = '"length"' if out_tokens >= cap else '"stop"'
    out_tokens = min(out_tokens, cap)
    stream = rng.random() < task.stream_p
    cached = int(prompt * rng.uniform(0.3, 0.8)) // 64 * 64 if rng.random() < task.cache_p else 0
    v: dict[str, str] = {
        "trace_id": f'"{uuid4(rng)}"',
        "tags": ms.tags[task.name],
        "messages": rng.choice(ms.messages[task.name]),
        "answer": rng.choice(ms.answers),
        "stream": "true" if stream else "null",
        "stream_param": "true" if stream else "false",
        "max_tokens": str(cap),
        "key_hash": key.key_hash,
        "key_alias": key.alias,
        "team": key.team,
        "team_id": key.team_id,
        "user": rng.choice(key.users),
        "finish": finish,
    }
    chain = routing.chains[task.name]
    if task.name in routing.experiments:  # a share of the task's requests explores
        trial, share = routing.experiments[task.name]
        if rng.random() < share:
            chain = trial
    if rng.random() < task.gateway_cache_p:  # the gateway's response cache answers
        m = ms.by_name[chain[0]]
        latency = 0.003 + rng.random() * 0.02
        cost = _cost(_price_at(inc, m, t, prompt), prompt, cached, 0, out_tokens)
        v.update(cache_hit="true", saved_cost=_money(cost[0]), cost="0.0", retries="0")
        v.update(input_cost="0.0", output_cost="0.0", fallbacks="0")
        v["cache_key"] = f'"{rng.getrandbits(256):064x}"'
        _success_line(rng, ms, m, v, t, latency, latency, prompt, cached, 0, out_tokens, 0, lines)
        res.attempts += 1
        return
    v.update(cache_hit="false", saved_cost="0.0", cache_key="null")
    bad_request = rng.random() < spec.BAD_REQUEST_P
    retries = 0
    for position, name in enumerate(chain):
        m = ms.by_name[name]
        used = 0  # retries on this model so far
        kind = None
        while True:
            if bad_request:
                kind = "bad_request"
            elif kind is not None and rng.random() < spec.STICKY:
                pass  # a degraded deployment fails the retry the same way
            else:
                kind = attempt_outcome(rng, inc, m, t, prompt)
            res.attempts += 1
            if kind is None:
                v.update(retries=str(retries), fallbacks=str(position))
                _success(rng, ms, inc, m, v, t, prompt, cached, out_tokens, stream, lines)
                return
            res.errors[f"{m.provider}:{kind}"] += 1
            latency = error_latency(rng, kind, routing.timeout_s)
            _failure_line(rng, ms, m, v, t, latency, kind, lines)
            t += latency
            policy = ERRORS[kind].policy
            if policy == "client":
                return  # the request itself is wrong: neither retried nor sent elsewhere
            if used >= routing.retry_policy.get(policy, 0):
                break
            used += 1
            retries += 1
            t += (1.0 + rng.random() * 3.0) if kind == "rate_limit" else 0.5 + rng.random()
        t += 0.005 + rng.random() * 0.04  # falling back is immediate


def _success(
    rng: random.Random,
    ms: Fragments,
    inc: spec.Incidents,
    m: ModelSpec,
    v: dict[str, str],
    t: float,
    prompt: int,
    cached: int,
    out_tokens: int,
    stream: bool,
    lines: list[str],
) -> None:
    write = 0
    if not m.prices[1]:
        cached = 0  # no prompt caching on this provider
    elif m.usage_style == "anthropic" and cached and rng.random() < 0.2:
        cached, write = 0, cached  # Anthropic: the prefix is written to the cache this time
    ttft, latency = timing(rng, inc, m, t, out_tokens, prompt)
    total, inp, outc = _cost(_price_at(inc, m, t, prompt), prompt, cached, write, out_tokens)
    v.update(cost=_money(total), input_cost=_money(inp), output_cost=_money(outc))
    reasoning = int(out_tokens * m.reasoning)
    first = ttft if stream else latency
    _success_line(
        rng, ms, m, v, t, first, latency, prompt, cached, write, out_tokens, reasoning, lines
    )


def _money(usd: float) -> str:
    return f"{usd:.12f}"


def _cost(
    p: spec.Prices, prompt: int, cached: int, write: int, out: int
) -> tuple[float, float, float]:
    """(total, input, output) USD the way LiteLLM computes it from its price map."""
    inp = ((prompt - cached - write) * p[0] + cached * p[1] + write * p[2]) / 1e6
    outc = out * p[3] / 1e6
    return inp + outc, inp, outc


def _success_line(
    rng: random.Random,
    ms: Fragments,
    m: ModelSpec,
    v: dict[str, str],
    t: float,
    first: float,
    latency: float,
    prompt: int,
    cached: int,
    write: int,
    out: int,
    reasoning: int,
    lines: list[str],
) -> None:
    call_id = uuid4(rng)
    v["id"] = f'"chatcmpl-{call_id}"'
    v["call_id"] = f'"{call_id}"'
    v["start"] = f"{t:.6f}"
    v["end"] = f"{t + latency:.6f}"
    v["first"] = f"{t + first:.6f}"
    v["response_time"] = f"{first:.6f}"
    v["created"] = str(int(t))
    v["usage"] = pl.usage(m.usage_style, prompt, cached, write, out, reasoning)
    v["prompt_tokens"] = str(prompt)
    v["completion_tokens"] = str(out)
    v["total_tokens"] = str(prompt + out)
    lines.append(ms.templates[m.name][0].fill(v))


def _failure_line(
    rng: random.Random,
    ms: Fragments,
    m: ModelSpec,
    v: dict[str, str],
    t: float,
    latency: float,
    kind: str,
    lines: list[str],
) -> None:
    call_id = f'"{uuid4(rng)}"'
    v["id"] = v["call_id"] = call_id
    v["start"] = f"{t:.6f}"
    v["end"] = v["first"] = f"{t + latency:.6f}"
    v["response_time"] = f"{latency:.6f}"
    v["error_str"], v["error_info"] = ms.errors[(m.provider, kind)]
    lines.append(ms.templates[m.name][1].fill(v))
