"""Incidents (the ``incidents`` mart) planted in a small generated home are found with the right
kind, subject and time, listed on the Overview with a link to the page that shows them and drawn
on its spend chart; a quiet home has none.

The home is RouteLedger-format JSONL written here: two models every hour of ten local days in
Europe/Berlin (January: UTC+1), each attempt with a gateway-reported cost. Planted: a rate-limit
storm on acme-large from 15:00 to 16:00 local on the 8th (60% of its attempts answered 429), its
P95 unchanged; ini-small twice as slow from the 7th on; and a third model, hooli-x, with no cost
anywhere from the 9th. The quiet home is the same traffic without them.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import duckdb
import pytest

from app import ui
from collectors import config
from collectors.pipeline import ingest
from tests.app.test_explorer import explorer, request_table
from tests.app.test_pages import assert_clean, open_app

BERLIN = ZoneInfo("Europe/Berlin")
FIRST = date(2026, 1, 1)
DAYS = 10
PER_HOUR = 24  # attempts per model and hour
MODELS = [("acme", "acme-large", 800.0), ("initech", "ini-small", 400.0)]
TOML = '[calendar]\ntimezone = "Europe/Berlin"\n\n[prices]\nauto_catalog = false\n'


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def incident_rows(
    first: date = FIRST, days: int = DAYS, planted: bool = True, seed: int = 5
) -> list[dict[str, Any]]:
    """One attempt per logical request, ``PER_HOUR`` an hour for each model over ``days`` local
    days from ``first``; 2% fail with a server error and 1% are rate-limited. With ``planted``:
    the storm (local 15:00 on day 8), the slowdown (from local midnight of day 7) and the
    unpriced model (from day 9), as the module says."""
    rng = random.Random(seed)
    storm = datetime.combine(first + timedelta(days=7), time(15), BERLIN)
    slow_from = datetime.combine(first + timedelta(days=6), time(0), BERLIN)
    unpriced_from = datetime.combine(first + timedelta(days=8), time(0), BERLIN)
    start = datetime.combine(first, time(0), BERLIN).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(0), BERLIN).astimezone(UTC)
    out: list[dict[str, Any]] = []
    hour = start
    while hour < end:
        models = list(MODELS)
        if planted and hour >= unpriced_from:
            models.append(("hooli", "hooli-x", 600.0))
        for provider, model, base in models:
            for i in range(PER_HOUR if model != "hooli-x" else 2):
                t0 = hour + timedelta(seconds=rng.uniform(0, 3599))
                ms = base * rng.uniform(0.7, 1.3)
                if planted and model == "ini-small" and t0 >= slow_from:
                    ms *= 2.2
                in_storm = (
                    planted and model == "acme-large" and storm <= t0 < storm + timedelta(hours=1)
                )
                draw = rng.random()
                if in_storm and draw < 0.6:
                    err: tuple[str, int] | None = ("rate_limit", 429)
                elif draw < 0.02:
                    err = ("server_error", 500)
                elif draw < 0.03:
                    err = ("rate_limit", 429)
                else:
                    err = None
                rid = f"{model}-{hour:%Y%m%d%H}-{i:02d}"
                row: dict[str, Any] = {
                    "attempt_id": rid,
                    "logical_request_id": rid,
                    "started_at": _iso(t0),
                    "ended_at": _iso(t0 + timedelta(milliseconds=ms)),
                    "provider": provider,
                    "model": model,
                    "task": "chat",
                    "input_tokens": rng.randint(100, 2000),
                    "output_tokens": rng.randint(10, 400),
                    "status": "error" if err else "success",
                    "error_class": err[0] if err else None,
                    "http_status": err[1] if err else 200,
                }
                if model != "hooli-x":
                    row["cost_usd"] = round(rng.uniform(0.001, 0.01), 6)
                out.append(row)
        hour += timedelta(hours=1)
    return out


def make_incident_home(home: Path, rows: list[dict[str, Any]], extra_toml: str = "") -> Path:
    """A home with ``rows`` written as RouteLedger JSONL and ingested through the pipeline."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "routeledger.toml").write_text(TOML + extra_toml, encoding="utf-8")
    log = home / "logs" / "router.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ingest(config.load(home), [str(log)])
    return home


@pytest.fixture(scope="module")
def planted_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_incident_home(tmp_path_factory.mktemp("incidents") / "home", incident_rows())


@pytest.fixture(scope="module")
def quiet_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("quiet") / "home"
    return make_incident_home(home, incident_rows(planted=False))


def found(home: Path) -> list[dict[str, Any]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute(
            "SELECT kind, grain, provider, model, start_at, end_at, first_day, last_day, value, "
            "baseline, affected, n, summary, page, incident_id FROM incidents ORDER BY start_at"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def show_all_days(at: Any) -> None:
    at.date_input(key=ui.DATES_KEY).set_value((FIRST, FIRST + timedelta(days=DAYS - 1))).run()


def test_planted_incidents_are_found_with_kind_subject_and_time(planted_home: Path) -> None:
    got = {(i["kind"], i["provider"], i["model"]): i for i in found(planted_home)}
    assert set(got) == {
        ("p95_regression", "initech", "ini-small"),
        ("rate_limit_storm", "acme", "acme-large"),
        ("unpriced_model", "hooli", "hooli-x"),
    }, [i["summary"] for i in got.values()]

    storm = got[("rate_limit_storm", "acme", "acme-large")]
    # 15:00-16:00 local on the 8th is 14:00-15:00 UTC (CET)
    assert storm["grain"] == "hour"
    assert (storm["start_at"], storm["end_at"]) == (
        datetime(2026, 1, 8, 14, 0),
        datetime(2026, 1, 8, 15, 0),
    )
    assert storm["first_day"] == storm["last_day"] == date(2026, 1, 8)
    assert storm["n"] == PER_HOUR and storm["affected"] >= 10
    assert storm["value"] == pytest.approx(storm["affected"] / PER_HOUR)
    assert storm["baseline"] < 0.03 and storm["page"] == "reliability"
    assert f"{storm['affected']} of {PER_HOUR} attempts rate-limited" in storm["summary"]
    assert "in one hour" in storm["summary"]

    slow = got[("p95_regression", "initech", "ini-small")]
    # from local midnight of the 7th to the last day, still on: whole local days, in UTC
    assert (slow["first_day"], slow["last_day"]) == (date(2026, 1, 7), date(2026, 1, 10))
    assert (slow["start_at"], slow["end_at"]) == (
        datetime(2026, 1, 6, 23, 0),
        datetime(2026, 1, 10, 23, 0),
    )
    assert 1.9 < slow["value"] / slow["baseline"] < 2.5 and slow["page"] == "latency"
    assert "still slow on the last day" in slow["summary"]

    new = got[("unpriced_model", "hooli", "hooli-x")]
    assert new["start_at"] == new["end_at"] and new["first_day"] == date(2026, 1, 9)
    # its attempts but the rate-limited ones, which the default billing policy bills at $0
    billed = [
        r for r in incident_rows() if r["model"] == "hooli-x" and r["error_class"] != "rate_limit"
    ]
    assert new["affected"] == new["n"] == len(billed) > 80 and new["page"] == "prices"

    # the id is a function of what, whom and when: the same on every read
    assert {i["incident_id"] for i in found(planted_home)} == {
        i["incident_id"] for i in got.values()
    }


def test_a_quiet_home_has_no_incident(quiet_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert found(quiet_home) == []
    at = open_app(quiet_home, monkeypatch)
    show_all_days(at)
    assert_clean(at)
    text = " ".join(c.value for c in at.caption)
    assert "No error spike, rate-limit storm, P95 regression" in text
    assert [p.proto.page for p in at.get("page_link")] == []  # no incident, nothing unpriced


def test_the_overview_lists_and_draws_the_incidents(
    planted_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(planted_home, monkeypatch)
    show_all_days(at)
    assert_clean(at)
    lines = [m.value for m in at.markdown if m.value.startswith("**")]
    # newest first; times local; subjects escaped as literal text
    assert len(lines) == 3
    assert re.fullmatch(
        r"\*\*New unpriced model\*\* · hooli \\/ hooli\\-x · 2026\\-01\\-09 00\\:\d\d", lines[0]
    )
    assert lines[1:] == [
        r"**Rate\-limit storm** · acme \/ acme\-large · 2026\-01\-08 15\:00\-16\:00",
        r"**P95 regression** · initech \/ ini\-small · 2026\-01\-07 to 2026\-01\-10",
    ]
    links = [p.proto for p in at.get("page_link") if p.proto.label != "Unmatched models"]
    assert [p.page for p in links] == [
        *("prices", "explorer"),
        *("reliability", "explorer"),
        *("latency", "explorer"),
    ]
    # each incident's requests: its model over its local days, narrowed by what it is about
    opened = [parse_qs(p.query_string) for p in links if p.page == "explorer"]
    assert opened == [
        {
            "since": ["2026-01-09"],
            "until": ["2026-01-09"],
            "provider": ["hooli"],
            "model": ["hooli-x"],
        },
        {
            "since": ["2026-01-08"],
            "until": ["2026-01-08"],
            "provider": ["acme"],
            "model": ["acme-large"],
            "error_class": ["rate_limit"],
            "hour": ["15"],  # the storm's local hour
        },
        {
            "since": ["2026-01-07"],
            "until": ["2026-01-10"],
            "provider": ["initech"],
            "model": ["ini-small"],
            "status": ["succeeded"],
        },
    ]
    storm = explorer(planted_home, monkeypatch, opened[1])
    assert_clean(storm)
    with duckdb.connect(str(planted_home / "warehouse.duckdb"), read_only=True) as con:
        want = sorted(
            r[0]
            for r in con.execute(
                "SELECT DISTINCT logical_request_id FROM attempts WHERE model = 'acme-large' "
                "AND error_class = 'rate_limit' AND local_day = DATE '2026-01-08' "
                "AND hour(timezone(?, started_at::TIMESTAMPTZ)) = 15",
                ["Europe/Berlin"],
            ).fetchall()
        )
    assert len(want) >= 5  # a storm: at least 5 rate-limited attempts in the hour
    assert sorted(request_table(storm)["logical_request_id"]) == want
    table = next(d.value for d in at.dataframe if "incident_id" in d.value.columns)
    assert list(table["kind"]) == ["unpriced_model", "rate_limit_storm", "p95_regression"]

    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    bands = [s for s in chart["layout"]["shapes"] if s["type"] == "rect"]
    labels = {a["text"] for a in chart["layout"]["annotations"]}
    assert len(bands) == 3 and labels == {
        "new unpriced model",
        "rate-limit storm",
        "p95 regression",
    }
    marks = next(t for t in chart["data"] if t.get("name") == "Incidents")
    assert len(marks["x"]) == 3

    # the model filter keeps the incidents of the models it selects
    at.multiselect(key="rl_models").set_value(["ini-small"]).run()
    assert_clean(at)
    lines = [m.value for m in at.markdown if m.value.startswith("**")]
    assert lines == [r"**P95 regression** · initech \/ ini\-small · 2026\-01\-07 to 2026\-01\-10"]


def test_price_changes_of_logged_models_are_incidents(dashboard_home: Path) -> None:
    """The dashboard fixture refreshes two OpenRouter price lists a month apart: each model in
    its logs whose price in force changed is an incident, with the old and new prices."""
    changes = [i for i in found(dashboard_home) if i["kind"] == "price_change"]
    deepseek = next(i for i in changes if i["model"] == "deepseek-chat")
    assert deepseek["summary"].startswith("output $0.28 -> $1.0287, input $0.14 -> $0.2574")
    assert "(output +267%)" in deepseek["summary"] and deepseek["page"] == "prices"
    assert deepseek["start_at"] == deepseek["end_at"] and deepseek["first_day"] == date(2026, 9, 22)
    assert {i["model"] for i in changes} >= {"gpt-4o-mini", "deepseek-chat"}
    # a price listed for the first time is said so, not as a change from $0
    mini = next(i for i in changes if i["model"] == "gpt-4o-mini")
    assert mini["summary"].startswith("cached input now $0.075 per 1M tokens")
    # the rest of the fixture is steady: only acme-large, which no price matches, besides
    others = {(i["kind"], i["model"]) for i in found(dashboard_home) if i["kind"] != "price_change"}
    assert others == {("unpriced_model", "acme-large")}
