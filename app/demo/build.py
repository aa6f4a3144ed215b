"""Building a demo home: a month of real gateway log files, ingested and priced, ready to browse.

:func:`ensure` gives a demo home, reused or built. A home it built carries ``demo.json`` (the
parameters, the day it was built, the timings); when that matches the request and the
warehouse is there (same size, seed and generator, built today), :func:`reusable` returns it and
nothing is rebuilt (``routeledger demo`` asks it first, to say which it does). Otherwise
:func:`build` starts from scratch, in order:

1. ``routeledger.toml`` (``[[sources]]`` for the two log folders, the calendar) and the routing
   manifest ``manifest.yaml``, a copy of :data:`app.demo.spec.MANIFEST`;
2. the log files (:func:`app.demo.workload.generate`) under ``logs/``;
3. the price history: the bundled catalog, then one OpenRouter-format price list per day of the
   month (``prices/openrouter/models-YYYY-MM-DD.json``, the demo's own price feed for the
   models it routes), with the incidents of :func:`app.demo.spec.incidents` (the cut from day
   15, the typo held for review from day 27). The days before today are appended
   with :func:`collectors.prices.store.insert_refresh`, today's goes through
   :func:`collectors.prices.api.refresh` like ``routeledger prices refresh --from-file``, which
   rebuilds the versions, the source status and the model matches;
4. the ingest, through the real collectors (:func:`collectors.pipeline.ingest` on the configured
   sources), which refreshes the marts;
5. the providers' bills for the month (:func:`app.demo.bills.record`), imported like any
   export, for the Reconciliation page.

The month is lived in two parts, so the tuner's whole loop is on show: the logs of its first
``DAYS - APPROVED_DAYS_AGO`` days are written and ingested, the tuner proposes on them, and
the proposal is approved as a person would (:func:`approve_first_proposal`, recorded at
midnight UTC after its window); the remaining days are written routed by the approved
manifest (its cheaper chains, and the exploration it started as a weighted split) and
ingested. The Routing page then verifies that approval, forecast against actual, follows the
experiment under way, and proposes again on the whole month.

A home that has a ``routeledger.toml`` but no ``demo.json`` is someone's real home: refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.demo import bills as demo_bills
from app.demo import spec, workload
from app.tuner import approvals, proposal
from collectors import config as config_mod
from collectors.errors import InputError
from collectors.pipeline import ingest
from collectors.prices import api as prices_api
from collectors.prices import openrouter, store
from collectors.warehouse import Warehouse, transaction

log = logging.getLogger(__name__)

MARKER = "demo.json"
GENERATOR_VERSION = 2
OWNED = (
    "bills",
    "logs",
    "prices",
    "warehouse.duckdb",
    "warehouse.duckdb.wal",
    "warehouse.duckdb.snapshot",
    "clickhouse",  # the warehouse of a demo built with --clickhouse (chdb's data path)
    "manifest.yaml",
    "manifests",
    "routeledger.toml",
    "price_overrides.yaml",
    MARKER,
)
OPENROUTER_IDS = {
    "gpt-4o": "openai/gpt-4o",
    "gpt-4o-mini": "openai/gpt-4o-mini",
    "claude-sonnet-4-5": "anthropic/claude-sonnet-4.5",
    "claude-haiku-4-5": "anthropic/claude-haiku-4.5",
    "gemini-2.5-flash": "google/gemini-2.5-flash",
    "gemini-2.5-pro": "google/gemini-2.5-pro",
}
"""The models the demo's price feed lists (OpenRouter ids). DeepSeek (off-peak windows), Mistral
and Groq are priced from the bundled catalog alone."""
SNAPSHOT_HOUR = 6  # the daily price refresh runs at 06:00 UTC
APPROVED_DAYS_AGO = 3  # the earlier approval the demo replays, this many days before today
APPROVER = "dana (platform lead)"

CONFIG = """\
# RouteLedger demo home, written by `routeledger demo` (app/demo/build.py).
# `routeledger demo --rebuild` writes it again from scratch; otherwise edit freely.

[calendar]
timezone = "{tz}"
week_start = "monday"

[prices]
overrides = "price_overrides.yaml"

# The team's monthly LLM budget: the Overview's budget burn and the budget alerts use it
[budget]
monthly_usd = 2500.0

# The routing manifest the gateway runs today; the tuner starts from it:
#   routeledger --home {home} tune --manifest {home}/manifest.yaml
# manifest = "manifest.yaml"

# Where the weekly report's links point: `routeledger demo` sets it to the port it serves
[report]
dashboard_url = "http://localhost:8501"

# LiteLLM proxy, StandardLoggingPayload JSONL (one file per day)
[[sources]]
path = "logs/litellm/*.jsonl"
format = "litellm"

# IDE autocomplete service, OpenTelemetry GenAI spans as OTLP/JSON lines
[[sources]]
path = "logs/otel/*.traces.jsonl"
format = "otel"
"""

OVERRIDES = """\
# Negotiated discounts and your own prices (see `routeledger prices --help`).
# The self-hosted acme-coder-7b has no list price anywhere, so the demo shows it as unpriced.
# To price it at its hosting cost, uncomment and run `routeledger prices refresh --source overrides`:
#
# prices:
#   - provider: acme
#     model: acme-coder-7b
#     input_per_mtok: 0.05
#     output_per_mtok: 0.10
"""


@dataclass
class BuildResult:
    home: str
    built: bool  # False: an existing complete demo home was reused
    requests: int
    seed: int
    built_on: str
    window: tuple[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    generated: dict[str, Any] = field(default_factory=dict)
    ingested: dict[str, Any] = field(default_factory=dict)
    prices: dict[str, Any] = field(default_factory=dict)
    approval: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def ensure(
    home: Path,
    requests: int = workload.DEFAULT_REQUESTS,
    seed: int = workload.DEFAULT_SEED,
    rebuild: bool = False,
    now: datetime | None = None,
) -> BuildResult:
    """The demo home at ``home``, reused when complete and current, else built."""
    reused = None if rebuild else reusable(home, requests, seed, now)
    return reused if reused is not None else build(home, requests, seed, now)


def reusable(
    home: Path,
    requests: int = workload.DEFAULT_REQUESTS,
    seed: int = workload.DEFAULT_SEED,
    now: datetime | None = None,
    backend: str = "duckdb",
) -> BuildResult | None:
    """The demo home at ``home`` as it was built (``built=False``) when it can be reused: built
    today (UTC) with these parameters by this generator on ``backend``, its warehouse there;
    else None."""
    marker = home / MARKER
    if not marker.exists():
        return None
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    today = (now or datetime.now(UTC)).astimezone(UTC).date().isoformat()
    if not (
        done.get("generator_version") == GENERATOR_VERSION
        and done.get("requests") == requests
        and done.get("seed") == seed
        and done.get("built_on") == today
        and done.get("backend", "duckdb") == backend
        and (home / ("clickhouse" if backend == "clickhouse" else "warehouse.duckdb")).exists()
    ):
        return None
    kept = {k: done[k] for k in BuildResult.__dataclass_fields__ if k in done}
    kept["window"] = tuple(kept.get("window", ("", "")))
    return BuildResult(**{**kept, "home": str(home), "built": False})


def build(
    home: Path,
    requests: int = workload.DEFAULT_REQUESTS,
    seed: int = workload.DEFAULT_SEED,
    now: datetime | None = None,
    warehouse: str = "",
) -> BuildResult:
    """Build the demo home from scratch (see the module docstring); ``warehouse``: a TOML
    ``[warehouse]`` table's lines (e.g. ``backend = "clickhouse"``) for the demo's config."""
    w = spec.window(now)
    _clear(home)
    home.mkdir(parents=True, exist_ok=True)
    result = BuildResult(
        home=str(home),
        built=True,
        requests=requests,
        seed=seed,
        built_on=w.now.date().isoformat(),
        window=(w.start.isoformat(), w.now.isoformat()),
    )
    t_all = time.monotonic()
    (home / "routeledger.toml").write_text(
        CONFIG.format(tz=spec.TIMEZONE, home=home)
        + (f"\n[warehouse]\n{warehouse}\n" if warehouse else ""),
        encoding="utf-8",
    )
    shutil.copyfile(spec.MANIFEST, home / "manifest.yaml")
    (home / "price_overrides.yaml").write_text(OVERRIDES, encoding="utf-8")
    cfg = config_mod.load(home)

    approved_on = spec.DAYS - APPROVED_DAYS_AGO
    t = time.monotonic()
    gen = workload.generate(home / "logs", requests, seed, w.now, days=range(approved_on))
    result.timings["generate_s"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    result.prices = record_prices(cfg, w)
    result.timings["prices_s"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    first = ingest(cfg)  # the configured [[sources]]; refreshes the marts at the end
    result.timings["ingest_and_marts_s"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    result.approval = approve_first_proposal(cfg, w, approved_on)
    result.timings["tune_and_approve_s"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    rest = workload.generate(
        home / "logs",
        requests,
        seed,
        w.now,
        days=range(approved_on, spec.DAYS),
        manifest=home / "manifest.yaml",
        workers=1,  # no fork once DuckDB's threads have run in this process
    )
    gen.add(rest)
    result.timings["generate_s"] = round(result.timings["generate_s"] + time.monotonic() - t, 2)
    result.generated = {
        "requests": gen.requests,
        "gateway_attempts": gen.attempts,
        "otel_spans": gen.spans,
        "bytes": gen.bytes,
        "files": len(set(gen.files)),
    }
    t = time.monotonic()
    summary = ingest(cfg)
    result.timings["ingest_and_marts_s"] = round(
        result.timings["ingest_and_marts_s"] + time.monotonic() - t, 2
    )
    result.ingested = _sum_ingests(first.as_json(), summary.as_json())
    t = time.monotonic()
    demo_bills.record(cfg, w.now)  # the providers' bills for the month, to reconcile with
    result.timings["bills_s"] = round(time.monotonic() - t, 2)
    if result.ingested["failed_files"] or result.ingested["quarantined"]:
        log.warning("demo ingest: %s", json.dumps(result.ingested)[:500])
    result.timings["total_s"] = round(time.monotonic() - t_all, 2)
    backend = str(cfg.get("warehouse.backend"))
    marker = {"generator_version": GENERATOR_VERSION, "backend": backend, **result.as_json()}
    marker.pop("built")
    (home / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return result


def approve_first_proposal(cfg: config_mod.Config, w: spec.Window, day: int) -> dict[str, Any]:
    """The tuner's proposal on the logs so far, approved as a person would, recorded at the
    start of window day ``day`` (midnight UTC): its decision, version and changed tasks. A
    small demo (too few requests to change anything) approves nothing: ``{}``."""
    p = proposal.propose(cfg, refresh_prices=False)
    if not p.changed:
        return {}
    out = approvals.approve(
        cfg,
        Path(p.manifest.file),
        p.text,
        approvals.Decision(
            APPROVER, "local", "cheaper chains on three tasks; trying gpt-4o first on architecture"
        ),
        window=(p.since, p.until),
        proposal=p.as_json(),
        expect_sha256=p.manifest.sha256,
    )
    at = datetime.fromtimestamp(w.day_start(day), UTC).replace(tzinfo=None)
    with Warehouse.from_config(cfg).connect() as con, transaction(con):
        con.execute(
            "UPDATE manifest_decisions SET decided_at = ? WHERE decision_id = ?",
            [at, out["decision_id"]],
        )
        con.execute(
            "UPDATE manifest_versions SET created_at = ? WHERE created_at > ?",
            [at - timedelta(seconds=1), at],  # the version before and the one approved
        )
    return {
        "decision_id": out["decision_id"],
        "version": out["version"],
        "decided_at": at.isoformat(),
        "window": [p.since.isoformat(), p.until.isoformat()],
        "changed": [t.task for t in p.tasks if t.status == "changed"],
        "experiments": sorted(t for t, e in p.changes.experiments.items() if e),
    }


def _sum_ingests(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two ingest summaries (the month's two parts) as one."""
    out = dict(b)
    for k, v in a.items():
        if isinstance(v, int) and not isinstance(v, bool):
            out[k] = v + b.get(k, 0)
        elif isinstance(v, list):
            out[k] = v + b.get(k, [])
        elif isinstance(v, dict) and k == "quarantined_by_reason":
            out[k] = {r: v.get(r, 0) + b[k].get(r, 0) for r in {*v, *b[k]}}
    out["first_started_at"] = a["first_started_at"] or b["first_started_at"]
    out["files"] = b["files"]  # the second part read every file again (the grown ones on)
    return out


def _clear(home: Path) -> None:
    """Remove what a previous demo build wrote; refuse to touch a home that is not a demo's."""
    if not home.exists():
        return
    if (home / "routeledger.toml").exists() and not (home / MARKER).exists():
        raise InputError(
            f"{home} holds a routeledger.toml that `routeledger demo` did not write; "
            "give the demo its own directory with --home"
        )
    for name in OWNED:
        path = home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


# --- prices -----------------------------------------------------------------------------------


def snapshot(w: spec.Window, day: int) -> tuple[datetime, bytes]:
    """The demo price feed on ``day``: (observed at, an OpenRouter ``/api/v1/models`` body)."""
    inc = spec.incidents(w)
    at = w.start + timedelta(days=day, hours=SNAPSHOT_HOUR)
    models = []
    for m in spec.MODELS:
        if m.name not in OPENROUTER_IDS:
            continue
        factor = inc.cut_factor if m.name == inc.cut_model and at.timestamp() >= inc.cut_at else 1
        inp, cached, write, out = (p * factor for p in m.prices)
        if m.name == inc.glitch_model and at.timestamp() >= inc.glitch_at:
            out *= inc.glitch_factor  # the feed's typo: held for review, never applied
        pricing: dict[str, Any] = {"prompt": _per_token(inp), "completion": _per_token(out)}
        if cached:
            pricing["input_cache_read"] = _per_token(cached)
        if write:
            pricing["input_cache_write"] = _per_token(write)
        if m.tier:  # long-context prices, the way OpenRouter lists them
            tokens, (t_inp, t_cached, t_write, t_out) = m.tier
            tier = {
                "min_prompt_tokens": tokens,
                "prompt": _per_token(t_inp),
                "completion": _per_token(t_out),
            }
            if t_cached:
                tier["input_cache_read"] = _per_token(t_cached)
            if t_write:
                tier["input_cache_write"] = _per_token(t_write)
            pricing["overrides"] = [tier]
        slug = OPENROUTER_IDS[m.name]
        models.append(
            {
                "id": slug,
                "canonical_slug": slug,
                "name": m.name,
                "context_length": m.context,
                "pricing": pricing,
            }
        )
    body = json.dumps({"data": models}, indent=1, sort_keys=True).encode()
    return at, body


def _per_token(per_mtok: float) -> str:
    """USD per 1M tokens as OpenRouter writes it: USD per token, a plain decimal string."""
    return f"{per_mtok / 1e6:.12f}".rstrip("0").rstrip(".")


def record_prices(cfg: config_mod.Config, w: spec.Window) -> dict[str, Any]:
    """The month's price history: catalog first, then the daily feed (see the module docstring)."""
    prices_api.refresh(cfg, ["catalog"], now=lambda: w.start - timedelta(days=1))
    folder = cfg.home / "prices" / "openrouter"
    folder.mkdir(parents=True, exist_ok=True)
    days = [
        d for d in range(spec.DAYS) if w.start + timedelta(days=d, hours=SNAPSHOT_HOUR) <= w.now
    ]
    files: list[tuple[datetime, Path, bytes]] = []
    for d in days:
        at, body = snapshot(w, d)
        path = folder / f"models-{at.date().isoformat()}.json"
        path.write_bytes(body)
        files.append((at, path, body))
    history, latest = files[:-1], files[-1]
    with Warehouse.from_config(cfg).connect() as con, transaction(con):
        for at, path, body in history:
            store.insert_refresh(
                con,
                refresh_id=hashlib.sha256(f"demo:{at.isoformat()}".encode()).hexdigest()[:16],
                source=openrouter.SOURCE,
                started_at=at,
                observed_at=at,
                observations=openrouter.parse(body, at, url=f"file {path}"),
                content_sha256=hashlib.sha256(body).hexdigest(),
                origin=str(path),
            )
    summary = prices_api.refresh(
        cfg, ["catalog"], {openrouter.SOURCE: latest[1]}, now=lambda: latest[0]
    )
    return {"snapshots": len(files), **summary.as_json()}


_DASHBOARD_URL = re.compile(r'^dashboard_url = "http://localhost:\d+"$', re.MULTILINE)


def point_reports_at(home: Path, port: int) -> bool:
    """Make the demo home's report links (``report.dashboard_url``) point at the port the demo
    serves; True when the file changed. A line someone edited to another host is left alone."""
    path = home / "routeledger.toml"
    text = path.read_text(encoding="utf-8")
    new = _DASHBOARD_URL.sub(f'dashboard_url = "http://localhost:{int(port)}"', text, count=1)
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True
