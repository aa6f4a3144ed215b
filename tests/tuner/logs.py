"""Constructed gateway logs with known right answers, ingested through the real pipeline.

A scenario is a list of logical requests, each a list of attempts ``(model, ok, cost_usd,
latency_ms)``; :func:`build_home` writes them as RouteLedger-format JSONL (the attempts of a
request one after the other, sharing its ``logical_request_id``), ingests the file with
:func:`collectors.ingest.ingest` into a fresh home without the price catalog (so every cost is
the one the "gateway" reported), and writes the manifest beside it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from collectors import config
from collectors.pipeline import ingest

PROVIDERS = {  # served model -> provider, as a gateway logs them
    "cheap-mini": "openai",
    "strong-large": "anthropic",
    "mid-model": "mistral",
    "fast-model": "groq",
    "slow-cheap": "deepseek",
    "model-a": "openai",
    "model-b": "google",
    "model-c": "anthropic",
}
START = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SINCE, UNTIL = "2026-10-01", "2026-10-28"

Attempt = tuple[str, bool, float, float]  # model, succeeded, cost, latency ms


def rows(task: str, requests: Iterable[list[Attempt]], prefix: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r, attempts in enumerate(requests):
        t = START + timedelta(minutes=37 * r)  # spread over ~26 days for r < 1000
        for i, (model, ok, cost, latency) in enumerate(attempts):
            end = t + timedelta(milliseconds=latency)
            out.append({
                "attempt_id": f"{prefix}-{r}-{i}", "logical_request_id": f"{prefix}-{r}",
                "attempt_index": i + 1, "started_at": t.isoformat(), "ended_at": end.isoformat(),
                "provider": PROVIDERS.get(model, "acme"), "model": model, "task": task,
                "status": "success" if ok else "error",
                "error_class": None if ok else "server_error", "input_tokens": 100,
                "output_tokens": 50, "cost_usd": cost,
            })  # fmt: skip
            t = end + timedelta(milliseconds=10)
    return out


def build_home(
    home: Path, scenario: dict[str, list[list[Attempt]]], manifest: str
) -> config.Config:
    home.mkdir(parents=True, exist_ok=True)
    (home / "routeledger.toml").write_text(
        "[prices]\nauto_catalog = false\n\n[tuner]\nbootstrap_resamples = 50\n", encoding="utf-8"
    )
    lines = []
    for task, requests in scenario.items():
        lines += rows(task, requests, task)
    log = home / "gateway.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    cfg = config.load(home)
    summary = ingest(cfg, [str(log)])
    assert summary.quarantined == 0, summary
    (home / "manifest.yaml").write_text(manifest, encoding="utf-8")
    return cfg


def lat(rng: random.Random, median: float) -> float:
    return round(median * rng.lognormvariate(0, 0.25), 1)


# -- the scenarios --------------------------------------------------------------------------------


def rescue(rng: random.Random) -> list[list[Attempt]]:
    """summarize: cheap-mini fails 40% (independently of anything else); strong-large never
    fails. Half the traffic already tries cheap-mini first, then falls back to strong-large."""
    out = []
    for i in range(600):
        if i % 2 == 0:
            ok = rng.random() >= 0.4
            req = [("cheap-mini", ok, 0.001, lat(rng, 400))]
            if not ok:
                req.append(("strong-large", True, 0.02, lat(rng, 2000)))
        else:
            req = [("strong-large", True, 0.02, lat(rng, 2000))]
        out.append(req)
    return out


def latency(rng: random.Random) -> list[list[Attempt]]:
    """chat: slow-cheap is the cheapest and reliable but its P95 (about 9 s) breaks the 5 s
    target; fast-model costs more and answers in about 1 s."""
    out = []
    for i in range(400):
        if i % 2 == 0:
            out.append([("slow-cheap", True, 0.001, lat(rng, 6000) if i % 10 else 12000.0)])
        else:
            out.append([("fast-model", rng.random() >= 0.002, 0.004, lat(rng, 900))])
    return out


def sensitive(rng: random.Random) -> list[list[Attempt]]:
    """legal: cheap-mini is cheapest and never fails, but the task's data may only go to
    strong-large and mid-model."""
    models = [("cheap-mini", 0.001), ("mid-model", 0.005), ("strong-large", 0.02)]
    return [[(m, True, c, lat(rng, 1500))] for i in range(300) for m, c in [models[i % 3]]]


def rare(rng: random.Random) -> list[list[Attempt]]:
    """rare: ten requests, fewer than tuner.min_samples."""
    return [[("cheap-mini", True, 0.001, lat(rng, 500))] for _ in range(10)]


def correlated(rng: random.Random) -> list[list[Attempt]]:
    """extract: model-b alone succeeds 90%, but on exactly the requests model-a fails (the hard
    ones) it always fails too; model-c rescues anything. An independence assumption rates
    model-a -> model-b at 98% for $0.0014; in truth it succeeds 80%."""
    out = []
    for i in range(1000):
        kind = i % 5
        if kind in (0, 1):  # model-a -> model-b -> model-c
            if rng.random() < 0.8:
                out.append([("model-a", True, 0.001, lat(rng, 500))])
            else:
                out.append([("model-a", False, 0.001, lat(rng, 500)),
                            ("model-b", False, 0.002, lat(rng, 700)),
                            ("model-c", True, 0.01, lat(rng, 1500))])  # fmt: skip
        elif kind in (2, 3):  # model-b -> model-c
            if rng.random() < 0.9:
                out.append([("model-b", True, 0.002, lat(rng, 700))])
            else:
                out.append([("model-b", False, 0.002, lat(rng, 700)),
                            ("model-c", True, 0.01, lat(rng, 1500))])  # fmt: skip
        else:
            out.append([("model-c", True, 0.01, lat(rng, 1500))])
    return out


MANIFEST = """\
# Routing manifest for the tuner tests (ai-router.config.yaml shape).
version: 1

routing:
  default_budget_limit: 0.50   # USD per logical request
  timeout_s: 30
  max_output_tokens:
    summarize: 1024
    chat: 512

# The deployments the gateway can call.
providers:
  - name: cheap-mini
    model: openai/cheap-mini
    cost_per_output_token: 0.0000006
    supported_tasks: [summarize, chat, legal, rare]
    latency_target_ms: 5000
    routing_mode: cost
  - name: strong-large
    model: anthropic/strong-large
    cost_per_output_token: 0.000015
    supported_tasks: [summarize, legal]
    latency_target_ms: 20000
    routing_mode: quality
    deployment_note: "kept as written"   # an unknown key
  - name: mid-model
    model: mistral/mid-model
    cost_per_output_token: 0.000006
    supported_tasks: [legal]
    latency_target_ms: 10000
    routing_mode: balanced
  - name: fast-model
    model: groq/fast-model
    cost_per_output_token: 0.0000008
    supported_tasks: [chat]
    latency_target_ms: 3000
    routing_mode: cost
  - name: slow-cheap
    model: deepseek/slow-cheap
    cost_per_output_token: 0.0000011
    supported_tasks: [chat]
    latency_target_ms: 20000
    routing_mode: cost
  - {name: model-a, model: openai/model-a, cost_per_output_token: 0.000001, supported_tasks: [extract]}
  - {name: model-b, model: google/model-b, cost_per_output_token: 0.000002, supported_tasks: [extract]}
  - {name: model-c, model: anthropic/model-c, cost_per_output_token: 0.00001, supported_tasks: [extract]}

tasks:
  summarize:
    chain: [strong-large]          # today: the strong model only
    success_target: 0.98
    latency_target_ms: 10000
    max_output_tokens: 1024
    allowed_providers: []
  chat:
    chain: [slow-cheap, fast-model]
    success_target: 0.95
    latency_target_ms: 5000
    max_output_tokens: 512
    allowed_providers: []
  legal:
    # Contracts stay with vendors under a data-processing agreement.
    chain: [strong-large]
    success_target: 0.95
    latency_target_ms: 20000
    max_output_tokens: 2048
    allowed_providers: [strong-large, mid-model]
  rare:
    chain: [cheap-mini]
    success_target: 0.95
    latency_target_ms: 10000
    max_output_tokens: 256
    allowed_providers: []
  extract:
    chain: [model-a, model-b, model-c]
    success_target: 0.95
    max_output_tokens: 512
    allowed_providers: []

validation:
  enabled: true
  gates:
    - name: non_empty
      min_output_tokens: 1
"""

SCENARIO = {"summarize": rescue, "chat": latency, "legal": sensitive, "rare": rare,
            "extract": correlated}  # fmt: skip


def scenario(seed: int = 5) -> dict[str, list[list[Attempt]]]:
    return {task: make(random.Random(f"{seed}-{task}")) for task, make in SCENARIO.items()}
