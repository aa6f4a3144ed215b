"""Incidents as every surface tells them: the Overview's list and chart, and the alerts.

The incidents themselves are found in SQL (``sql/marts/incidents.sql``: kinds, thresholds and
the stable ``incident_id``); here are their names (:data:`KINDS`), the dashboard page that shows
each (:data:`PAGES`), when one happened in local time (:func:`when_text`), one line each
(:func:`line`) and their bands and markers on a daily plotly chart (:func:`mark`). Provider
and model names are logged strings: :func:`line` is plain text each surface escapes its own way,
and :func:`mark` labels them through the ``safe`` function it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app import text_safety
from app.queries import NONE_LABEL

if TYPE_CHECKING:  # the alerts use this module without plotly
    import plotly.graph_objects as go

KINDS = {
    "error_spike": "Error spike",
    "rate_limit_storm": "Rate-limit storm",
    "p95_regression": "P95 regression",
    "price_change": "Price change",
    "unpriced_model": "New unpriced model",
}
MARKERS = "Incidents"  # the name of the markers' trace on a chart (:func:`mark`)
PAGES = {  # the incidents mart's page -> (page title, the dashboard's page file)
    "reliability": ("Reliability", "views/reliability.py"),
    "latency": ("Latency", "views/latency.py"),
    "prices": ("Prices", "views/prices.py"),
}
COLORS = {
    "error_spike": "#D62728",
    "rate_limit_storm": "#FF7F0E",
    "p95_regression": "#9467BD",
    "price_change": "#2CA02C",
    "unpriced_model": "#7F7F7F",
}


def kind_text(kind: str) -> str:
    return KINDS.get(kind, kind)


def page_title(page: str) -> str:
    return PAGES[page][0] if page in PAGES else page


def subject(row: dict[str, Any]) -> str:
    """``provider / model`` of an incident (logged strings: escape where shown)."""
    return f"{row['provider'] or NONE_LABEL} / {row['model']}"


def when_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """When an incident happened, in local time (``start`` and ``end``: naive UTC): a moment
    ("2026-11-06 07:00"), whole local days ("2026-11-10 to 2026-11-14", "on 2026-11-10") or
    hours ("2026-11-02 13:00-19:00")."""
    a = start.replace(tzinfo=UTC).astimezone(zone)
    b = end.replace(tzinfo=UTC).astimezone(zone)
    if a == b:
        return f"{a:%Y-%m-%d %H:%M}"
    if a.time() == time(0) == b.time():
        last = (b - timedelta(days=1)).date()
        return f"on {a:%Y-%m-%d}" if last == a.date() else f"{a:%Y-%m-%d} to {last}"
    if a.date() == b.date() or b == datetime.combine(a.date() + timedelta(days=1), time(0), zone):
        return f"{a:%Y-%m-%d %H:%M}-{b:%H:%M}"
    return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M}"


def line(row: dict[str, Any], zone: ZoneInfo) -> str:
    """One line: what, on which model, when, how big, and where to look; plain text on one
    line (unsafe characters replaced), for each surface to escape as it needs."""
    when = when_text(row["start_at"], row["end_at"], zone)
    text = f"{kind_text(row['kind'])}, {subject(row)}, {when}: {row['summary']}"
    return text_safety.one_line(f"{text} (see {page_title(row['page'])})")


def explore(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """The request explorer's narrowing (:func:`app.queries.explorer_params` keywords) for the
    requests behind an incident: its provider and model over its local days, and what the
    incident is about: failed requests (an error spike), rate-limited attempts in the local
    hour it happened (a storm within one hour; its days otherwise), successful requests (a P95
    regression: the slow ones are among them), all of the model's requests (a price change, an
    unpriced model)."""
    out: dict[str, Any] = {
        "since": _day(row["first_day"]),
        "until": _day(row["last_day"]),
        "provider": row["provider"] or NONE_LABEL,
        "model": row["model"],
    }
    kind = row["kind"]
    if kind == "error_spike":
        out["status"] = "failed"
    elif kind == "rate_limit_storm":
        out["error_class"] = "rate_limit"
        start, end = row["start_at"], row["end_at"]
        if end - start <= timedelta(hours=1):
            out["hour"] = start.replace(tzinfo=UTC).astimezone(zone).hour
    elif kind == "p95_regression":
        out["status"] = "succeeded"
    return out


def _days(row: dict[str, Any], since: date, until: date) -> tuple[datetime, datetime]:
    """The local days an incident covers within since..until, as a daily bar chart's edges
    (half a day either side of each day's bar)."""
    first = max(_day(row["first_day"]), since)
    last = min(_day(row["last_day"]), until)
    half = timedelta(hours=12)
    return datetime.combine(first, time(0)) - half, datetime.combine(last, time(0)) + half


def _day(v: Any) -> date:
    return v.date() if isinstance(v, datetime) else v  # a frame's Timestamp, or a date


def mark(
    fig: go.Figure,
    rows: list[dict[str, Any]],
    since: date,
    until: date,
    zone: ZoneInfo,
    top: float,
    safe: Callable[[str], str],
) -> None:
    """Draw ``rows`` (incidents) on a daily chart: a shaded band over each one's days with a
    short label (incidents of one kind over the same days share one: "2 × price change"), and
    a marker at height ``top`` to hover for what, whom, when and how big."""
    bands: dict[tuple[str, datetime, datetime], int] = {}
    for r in rows:
        key = (r["kind"], *_days(r, since, until))
        bands[key] = bands.get(key, 0) + 1
    for i, ((kind, x0, x1), count) in enumerate(sorted(bands.items(), key=lambda b: b[0][1])):
        color = COLORS.get(kind, "#7F7F7F")
        words = kind_text(kind).lower()
        fig.add_vrect(x0=x0, x1=x1, fillcolor=color, opacity=0.15, line_width=0, layer="below")
        fig.add_annotation(
            x=x0 + (x1 - x0) / 2,
            y=1,
            yref="paper",
            yanchor="top",
            yshift=-14 * (i % 3),  # neighbours' labels on three levels
            text=words if count == 1 else f"{count} × {words}",
            showarrow=False,
            font={"size": 10, "color": color},
        )
    spans = [_days(r, since, until) for r in rows]
    fig.add_scatter(
        x=[a + (b - a) / 2 for a, b in spans],
        y=[top] * len(rows),
        mode="markers",
        marker={
            "symbol": "triangle-down",
            "size": 11,
            "color": [COLORS.get(r["kind"], "#7F7F7F") for r in rows],
        },
        name=MARKERS,
        customdata=[
            [
                kind_text(r["kind"]),
                safe(subject(r)),
                when_text(r["start_at"], r["end_at"], zone),
                safe(r["summary"]),
            ]
            for r in rows
        ],
        hovertemplate="<b>%{customdata[0]}</b>: %{customdata[1]}<br>%{customdata[2]}<br>"
        "%{customdata[3]}<extra></extra>",
    )
