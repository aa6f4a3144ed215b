"""A proposal: the manifest regenerated from a window of evidence, with its reasons and savings.

:func:`propose` is what ``routeledger tune``, the Routing page and the scheduler call. It reads
the manifest, collects the evidence in one read-only unit of work, recommends a chain per task,
refreshes every provider's ``cost_per_output_token`` from the prices in force, replays the window
for the savings, and renders the proposed manifest text (the original bytes when nothing
changed). :meth:`Proposal.as_json` is the ``routeledger tune --json`` contract.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import queries as app_queries
from app import window as window_mod
from app.tuner import evidence as evidence_mod
from app.tuner import explore, queries, replay
from app.tuner import manifest as manifest_mod
from app.tuner.evidence import ModelObs, TaskEvidence
from app.tuner.manifest import Changes, Manifest, Provider
from app.tuner.recommend import Settings, TaskResult, recommend
from collectors.config import Config
from collectors.errors import RouteLedgerError
from collectors.prices import naming
from collectors.warehouse import Warehouse


@dataclass(frozen=True)
class PriceChange:
    provider: str
    previous: float | None
    current: float
    reason: str


@dataclass
class Proposal:
    manifest: Manifest
    since: date
    until: date
    tasks: list[TaskResult]
    savings: list[replay.TaskSavings]
    savings_total: dict[str, Any]
    prices: list[PriceChange]
    changes: Changes
    text: str
    unmanaged_tasks: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)  # task -> evidence

    @property
    def changed(self) -> bool:
        return self.text != self.manifest.text

    @property
    def sha256(self) -> str:
        return manifest_mod.sha256(self.text)

    @property
    def diff(self) -> str:
        return manifest_mod.unified_diff(
            self.manifest.text, self.text, Path(self.manifest.file).name
        )

    def as_json(self) -> dict[str, Any]:
        by_task = {s.task: s for s in self.savings}
        return {
            "tasks": [
                _task_json(t, by_task.get(t.task), self.manifest.tasks.get(t.task))
                | {"quality_evidence": self.quality.get(t.task) or quality_evidence(None, t)}
                for t in self.tasks
            ],
            "savings": self.savings_total,
            "window": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "manifest": self.manifest.file,
            "manifest_sha256": self.manifest.sha256,
            "proposal_sha256": self.sha256,
            "changed": self.changed,
            "providers": [
                {
                    "name": p.provider,
                    "cost_per_output_token": p.current,
                    "previous_cost_per_output_token": p.previous,
                    "reason": p.reason,
                }
                for p in self.prices
            ],
            "unmanaged_tasks": [
                {"task": t, "logical_requests": n} for t, n in sorted(self.unmanaged_tasks.items())
            ],
            "notes": self.notes,
        }


def _num(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, digits)


def _task_json(
    t: TaskResult, s: replay.TaskSavings | None, spec: manifest_mod.Task | None
) -> dict[str, Any]:
    e = t.proposed
    cur = t.current
    return {
        "task": t.task,
        "status": t.status,
        "current_chain": list(t.current_chain),
        "proposed_chain": list(t.proposed_chain),
        "estimated_success": _num(e.success) if e else None,
        "cost_per_successful_request_usd": _num(e.cost_per_success, 9) if e else None,
        "p95_ms": _num(e.p95_ms, 1) if e else None,
        "reasons": t.reasons,
        "estimated_success_low": _num(e.success_low) if e else None,
        # the forecast verification after approval holds actuals to: 95% intervals
        "forecast": _forecast(e),
        "logical_requests": t.requests,
        "success_target": spec.success_target if spec else None,
        "latency_target_ms": spec.latency_target_ms if spec else None,
        "binding_constraint": t.binding,
        "current_estimate": None
        if cur is None
        else {
            "estimated_success": _num(cur.success),
            "estimated_success_low": _num(cur.success_low),
            "cost_per_successful_request_usd": _num(cur.cost_per_success, 9),
            "p95_ms": _num(cur.p95_ms, 1),
        },
        "savings": s.as_json() if s else None,
        # an exploration plan (new) or the one under way, and what became of it
        "experiment": (
            {**t.plan.as_dict(), "state": "planned"}
            if t.plan is not None
            else {**_running(spec), "state": t.experiment}
            if spec is not None and spec.experiment is not None and t.experiment
            else None
        ),
    }


def _forecast(e: Any) -> dict[str, Any] | None:
    """A chain's forecast with its 95% intervals: success (its stages' posteriors drawn
    together), cost per successful request (the expected cost per request over that success)
    and P95 (the simulated requests resampled)."""
    if e is None or e.success_interval is None:
        return None
    lo, hi = e.success_interval
    cost = e.cost if math.isfinite(e.cost) else None
    spread = 1.96 * e.cost_rse  # the cost per request's own 95% error, as a share of it
    return {
        "success": _num(e.success),
        "success_low": _num(lo),
        "success_high": _num(hi),
        "cost_per_successful_request_usd": _num(e.cost_per_success, 9),
        "cost_per_successful_request_low_usd": (
            _num(cost * max(1 - spread, 0.0) / hi, 9) if cost and hi else None
        ),
        "cost_per_successful_request_high_usd": (
            _num(cost * (1 + spread) / lo, 9) if cost and lo else None
        ),
        "p95_ms": _num(e.p95_ms, 1),
        "p95_low_ms": _num(e.p95_interval[0], 1) if e.p95_interval else None,
        "p95_high_ms": _num(e.p95_interval[1], 1) if e.p95_interval else None,
    }


def _running(spec: manifest_mod.Task) -> dict[str, Any]:
    e = spec.experiment
    assert e is not None
    return {
        "id": e.id,
        "task": spec.name,
        "chain": list(e.chain),
        "share": e.share,
        "requests": e.requests,
        "started": e.started,
    }


NOT_MEASURED = (
    "Quality not measured: only the gateway's success; import eval scores "
    "(routeledger evals import) or log a validation gate (validation_passed, quality_score)"
)


def quality_evidence(ev: TaskEvidence | None, t: TaskResult) -> dict[str, Any]:
    """Whether the quality of the task's answers was measured, beside the gateway's success:
    per model of the current and proposed chains, the imported eval scores (``evals import``)
    and the validation gate in the logs (attempts' ``validation_passed``, ``quality_score``).
    ``measured``: every model of the proposed chain has some; ``n``: scores and checked
    attempts behind it; ``source``: ``evals``, ``validation`` or both (``evals+validation``)."""
    models: list[dict[str, Any]] = []
    for m in dict.fromkeys((*t.proposed_chain, *t.current_chain)):
        ev_score = ev.evals.get(m) if ev else None
        obs = ev.models.get(m) if ev else None
        validated = obs.validated if obs else 0
        scored = obs.scored if obs else 0
        sources = (["evals"] if ev_score else []) + (["validation"] if validated or scored else [])
        models.append(
            {
                "model": m,
                "measured": bool(sources),
                "source": "+".join(sources) or None,
                "eval_score": _num(ev_score[0], 4) if ev_score else None,
                "eval_n": ev_score[1] if ev_score else 0,
                "validated_attempts": validated,
                "validation_pass_rate": _num(obs.passed / validated, 4)
                if obs and validated
                else None,
                "scored_attempts": scored,
                "mean_quality_score": _num(obs.quality_sum / scored, 4) if obs and scored else None,
            }
        )
    proposed = [x for x in models if x["model"] in t.proposed_chain]
    used = sorted({part for x in models for part in (x["source"] or "").split("+") if part})
    measured = bool(proposed) and all(x["measured"] for x in proposed)
    n = sum(x["eval_n"] + max(x["validated_attempts"], x["scored_attempts"]) for x in models)
    if measured:
        note = "Quality measured: " + "; ".join(_quality_words(x) for x in proposed)
    elif any(x["measured"] for x in models):
        missing = ", ".join(x["model"] for x in proposed if not x["measured"])
        note = (
            f"Quality measured only in part: {missing} not measured (only the gateway's "
            "success); " + "; ".join(_quality_words(x) for x in models if x["measured"])
        )
    else:
        note = NOT_MEASURED
    return {
        "measured": measured,
        "source": "+".join(used) or None,
        "n": n,
        "models": models,
        "note": note,
    }


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _quality_words(x: dict[str, Any]) -> str:
    parts = []
    if x["eval_score"] is not None:
        n = x["eval_n"]
        parts.append(f"eval score {x['eval_score']:.3f} from {n:,} imported score{_s(n)}")
    if x["validation_pass_rate"] is not None:
        parts.append(
            f"validation passed on {x['validation_pass_rate']:.1%} of "
            f"{x['validated_attempts']:,} checked attempt{_s(x['validated_attempts'])}"
        )
    if x["mean_quality_score"] is not None:
        parts.append(
            f"mean quality score {x['mean_quality_score']:.3f} over {x['scored_attempts']:,} "
            f"attempt{_s(x['scored_attempts'])}"
        )
    return f"{x['model']}: " + ", ".join(parts)


def settings(cfg: Config, window_days: int = 28) -> Settings:
    return Settings(
        exploration_share=float(cfg.get("tuner.exploration_share")),
        max_exploration_days=int(cfg.get("tuner.max_exploration_days")),
        window_days=window_days,
        min_samples=int(cfg.get("tuner.min_samples")),
        min_pair_samples=int(cfg.get("tuner.min_pair_samples")),
        correlation=float(cfg.get("tuner.assumed_failure_correlation")),
        min_improvement=float(cfg.get("tuner.min_improvement")),
        confidence=float(cfg.get("tuner.confidence")),
    )


def manifest_path(cfg: Config, given: str | Path | None = None) -> Path:
    return (Path(given) if given else cfg.resolve(str(cfg.get("tuner.manifest")))).resolve()


def window(cfg: Config, since: date | None, until: date | None) -> tuple[date, date]:
    """The evidence window (:func:`app.window.resolve`): ``until`` defaults to the last day with
    data (never after today), ``since`` to ``calendar.window_days`` days ending on ``until``."""
    last = None
    if until is None and Warehouse.from_config(cfg).exists():
        with Warehouse.from_config(cfg).connect(read_only=True) as con:
            last = queries.last_day(con)
    return window_mod.resolve(cfg, since, until, last).as_tuple()


def logged_names(models: dict[str, ModelObs], providers: dict[str, Provider]) -> dict[str, str]:
    """Model (as the marts name it: canonical) -> manifest provider name: the provider's
    ``model`` (or ``name``) is that model, compared canonically (:func:`naming.identity`:
    ``gemini/gemini-2.5-pro`` of the manifest is ``google`` / ``gemini-2.5-pro`` of the marts,
    ``gpt-4o-mini-2024-07-18`` is ``gpt-4o-mini``), with the provider when both say one."""
    out: dict[str, str] = {}
    for logged, obs in models.items():
        mine = naming.identity(None, logged)
        slugs = {naming.canonical_provider(p) for p in obs.providers} - {None}
        for p in providers.values():
            theirs = [naming.identity(None, p.model), naming.identity(None, p.name)]
            if any(
                t.model == mine.model and (t.provider is None or not slugs or t.provider in slugs)
                for t in theirs
            ):
                out[logged] = p.name
                break
    return out


def current_prices(cfg: Config, providers: dict[str, Provider]) -> list[PriceChange]:
    """``cost_per_output_token`` of every provider from the standard price in force now (the
    entry ``routeledger prices show`` lists first), in one read-only unit of work."""
    from collectors.prices.api import resolve_model

    now = datetime.now(UTC).replace(tzinfo=None)
    out: list[PriceChange] = []
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        for p in providers.values():
            entry = None
            for name in dict.fromkeys((p.model, p.name, p.model.split("/", 1)[-1])):
                try:
                    provider, model_id, _ = resolve_model(con, name, cfg.aliases)
                except RouteLedgerError:
                    continue
                entry = queries.current_price(con, provider, model_id, now)
                if entry:
                    break
            if entry is None:
                continue
            change = _price_change(p, entry)
            if change:
                out.append(change)
    return out


def _price_change(p: Provider, entry: dict[str, Any]) -> PriceChange | None:
    per_mtok = float(entry["output_per_mtok"])
    new = round(per_mtok / 1_000_000, 12)
    old = p.cost_per_output_token
    if old is not None and math.isclose(old, new, rel_tol=1e-6, abs_tol=1e-15):
        return None
    since = entry["valid_from"]
    was = "unset" if old is None else f"{old:.10f}".rstrip("0")
    when = f", in force since {since:%Y-%m-%d}" if since and since.year > 1970 else ""
    return PriceChange(
        p.name,
        old,
        new,
        (
            f"{p.name}: cost_per_output_token {was} → {f'{new:.10f}'.rstrip('0')} "
            f"(${per_mtok:g} per 1M output tokens from {entry['source']}{when})"
        ),
    )


def propose(
    cfg: Config,
    path: str | Path | None = None,
    since: date | None = None,
    until: date | None = None,
    *,
    resamples: int | None = None,
    refresh_prices: bool = True,
) -> Proposal:
    m = manifest_mod.load(manifest_path(cfg, path))
    since, until = window(cfg, since, until)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        found = evidence_mod.collect(con, since, until)
        observed = {r["task"]: r for r in app_queries.task_stats(con, since, until)}
    s = settings(cfg, (until - since).days + 1)
    n_boot = int(cfg.get("tuner.bootstrap_resamples")) if resamples is None else resamples
    results: list[TaskResult] = []
    quality: dict[str, dict[str, Any]] = {}
    per_task: list[tuple[replay.TaskSavings, Any]] = []
    experiments: dict[str, manifest_mod.Experiment | None] = {}
    named: dict[str, tuple[TaskEvidence, dict[str, str]]] = {}
    for name in m.tasks:
        raw = found.get(name) or TaskEvidence(name, [], {})
        names = logged_names(raw.models, m.providers)
        named[name] = (raw.named(names), names)
    # a model with few requests on a task borrows from its requests on the other tasks
    pooled = evidence_mod.priors({t: ev for t, (ev, _) in named.items()}, s.min_samples)
    for name, task in m.tasks.items():
        raw = found.get(name) or TaskEvidence(name, [], {})
        ev, names = named[name]
        ev.priors = {
            k: v for k, v in pooled.get(name, {}).items() if k in ev.models and k in m.providers
        }
        by_model = {p.model: p.name for p in m.providers.values()}
        ev.evals = {
            by_model.get(k, k) if k not in m.providers else k: v for k, v in ev.evals.items()
        }
        r = recommend(ev, task, m.providers, s, until + timedelta(days=1))
        if task.experiment is not None:
            verdict, why = explore.conclude(
                task.experiment, r, r.explored or r.candidates, task.success_target
            )
            r.reasons.append(why)
            r.experiment = verdict
            if verdict != "running":
                experiments[name] = None
            if r.plan is not None and verdict == "running":
                r.reasons.remove(r.plan.reason)  # one experiment a task at a time
                r.plan = None
        if r.plan is not None:
            experiments[name] = explore.start(r.plan, until + timedelta(days=1))
            r.experiment = "planned"
        quality[name] = quality_evidence(ev, r)
        for logged, obs in sorted(raw.models.items()):
            if logged not in names and obs.attempts >= s.min_samples:
                r.reasons.append(
                    f"{logged} ({', '.join(sorted(obs.providers)) or 'no provider'}, "
                    f"{obs.attempts:,} attempts in the window) is in the logs but matches no "
                    "provider of the manifest: give a provider the model string the gateway "
                    "logs to let the tuner consider it"
                )
        results.append(r)
        saved, draws = replay.savings(ev, r.current_chain, r.proposed_chain, s, n_boot)
        per_task.append((replay.observed(saved, observed.get(name)), draws))
    prices = current_prices(cfg, m.providers) if refresh_prices else []
    supported: dict[str, tuple[str, ...]] = {}
    for r in results:
        if r.status != "changed":
            continue
        for name in r.proposed_chain:
            entry = m.providers[name]
            listed = entry.extra.get("supported_tasks")
            if isinstance(listed, list) and r.task not in listed:
                supported[name] = (*supported.get(name, ()), r.task)
                r.reasons.append(f"{name}: {r.task} added to the tasks it serves (supported_tasks)")
    changes = Changes(
        chains={r.task: r.proposed_chain for r in results if r.status == "changed"},
        costs={p.provider: p.current for p in prices},
        supported=supported,
        experiments=experiments,
    )
    unmanaged = {t: ev.requests for t, ev in found.items() if t not in m.tasks and ev.requests}
    return Proposal(
        manifest=m,
        since=since,
        until=until,
        tasks=results,
        savings=[t for t, _ in per_task],
        savings_total=replay.total(per_task),
        prices=prices,
        changes=changes,
        text=manifest_mod.render(m, changes),
        unmanaged_tasks=unmanaged,
        quality=quality,
    )
