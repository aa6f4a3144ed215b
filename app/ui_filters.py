"""The shared sidebar filters and what they count: a range of local days (presets by calendar
week and month), providers, models, tasks and teams, kept in the session across pages and in
the page's URL (so a view can be shared as a link); the control that counts the selected
models' own attempts or whole requests; the calendar helpers the pages use."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import queries
from app import window as window_mod
from app.queries import Filters
from app.ui_format import md_text
from app.ui_page import CTX_KEY, Ctx, load_context, one_line, query
from collectors import config as config_mod
from collectors.errors import RouteLedgerError, WarehouseBusy

FILTER_KEYS = {
    "providers": "rl_providers",
    "models": "rl_models",
    "tasks": "rl_tasks",
    "teams": "rl_teams",
}
DATES_KEY = "rl_dates"


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
