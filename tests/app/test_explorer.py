"""The request explorer under AppTest on the dashboard's fixture warehouse: it lists exactly the
requests the filters and its narrowing match (counted independently here), a request's attempts
come in order with their costs, a link's query parameters preset the view, a short range is
charted per local hour, and spend by key, user, team and task equals the attempts' own sums."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import drill, money, queries, ui
from tests.app.test_pages import assert_clean, metric, open_app, window

PAGE = "views/explorer.py"
TZ = ZoneInfo("Europe/Berlin")  # the fixture's calendar.timezone


@pytest.fixture
def con(dashboard_home: Path):  # type: ignore[no-untyped-def]
    c = duckdb.connect(str(dashboard_home / "warehouse.duckdb"), read_only=True)
    yield c
    c.close()


def explorer(
    home: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any] | None = None
) -> AppTest:
    """The explorer opened as a link opens it: its query parameters on the first run."""
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(Path(ui.__file__).with_name("dashboard.py")), default_timeout=60)
    at.query_params.update(params or {})
    at.run()
    at.switch_page(PAGE).run()
    assert_clean(at)
    return at


def request_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "logical_request_id" in d.value.columns)


def attempts_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "attempt_index" in d.value.columns)


def card(at: AppTest, label: str) -> str:
    """A metric card's value and the line under it, as one text: ``$4.28 + 308 unpriced
    attempts`` (a money card puts the unpriced attempts under its amount)."""
    found = [f"{m.value} {m.delta}".strip() for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(v: Any) -> list[Any]:
    """A trace's array as a list: plotly writes numbers as base64 typed arrays."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return list(v)


def x_title(chart: dict[str, Any]) -> str:
    return str(chart["layout"].get("xaxis", {}).get("title", {}).get("text", ""))


def newest(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> tuple[int, list[str]]:
    """How many logical requests match, and the ids of the newest page of them."""
    (n,) = con.execute(f"SELECT count(*) FROM logical_requests WHERE {where}", params).fetchone()
    ids = con.execute(
        f"SELECT logical_request_id FROM logical_requests WHERE {where} "
        "ORDER BY started_at DESC, logical_request_id DESC LIMIT ?",
        [*params, queries.EXPLORER_PAGE_SIZE],
    ).fetchall()
    return int(n), [r[0] for r in ids]


def test_the_explorer_lists_exactly_the_filtered_and_narrowed_requests(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, PAGE)
    at.multiselect(key="rl_tasks").set_value(["triage"]).run()
    at.selectbox(key="retried").set_value("yes").run()
    assert_clean(at)
    since, until = window(at)
    n, ids = newest(
        con, "local_day BETWEEN ? AND ? AND task = 'triage' AND retried", [since, until]
    )
    assert 0 < n
    assert metric(at, "Requests") == f"{n:,}"
    shown = request_table(at)
    assert list(shown["logical_request_id"]) == ids  # newest first, one page
    assert set(shown["task"]) == {"triage"} and (shown["attempts"] > 1).all()
    spend, unpriced, attempts = con.execute(
        "SELECT sum(cost_usd), sum(unpriced_attempts), sum(attempts) FROM logical_requests "
        "WHERE local_day BETWEEN ? AND ? AND task = 'triage' AND retried",
        [since, until],
    ).fetchone()
    assert unpriced > 0  # acme-large has no price: counted, never $0
    assert card(at, "Spend") == money.spend_text(spend, unpriced, attempts=attempts)


def test_an_attempt_level_narrowing_needs_one_attempt_to_match_it_all(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rate-limited attempt on gpt-4o-mini, not a request that touched gpt-4o-mini and was
    rate limited elsewhere."""
    at = open_app(dashboard_home, monkeypatch, PAGE)
    at.multiselect(key="rl_models").set_value(["gpt-4o-mini"]).run()
    at.selectbox(key="error_class").set_value("rate_limit").run()
    assert_clean(at)
    since, until = window(at)
    (n,) = con.execute(
        "SELECT count(DISTINCT r.logical_request_id) FROM logical_requests r "
        "JOIN attempts a USING (logical_request_id) WHERE r.local_day BETWEEN ? AND ? "
        "AND a.model = 'gpt-4o-mini' AND a.status = 'error' AND a.error_class = 'rate_limit'",
        [since, until],
    ).fetchone()
    (anywhere,) = con.execute(
        "SELECT count(DISTINCT r.logical_request_id) FROM logical_requests r "
        "JOIN attempts a USING (logical_request_id) WHERE r.local_day BETWEEN ? AND ? "
        "AND list_contains(r.chain, 'gpt-4o-mini') AND a.error_class = 'rate_limit'",
        [since, until],
    ).fetchone()
    assert 0 < n < anywhere
    assert metric(at, "Requests") == f"{n:,}"
    assert all("rate_limit" in e for e in request_table(at)["errors"])


def test_a_selected_request_shows_its_attempts_in_order_with_their_costs(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a request with a not-billed 429, an unpriced attempt and a priced one
    (rid,) = con.execute(
        "SELECT logical_request_id FROM attempts GROUP BY ALL "
        "HAVING count(DISTINCT cost_basis) >= 2 AND bool_or(cost_basis = 'unpriced') "
        "AND bool_or(cost_basis <> 'unpriced') ORDER BY count(*) DESC, logical_request_id LIMIT 1"
    ).fetchone()
    want = con.execute(
        "SELECT attempt_index, model, status, error_class, cost_usd, cost_basis, output_tokens "
        "FROM attempts WHERE logical_request_id = ? ORDER BY attempt_index",
        [rid],
    ).fetchall()
    assert len(want) > 1
    at = open_app(dashboard_home, monkeypatch, PAGE)
    at.text_input(key="request").set_value(rid).run()
    assert_clean(at)
    shown = attempts_table(at)
    assert list(shown["attempt_index"]) == [w[0] for w in want]
    assert list(shown["model"]) == [w[1] for w in want]
    assert list(shown["status"]) == [w[2] for w in want]
    assert list(shown["cost_basis"]) == [w[5] for w in want]
    assert list(shown["output_tokens"]) == [w[6] for w in want]
    for got, w in zip(shown["cost_usd"], want, strict=True):
        if w[4] is None:  # unpriced: no amount, shown as "unpriced", never $0
            assert pd.isna(got)
        else:
            assert got == pytest.approx(float(w[4]))
    assert (shown["start_offset_ms"].diff().dropna() > 0).all()  # one after the other
    known = sum(float(w[4]) for w in want if w[4] is not None)
    unpriced = sum(w[5] == "unpriced" for w in want)
    assert card(at, "Cost") == money.spend_text(known, unpriced)
    assert metric(at, "Attempts") == str(len(want))
    timeline = next(c for c in charts(at) if x_title(c).startswith("ms after"))
    rows = sorted(
        (y, base)
        for t in timeline["data"]
        for y, base in zip(values(t["y"]), values(t["base"]), strict=True)
    )
    assert [y for y, _ in rows] == [f"#{w[0]}" for w in want]
    assert [b for _, b in rows] == pytest.approx(list(shown["start_offset_ms"]))


def test_a_link_presets_the_filters_and_the_narrowing(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    (day,) = con.execute(
        "SELECT local_day FROM logical_requests WHERE task = 'triage' AND succeeded "
        "GROUP BY local_day ORDER BY count(*) DESC, local_day LIMIT 1"
    ).fetchone()
    rows = con.execute(
        "SELECT logical_request_id, started_at FROM logical_requests "
        "WHERE local_day = ? AND task = 'triage' AND succeeded",
        [day],
    ).fetchall()

    def local_hour(started: datetime) -> int:
        return started.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ).hour

    hour = Counter(local_hour(s) for _, s in rows).most_common(1)[0][0]
    want = sorted(rid for rid, s in rows if local_hour(s) == hour)
    assert 1 < len(want) < len(rows)  # the hour narrows the day
    f = queries.Filters(date(2026, 9, 1), date(2026, 9, 30), tasks=("summarize",))
    params = queries.explorer_params(f, day=day, task="triage", status="succeeded", hour=hour)
    assert params["since"] == params["until"] == [day.isoformat()]
    assert params["task"] == ["triage"] and params["hour"] == [str(hour)]
    at = explorer(dashboard_home, monkeypatch, params)
    assert window(at) == (day, day)
    assert at.multiselect(key="rl_tasks").value == ["triage"]
    assert at.selectbox(key="status").value == "succeeded"
    assert at.selectbox(key="hour").value == hour
    assert sorted(request_table(at)["logical_request_id"]) == want
    assert metric(at, "Requests") == f"{len(want):,}"

    # the same as a URL (for a table's link column), and opening one request by its id
    url = queries.explorer_url(request=want[0], error_class="rate_limit")
    assert url.startswith(queries.EXPLORER_URL_PATH + "?")
    at = explorer(dashboard_home, monkeypatch, queries.explorer_params(request=want[0]))
    assert at.text_input(key="request").value == want[0]
    assert len(attempts_table(at)) == len(
        con.execute("SELECT 1 FROM attempts WHERE logical_request_id = ?", [want[0]]).fetchall()
    )


def test_the_link_helper_speaks_the_sidebars_parameters() -> None:
    assert set(queries.SIDEBAR_PARAMS.values()) <= set(ui.URL_PARAMS)
    assert queries.SIDEBAR_PARAMS == ui.URL_KEYS
    assert queries.explorer_params(retried=True, fell_back=False, model="gpt-4o") == {
        "retried": ["yes"],
        "fell_back": ["no"],
        "model": ["gpt-4o"],
    }
    assert queries.explorer_url(task=["a b", "c"]) == "explorer?task=a+b&task=c"
    with pytest.raises(ValueError, match="no parameter 'colour'"):
        queries.explorer_params(colour="red")
    with pytest.raises(ValueError, match="status must be one of"):
        queries.explorer_params(status="ok")


def test_a_short_range_is_charted_per_local_hour(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, PAGE)
    assert "Requests per local day" in [h.value for h in at.subheader]  # the default window
    until = window(at)[1]
    since = until - timedelta(days=1)
    at.date_input(key=ui.DATES_KEY).set_value((since, until)).run()
    assert_clean(at)
    assert "Requests per local hour" in [h.value for h in at.subheader]
    want: Counter[datetime] = Counter()
    for (started,) in con.execute(
        "SELECT started_at FROM logical_requests WHERE local_day BETWEEN ? AND ?", [since, until]
    ).fetchall():
        local = started.replace(tzinfo=ZoneInfo("UTC")).astimezone(TZ).replace(tzinfo=None)
        want[local.replace(minute=0, second=0, microsecond=0)] += 1
    chart = next(c for c in charts(at) if c["layout"].get("barmode") == "stack")
    got: Counter[datetime] = Counter()
    for trace in chart["data"]:
        for x, y in zip(values(trace["x"]), values(trace["y"]), strict=True):
            got[datetime.fromisoformat(x)] += y
    assert got == want and len(got) > 2


def test_spend_by_team_equals_the_attempts_sums(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, PAGE)
    at.radio(key="rl_spend_by").set_value("Team").run()
    assert_clean(at)
    since, until = window(at)
    want = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT coalesce(team, '(none)'), sum(cost_usd), count(DISTINCT logical_request_id), "
            "count(*) FILTER (WHERE cost_basis = 'unpriced') FROM attempts "
            "WHERE local_day BETWEEN ? AND ? GROUP BY 1",
            [since, until],
        ).fetchall()
    }
    shown = next(d.value for d in at.dataframe if "team" in d.value.columns[:1])
    assert set(shown["team"]) == set(want) and "<b>growth</b>" in want  # a log string, as data
    for row in shown.itertuples():
        spend, requests, unpriced = want[row.team]
        assert row.spend_usd == pytest.approx(float(spend))
        assert (row.logical_requests, row.unpriced_attempts) == (requests, unpriced)


def test_a_spend_by_row_links_to_its_requests(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, PAGE)
    at.radio(key="rl_spend_by").set_value("Team").run()
    assert_clean(at)
    since, until = window(at)
    shown = next(d.value for d in at.dataframe if "team" in d.value.columns[:1])
    assert shown[ui.EXPLORE_COLUMN].notna().all()
    row = shown[shown["team"] == "<b>growth</b>"].iloc[0]  # a log string, through the URL
    url = row[ui.EXPLORE_COLUMN]
    assert url.startswith(queries.EXPLORER_URL_PATH + "?") and "<" not in url
    params = parse_qs(url.split("?", 1)[1])
    assert params["team"] == ["<b>growth</b>"]
    followed = explorer(dashboard_home, monkeypatch, params)
    want = con.execute(
        "SELECT count(*) FROM logical_requests WHERE team = ? AND local_day BETWEEN ? AND ?",
        [row["team"], since, until],
    ).fetchone()[0]
    assert want == row["logical_requests"] > 0
    assert metric(followed, "Requests") == f"{want:,}"
    # a key without an alias is shown by its hash and has no link: the explorer selects aliases
    assert drill.spend_by_row("key", "key 3f2a9c01b2d4") is None
    assert drill.spend_by_row("user", "(none)") is None
    assert drill.spend_by_row("key", "ci-bot") == {"key_alias": "ci-bot"}


def test_spend_by_counts_requests_or_the_selected_models_attempts(
    dashboard_home: Path, con: duckdb.DuckDBPyConnection
) -> None:
    since, until = date(2026, 9, 1), date(2026, 10, 20)
    f = queries.Filters(since, until)
    got = queries.spend_by(con, f, "team").set_index("grp")
    # per request (DESIGN): priced requests' spend over those of them that succeeded
    want = con.execute(
        "SELECT coalesce(team, '(none)'), count(*), count(*) FILTER (WHERE succeeded), "
        "sum(cost_usd) FILTER (WHERE priced), count(*) FILTER (WHERE priced AND succeeded), "
        "count(*) FILTER (WHERE priced) / count(*) FROM logical_requests "
        "WHERE local_day BETWEEN ? AND ? GROUP BY 1",
        [since, until],
    ).fetchall()
    assert set(got.index) == {w[0] for w in want}
    for team, n, ok, priced_spend, priced_ok, coverage in want:
        row = got.loc[team]
        assert (row["logical_requests"], row["successes"]) == (n, ok)
        assert row["price_coverage"] == pytest.approx(coverage)
        if coverage >= 0.8:
            assert row["cost_per_success_usd"] == pytest.approx(float(priced_spend) / priced_ok)
        else:
            assert pd.isna(row["cost_per_success_usd"]) and "priced" in row["cost_unknown_reason"]
    # with a model filter: that model's own attempts, its cost over its successful attempts
    mine = queries.spend_by(con, f._replace(models=("acme-large",)), "team").set_index("grp")
    rows = con.execute(
        "SELECT coalesce(team, '(none)'), count(*), count(*) FILTER (WHERE status = 'success'), "
        "count(DISTINCT logical_request_id), count(*) FILTER (WHERE cost_basis = 'unpriced') "
        "FROM attempts WHERE model = 'acme-large' AND local_day BETWEEN ? AND ? GROUP BY 1",
        [since, until],
    ).fetchall()
    for team, attempts, successes, requests, unpriced in rows:
        row = mine.loc[team]
        assert (row["attempts"], row["successes"], row["logical_requests"]) == (
            attempts,
            successes,
            requests,
        )
        # acme-large has no price: its attempts are unpriced but for not-billed 429s ($0)
        assert row["unpriced_attempts"] == unpriced > 0
        assert money.spend_text(row["spend_usd"], unpriced).startswith("unpriced")
        assert pd.isna(row["cost_per_success_usd"])
