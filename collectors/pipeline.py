"""The sequences every entry point runs: bootstrap the price catalog, load, keep the marts current.

The CLI, the scheduler's jobs, the demo and the dashboard call these, never the steps one by
one, so each sequence is written once:

=====================  ==========================================================================
:func:`ingest`         log files -> ``raw_attempts`` (:mod:`collectors.ingest`), then the marts
:func:`refresh_prices` price sources -> ``price_observations`` and versions, then the marts
:func:`confirm_price`  a held price change decided, then the marts
:func:`import_evals`   evaluation scores -> ``eval_scores`` (the tuner reads them; no mart does)
:func:`update_marts`   catalog bootstrap -> model matches -> marts (:mod:`collectors.warehouse.marts`)
=====================  ==========================================================================

The loaders never call the marts themselves: a load is a load, and this module says what follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collectors import evals
from collectors.config import Config
from collectors.ingest import Ingester, IngestSummary, files_to_ingest
from collectors.prices import api as prices
from collectors.prices.refresh import RefreshSummary
from collectors.remote import sources
from collectors.warehouse import Warehouse, marts

log = logging.getLogger(__name__)


def ensure_catalog(cfg: Config) -> bool:
    """Load the bundled offline price catalog into a warehouse that never loaded it
    (``prices.auto_catalog``), so common models are priced with no network; True when it did."""
    if not cfg.get("prices.auto_catalog"):
        return False
    with Warehouse.from_config(cfg).connect() as con:
        loaded = con.execute(
            "SELECT count(*) FROM price_refreshes WHERE source = 'catalog' AND status = 'ok'"
        ).fetchall()[0][0]
    if loaded:
        return False
    prices.refresh(cfg, sources=["catalog"])
    return True


def update_marts(
    cfg: Config, *, force: bool = False, rematch: bool = True, catalog: bool = True
) -> bool:
    """Bring everything derived up to date: the catalog on a new warehouse (``catalog``), the
    model-to-price matches (``rematch``; a price load matches as it stores), then the marts
    (all of them when ``force``). True when the marts were rebuilt."""
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    if catalog:
        ensure_catalog(cfg)
    if rematch:
        prices.rematch(cfg)
    return marts.refresh(wh, cfg, force=force)


def marts_for_reading(cfg: Config) -> bool:
    """Before a read (``stats``, ``tune``, ``bills drift``, the dashboard): :func:`update_marts`,
    unless a writer holds the warehouse and a read snapshot is there meanwhile. Then the reader
    reads the snapshot at once (the writer refreshes the marts when it is done) rather than
    waiting for it. True when the marts were rebuilt."""
    if Warehouse.from_config(cfg).readable_while_held():
        log.info("a writer holds the warehouse: reading its read snapshot meanwhile")
        return False
    return update_marts(cfg)


def catch_up(cfg: Config, loaded: bool) -> bool:
    """After loads: the marts, when anything was loaded or an earlier run was killed between its
    last commit and its refresh (the marts are behind the raw table)."""
    if loaded or marts.behind(Warehouse.from_config(cfg)):
        return update_marts(cfg)
    return False


def ingest(
    cfg: Config,
    paths: list[str] | None = None,
    fmt: str = "auto",
    mapping: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    refresh: bool = True,
) -> IngestSummary:
    """Ingest ``paths`` (files, globs or folders), or the configured ``[[sources]]`` when none;
    then bring the marts up to date unless ``refresh`` is False (a backfill of many files: the
    next run catches up)."""
    unmatched: list[str] = []
    remote = sources.fetch_all(cfg) if not paths else []
    files = files_to_ingest(cfg, paths, fmt, mapping, unmatched)
    summary = Ingester(cfg, progress).run(files)
    summary.unmatched_globs = unmatched
    summary.remote = remote
    if refresh:
        catch_up(cfg, bool(summary.load_ids))
    return summary


def refresh_prices(
    cfg: Config,
    sources: list[str] | None = None,
    from_files: dict[str, str | Path] | None = None,
    **options: Any,
) -> RefreshSummary:
    """``routeledger prices refresh``: every source (or ``sources``), then the marts price the
    attempts with what was just stored. ``options`` go to :func:`collectors.prices.api.refresh`
    (transport, retry policy, clock)."""
    summary = prices.refresh(cfg, sources, from_files, **options)
    update_marts(cfg, rematch=False, catalog=False)  # the refresh matched the models itself
    return summary


def confirm_price(
    cfg: Config, model: str, source: str | None = None, **options: Any
) -> dict[str, Any]:
    """``routeledger prices confirm``: decide the held changes of ``model``, then the marts."""
    result = prices.confirm(cfg, model, source, **options)
    update_marts(cfg, rematch=False, catalog=False)
    return result


def import_evals(cfg: Config, path: Path) -> dict[str, Any]:
    """``routeledger evals import``: land the scores of ``path`` as one import."""
    return evals.load(Warehouse.from_config(cfg), path)
