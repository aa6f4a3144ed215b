"""What every demo request shares, whichever way it reports: the per-process templates and JSON
fragments (:class:`Fragments`), the teams' virtual keys (:func:`keys`), attempt outcomes,
latency and token draws, and the tally a generator run keeps (:class:`GenerateResult`).

:mod:`app.demo.gateway` (LiteLLM) and :mod:`app.demo.otel` (OpenTelemetry) build on it;
:mod:`app.demo.workload` drives both.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from app.demo import payloads as pl
from app.demo import spec
from app.demo.spec import ERRORS, ModelSpec, TaskSpec


@dataclass
class GenerateResult:
    requests: int = 0
    attempts: int = 0  # gateway attempts (LiteLLM lines)
    spans: int = 0  # GenAI client spans (OTel)
    bytes: int = 0
    seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)  # "provider:kind" -> failed attempts
    files: list[str] = field(default_factory=list)

    def add(self, other: GenerateResult) -> None:
        self.requests += other.requests
        self.attempts += other.attempts
        self.spans += other.spans
        self.bytes += other.bytes
        self.errors.update(other.errors)
        self.files += other.files


class Fragments:
    """Per-model templates and JSON fragments, built once per process."""

    def __init__(self, manifest: Path = spec.MANIFEST) -> None:
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
        self.routing = spec.routing(manifest)
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
def fragments(manifest: Path = spec.MANIFEST) -> Fragments:
    """The fragments of a gateway routing by ``manifest``."""
    return Fragments(manifest)


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
