"""The frame of every dashboard page: its context (:class:`Ctx`: the configuration, the
warehouse's state, the chosen filters), cached queries, the empty states, errors rendered once.

A page is a function of a :class:`Ctx` run through :func:`page`, which shows the empty state
when there is nothing to show and renders any error once, as one line (never a traceback).

Queries run through :func:`query`: results are cached for 60 s keyed on the warehouse path, the
modification times of the DuckDB file and its WAL, and the arguments (the filters). A
connection is never cached: each query opens a read-only one for its own unit of work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from app import queries
from app.queries import Filters
from collectors import config as config_mod
from collectors.errors import RouteLedgerError, WarehouseBusy
from collectors.redact import describe
from collectors.warehouse import Warehouse

log = logging.getLogger("routeledger.dashboard")

CACHE_TTL_SECONDS = 60
LOCK_TIMEOUT_SECONDS = 5.0  # a page waits this long for a writer, then says so and retries
BUSY_RETRY_SECONDS = 3
CTX_KEY = "rl_ctx"
EMPTY_HELP = (
    "Run `routeledger ingest PATH` to load your gateway's logs, or `routeledger demo` to "
    "explore sample data."
)


@dataclass
class Ctx:
    """What a page needs: the configuration, the warehouse's state and the chosen filters."""

    cfg: config_mod.Config | None = None
    state: dict[str, Any] = field(default_factory=dict)
    filters: Filters | None = None
    error: str | None = None
    busy: bool = False

    @property
    def has_warehouse(self) -> bool:
        return self.cfg is not None and Warehouse.from_config(self.cfg).exists()

    @property
    def today(self) -> date:
        tz = ZoneInfo(self.cfg.timezone if self.cfg else "UTC")
        return datetime.now(tz).date()


# -- queries --------------------------------------------------------------------------------------


def warehouse_stamp(cfg: config_mod.Config) -> str:
    """The configured warehouse's version (:meth:`Warehouse.version`): a cache key."""
    return Warehouse.from_config(cfg).version()


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached(
    name: str, where: str, stamp: str, args: tuple[Any, ...], _fn: Callable[..., Any], _wh: Any
) -> Any:
    with _wh.connect(read_only=True) as con:
        return _fn(con, *args)


def query(ctx: Ctx, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(con, *args)`` (a query function, e.g. from :mod:`app.queries`) on a read-only
    connection of its own, cached per function, warehouse version and arguments."""
    assert ctx.cfg is not None
    wh = Warehouse.from_config(ctx.cfg)
    wh.lock_timeout = LOCK_TIMEOUT_SECONDS
    name = f"{fn.__module__}.{fn.__qualname__}"
    return _cached(name, wh.describe(), wh.version(), tuple(args), _fn=fn, _wh=wh)


# -- the context ----------------------------------------------------------------------------------


def one_line(e: BaseException) -> str:
    """An error as the page shows it: one line, secrets redacted, and for an unexpected error
    its type with the values it quoted (possibly log content) elided."""
    return describe(e)


def load_context() -> Ctx:
    ctx = Ctx()
    try:
        ctx.cfg = config_mod.load()
        if ctx.has_warehouse:
            ctx.state = query(ctx, queries.warehouse_state)
    except WarehouseBusy:
        ctx.busy = True
    except RouteLedgerError as e:
        ctx.error = one_line(e)
    return ctx


# -- the page frame -------------------------------------------------------------------------------


def page(
    title: str, body: Callable[[Ctx], None], *, needs_attempts: bool = True, note: str = ""
) -> None:
    """Run a page body with the empty states and one-line error rendering every page shares."""
    st.title(title)
    if note:
        st.caption(note)
    ctx = st.session_state.get(CTX_KEY) or load_context()
    if ctx.busy:
        _busy()
    if ctx.error:
        st.error(ctx.error)
        return
    if not ctx.has_warehouse:
        path = Warehouse.from_config(ctx.cfg).describe() if ctx.cfg else "the warehouse"
        st.info(f"No warehouse yet at `{path}`. {EMPTY_HELP}")
        return
    if ctx.state.get("snapshot_at"):
        _snapshot_note(ctx)
    if needs_attempts and not ctx.state.get("attempts"):
        st.info(f"The warehouse holds no attempts yet. {EMPTY_HELP}")
        return
    try:
        body(ctx)
    except WarehouseBusy:
        _busy()
    except RouteLedgerError as e:
        st.error(one_line(e))
    except Exception as e:  # noqa: BLE001  (the edge: one line on screen, the trace in the log)
        log.exception("dashboard page %r failed", title)
        st.error(f"{title} could not be shown: {one_line(e)}")


def _snapshot_note(ctx: Ctx) -> None:
    """The page reads the read snapshot: a writer holds the warehouse (a refresh of the marts)."""
    assert ctx.cfg is not None
    at = ctx.state["snapshot_at"].replace(tzinfo=UTC).astimezone(ZoneInfo(ctx.cfg.timezone))
    st.caption(
        f"Showing the figures as of their last refresh ({at:%Y-%m-%d %H:%M} "
        f"{ctx.cfg.timezone}): the marts are being refreshed, and the page shows the new "
        "figures once that completes."
    )


def _busy() -> None:
    st.warning(
        "The warehouse is busy: another RouteLedger process is writing to it. "
        f"Retrying in {BUSY_RETRY_SECONDS} s..."
    )
    time.sleep(BUSY_RETRY_SECONDS)
    st.rerun()


def no_rows(df: pd.DataFrame | None, what: str = "rows") -> bool:
    """True (and says so) when a query returned nothing for the current filters."""
    if df is None or df.empty:
        st.info(f"No {what} for the selected days and filters.")
        return True
    return False
