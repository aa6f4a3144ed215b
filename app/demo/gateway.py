"""One logical request through the LiteLLM gateway: attempts down the task's chain, each written
as a StandardLoggingPayload line; and the behaviour every request shares (outcomes, latency,
tokens, the gateway's own cost arithmetic).

The chain walk follows the demo manifest: retries on the same model as ``routing.retry_policy``
allows for the error's class (a retry after a failure fails the same way with probability
:data:`app.demo.spec.STICKY`: a degraded deployment), then the next model; a malformed request
(400) is neither retried nor sent elsewhere. A request the gateway's response cache answers is
one attempt with ``cache_hit`` true and cost 0.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from app.demo import payloads as pl
from app.demo import spec
from app.demo.spec import ERRORS, ModelSpec, TaskSpec

if TYPE_CHECKING:
    from app.demo.workload import GenerateResult


class Fragments:
    """Per-model templates and JSON fragments, built once per process."""

    def __init__(self) -> None:
        self.by_name = {m.name: m for m in spec.MODELS}
        self.templates: dict[str, tuple[pl.Template, pl.Template]] = {}
        for m in spec.MODELS:
            fixed = {
                "provider": pl.dumps(m.provider),
                "model": pl.dumps(m.model),
                "map_key": pl.dumps(m.map_key),
                "group": pl.dumps(m.name),
                "deployment": pl.dumps(m.deployment),
                "model_map": pl.model_map(m.model, m.map_key, m.provider, m.prices),
            }
            self.templates[m.name] = pl.slp_templates(fixed)
        self.errors = {
            (p, kind): pl.error_info(
                p, e.cls, e.code, e.message.format(p=spec.PROVIDER_NAMES[p]), e.normalized
            )
            for p in spec.PROVIDER_NAMES
            for kind, e in ERRORS.items()
        }
        self.routing = spec.routing()
        self.tags = {  # LiteLLM request tags; unlabeled requests carry no task tag
            t.name: pl.dumps(
                ["env:prod"] if t.name == "unlabeled" else [f"task:{t.name}", "env:prod"]
            )
            for t in spec.TASKS
        }
        self.messages = {
            t.name: [pl.dumps([{"role": "user", "content": m}]) for m in t.messages]
            for t in spec.TASKS
        }
        self.answers = [pl.dumps(a) for a in spec.ANSWERS]
        self.otel_line = pl.otlp_line_template(
            {
                "telemetry.sdk.language": "python",
                "telemetry.sdk.name": "opentelemetry",
                "telemetry.sdk.version": "1.45.2",
                "service.name": "ide-autocomplete",
                "service.instance.id": "3f1c2a9e-demo-4b7e-9d1a-autocomplete",
                "deployment.environment.name": "prod",
                "app.task": spec.AUTOCOMPLETE.name,
                "app.team": spec.OTEL_TEAM,
            },
            "opentelemetry.instrumentation.openai_v2",
        )


@cache
def fragments() -> Fragments:
    return Fragments()


@dataclass(frozen=True)
class Key:
    """One virtual key of a team; strings as JSON fragments, ready for the templates."""

    team: str
    team_id: str
    alias: str
    key_hash: str  # LiteLLM logs the SHA-256 of the key, never the key
    users: tuple[str, ...]
    tasks: tuple[TaskSpec, ...]
    task_weights: tuple[float, ...]  # cumulative
    user_names: tuple[str, ...]  # plain, for OTel attributes


@cache
def keys() -> tuple[tuple[Key, ...], tuple[float, ...]]:
    keys: list[Key] = []
    weights: list[float] = []
    for team in spec.TEAMS:
        boost = dict(team.affinity)
        task_w = tuple(t.share * boost.get(t.name, 1.0) for t in spec.TASKS)
        users = tuple(f"{team.name}-dev-{i:02d}" for i in range(team.users))
        team_id = "team-" + hashlib.sha256(team.name.encode()).hexdigest()[:8]
        for alias in team.keys:
            digest = hashlib.sha256(f"sk-demo-{alias}".encode()).hexdigest()
            keys.append(
                Key(
                    pl.dumps(team.name),
                    pl.dumps(team_id),
                    pl.dumps(alias),
                    pl.dumps(digest),
                    tuple(pl.dumps(u) for u in users),
                    spec.TASKS,
                    cumulative(task_w),
                    users,
                )
            )
            weights.append(team.share / len(team.keys))
    return tuple(keys), cumulative(weights)


def cumulative(weights: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    out, s = [], 0.0
    for x in weights:
        s += x
        out.append(s)
    return tuple(out)


def uuid4(rng: random.Random) -> str:
    """A random (version 4 shaped) UUID; hex and dashes, safe in JSON without escaping."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def pick(rng: random.Random, kinds: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]


def tokens(rng: random.Random, median_sigma: tuple[int, float], cap: int) -> int:
    median, sigma = median_sigma
    return max(1, min(cap, int(median * rng.lognormvariate(0.0, sigma))))


def _price_at(inc: spec.Incidents, m: ModelSpec, t: float, prompt: int) -> spec.Prices:
    """The price in the gateway's own map at ``t`` (it learns of the cut late), at the
    long-context tier when the prompt is above it."""
    prices = m.tier[1] if m.tier and prompt > m.tier[0] else m.prices
    if m.name == inc.cut_model and t >= inc.cut_at + inc.gateway_map_lag_s:
        return tuple(p * inc.cut_factor for p in prices)  # type: ignore[return-value]
    return prices


def attempt_outcome(
    rng: random.Random, inc: spec.Incidents, m: ModelSpec, t: float, prompt: int
) -> str | None:
    """None for success, else the error kind."""
    if m.provider == inc.storm_provider and inc.storm_start <= t < inc.storm_end:
        if rng.random() < inc.storm_rate:
            return "rate_limit"
    if prompt > m.context:
        return "context"
    if rng.random() < m.fail:
        return pick(rng, m.errors)
    return None


def timing(
    rng: random.Random, inc: spec.Incidents, m: ModelSpec, t: float, out: int, prompt: int
) -> tuple[float, float]:
    """(time to first token, total) in seconds for a successful attempt."""
    slow = inc.slow_factor if m.name == inc.slow_model and t >= inc.slow_from else 1.0
    ttft = (m.ttft_s + prompt / 60_000) * rng.lognormvariate(0.0, 0.35) * slow
    gen = out / (m.tokens_per_s * rng.lognormvariate(0.0, 0.25)) * slow
    return ttft, ttft + gen


def error_latency(rng: random.Random, kind: str, timeout: float) -> float:
    if kind == "timeout":
        return timeout + rng.random() * 0.5
    if kind in ("rate_limit", "context"):
        return 0.04 + rng.random() * 0.3
    return 0.3 + rng.random() * 2.5


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
