"""Import and fetch the providers' bills: what ``routeledger bills`` and the scheduler call."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

from collectors import pipeline
from collectors.bills import fetch as fetch_mod
from collectors.bills.load import Landed, land, read_file
from collectors.config import Config
from collectors.errors import InputError
from collectors.http import RetryPolicy
from collectors.warehouse import Warehouse


def summary(landed: list[Landed], failed: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's figures: per export, and in total."""
    reasons: Counter[str] = Counter()
    for r in landed:
        reasons.update(r.quarantined)
    return {
        "files": [r.as_json() for r in landed] + failed,
        "lines_loaded": sum(r.lines for r in landed),
        "days_replaced": sum(r.days_replaced for r in landed),
        "days_unchanged": sum(r.days_unchanged for r in landed),
        "duplicates_skipped": sum(r.duplicates for r in landed),
        "quarantined": sum(reasons.values()),
        "quarantined_by_reason": dict(sorted(reasons.items())),
    }


def import_files(
    cfg: Config, paths: list[Path], fmt: str = "auto", now: datetime | None = None
) -> dict[str, Any]:
    """``routeledger bills import``: each file's export landed as one import; a file that is
    not an export is reported (``error``) and the others still land."""
    parsed, failed = [], []
    for path in paths:
        try:
            parsed.append(read_file(path, fmt))
        except InputError as e:
            failed.append({"file": str(path), "format": fmt, "error": str(e)})
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    landed = land(wh, parsed, now) if parsed else []
    pipeline.update_marts(cfg)
    return summary(landed, failed)


def fetch(
    cfg: Config,
    since: date,
    until: date,
    providers: list[str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``routeledger prices bills``: each provider's reports fetched and landed."""
    if since > until:
        raise InputError(f"--since {since} is after --until {until}")
    got = fetch_mod.fetch(cfg, since, until, providers, transport=transport, policy=policy)
    exports = [e for f in got for e in f.exports]
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    landed = land(wh, exports, now) if exports else []
    pipeline.update_marts(cfg)
    return {
        "window": {"since": since.isoformat(), "until": until.isoformat()},
        "providers": [fetch_mod.describe(f) for f in got],
        **summary(landed, []),
    }
