"""What every dashboard page shares: the sidebar filters, cached queries, formatting, tables with
a CSV download, charts, empty states and error rendering.

A page is a function of a :class:`Ctx` run through :func:`page`, which shows the empty state
when there is nothing to show and renders any error once, as one line (never a traceback).

Queries run through :func:`query`: results are cached for 60 s keyed on the warehouse path, the
modification times of the DuckDB file and its WAL, and the arguments (the filters). A
connection is never cached: each query opens a read-only one for its own unit of work.

Strings from logs, price pages and manifests are data: they reach the screen only through
dataframes, ``st.text``, plotly labels escaped with :func:`safe` and, where Streamlit reads a
label as Markdown (an expander's), escaped with :func:`md_text`; never as live Markdown or HTML.
"""

from __future__ import annotations

import calendar
import html
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly import colors as _plotly_colors
from streamlit.errors import StreamlitAPIException

from app import drill as drill_mod
from app import money, queries, text_safety
from app import window as window_mod
from app.queries import Filters
from app.tuner import auth
from collectors import config as config_mod
from collectors.errors import RouteLedgerError, WarehouseBusy
from collectors.records import PRICE_SOURCES
from collectors.redact import describe
from collectors.warehouse import Warehouse

log = logging.getLogger("routeledger.dashboard")

CACHE_TTL_SECONDS = 60
LOCK_TIMEOUT_SECONDS = 5.0  # a page waits this long for a writer, then says so and retries
BUSY_RETRY_SECONDS = 3
CTX_KEY = "rl_ctx"
FILTER_KEYS = {
    "providers": "rl_providers",
    "models": "rl_models",
    "tasks": "rl_tasks",
    "teams": "rl_teams",
}
DATES_KEY = "rl_dates"
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
        return self.cfg is not None and self.cfg.warehouse_path.exists()

    @property
    def today(self) -> date:
        tz = ZoneInfo(self.cfg.timezone if self.cfg else "UTC")
        return datetime.now(tz).date()


# -- queries --------------------------------------------------------------------------------------


def _stamp(path: Path) -> tuple[float, float]:
    wal = path.with_name(path.name + ".wal")
    return (path.stat().st_mtime, wal.stat().st_mtime if wal.exists() else 0.0)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached(
    name: str, path: str, stamp: tuple[float, float], args: tuple[Any, ...], _fn: Callable[..., Any]
) -> Any:
    with Warehouse(path, LOCK_TIMEOUT_SECONDS).connect(read_only=True) as con:
        return _fn(con, *args)


def query(ctx: Ctx, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(con, *args)`` (a query function, e.g. from :mod:`app.queries`) on a read-only
    connection of its own, cached per function, warehouse version and arguments."""
    assert ctx.cfg is not None
    path = ctx.cfg.warehouse_path
    name = f"{fn.__module__}.{fn.__qualname__}"
    return _cached(name, str(path), _stamp(path), tuple(args), _fn=fn)


# -- context and sidebar --------------------------------------------------------------------------


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


# -- who may change things -----------------------------------------------------------------------

SIGNED_IN_KEY = "rl_routing_user"  # the approver the Routing page signed in, for this session


def exposed() -> bool:
    """Whether this session may come from beyond this machine: the server listens beyond it
    (``server.address`` not a loopback address; unset means every interface), or the request
    came through a proxy or under another host name (``auth.reached_from_elsewhere``)."""
    if not auth.is_local(st.get_option("server.address")):
        return True
    return auth.reached_from_elsewhere(request_headers())


def request_headers() -> dict[str, str]:
    """The headers of the request that opened this session (none outside a server)."""
    return dict(st.context.headers)


def may_act() -> bool:
    """Whether this session may change things (approve a manifest, build or send a report): on
    localhost, anyone who can reach it; beyond it, only someone signed in on the Routing page
    (an approver's password, or OIDC through ``st.login``). Framing is checked apart
    (:func:`not_framed`)."""
    if not exposed() or st.session_state.get(SIGNED_IN_KEY):
        return True
    return bool(st.user.get("is_logged_in", False))  # False without [auth]: nobody logs in


# -- is this page inside another page's frame? ---------------------------------------------------
#
# `routeledger dashboard` sends headers that forbid other origins to frame it
# (app/dashboard_server.py); `streamlit run app/dashboard.py` by hand sends none. So the pages
# that change things also ask the browser: the server cannot tell, as the only request a session
# knows (`st.context.headers`) is the websocket's, and a framed page's websocket carries the same
# headers as a top-level one (same Origin and Host, no Sec-Fetch-Dest). A custom component (v2:
# JavaScript in the app's own document, no iframe of its own) reports `window.top ===
# window.self`; a page of another origin cannot forge that report or stop it running.

TOP_LEVEL_KEY = "rl_top_level"  # the browser's answer, for this session: True top, False framed
FRAME_PROBE_KEY = "rl_frame_probe"
_FRAME_PROBE = st.components.v2.component(
    "rl_frame_probe",
    js="export default function (c) { c.setStateValue('top', window.top === window.self); }",
)
FRAMED_MESSAGE = (
    "This page is shown inside a frame of another page, so nothing can be approved, rejected, "
    "rolled back, built or sent from it. Open the dashboard in a tab of its own."
)


def _noop() -> None:
    pass


def top_level() -> bool | None:
    """Whether this session's page is the browser's top window: True, False when it is inside a
    frame, None until the browser has answered (a rerun follows its answer). A session with no
    request (a bare script run, AppTest) has no browser to frame it: True."""
    if not request_headers():
        return True
    known = st.session_state.get(TOP_LEVEL_KEY)
    if known is None:
        known = _FRAME_PROBE(key=FRAME_PROBE_KEY, on_top_change=_noop).get("top")
        if known is not None:
            st.session_state[TOP_LEVEL_KEY] = known = bool(known)
            if not known:
                log.warning("a dashboard page was opened inside a frame: its actions are refused")
    return known


def not_framed() -> bool:
    """True when this page is the browser's top window; otherwise says why its actions are off
    (framed, or the browser has not answered yet) and returns False."""
    top = top_level()
    if top is None:
        st.caption("Checking that this page is not inside a frame of another page...")
    elif not top:
        st.error(FRAMED_MESSAGE)
    return top is True


def month_start(d: date) -> date:
    return d.replace(day=1)


def prev_month_start(d: date) -> date:
    return (month_start(d) - timedelta(days=1)).replace(day=1)


def week_start(d: date, first_weekday: str) -> date:
    ws = config_mod.WEEKDAYS.index(first_weekday)  # 0 = Monday, as date.weekday()
    return d - timedelta(days=(d.weekday() - ws) % 7)


def days_in_month(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def _clamp(d: date, lo: date, hi: date) -> date:
    return min(max(d, lo), hi)


# -- the shared filters: ranges of days, and the URL that carries them -----------------------------

PRESET_KEY = "rl_range"
CUSTOM = "Custom days"
URL_KEYS = {"providers": "provider", "models": "model", "tasks": "task", "teams": "team"}
URL_PARAMS = ("since", "until", *URL_KEYS.values(), "count")
URL_WRITTEN_KEY = "rl_url_written"  # our parameters as this session last wrote them
URL_NOTICE_KEY = "rl_url_notice"  # (the parameters a read URL became, what of it was ignored)
WEEK_PICKER_NOTE = (
    "The calendar starts its weeks as your browser's language does (Streamlit's date picker "
    "has no setting for it); the week presets follow calendar.week_start ({week})."
)


def date_presets(
    cfg: config_mod.Config, first: date, last: date, today: date
) -> dict[str, tuple[date, date]]:
    """The sidebar's ranges of local days (``calendar.timezone``), counted back from the
    default window's last day (the last day with data, never after today): the last 7 days,
    the default window (``calendar.window_days`` days), this and last calendar week
    (``calendar.week_start``), this and last calendar month, all the data. A range that ends
    before the data begins is left out; one partly outside the data is cut to it."""
    end = window_mod.default_until(cfg, last, today)
    week = window_mod.week_of(end, cfg.week_start)
    month = end.replace(day=1)
    month_before = month - timedelta(days=1)
    ranges = {
        "Last 7 days": (end - timedelta(days=6), end),
        f"Last {window_mod.window_days(cfg)} days": window_mod.default_window(
            cfg, last, today
        ).as_tuple(),
        "This week": (week.since, end),
        "Last week": window_mod.week_of(week.since - timedelta(days=1), cfg.week_start).as_tuple(),
        "This month": (month, end),
        "Last month": (month_before.replace(day=1), month_before),
        "All data": (first, last),
    }
    hi = max(last, today)
    return {
        name: (_clamp(a, first, hi), _clamp(b, first, hi))
        for name, (a, b) in ranges.items()
        if b >= first and a <= hi
    }


def _preset_of(dates: tuple[date, ...], presets: dict[str, tuple[date, date]]) -> str:
    """The preset the chosen days are: the one shown if it still matches, else the first that
    does, else :data:`CUSTOM`."""
    shown = st.session_state.get(PRESET_KEY)
    if shown in presets and presets[shown] == tuple(dates):
        return str(shown)
    return next((name for name, days in presets.items() if days == tuple(dates)), CUSTOM)


def _apply_preset(presets: dict[str, tuple[date, date]]) -> None:
    name = st.session_state.get(PRESET_KEY)
    if name in presets:
        st.session_state[DATES_KEY] = presets[name]


def _shown(value: str) -> str:
    """A value from the URL as a notice quotes it: short, and literal in Markdown."""
    return md_text(value if len(value) <= 40 else value[:39] + "…")


def _url_now() -> dict[str, tuple[str, ...]]:
    """Our parameters as the URL holds them now (a parameter may repeat)."""
    qp = st.query_params
    return {k: tuple(qp.get_all(k)) for k in URL_PARAMS if qp.get_all(k)}


def _url_day(
    now: dict[str, tuple[str, ...]], key: str, lo: date, hi: date, notes: list[str]
) -> date | None:
    if key not in now:
        return None
    raw = now[key][0]
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        notes.append(f"{key}={_shown(raw)} is not a day (YYYY-MM-DD)")
        return None
    if not lo <= day <= hi:
        notes.append(f"{key}={day} is outside the data ({lo} to {hi}): {_clamp(day, lo, hi)} used")
    return _clamp(day, lo, hi)


def _url_dates(
    now: dict[str, tuple[str, ...]],
    first: date,
    hi: date,
    default: tuple[date, date],
    notes: list[str],
) -> tuple[date, date]:
    """The days ``since`` and ``until`` give (either may be left out: the other end as the
    default window has it), or the default window."""
    since, until = (
        _url_day(now, "since", first, hi, notes),
        _url_day(now, "until", first, hi, notes),
    )
    if since is None and until is None:
        return default
    if since is not None and until is not None and since > until:
        notes.append(f"since={since} is after until={until}")
        return default
    if until is None:
        return since, max(since, default[1])
    if since is None:
        return max(first, until - (default[1] - default[0])), until
    return since, until


def _url_values(raw: tuple[str, ...], options: list[str], key: str, notes: list[str]) -> list[str]:
    """The values of a repeated or comma-separated parameter that the data holds, in order."""
    allowed, picked, unknown = set(options), [], []
    for value in raw:
        for part in [value] if value in allowed else [p.strip() for p in value.split(",")]:
            if part in allowed and part not in picked:
                picked.append(part)
            elif part and part not in allowed:
                unknown.append(part)
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        names = ", ".join(_shown(u) for u in unknown[:3])
        notes.append(f"{key}={names}{more}: not in the data")
    return picked


def _from_url(
    first: date, hi: date, default: tuple[date, date], options: dict[str, list[str]]
) -> list[str] | None:
    """The filters a URL gives, put in the session on its first run and whenever the URL's
    parameters change under it (a link opened, back or forward); what it gave that cannot be
    used is left out and told (returned). None when the URL was not read: no parameter, or
    the ones this session wrote."""
    now = _url_now()
    if not now or now == st.session_state.get(URL_WRITTEN_KEY):
        return None
    notes: list[str] = []
    st.session_state[DATES_KEY] = _url_dates(now, first, hi, default, notes)
    for name, key in FILTER_KEYS.items():
        param = URL_KEYS[name]
        st.session_state[key] = _url_values(now.get(param, ()), options[name], param, notes)
    grain = now.get("count", ("attempt",))[0]
    if grain not in queries.GRAINS:
        notes.append(f"count={_shown(grain)} is neither attempt nor request")
        grain = "attempt"
    st.session_state[GRAIN_KEY] = grain
    return notes


def _to_url(f: Filters, default: tuple[date, date]) -> dict[str, tuple[str, ...]]:
    """Write the filters to the URL, so the view can be shared as a link: the days unless they
    are the default window, each filter's values (repeated), the Count when it is whole
    requests. Other parameters of the URL are left as they are."""
    want: dict[str, tuple[str, ...]] = {}
    if (f.since, f.until) != default:
        want["since"], want["until"] = (f.since.isoformat(),), (f.until.isoformat(),)
    for name, param in URL_KEYS.items():
        if getattr(f, name):
            want[param] = tuple(getattr(f, name))
    if f.selects_models and st.session_state.get(GRAIN_KEY) == "request":
        want["count"] = ("request",)
    qp = st.query_params
    changed = {p: list(v) for p, v in want.items() if tuple(qp.get_all(p)) != v}
    gone = [p for p in URL_PARAMS if p not in want and qp.get_all(p)]
    if gone:  # one change of the address (one step back in the browser's history), not one a key
        others = {k: qp.get_all(k) for k in qp if k not in URL_PARAMS}
        try:
            qp.from_dict({**others, **{p: list(v) for p, v in want.items()}})
        except StreamlitAPIException:  # another page's widget is bound to the URL: key by key
            for p in gone:
                del qp[p]
            qp.update(changed)
    elif changed:
        qp.update(changed)
    st.session_state[URL_WRITTEN_KEY] = want
    return want


def sidebar() -> Ctx:
    """Render the shared filters (kept in st.session_state across pages, and in the URL) and
    remember the context for the page that runs next."""
    ctx = load_context()
    st.session_state[CTX_KEY] = ctx
    if not ctx.state.get("attempts"):
        return ctx
    first, last = ctx.state["first_day"], ctx.state["last_day"]
    hi = max(last, ctx.today)
    assert ctx.cfg is not None  # the state was read through it
    w = window_mod.default_window(ctx.cfg, last, ctx.today)  # as stats and tune, within the data
    default = (_clamp(w.since, first, hi), _clamp(w.until, first, hi))
    try:
        options = query(ctx, queries.filter_options)
    except WarehouseBusy:  # a writer got in after the first query: the page says so and retries
        ctx.busy = True
        return ctx
    except RouteLedgerError as e:
        ctx.error = one_line(e)
        return ctx
    notes = _from_url(first, hi, default, options)
    current = st.session_state.get(DATES_KEY, default)
    st.session_state[DATES_KEY] = tuple(_clamp(d, first, hi) for d in current) or default
    for name, key in FILTER_KEYS.items():
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options[name]]

    side = st.sidebar
    side.header("Filters")
    presets = date_presets(ctx.cfg, first, last, ctx.today)
    st.session_state[PRESET_KEY] = _preset_of(st.session_state[DATES_KEY], presets)
    side.selectbox(
        "Range",
        [*presets, CUSTOM],
        key=PRESET_KEY,
        on_change=_apply_preset,
        args=(presets,),
        help="Calendar weeks and months in the configured time zone (calendar.timezone) and "
        "week start (calendar.week_start), counted back from the last day with data (never "
        "after today).",
    )
    picked = side.date_input(
        "Local days",
        key=DATES_KEY,
        min_value=first,
        max_value=hi,
        format="YYYY-MM-DD",
        help=f"Calendar days in {ctx.cfg.timezone} (calendar.timezone).",
    )
    note = WEEK_PICKER_NOTE.format(week=ctx.cfg.week_start.capitalize())
    end = window_mod.default_until(ctx.cfg, last, ctx.today)
    if end < ctx.today:
        note += f" Presets count back from {end}, the last day with data."
    side.caption(note)
    labels = {"providers": "Provider", "models": "Model", "tasks": "Task", "teams": "Team"}
    for name, key in FILTER_KEYS.items():
        side.multiselect(labels[name], options[name], key=key, placeholder="All")
    side.button("Reset filters", on_click=_reset, args=(default,), width="stretch")
    side.caption(
        f"Data from {first} to {last} · {ctx.state['attempts']:,} attempts. "
        "Provider and model filters select those models' own attempts (the Count control "
        "switches to whole requests that touched them). The address of this page "
        "holds the filters: copy it to share this view."
    )
    picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    since = picked[0] if picked else default[0]
    ctx.filters = Filters(
        since=since,
        until=picked[1] if len(picked) > 1 else since,
        **{name: tuple(st.session_state[key]) for name, key in FILTER_KEYS.items()},
    )
    written = _to_url(ctx.filters, default)
    if notes is not None:
        st.session_state[URL_NOTICE_KEY] = (written, notes)
    kept = st.session_state.get(URL_NOTICE_KEY)
    if kept and kept[0] == written and kept[1]:  # until the filters change
        side.warning("Ignored from the link: " + "; ".join(kept[1]) + ".")
    return ctx


def _reset(default: tuple[date, date]) -> None:
    st.session_state[DATES_KEY] = default
    for key in FILTER_KEYS.values():
        st.session_state[key] = []


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
        path = ctx.cfg.warehouse_path if ctx.cfg else "the warehouse"
        st.info(f"No warehouse yet at `{path}`. {EMPTY_HELP}")
        return
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


# -- formatting -----------------------------------------------------------------------------------
#
# One format per kind of figure on every page. Money as app.money tells it (precision by
# magnitude), one precision for a whole column (:func:`usd_decimals`); percentages with one
# decimal, never "-0.0%", and a share of nothing as "n/a" with the reason (:func:`share`);
# milliseconds and counts with thousands separators; a missing value as MISSING, never "None".
# Charts use the same kinds: :func:`axis` for tick labels (no SI suffix such as "400μ"),
# :func:`hover` for hover and cell text.

MISSING = drill_mod.MISSING  # "—"
KINDS = ("usd", "ms", "pct", "count")


def missing(v: Any) -> bool:
    """None, NaN, NaT or pandas' NA."""
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):  # a list or an array is a value, not a missing one
        return False


def usd_decimals(values: Any) -> int:
    """The one precision (2, 4 or 6 decimals) of a column of dollar amounts: :func:`app.money.usd`'s
    for its smallest non-zero amount, so no amount of the column reads as $0.00."""
    amounts = [abs(float(v)) for v in values if not missing(v) and float(v) != 0]
    if not amounts:
        return 2
    return len(money.usd(min(amounts)).rpartition(".")[2])  # app.money's tiers, written once


def usd(v: Any, precise: bool = False, decimals: int | None = None) -> str:
    """A known dollar amount as :func:`app.money.usd` tells it (``$1,234.50``, ``$0.0123``,
    ``$0.000120``; ``-$1.50``, never ``$-1.50`` or ``-$0.00``); ``precise`` keeps at least four
    decimals (a unit cost), ``decimals`` fixes them (a column's: :func:`usd_decimals`). MISSING
    when there is no amount: an unpriced one is never $0."""
    if missing(v):
        return MISSING
    x = float(v)
    if decimals is None:
        decimals = usd_decimals([x])
        if precise and x != 0:
            decimals = max(decimals, 4)
    text = f"${abs(x):,.{decimals}f}"
    return "-" + text if x < 0 and round(abs(x), decimals) != 0 else text


def usd_column(values: Any) -> list[str]:
    """Dollar amounts of one column, all at the column's precision (:func:`usd_decimals`)."""
    values = list(values)
    decimals = usd_decimals(values)
    return [usd(v, decimals=decimals) for v in values]


def pct(v: Any, digits: int = 1) -> str:
    """A share as a percentage, ``12.3%``; a share that rounds to zero is ``0.0%``, never
    ``-0.0%``; MISSING when there is none."""
    if missing(v):
        return MISSING
    text = f"{float(v) * 100:.{digits}f}"
    return (f"{0:.{digits}f}" if float(text) == 0 else text) + "%"


def share(part: Any, whole: Any, digits: int = 1, *, of: str = "attempts") -> str:
    """``part`` of ``whole`` as a percentage; ``n/a (no attempts)`` when ``whole`` is nothing,
    never ``0.0%`` of nothing."""
    if missing(whole) or not whole:
        return f"n/a (no {of})"
    return pct(float(part) / float(whole), digits)


def count(v: Any) -> str:
    """A count with thousands separators, ``19,954``; MISSING when there is none."""
    return MISSING if missing(v) else f"{float(v):,.0f}"


def counts_of(part: Any, whole: Any) -> str | None:
    """``12 of 340`` beside a share; None (nothing to show) when ``whole`` is nothing."""
    if missing(whole) or not whole:
        return None
    return f"{count(part)} of {count(whole)}"


def ms(v: Any) -> str:
    """Milliseconds with thousands separators, ``11,812 ms``; MISSING when there are none."""
    return MISSING if missing(v) else f"{float(v):,.0f} ms"


def hover(ref: str, kind: str, decimals: int = 4) -> str:
    """A plotly template token showing ``ref`` (``y``, ``customdata[0]``, ...) as one kind of
    figure: ``hover("y", "ms")`` is ``%{y:,.0f} ms``; money at ``decimals`` (a column's:
    :func:`usd_decimals`)."""
    tokens = {
        "usd": f"$%{{{ref}:,.{decimals}f}}",
        "ms": f"%{{{ref}:,.0f}} ms",
        "pct": f"%{{{ref}:.1%}}",
        "count": f"%{{{ref}:,.0f}}",
    }
    if kind not in tokens:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return tokens[kind]


# Tick labels per kind: d3 formats with separators and trailing zeros trimmed, never an SI
# suffix (plotly's default writes $0.0004 as "400μ" and 11,812 ms as "11.812k").
AXIS_FORMATS: dict[str, dict[str, str]] = {
    "usd": {"tickprefix": "$", "tickformat": ",~r"},
    "ms": {"ticksuffix": " ms", "tickformat": ",~r"},
    "pct": {"tickformat": ".1~%"},
    "count": {"tickformat": ",~r"},
}


def axis(fig: go.Figure, which: str, kind: str, title: str | None = None) -> go.Figure:
    """``fig``'s x or y axes (every facet's) labelled as one kind of figure; ``title`` names
    them (the unit is in the tick labels)."""
    if kind not in AXIS_FORMATS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    opts: dict[str, Any] = {**AXIS_FORMATS[kind], "exponentformat": "none"}
    if title is not None:
        opts["title_text"] = title
    (fig.update_xaxes if which == "x" else fig.update_yaxes)(**opts)
    return fig


def money_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Ticks for a log-scale money colour bar between ``low`` and ``high`` dollars (> 0): 1, 2
    and 5 of each decade, as ``(log10 values, labels)`` written as the money axes write them."""
    lo, hi = math.floor(math.log10(low)), math.ceil(math.log10(high))
    values = [m * 10.0**e for e in range(lo, hi + 1) for m in (1, 2, 5)]
    values = [v for v in values if low / 1.001 <= v <= high * 1.001] or [low, high]
    if len(values) > 8:  # a wide span: decades only
        values = [v for v in values if math.log10(v) % 1 == 0] or values[:: len(values) // 4]
    return [math.log10(v) for v in values], [tick_usd(v) for v in values]


def tick_usd(v: float) -> str:
    """A dollar amount as a money axis labels it (:data:`AXIS_FORMATS`): ``$0.0005``, ``$2``,
    ``$1,000``."""
    text = f"{abs(v):,.10f}".rstrip("0").rstrip(".")
    return ("-$" if v < 0 and text != "0" else "$") + text


def label(col: str) -> str:
    """``cost_per_success_usd`` -> ``Cost per success ($)``; ``latency_n`` -> ``Latency (n)``."""
    words, unit = col.split("_"), ""
    if words[-2:] == ["per", "mtok"]:
        words, unit = words[:-2], " ($/Mtok)"
    elif len(words) > 1 and words[-1] in ("usd", "ms"):
        unit = " ($)" if words.pop() == "usd" else " (ms)"
    words = ["(n)" if w == "n" and len(words) > 1 else w for w in words]
    text = re.sub(r"\bp(\d\d)\b", r"P\1", " ".join(words)).replace("ttft", "TTFT")
    return text[:1].upper() + text[1:] + unit


ROW_PX = 35  # the height of a dataframe row, and of its header, in Streamlit's default theme
TABLE_ROWS = 10  # rows a table shows before it scrolls, unless the page gives another height
WIDE_TABLE = 7  # columns from which the first one stays pinned while the table scrolls sideways
LONG_TEXT = 60  # characters beyond which a text column gets a fixed width instead of its longest
_PERCENT = ("_rate", "_share", "_low", "_high", "_pct", "_coverage")


def is_money(col: str) -> bool:
    return col.endswith(("_usd", "_per_mtok")) or col == "per_request"


def is_percent(col: str) -> bool:
    return col.endswith(_PERCENT) and col != "discount_pct"


def column_config(df: pd.DataFrame) -> dict[str, Any]:
    """Each column formatted by its name and type, one format per kind of figure: dollars at
    the column's one precision (:func:`usd_decimals`), percentages with one decimal,
    milliseconds and counts with separators, UTC times; the first column pinned when the table
    is wide enough to scroll sideways."""
    cfg: dict[str, Any] = {}
    cc = st.column_config
    wide = len(df.columns) >= WIDE_TABLE
    for i, col in enumerate(df.columns):
        name, text = str(col), label(str(col))
        if name == EXPLORE_COLUMN:  # the row's requests in the explorer (:func:`explore_links`)
            cfg[name] = cc.LinkColumn("Requests", display_text="explore", width="small")
            continue
        numeric = pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col])
        if is_money(name):
            cfg[name] = cc.NumberColumn(
                text, format="dollar", step=10.0 ** -usd_decimals(df[col])
            )  # the precision comes from the step: one for the whole column
        elif is_percent(name):
            cfg[name] = cc.NumberColumn(text, format="percent", step=0.001)  # 12.3%
        elif name.endswith("_ms"):
            cfg[name] = cc.NumberColumn(text, format="%,.0f ms")
        elif name == "local_day":
            cfg[name] = cc.DateColumn("Day", format="YYYY-MM-DD")
        elif name.endswith(("_at", "_seen")) or name in (
            "in_force_since",
            "valid_from",
            "valid_to",
        ):
            cfg[name] = cc.DatetimeColumn(text + " (UTC)", format="YYYY-MM-DD HH:mm")
        elif numeric and pd.api.types.is_integer_dtype(df[col]):
            cfg[name] = cc.NumberColumn(text, format="%,d")
        elif numeric:
            cfg[name] = cc.NumberColumn(text, format="localized")
        elif _long_text(df[col]):  # an error or an excerpt: cut in the cell, whole on hover
            cfg[name] = cc.TextColumn(text, width="large")
        else:
            cfg[name] = cc.Column(text, pinned=True if wide and i == 0 else None)
    return cfg


def _long_text(values: pd.Series) -> bool:
    lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
    return bool(len(lengths)) and int(lengths.max()) > LONG_TEXT


def table_height(rows: int, cap: int | None = None) -> int:
    """Pixels for a header and ``rows`` rows, so a short table has no blank rows under it; at
    most ``cap`` (default :data:`TABLE_ROWS` rows), beyond which the table scrolls."""
    fit = ROW_PX * (rows + 1) + 3  # + the border
    return min(fit, cap if cap is not None else ROW_PX * (TABLE_ROWS + 1) + 3)


_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV with log strings neutralised for spreadsheets (a leading = + - @ gets a quote)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_CSV_FORMULA) else v
            )
    return out.to_csv(index=False).encode("utf-8")


def clean_cells(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the unsafe display characters of its text cells (:mod:`app.text_safety`:
    control characters, bidi overrides and marks) replaced by U+FFFD, so a logged name cannot
    reorder or hide what a table row shows; other cells as they are."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: text_safety.clean(v) if isinstance(v, str) else v)
    return out


def _missing_money(col: str) -> str:
    """What a money cell without a value means: a cost per success is unknown (too little of it
    priced), any other amount is unpriced. Never $0."""
    return "unknown" if col.startswith("cost_per") else "unpriced"


def money_gaps(df: pd.DataFrame) -> list[str]:
    """The money columns (``*_usd``) of ``df`` with a missing value."""
    return [str(c) for c in df.columns if str(c).endswith("_usd") and df[c].isna().any()]


def gaps_note(gaps: list[str]) -> str:
    """What a missing money cell means, for the columns ``gaps`` (:func:`money_gaps`)."""
    said = []
    if any(_missing_money(c) != "unknown" for c in gaps):
        said.append("unpriced (none of its attempts has a price)")
    if any(_missing_money(c) == "unknown" for c in gaps):
        said.append("unknown for a cost per success (too little of it priced)")
    return f"{MISSING} in a dollar column: " + "; ".join(said) + ". Never counted as $0."


UNPRICED_OF = {  # a spend column and the count of the attempts it could not price
    "spend_usd": "unpriced_attempts",
    "cost_usd": "unpriced_attempts",
    "spend_on_failures_usd": "unpriced_failed_attempts",
}


def known_spends(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each spend that is $0 beside unpriced attempts made missing, as
    :func:`app.money.known_spend` tells it: $0 plus an unknown amount is unknown."""
    out = df.copy()
    for spend, unpriced in UNPRICED_OF.items():
        if spend in out.columns and unpriced in out.columns:
            unknown = (out[spend].astype(float) == 0) & (out[unpriced].fillna(0) > 0)
            out[spend] = out[spend].astype(float).mask(unknown)
    return out


def _no_negative_zero(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every float -0.0 made 0.0 (so no cell reads "-0.0%" or "-$0.00"); any other
    value, NaN included, as it is."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col] + 0.0  # -0.0 + 0.0 == 0.0; every other value unchanged
    return out


EXPLORE_COLUMN = "explore"


def explore_links(
    df: pd.DataFrame, f: Filters, row_params: Callable[[pd.Series], dict[str, Any] | None]
) -> pd.DataFrame:
    """``df`` with an :data:`EXPLORE_COLUMN`: each row's link to the request explorer on the
    sidebar's filters ``f`` narrowed by ``row_params(row)`` (explorer_params' keywords; None:
    no link). :func:`table` shows it as a link column and leaves it out of the CSV."""
    links = []
    for _, row in df.iterrows():
        params = row_params(row)
        links.append(None if params is None else queries.explorer_url(f, **params))
    return df.assign(**{EXPLORE_COLUMN: links})


def table(df: pd.DataFrame, name: str, *, height: int | str = "auto") -> None:
    """A formatted dataframe (:func:`column_config`) with a CSV download of exactly what is
    shown. It is as high as its rows, up to ``height`` px (``"auto"``: :data:`TABLE_ROWS`
    rows), then scrolls; as wide as the page, and scrolls sideways when its columns are wider.
    A missing value reads :data:`MISSING` (Streamlit shows one text for every missing cell of
    a table, whatever a Styler says); under a table with a money cell missing, a caption says
    it means unpriced (unknown, for a cost per success), and the CSV says which in the cell.
    Never $0, not even for a spend of $0 beside unpriced attempts (:func:`known_spends`)."""
    df = known_spends(_no_negative_zero(clean_cells(df)))
    gaps = money_gaps(df)
    st.dataframe(
        df,
        hide_index=True,
        column_config=column_config(df),
        height=table_height(len(df), height if isinstance(height, int) else None),
        width="stretch",
        placeholder=MISSING,
    )
    if gaps:
        st.caption(gaps_note(gaps))
    csv = df.drop(columns=[EXPLORE_COLUMN], errors="ignore").astype({c: object for c in gaps})
    for c in gaps:
        csv.loc[csv[c].isna(), c] = _missing_money(c)
    st.download_button(
        "Download CSV",
        data=lambda: csv_bytes(csv),
        file_name=f"routeledger-{name}.csv",
        mime="text/csv",
        key=f"csv-{name}",
        on_click="ignore",
        icon=":material/download:",
    )


# -- charts ---------------------------------------------------------------------------------------


def _plotly_text(value: object) -> str:
    return html.escape(text_safety.clean(value), quote=False)


def safe(values: Any) -> Any:
    """Log strings as plotly labels that show them literally, once. plotly.js reads a label as
    a subset of HTML: tags (``<b>``, ``<a href>``, ``<br>``, ...) and the entities ``&amp;``,
    ``&lt;``, ``&gt;``, a few named ones and numeric ones, decoded once. So ``&``, ``<`` and
    ``>`` are escaped and nothing else: an escaped quote (``&quot;``) is not decoded and would
    show as written. Unsafe display characters (:mod:`app.text_safety`) are replaced."""
    if isinstance(values, pd.Series):
        return values.map(lambda v: _plotly_text(v) if v is not None else v)
    return _plotly_text(values)


_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.I)  # where GFM would link
_ZWSP = "\u200b"


def md_text(value: object) -> str:
    """``value`` as literal text inside Markdown (a label such as an expander's): every ASCII
    punctuation character backslash-escaped, so a name like ``[x](https://...)``, ``**bold**``,
    ``:red[...]`` or ``$x$`` is shown as written, never as a link, style, icon or formula; line
    breaks become spaces. GFM turns a bare ``https://...``, ``www.`` or ``a@b.c`` into a link
    even when escaped, so a zero-width space goes after ``:``, ``www`` and ``@`` there."""
    text = _AUTOLINK.sub(_ZWSP, " ".join(str(value).splitlines()))
    return _MD_SPECIAL.sub(r"\\\1", text)


def safe_cols(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = safe(out[c])
    return out


_NOT_CARTESIAN = ("sankey", "pie", "table", "indicator", "parcats", "sunburst", "treemap")


def chart(
    fig: go.Figure,
    height: int = 380,
    *,
    drill: drill_mod.Drill | None = None,
    key: str | None = None,
) -> None:
    """``fig`` as every page draws it: its height, a legend above it, full names in hover
    labels, and numbers on its axes with separators and never an SI suffix (an axis of one kind
    of figure is labelled by :func:`axis`). With ``drill`` (and a ``key``), a click on a point
    opens the request explorer on the requests behind it: ``drill(fig, point)`` gives the
    explorer's parameters (:func:`app.queries.explorer_params`), None for none."""
    if fig.data and not any(t.type in _NOT_CARTESIAN for t in fig.data):
        fig.update_xaxes(exponentformat="none", separatethousands=True)
        fig.update_yaxes(exponentformat="none", separatethousands=True)
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hoverlabel={"namelength": -1},
    )
    if drill is None:
        st.plotly_chart(fig, config={"displaylogo": False})
        return
    event = st.plotly_chart(
        fig,
        config={"displaylogo": False},
        key=key,
        on_select="rerun",
        selection_mode="points",
    )
    points = event.selection.points if event is not None else []
    if points:
        go_explore(drill(fig, points[0]))


def go_explore(params: dict[str, list[str]] | None) -> None:
    """Open the request explorer on ``params`` (:func:`app.queries.explorer_params`); nothing
    when there are none (a point that stands for no requests)."""
    if params:
        st.switch_page(queries.EXPLORER_PAGE, query_params=params)


# -- what the provider and model filters count ----------------------------------------------------

GRAIN_KEY = "rl_grain"  # the choice, kept across pages (a widget's own state is not: each
GRAIN_WIDGET_KEY = "rl_grain_choice"  # page draws its own control, started from GRAIN_KEY)


def selected(f: Filters) -> str:
    """What the provider and model filters select, for a caption: "providers", "models" or
    both."""
    if f.providers and f.models:
        return "providers and models"
    return "providers" if f.providers else "models"


def count_control(ctx: Ctx) -> Filters:
    """The page's filters with what its request-level figures count. With a provider or model
    filter set, a control offers the selected models' own attempts (the default) or the whole
    logical requests that touched them; the choice is kept across pages. Without one, the
    filters as they are (requests and their attempts are then the same)."""
    assert ctx.filters is not None
    f = ctx.filters
    if not f.selects_models:
        return f
    options = {
        "attempt": f"attempts on the selected {selected(f)}",
        "request": "whole requests that touched them",
    }
    # the widget of each page starts from the kept choice; a change is kept by its callback
    st.session_state[GRAIN_WIDGET_KEY] = st.session_state.get(GRAIN_KEY, "attempt")
    choice = st.radio(
        "Count",
        list(options),
        format_func=options.__getitem__,
        horizontal=True,
        key=GRAIN_WIDGET_KEY,
        on_change=_keep_grain,
        help="Attempts: every figure is about the selected models' own attempts (their spend, "
        "success, retries, failures). Whole requests: the logical requests that started or ended "
        "on a selected provider or used a selected model, with all their attempts on any model.",
    )
    return f._replace(grain=choice or "attempt")


def _keep_grain() -> None:
    st.session_state[GRAIN_KEY] = st.session_state[GRAIN_WIDGET_KEY]


def counted(f: Filters) -> str:
    """One line saying what the figures of a page count under the provider and model filters
    ("" without such a filter)."""
    if not f.selects_models:
        return ""
    if f.per_attempt:
        return (
            f"Counting the selected {selected(f)}' own attempts: other models' retries and "
            "fallbacks in the same requests are left out."
        )
    return (
        "Counting whole requests that touched the selected "
        f"{selected(f)} (started or ended on a selected provider, or used a selected model), "
        "with all their attempts."
    )


# -- colours --------------------------------------------------------------------------------------

# Distinct hues first (D3's ten), then Dark24 and Light24 without repeats: 50-odd colours before
# any is reused, so 11 models never share one. "(other)" and "(none)" are grey everywhere.
PALETTE: tuple[str, ...] = tuple(
    dict.fromkeys(
        c.upper()
        for c in (
            "#1F77B4 #FF7F0E #2CA02C #D62728 #9467BD #8C564B #E377C2 #BCBD22 #17BECF #7F7F7F".split()
            + list(_plotly_colors.qualitative.Dark24)
            + list(_plotly_colors.qualitative.Light24)
        )
    )
)
GREY = "#B0B0B0"
COLOR_KINDS = {"model": "models", "provider": "providers", "task": "tasks", "team": "teams"}


def colors(ctx: Ctx, kind: str = "model") -> dict[str, str]:
    """One colour per model (or provider, task, team) on every chart of every page: each name's
    place in the warehouse's whole list of that kind (busiest first, whatever the filters), so a
    model keeps its colour when filters or pages change; price sources (``"source"``) by their
    precedence. Keys are the names as charts label them (:func:`safe`), values hex colours;
    pass it as plotly's ``color_discrete_map``."""
    if kind == "source":  # price sources: a fixed list, in precedence order
        names: list[str] = list(PRICE_SOURCES)
    elif kind not in COLOR_KINDS:
        raise ValueError(f"kind must be one of {', '.join(COLOR_KINDS)}, source, got {kind!r}")
    else:
        try:
            names = query(ctx, queries.filter_options)[COLOR_KINDS[kind]] if ctx.cfg else []
        except RouteLedgerError:
            names = []
    out = {safe(str(n)): PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    for grey in (queries.OTHER_LABEL, queries.NONE_LABEL):
        out[safe(grey)] = GREY
    return out


# -- what the explorer and the tokens page share -------------------------------------------------


def time_axis(fig: go.Figure, f: Filters) -> go.Figure:
    """Each bucket drawn across its local hour or day (hours on a range of
    :data:`app.queries.HOURLY_MAX_DAYS` days or less), and a daily axis labelled by day."""
    hour_ms, day_ms = 3_600_000, 86_400_000
    hourly = queries.hourly(f)
    fig.update_traces(xperiod=hour_ms if hourly else day_ms, xperiodalignment="middle")
    if not hourly:
        days = (f.until - f.since).days + 1
        fig.update_xaxes(
            tickformat="%b %d", dtick=day_ms * max(1, math.ceil(days / 14)), ticklabelmode="period"
        )
    return fig


def money_metric(amount: Any, unpriced: Any) -> tuple[str, str]:
    """A money figure for a metric card: its known part as the value and the unpriced attempts
    beside it as a line under it ("$4.28" and "+ 308 unpriced attempts"), so a card never cuts
    it short; "unpriced (N attempts)" when nothing of it is known (never $0)."""
    n = 0 if missing(unpriced) else int(unpriced)
    known = money.known_spend(amount, n)
    if known is None:
        return money.spend_text(amount, n), ""
    more = f"+ {n:,} unpriced attempt{'s' if n != 1 else ''}" if n else ""
    return money.usd(known), more
