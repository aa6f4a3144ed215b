"""The window: which local days a figure covers, defined once for every surface.

A window is an inclusive range of local calendar days in the configured time zone
(``calendar.timezone``), compared with the marts' ``local_day``. ``routeledger stats``,
``routeledger tune`` and ``manifest approve|reject``, the dashboard's sidebar (and so the Routing
page) all default to the same one, :func:`default_window`: the ``calendar.window_days`` days
ending on the last day with data (never after today; today when there is no data). The weekly
report keeps its calendar week (:func:`week_of`).

This module reads no warehouse: callers pass the last day with data (the latest ``local_day``
of the ``attempts`` mart: ``app.queries.data_span``, ``app.tuner.queries.last_day``, the
dashboard's warehouse state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from collectors.config import WEEKDAYS, Config
from collectors.errors import InputError


@dataclass(frozen=True)
class Window:
    since: date  # first local day
    until: date  # last local day, inclusive

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def as_tuple(self) -> tuple[date, date]:
        return (self.since, self.until)

    def as_json(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


def today(cfg: Config) -> date:
    """Today in the configured time zone."""
    return datetime.now(ZoneInfo(cfg.timezone)).date()


def window_days(cfg: Config) -> int:
    """``calendar.window_days`` (``tuner.window_days`` when only that deprecated alias is set:
    :func:`collectors.config.load` resolves it)."""
    return int(cfg.get("calendar.window_days"))


def default_until(cfg: Config, last_day: date | None, on: date | None = None) -> date:
    """The last day with data, never after today; today when there is no data."""
    now = on or today(cfg)
    return now if last_day is None else min(last_day, now)


def default_window(cfg: Config, last_day: date | None, on: date | None = None) -> Window:
    """The ``calendar.window_days`` days ending on :func:`default_until`."""
    until = default_until(cfg, last_day, on)
    return Window(until - timedelta(days=window_days(cfg) - 1), until)


def resolve(
    cfg: Config,
    since: date | None,
    until: date | None,
    last_day: date | None,
    on: date | None = None,
) -> Window:
    """The window asked for, its missing ends filled as :func:`default_window` fills them:
    ``until`` by the last day with data, ``since`` by ``calendar.window_days`` days before
    ``until``. Raises :class:`InputError` when it starts after it ends."""
    end = until if until is not None else default_until(cfg, last_day, on)
    start = since if since is not None else end - timedelta(days=window_days(cfg) - 1)
    if start > end:
        why = "" if until is not None else " (the last day with data)"
        raise InputError(
            f"the window starts on {start} after it ends on {end}{why}: give a first day "
            "(--since) on or before the last (--until)"
        )
    return Window(start, end)


def week_of(day: date, week_start: str) -> Window:
    """The calendar week (``calendar.week_start``) that contains ``day``."""
    start = day - timedelta(days=(day.weekday() - WEEKDAYS.index(week_start)) % 7)
    return Window(start, start + timedelta(days=6))
