"""``routeledger prices refresh``: every price source fetched, parsed and stored; failures recorded.

For each source (no warehouse connection is held while fetching): the stored validators make
the request conditional; a 304 or a body identical to the last one stored is ``unchanged``; a
fetch or parse failure is ``failed`` with its one-line error and the run goes on (its prices
stay in force). Each successful source is appended in its own short transaction; at the end one
unit of work rebuilds versions and reviews, updates ``price_source_status`` and re-matches the
logged models.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from collectors import http, yamlguard
from collectors.config import Config
from collectors.errors import ConfigError, InputError, SourceError
from collectors.prices import catalog, history, litellm_map, match, openrouter, overrides, store
from collectors.prices.common import is_skip, skip_counts
from collectors.prices.pages import anthropic, deepseek, openai
from collectors.records import PriceObservation
from collectors.warehouse import Warehouse, transaction

log = logging.getLogger(__name__)

FETCHED: dict[str, ModuleType] = {
    "openrouter": openrouter,
    "litellm": litellm_map,
    "openai": openai,
    "anthropic": anthropic,
    "deepseek": deepseek,
}
SOURCES = (*FETCHED, "catalog", "overrides")
"""Source names as the CLI and its JSON spell them; ``overrides`` is stored as ``override``."""
RECORD_SOURCE = {"overrides": "override"}


def record_source(name: str) -> str:
    return RECORD_SOURCE.get(name, name)


@dataclass
class SourceResult:
    source: str
    status: str  # ok | failed | unchanged
    models: int = 0
    changed: int = 0
    pending_review: int = 0
    error: str | None = None
    skipped_by_reason: dict[str, int] = field(default_factory=dict)  # models listed, not priced

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "models": self.models,
            "changed": self.changed,
            "pending_review": self.pending_review,
            "error": self.error,
            "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
        }


@dataclass
class RefreshSummary:
    refresh_id: str
    sources: list[SourceResult] = field(default_factory=list)
    matched: int = 0
    unmatched: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "sources": [s.as_json() for s in self.sources],
            "refresh_id": self.refresh_id,
            "models_matched": self.matched,
            "models_unmatched": self.unmatched,
        }


@dataclass
class _Outcome:
    source: str
    status: str
    observed_at: datetime
    observations: list[PriceObservation] = field(default_factory=list)
    error: str | None = None
    validators: http.Validators = field(default_factory=http.Validators)
    sha256: str | None = None
    origin: str | None = None
    refresh_id: str | None = None


def refresh(
    cfg: Config,
    sources: Sequence[str] | None = None,
    from_files: Mapping[str, str | Path] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: http.RetryPolicy | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RefreshSummary:
    """Refresh ``sources`` (all when none and no files are given); never raises for one source."""
    from_files = dict(from_files or {})
    names = list(dict.fromkeys([*(sources or []), *from_files]))
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise InputError(f"unknown price source {unknown[0]!r}; known: {', '.join(SOURCES)}")
    names = names or list(SOURCES)
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    with wh.connect() as con:
        previous = {n: store.get_status(con, record_source(n)) for n in names}
    summary = RefreshSummary(refresh_id=uuid.uuid4().hex[:16])
    outcomes: list[_Outcome] = []
    with http.create_client(transport) as client:
        for name in names:
            outcome = _collect(cfg, name, from_files.get(name), previous[name], client, policy, now)
            if outcome.status == "ok":
                outcome.refresh_id = summary.refresh_id
                with wh.connect() as con, transaction(con):
                    store.insert_refresh(
                        con,
                        refresh_id=summary.refresh_id,
                        source=record_source(name),
                        started_at=outcome.observed_at,
                        observed_at=outcome.observed_at,
                        observations=outcome.observations,
                        content_sha256=outcome.sha256,
                        origin=outcome.origin,
                    )
            outcomes.append(outcome)
            log.info("prices %s: %s %s", name, outcome.status, outcome.error or "")
    with wh.connect() as con, transaction(con):
        for o in outcomes:
            if o.status != "ok":
                store.insert_attempt(
                    con,
                    refresh_id=summary.refresh_id,
                    source=record_source(o.source),
                    started_at=o.observed_at,
                    status=o.status,
                    error=o.error,
                    origin=o.origin,
                    content_sha256=o.sha256,
                )
        rebuilt = history.rebuild(con, float(cfg.get("prices.review_factor")))
        for o in outcomes:
            summary.sources.append(_status(con, o, previous[o.source], rebuilt))
        summary.matched, summary.unmatched = match.rebuild_matches(
            con, cfg.aliases, store.utc_naive(now())
        )
    return summary


def _collect(
    cfg: Config,
    name: str,
    file: str | Path | None,
    previous: store.SourceStatus | None,
    client: httpx.Client,
    policy: http.RetryPolicy | None,
    now: Callable[[], datetime],
) -> _Outcome:
    """Fetch and parse one source; every anticipated failure becomes a ``failed`` outcome."""
    observed_at = now()
    outcome = _Outcome(name, "ok", observed_at)
    try:
        payload = _payload(cfg, name, file, previous, client, policy, outcome)
        if payload is None:
            outcome.status = "unchanged"
            return outcome
        outcome.sha256 = hashlib.sha256(payload).hexdigest()
        if previous is not None and previous.content_sha256 == outcome.sha256:
            outcome.status = "unchanged"
            return outcome
        outcome.observations = _parse(cfg, name, payload, observed_at, outcome.origin)
    except (SourceError, ConfigError, InputError) as exc:
        outcome.status, outcome.error = "failed", str(exc)
    except (ArithmeticError, ValueError, RecursionError) as exc:
        # a parser that did not anticipate this input: this source fails, the others go on
        log.warning("prices %s: unexpected %s while parsing", name, type(exc).__name__)
        outcome.status = "failed"
        outcome.error = (
            f"{name}: could not be read ({type(exc).__name__}); the format may have changed"
        )
    return outcome


def _payload(
    cfg: Config,
    name: str,
    file: str | Path | None,
    previous: store.SourceStatus | None,
    client: httpx.Client,
    policy: http.RetryPolicy | None,
    outcome: _Outcome,
) -> bytes | None:
    """The bytes to parse, or None when the source says nothing changed."""
    if file is not None:
        outcome.origin = str(file)
        try:  # a saved copy is held to what a fetch may return, and must be a regular file
            return yamlguard.read_bytes(file, max_bytes=http.MAX_BODY_BYTES)
        except (OSError, yamlguard.YamlLimitError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise InputError(f"{name}: cannot read {file}: {why}") from exc
    if name == "catalog":
        outcome.origin = catalog.VERSION
        return catalog.VERSION.encode()
    if name == "overrides":
        path = cfg.resolve(str(cfg.get("prices.overrides")))
        outcome.origin = str(path)
        try:
            return yamlguard.read_bytes(path) if path.exists() else b""
        except (OSError, yamlguard.YamlLimitError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise InputError(f"overrides: cannot read {path}: {why}") from exc
    module = FETCHED[name]
    validators = http.Validators(
        previous.etag if previous else None, previous.last_modified if previous else None
    )
    outcome.origin = module.URL
    fetched: http.Fetched = module.fetch(client, validators=validators, policy=policy)
    outcome.validators = fetched.validators
    return None if fetched.unchanged else fetched.content


def _parse(
    cfg: Config, name: str, payload: bytes, observed_at: datetime, origin: str | None
) -> list[PriceObservation]:
    if name == "catalog":
        return catalog.parse(observed_at)
    if name == "overrides":
        text = payload.decode("utf-8", errors="strict") if payload else ""
        return overrides.parse(text, observed_at, file=origin or "overrides")
    module = FETCHED[name]
    url = module.URL if origin is None or origin == module.URL else f"file {origin}"
    result: list[PriceObservation] = module.parse(payload, observed_at, url=url)
    return result


def _status(
    con: Any,
    o: _Outcome,
    previous: store.SourceStatus | None,
    rebuilt: dict[str, history.SourceRebuild],
) -> SourceResult:
    """Write ``price_source_status`` for one outcome; a failure keeps what was known before."""
    source = record_source(o.source)
    before = previous or store.SourceStatus(
        source, "failed", o.observed_at, None, 0, 0, 0, None, None, None, None, None
    )
    if o.status == "ok":
        models = len({(x.provider, x.model_id) for x in o.observations if not is_skip(x)})
        changed = rebuilt[source].changed_in_latest if source in rebuilt else 0
        validators = o.validators
    else:
        models, changed = before.models, 0
        fresh = o.status == "unchanged" and (o.validators.etag or o.validators.last_modified)
        validators = o.validators if fresh else http.Validators(before.etag, before.last_modified)
    pending = store.pending_count(con, source)
    store.set_status(
        con,
        store.SourceStatus(
            source=source,
            status=o.status,
            last_attempt_at=o.observed_at,
            last_success_at=before.last_success_at if o.status == "failed" else o.observed_at,
            models=models,
            changed=changed,
            pending_review=pending,
            error=o.error,
            etag=validators.etag,
            last_modified=validators.last_modified,
            content_sha256=o.sha256 if o.status == "ok" else before.content_sha256,
            last_refresh_id=o.refresh_id if o.status == "ok" else before.last_refresh_id,
        ),
    )
    skipped = dict(skip_counts(o.observations)) if o.status == "ok" else {}
    return SourceResult(o.source, o.status, models, changed, pending, o.error, skipped)
