"""The one window definition (app.window): its defaults, the today clamp, no data, a window
that starts after it ends, and the deprecated ``tuner.window_days``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app import window
from collectors import config
from collectors.errors import ConfigError, InputError, RouteLedgerError

TODAY = date(2026, 12, 6)


def cfg(tmp_path: Path, toml: str = "") -> config.Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "routeledger.toml").write_text(toml, encoding="utf-8")
    return config.load(tmp_path)


def test_the_default_is_window_days_ending_on_the_last_day_with_data(tmp_path: Path) -> None:
    w = window.default_window(cfg(tmp_path), date(2026, 11, 30), TODAY)
    assert w == window.Window(date(2026, 11, 3), date(2026, 11, 30))
    assert w.days == 28
    assert w.as_json() == {"since": "2026-11-03", "until": "2026-11-30"}


def test_the_default_never_ends_after_today(tmp_path: Path) -> None:
    w = window.default_window(cfg(tmp_path), date(2027, 1, 15), TODAY)  # clock skew, future logs
    assert w.until == TODAY and w.days == 28


def test_without_data_the_default_ends_today(tmp_path: Path) -> None:
    assert window.default_window(cfg(tmp_path), None, TODAY).until == TODAY


def test_calendar_window_days_sets_the_length(tmp_path: Path) -> None:
    c = cfg(tmp_path, "[calendar]\nwindow_days = 7\n")
    assert window.default_window(c, TODAY, TODAY) == window.Window(date(2026, 11, 30), TODAY)


def test_resolve_fills_the_missing_ends_the_same_way(tmp_path: Path) -> None:
    c = cfg(tmp_path)
    last = date(2026, 11, 30)
    assert window.resolve(c, None, None, last, TODAY) == window.default_window(c, last, TODAY)
    assert window.resolve(c, date(2026, 11, 20), None, last, TODAY).as_tuple() == (
        date(2026, 11, 20),
        last,
    )
    assert window.resolve(c, None, date(2026, 10, 31), last, TODAY).as_tuple() == (
        date(2026, 10, 4),
        date(2026, 10, 31),
    )
    given = (date(2026, 1, 1), date(2026, 1, 1))
    assert window.resolve(c, *given, None, TODAY).as_tuple() == given  # one day is a window


def test_a_window_that_starts_after_it_ends_is_one_line(tmp_path: Path) -> None:
    c = cfg(tmp_path)
    with pytest.raises(InputError) as e:
        window.resolve(c, date(2026, 12, 2), date(2026, 12, 1), None, TODAY)
    msg = str(e.value)
    assert isinstance(e.value, RouteLedgerError) and "\n" not in msg
    assert "2026-12-02" in msg and "2026-12-01" in msg and "--since" in msg
    with pytest.raises(InputError, match="the last day with data"):  # only --since given
        window.resolve(c, date(2026, 12, 2), None, date(2026, 11, 30), TODAY)


def test_tuner_window_days_is_a_deprecated_alias(tmp_path: Path) -> None:
    old = cfg(tmp_path / "old", "[tuner]\nwindow_days = 14\n")
    assert window.window_days(old) == 14 and old.get("calendar.window_days") == 14
    both = cfg(tmp_path / "both", "[calendar]\nwindow_days = 7\n\n[tuner]\nwindow_days = 14\n")
    assert window.window_days(both) == 7  # the new name wins
    new = cfg(tmp_path / "new", "[calendar]\nwindow_days = 7\n")
    assert new.get("tuner.window_days") == 7  # old readers see the window in force
    with pytest.raises(ConfigError, match="between 1 and 366"):
        cfg(tmp_path / "bad", "[calendar]\nwindow_days = 0\n")
    # `routeledger init` writes the new name, and the old one only as a comment
    text = config.default_toml()
    assert "\nwindow_days = 28\n" in text and "\n# window_days = 28\n" in text


def test_the_report_week_is_a_calendar_week_from_the_same_module() -> None:
    w = window.week_of(date(2026, 12, 6), "monday")  # a Sunday
    assert w.as_tuple() == (date(2026, 11, 30), date(2026, 12, 6))
    assert window.week_of(date(2026, 12, 6), "sunday").since == date(2026, 12, 6)
