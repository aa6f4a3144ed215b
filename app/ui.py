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

from app import money, queries, text_safety
from app import window as window_mod
from app.queries import Filters
from app.tuner import auth
from collectors import config as config_mod
from collectors.errors import RouteLedgerError, WarehouseBusy
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


def sidebar() -> Ctx:
    """Render the shared filters (kept in st.session_state across pages) and remember the
    context for the page that runs next."""
    ctx = load_context()
    st.session_state[CTX_KEY] = ctx
    if not ctx.state.get("attempts"):
        return ctx
    first, last = ctx.state["first_day"], ctx.state["last_day"]
    hi = max(last, ctx.today)
    assert ctx.cfg is not None  # the state was read through it
    w = window_mod.default_window(ctx.cfg, last, ctx.today)  # as stats and tune, within the data
    default = (_clamp(w.since, first, hi), _clamp(w.until, first, hi))
    current = st.session_state.get(DATES_KEY, default)
    st.session_state[DATES_KEY] = tuple(_clamp(d, first, hi) for d in current) or default
    try:
        options = query(ctx, queries.filter_options)
    except WarehouseBusy:  # a writer got in after the first query: the page says so and retries
        ctx.busy = True
        return ctx
    except RouteLedgerError as e:
        ctx.error = one_line(e)
        return ctx
    for name, key in FILTER_KEYS.items():
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options[name]]

    side = st.sidebar
    side.header("Filters")
    picked = side.date_input(
        "Local days",
        key=DATES_KEY,
        min_value=first,
        max_value=hi,
        format="YYYY-MM-DD",
        help=f"Calendar days in {ctx.cfg.timezone if ctx.cfg else 'UTC'} (calendar.timezone).",
    )
    labels = {"providers": "Provider", "models": "Model", "tasks": "Task", "teams": "Team"}
    for name, key in FILTER_KEYS.items():
        side.multiselect(labels[name], options[name], key=key, placeholder="All")
    side.button("Reset filters", on_click=_reset, args=(default,), width="stretch")
    side.caption(
        f"Data from {first} to {last} · {ctx.state['attempts']:,} attempts. "
        "A request matches a model if any of its attempts used it."
    )
    picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
    since = picked[0] if picked else default[0]
    ctx.filters = Filters(
        since=since,
        until=picked[1] if len(picked) > 1 else since,
        **{name: tuple(st.session_state[key]) for name, key in FILTER_KEYS.items()},
    )
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


def usd(v: float | None, precise: bool = False) -> str:
    if v is None or pd.isna(v):
        return "-"
    if v == 0:
        return "$0.00"
    if precise or abs(v) < 1:
        return f"${v:,.4f}" if abs(v) >= 0.01 else f"${v:,.6f}"
    return f"${v:,.2f}"


def pct(v: float | None, digits: int = 1) -> str:
    return "-" if v is None or pd.isna(v) else f"{v * 100:.{digits}f}%"


def ms(v: float | None) -> str:
    return "-" if v is None or pd.isna(v) else f"{v:,.0f} ms"


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


def column_config(df: pd.DataFrame) -> dict[str, Any]:
    """Currency, percentages, milliseconds, counts and UTC times formatted by column name."""
    cfg: dict[str, Any] = {}
    cc = st.column_config
    for col in df.columns:
        name, text = str(col), label(str(col))
        if name.endswith("_usd"):
            fine = name.startswith("cost_per") or df[col].abs().max(skipna=True) < 10
            cfg[name] = cc.NumberColumn(text, format="$%.6f" if fine else "dollar")
        elif name.endswith("_per_mtok") or name == "per_request":
            cfg[name] = cc.NumberColumn(text, format="$%.4f")
        elif name.endswith(("_rate", "_share", "_low", "_high", "_pct")) and name != "discount_pct":
            cfg[name] = cc.NumberColumn(text, format="percent")
        elif name.endswith("_ms"):
            cfg[name] = cc.NumberColumn(text, format="%.0f ms")
        elif name.endswith("_at") or name in ("in_force_since", "valid_from", "valid_to"):
            cfg[name] = cc.DatetimeColumn(text + " (UTC)", format="YYYY-MM-DD HH:mm")
        elif name == "local_day":
            cfg[name] = cc.DateColumn("Day", format="YYYY-MM-DD")
        elif pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            cfg[name] = cc.NumberColumn(text, format="localized")
        else:
            cfg[name] = cc.Column(text)
    return cfg


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


def _money_cell(missing: str) -> Callable[[Any], str]:
    return lambda v: missing if pd.isna(v) else money.usd(v)


def money_gaps(df: pd.DataFrame) -> list[str]:
    """The money columns (``*_usd``) of ``df`` with a missing value."""
    return [str(c) for c in df.columns if str(c).endswith("_usd") and df[c].isna().any()]


def table(df: pd.DataFrame, name: str, *, height: int | str = "auto") -> None:
    """A formatted dataframe with a CSV download of exactly what is shown. A money cell with no
    value reads "unpriced" (or "unknown" for a cost per success), on screen and in the CSV."""
    df = clean_cells(df)
    gaps = money_gaps(df)
    shown: Any = df
    if gaps:  # display values for those columns only; the numbers underneath still sort
        shown = df.style.format({c: _money_cell(_missing_money(c)) for c in gaps})
    st.dataframe(shown, hide_index=True, column_config=column_config(df), height=height)
    csv = df.astype({c: object for c in gaps})
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


def chart(fig: go.Figure, height: int = 380) -> None:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        hoverlabel={"namelength": -1},
    )
    st.plotly_chart(fig, config={"displaylogo": False})


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
