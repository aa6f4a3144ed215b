"""A small, realistic RouteLedger home built through the real pipeline, for the dashboard tests.

Generated RouteLedger-format JSONL (retries, fallbacks, errors, an unpriced model, a model priced
only by the gateway's reported cost, a bad line) is ingested with :func:`collectors.ingest.ingest`;
two recorded OpenRouter price lists are refreshed at two dates so the Prices page has a history
and changes, and a broken provider page makes one price source fail for the Data health page.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from collectors import config, pipeline
from collectors.pipeline import ingest

PRICE_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"

# (provider, served model, relative cost weight); acme-large has no price anywhere (unpriced),
# initech-small is priced only by the gateway-reported cost.
MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("anthropic", "claude-3-haiku"),
    ("deepseek", "deepseek-chat"),
    ("openrouter", "meta-llama/llama-3.3-70b-instruct"),
    ("acme", "acme-large"),
    ("initech", "initech-small"),
]
CHAINS = {  # task: primary, then fallbacks
    "summarize": ["gpt-4o-mini", "claude-3-haiku"],
    "extract": ["deepseek-chat", "gpt-4o-mini"],
    "code-review": ["gpt-4o", "meta-llama/llama-3.3-70b-instruct"],
    "chat": ["meta-llama/llama-3.3-70b-instruct", "gpt-4o-mini"],
    "triage": ["acme-large", "initech-small"],
}
TEAMS = ["search", "support", "platform", None, "<b>growth</b>"]  # a log string with markup
ERRORS = [("rate_limit", 429), ("timeout", 504), ("server_error", 500), ("validation_failed", 200)]
FAIL_RATE = {"acme-large": 0.25, "deepseek-chat": 0.15, "initech-small": 0.2}
BASE_MS = {
    "gpt-4o-mini": 900,
    "gpt-4o": 2200,
    "claude-3-haiku": 700,
    "deepseek-chat": 1600,
    "meta-llama/llama-3.3-70b-instruct": 1200,
    "acme-large": 3000,
    "initech-small": 500,
}


def rows(end: date, days: int = 56, per_day: int = 30, seed: int = 11) -> list[dict[str, Any]]:
    """Attempts of ``per_day`` logical requests a day for ``days`` days ending on ``end``."""
    rng = random.Random(seed)
    provider = dict((m, p) for p, m in MODELS)
    out: list[dict[str, Any]] = []
    for d in range(days):
        day = end - timedelta(days=days - 1 - d)
        growth = 1 + d / days  # spend grows over time, so the movers have something to show
        for r in range(int(per_day * growth)):
            task = rng.choice(list(CHAINS))
            chain = CHAINS[task]
            team = rng.choice(TEAMS)
            start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 15 * 3600)
            )
            rid = f"r{d:03d}-{r:03d}"
            step = 0  # position in the chain: a rate limit retries the same model first
            for i in range(3):
                model = chain[min(step, len(chain) - 1)]
                fails = rng.random() < FAIL_RATE.get(model, 0.08)
                lat = int(BASE_MS[model] * rng.lognormvariate(0, 0.45))
                err = rng.choice(ERRORS) if fails else None
                row: dict[str, Any] = {
                    "attempt_id": f"{rid}-{i}",
                    "logical_request_id": rid,
                    "attempt_index": i + 1,
                    "started_at": start.isoformat().replace("+00:00", "Z"),
                    "ended_at": (start + timedelta(milliseconds=lat))
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "ttft_ms": int(lat * rng.uniform(0.15, 0.4)),
                    "provider": provider[model],
                    "model": model,
                    "requested_model": chain[0],
                    "task": task,
                    "team": team,
                    "user": f"user-{rng.randint(1, 9)}",
                    "input_tokens": rng.randint(200, 6000),
                    "output_tokens": rng.randint(20, 900),
                    "status": "error" if err else "success",
                    "error_class": err[0] if err else None,
                    "http_status": err[1] if err else 200,
                }
                if model == "initech-small":
                    row["cost_usd"] = round(rng.uniform(0.0005, 0.004), 6)
                out.append(row)
                start += timedelta(milliseconds=lat + 80)
                if not err:
                    break
                if err[0] != "rate_limit" or i > 0:
                    step += 1
    return out


BAD_LINES = [
    '{"attempt_id": "broken", "started_at": "2026-10-01T10:00:00Z", "ended_at": <not json>\n',
    json.dumps(
        {
            "attempt_id": "no-model",
            "started_at": "2026-10-01T10:00:00Z",
            "ended_at": "2026-10-01T10:00:01Z",
            "status": "success",
        }
    )
    + "\n",
]


def build(
    home: Path,
    end: date = date(2026, 10, 20),
    days: int = 56,
    per_day: int = 30,
    warehouse: str = "",
) -> Path:
    """Build the home (config, logs, prices, warehouse); returns it. ``warehouse``: lines of the
    config's ``[warehouse]`` table (the ClickHouse backend's tests set it)."""
    home.mkdir(parents=True, exist_ok=True)
    extra = f"[warehouse]\n{warehouse}\n" if warehouse else ""
    (home / "routeledger.toml").write_text(
        '[calendar]\ntimezone = "Europe/Berlin"\nweek_start = "monday"\n' + extra,
        encoding="utf-8",
    )
    cfg = config.load(home)
    first = datetime(end.year, end.month, end.day, tzinfo=UTC) - timedelta(days=days)
    pipeline.refresh_prices(
        cfg,
        from_files={"openrouter": PRICE_FIXTURES / "openrouter_models_2025-02-08.json"},
        now=lambda: first,
    )
    pipeline.refresh_prices(
        cfg,
        from_files={
            "openrouter": PRICE_FIXTURES / "openrouter_models.json",
            "anthropic": PRICE_FIXTURES / "SOURCES.md",  # not a pricing page: the source fails
        },
        now=lambda: first + timedelta(days=days // 2),
    )
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    log = logs / "router.jsonl"
    with log.open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows(end, days, per_day)):
            f.write(json.dumps(row) + "\n")
            if i in (10, 500):
                f.write(BAD_LINES[0 if i == 10 else 1])
    ingest(cfg, [str(log)])
    return home
