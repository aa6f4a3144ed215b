"""Reliability per local hour on a short range (a rate-limit storm is an hourly event): each
hour's rates are counted again here from the marts, a day's hours add up to the daily figures,
and the page draws hours for a short range and days otherwise."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from app import queries, ui
from tests.app.test_explorer import TZ, charts, values
from tests.app.test_pages import assert_clean, open_app, window


def local_hour(started: datetime) -> datetime:
    local = started.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ).replace(tzinfo=None)
    return local.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def con(dashboard_home: Path):  # type: ignore[no-untyped-def]
    c = duckdb.connect(str(dashboard_home / "warehouse.duckdb"), read_only=True)
    queries._prepare(c)
    yield c
    c.close()


def test_hourly_rates_are_the_hours_own_counts_and_add_up_to_the_days(
    con: duckdb.DuckDBPyConnection,
) -> None:
    (until,) = con.execute("SELECT max(local_day) FROM logical_requests").fetchone()
    f = queries.Filters(until - timedelta(days=1), until)
    assert queries.hourly(f)
    got = queries.reliability_over_time(con, f, str(TZ))
    attempts: Counter[datetime] = Counter()
    failed: Counter[datetime] = Counter()
    for started, status in con.execute(
        "SELECT started_at, status FROM attempts WHERE local_day BETWEEN ? AND ?",
        [f.since, f.until],
    ).fetchall():
        attempts[local_hour(started)] += 1
        failed[local_hour(started)] += status != "success"
    retried: Counter[datetime] = Counter()
    requests: Counter[datetime] = Counter()
    for started, was_retried in con.execute(
        "SELECT started_at, retried FROM logical_requests WHERE local_day BETWEEN ? AND ?",
        [f.since, f.until],
    ).fetchall():
        requests[local_hour(started)] += 1
        retried[local_hour(started)] += was_retried
    rows = {r.bucket.to_pydatetime(): r for r in got.itertuples()}
    assert set(rows) == set(attempts) | set(requests) and len(rows) > 24
    for hour, r in rows.items():
        assert (r.attempts, r.failed_attempts, r.requests) == (
            attempts[hour],
            failed[hour],
            requests[hour],
        )
        if requests[hour]:
            assert r.retry_rate == pytest.approx(retried[hour] / requests[hour])
    # the hours of the range add up to its days
    daily = queries.reliability_by_day(con, f)
    assert got["attempts"].sum() == daily["attempts"].sum()
    assert got["failed_attempts"].sum() == daily["failed_attempts"].sum()
    assert got["requests"].sum() == daily["requests"].sum()
    # a longer range stays daily, its buckets the local days
    week = queries.Filters(until - timedelta(days=6), until)
    days = queries.reliability_over_time(con, week, str(TZ))
    assert list(days["bucket"]) == list(queries.reliability_by_day(con, week)["local_day"])


def test_the_page_draws_hours_for_a_short_range(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, "views/reliability.py")
    assert "Rates per day" in [h.value for h in at.subheader]
    until = window(at)[1]
    at.date_input(key=ui.DATES_KEY).set_value((until - timedelta(days=1), until)).run()
    assert_clean(at)
    assert "Rates per local hour" in [h.value for h in at.subheader]
    chart = charts(at)[0]
    hours = {datetime.fromisoformat(x) for t in chart["data"] for x in values(t["x"])}
    assert len(hours) > 24 and any(h.hour for h in hours)  # hours, not midnights
