"""A small RouteLedger home for the report, alert and scheduler tests, built through the real
pipeline: generated RouteLedger-format JSONL (gateway-reported ``cost_usd``, so fictional models
are priced without any price source) ingested with :func:`collectors.ingest.ingest`.

Two calendar weeks in Europe/Berlin, 2026-W09 (Feb 23 - Mar 1) and 2026-W10 (Mar 2 - 8), with
known differences in W10: the model named like a script tag got slower (a P95 regression), the
task ``debugging`` fails and retries far more (a spike), one model has no cost at all (unpriced),
and a task and a model carry HTML in their names. The routing manifest sends ``review`` to the
expensive acme-large alone, so the tuner proposes the cheaper ini-small for it.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from collectors import config
from collectors.pipeline import ingest

SCRIPT_MODEL = "<script>alert('model')</script>"
IMG_TASK = "<img src=x onerror=alert(1)>"
MODELS = [  # (provider, model, base latency ms, cost per attempt range)
    ("acme", "acme-large", 1800, (0.004, 0.02)),
    ("initech", "ini-small", 600, (0.0005, 0.002)),
    ("hooli", SCRIPT_MODEL, 900, (0.001, 0.006)),
    ("umbrella", "umb-free", 700, None),  # no cost anywhere: unpriced
]
TASKS = ["review", "debugging", IMG_TASK]
TEAMS = ["search", "support", None]
FIRST_DAY = date(2026, 2, 23)
DAYS = 14
WEEK = "2026-W10"
PREV_WEEK = "2026-W09"
TOML = (
    '[calendar]\ntimezone = "Europe/Berlin"\n\n[prices]\nauto_catalog = false\n\n'
    "[warehouse]\nlock_timeout_seconds = 60\n\n[tuner]\nbootstrap_resamples = 50\n"
)
MANIFEST = """\
# Routing manifest (ai-router.config.yaml shape)
routing:
  default_budget_limit: 0.50
providers:
  - name: acme-large
    model: acme/acme-large
    cost_per_output_token: 0.00002
    supported_tasks: [review]
    latency_target_ms: 20000
  - name: ini-small
    model: initech/ini-small
    cost_per_output_token: 0.000002
    supported_tasks: [review]
    latency_target_ms: 20000
tasks:
  review:
    chain: [acme-large]
    success_target: 0.8
    latency_target_ms: 20000
"""


# the default [billing]: a failed attempt of these classes costs nothing (not billed)
NOT_BILLED = ("rate_limit", "auth", "bad_request", "context_length")


def billed_cost(row: dict[str, Any]) -> Decimal | None:
    """What one generated attempt costs under the default billing policy: the gateway-reported
    cost (these models have no price), 0 for a failure of a class not billed, None (unpriced)
    for umb-free, which has no cost anywhere."""
    if row["status"] != "success" and row["error_class"] in NOT_BILLED:
        return Decimal(0)
    return Decimal(str(row["cost_usd"])) if "cost_usd" in row else None


def rows(per_day: int = 30, seed: int = 7, first: date = FIRST_DAY, days: int = DAYS) -> list[Any]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for d in range(days):
        day = first + timedelta(days=d)
        late = d >= 7
        for r in range(per_day):
            task = rng.choice(TASKS)
            team = rng.choice(TEAMS)
            start = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 12 * 3600)
            )
            fail_p = 0.45 if (late and task == "debugging") else 0.05
            rid = f"r{d:02d}-{r:03d}"
            for i in range(3):
                provider, model, base, cost = rng.choice(MODELS)
                slow = 2.5 if (late and model == SCRIPT_MODEL) else 1.0
                lat = int(base * slow * rng.uniform(0.7, 1.3))
                ok = rng.random() >= fail_p or i == 2
                row: dict[str, Any] = {
                    "attempt_id": f"{rid}-{i}",
                    "logical_request_id": rid,
                    "attempt_index": i + 1,
                    "started_at": start.isoformat().replace("+00:00", "Z"),
                    "ended_at": (start + timedelta(milliseconds=lat))
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "provider": provider,
                    "model": model,
                    "task": task,
                    "team": team,
                    "input_tokens": rng.randint(100, 3000),
                    "output_tokens": rng.randint(10, 600),
                    "status": "success" if ok else "error",
                    "error_class": None if ok else rng.choice(["rate_limit", "server_error"]),
                    "http_status": 200 if ok else 500,
                }
                if cost:
                    row["cost_usd"] = round(rng.uniform(*cost), 6)
                out.append(row)
                start += timedelta(milliseconds=lat + 50)
                if ok:
                    break
    return out


def write_log(path: Path, data: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in data:
            f.write(json.dumps(row) + "\n")
    return path


def make_home(home: Path, extra_toml: str = "", per_day: int = 30) -> config.Config:
    """A home with the two weeks ingested; ``extra_toml`` is appended to routeledger.toml."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "routeledger.toml").write_text(TOML + extra_toml, encoding="utf-8")
    (home / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    cfg = config.load(home)
    log = write_log(home / "logs" / "router.jsonl", rows(per_day))
    ingest(cfg, [str(log)])
    return cfg
