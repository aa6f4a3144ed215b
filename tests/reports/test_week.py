"""Calendar weeks: ISO labels, the configured week start and time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.reports.build import Week, label_of, last_complete_week, parse_week, week_of
from collectors import config
from collectors.errors import InputError


def test_an_iso_label_names_the_monday_week() -> None:
    w = parse_week("2026-W10", "monday")
    assert (w.since, w.until, w.label) == (date(2026, 3, 2), date(2026, 3, 8), "2026-W10")
    assert w.previous == Week("2026-W09", date(2026, 2, 23), date(2026, 3, 1))


def test_with_another_week_start_the_label_is_the_week_holding_the_iso_monday() -> None:
    w = parse_week("2026-W10", "sunday")
    assert (w.since, w.until) == (date(2026, 3, 1), date(2026, 3, 7))
    assert label_of(w.since) == "2026-W10"
    # every day of that week maps back to the same label
    for d in range(7):
        assert week_of(date(2026, 3, 1 + d), "sunday").label == "2026-W10"


def test_the_year_boundary_follows_iso() -> None:
    assert parse_week("2026-W01", "monday").since == date(2025, 12, 29)
    assert week_of(date(2027, 1, 1), "monday").label == "2026-W53"


def test_utc_range_is_the_local_midnights(tmp_path: Path) -> None:
    w = parse_week("2026-W13", "monday")  # Europe/Berlin moves to summer time on Mar 29
    start, end = w.utc_range("Europe/Berlin")
    assert start == datetime(2026, 3, 22, 23, 0) and end == datetime(2026, 3, 29, 22, 0)


def test_the_default_week_is_the_last_complete_one_in_the_configured_zone(tmp_path: Path) -> None:
    (tmp_path / "routeledger.toml").write_text('[calendar]\ntimezone = "Asia/Tokyo"\n')
    cfg = config.load(tmp_path)
    # Sunday 20:00 UTC is already Monday 05:00 in Tokyo: the week just ended is complete
    assert last_complete_week(cfg, datetime(2026, 3, 8, 20, 0, tzinfo=UTC)).label == "2026-W10"
    assert last_complete_week(cfg, datetime(2026, 3, 8, 10, 0, tzinfo=UTC)).label == "2026-W09"


@pytest.mark.parametrize("bad", ["2026-10", "2026-W54", "W10", "2026-W00", ""])
def test_a_bad_week_is_one_clear_error(bad: str) -> None:
    with pytest.raises(InputError, match="ISO week"):
        parse_week(bad, "monday")
