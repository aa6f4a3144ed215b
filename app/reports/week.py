"""The weekly report's calendar week: its ISO label ``YYYY-Www``, parsed from ``--week``, and
the last complete week in the configured time zone (:mod:`app.reports.build` says how a label
names a week when the week does not start on Monday)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app import window
from collectors.config import Config
from collectors.errors import InputError

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")


@dataclass(frozen=True)
class Week:
    label: str
    since: date  # first local day
    until: date  # last local day, inclusive

    @property
    def days(self) -> tuple[date, date]:
        return (self.since, self.until)

    @property
    def previous(self) -> Week:
        start = self.since - timedelta(days=7)
        return Week(label_of(start), start, start + timedelta(days=6))

    def utc_range(self, tz: str) -> tuple[datetime, datetime]:
        """[start, end) of the week in naive UTC, as the warehouse stores times."""
        zone = ZoneInfo(tz)

        def at(d: date) -> datetime:
            return datetime.combine(d, time(0), zone).astimezone(UTC).replace(tzinfo=None)

        return at(self.since), at(self.until + timedelta(days=1))


def label_of(start: date) -> str:
    """The ISO label of the week starting on ``start``: that of the Monday it contains."""
    monday = start + timedelta(days=(-start.weekday()) % 7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_of(day: date, week_start: str) -> Week:
    w = window.week_of(day, week_start)  # the calendar week, as app.window defines windows
    return Week(label_of(w.since), w.since, w.until)


def parse_week(text: str, week_start: str) -> Week:
    m = _WEEK_RE.match(text.strip())
    try:
        if not m:
            raise ValueError(text)
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise InputError(f"--week {text!r}: expected an ISO week such as 2026-W07") from None
    return week_of(monday, week_start)


def last_complete_week(cfg: Config, now: datetime | None = None) -> Week:
    """The calendar week before the one ``now`` falls in, in the configured time zone."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(cfg.timezone)).date()
    return week_of(week_of(today, cfg.week_start).since - timedelta(days=1), cfg.week_start)
