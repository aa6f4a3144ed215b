"""One format per kind of figure, one colour per model, tables that fit, date presets in the
configured week, and filters carried in the URL (app.ui and the pages that use it)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from app import money, ui
from collectors import config

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "app" / "dashboard.py"
TODAY = date(2026, 12, 6)  # a Sunday


# -- numbers --------------------------------------------------------------------------------------


def test_a_money_column_has_one_precision_chosen_from_its_values() -> None:
    assert ui.usd_column([1234.5, 0.0123, None]) == ["$1,234.5000", "$0.0123", ui.MISSING]
    assert ui.usd_column([12.0, 3.456]) == ["$12.00", "$3.46"]
    assert ui.usd_column([0.5, 0.000012, 0]) == ["$0.500000", "$0.000012", "$0.000000"]
    assert ui.usd_column([None, float("nan")]) == [ui.MISSING, ui.MISSING]
    assert ui.usd_decimals(pd.Series([2.5, float("nan"), 0.25])) == 4


@pytest.mark.parametrize("v", [0, 0.004, 0.0123, 0.5, 1, 12.3456, 1234567.891])
def test_a_single_amount_follows_the_money_rules(v: float) -> None:
    assert ui.usd(v) == money.usd(v)


def test_signs_and_missing_amounts() -> None:
    assert ui.usd(-1.5) == "-$1.50"
    assert ui.usd(-0.0) == "$0.00"
    assert ui.usd(-0.0000001, decimals=2) == "$0.00"  # no "-$0.00"
    assert ui.usd(None) == ui.MISSING == "—"
    assert ui.usd(float("nan")) == ui.MISSING
    assert ui.usd(pd.NA) == ui.MISSING
    assert ui.usd(2.5, precise=True) == "$2.5000"
    assert ui.usd(0.001, precise=True) == "$0.001000"


def test_a_percentage_is_never_minus_zero_and_a_share_of_nothing_is_not_zero() -> None:
    assert ui.pct(-0.0) == "0.0%"
    assert ui.pct(-0.00001) == "0.0%"
    assert ui.pct(-0.0004, 0) == "0%"
    assert ui.pct(-0.02) == "-2.0%"
    assert ui.pct(0.1234) == "12.3%"
    assert ui.pct(None) == ui.MISSING and ui.pct(float("nan")) == ui.MISSING
    assert ui.share(0, 0) == "n/a (no attempts)"
    assert ui.share(3, 0, of="requests") == "n/a (no requests)"
    assert ui.share(1, 3) == "33.3%"
    assert ui.counts_of(0, 0) is None
    assert ui.counts_of(1234, 5678) == "1,234 of 5,678"


def test_milliseconds_and_counts_have_separators() -> None:
    assert ui.ms(11812) == "11,812 ms"
    assert ui.ms(11812.4) == "11,812 ms"
    assert ui.ms(None) == ui.MISSING
    assert ui.count(19954321) == "19,954,321"
    assert ui.count(float("nan")) == ui.MISSING


def test_chart_templates_and_axes_have_one_format_per_kind() -> None:
    assert ui.hover("y", "ms") == "%{y:,.0f} ms"
    assert ui.hover("customdata[0]", "count") == "%{customdata[0]:,.0f}"
    assert ui.hover("y", "usd", 6) == "$%{y:,.6f}"
    assert ui.hover("y", "pct") == "%{y:.1%}"
    with pytest.raises(ValueError, match="kind"):
        ui.hover("y", "euro")
    fig = go.Figure(go.Scatter(x=[1, 2], y=[0.0004, 0.018]))
    ui.axis(fig, "y", "usd", title="per request")
    y = fig.layout.yaxis
    assert (y.tickprefix, y.tickformat, y.exponentformat) == ("$", ",~r", "none")  # no "400μ"
    assert y.title.text == "per request"
    ui.axis(fig, "x", "ms")
    assert (fig.layout.xaxis.ticksuffix, fig.layout.xaxis.tickformat) == (" ms", ",~r")


def test_a_money_colour_scale_is_labelled_in_dollars() -> None:
    ticks, labels = ui.money_ticks(0.0004, 0.013)
    assert labels == ["$0.0005", "$0.001", "$0.002", "$0.005", "$0.01"]
    assert ticks == pytest.approx([-3.30103, -3, -2.69897, -2.30103, -2], abs=1e-5)
    _, wide = ui.money_ticks(0.00001, 500)
    assert wide[0] == "$0.00001" and wide[-1] == "$100" and len(wide) <= 8
    assert ui.tick_usd(0.0000002) == "$0.0000002"
    assert ui.tick_usd(1000) == "$1,000" and ui.tick_usd(2) == "$2"


# -- tables ---------------------------------------------------------------------------------------


def test_a_table_is_as_high_as_its_rows_up_to_a_cap() -> None:
    assert ui.table_height(1) == 2 * ui.ROW_PX + 3  # a header and one row, no blank rows
    assert ui.table_height(0) == ui.ROW_PX + 3
    assert ui.table_height(500) == (ui.TABLE_ROWS + 1) * ui.ROW_PX + 3  # then it scrolls
    assert ui.table_height(500, cap=240) == 240
    assert ui.table_height(2, cap=240) == 3 * ui.ROW_PX + 3


def test_columns_are_formatted_by_kind() -> None:
    df = pd.DataFrame(
        {
            "model": ["a", "b"],
            "spend_usd": [1234.5, 0.0123],
            "cost_per_success_usd": [0.5, 0.00012],
            "input_per_mtok": [2.5, 10.0],
            "success_rate": [0.5, 1.0],
            "p95_ms": [11812.0, 900.0],
            "attempts": [1, 20000],
            "error": ["x" * 200, "short"],
        }
    )
    cfg = ui.column_config(df)

    def number(col: str) -> tuple[str, float | None]:
        return cfg[col]["type_config"]["format"], cfg[col]["type_config"]["step"]

    # dollars: the precision of a whole column comes from its step (Streamlit's "dollar")
    assert number("spend_usd") == ("dollar", pytest.approx(1e-4))
    assert number("cost_per_success_usd") == ("dollar", pytest.approx(1e-6))
    assert number("input_per_mtok") == ("dollar", pytest.approx(0.01))
    assert number("success_rate") == ("percent", 0.001)  # 12.3%
    assert number("p95_ms") == ("%,.0f ms", None)
    assert number("attempts") == ("%,d", None)
    assert cfg["error"]["width"] == "large"
    assert cfg["model"].get("pinned") is True  # wide: the first column stays in view


def test_a_table_never_shows_zero_dollars_for_what_has_no_price() -> None:
    df = pd.DataFrame(
        {
            "model": ["a", "b", "c"],
            "spend_usd": [0.0, 0.0, 1.25],
            "unpriced_attempts": [5, 0, 3],
            "spend_on_failures_usd": [0.0, None, 0.5],
            "unpriced_failed_attempts": [2, 0, 0],
        }
    )
    shown = ui.known_spends(df)
    assert shown["spend_usd"].isna().tolist() == [True, False, False]  # $0 + unknown = unknown
    assert shown["spend_on_failures_usd"].isna().tolist() == [True, True, False]
    assert ui.money_gaps(shown) == ["spend_usd", "spend_on_failures_usd"]
    note = ui.gaps_note(["spend_usd", "cost_per_success_usd"])
    assert note.startswith(ui.MISSING) and "unpriced" in note and "unknown" in note


# -- colours --------------------------------------------------------------------------------------


def test_eleven_and_more_models_get_distinct_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"model-{i}" for i in range(len(ui.PALETTE))]
    options = {"models": names, "providers": [], "tasks": [], "teams": []}
    monkeypatch.setattr("app.ui_charts.query", lambda ctx, fn, *args: options)
    colours = ui.colors(ui.Ctx(cfg=object()), "model")  # type: ignore[arg-type]
    assert len({colours[n] for n in names}) == len(names) >= 50
    assert len({colours[n] for n in names[:11]}) == 11
    assert colours["(other)"] == colours["(none)"] == ui.GREY not in ui.PALETTE
    sources = ui.colors(ui.Ctx(), "source")
    assert len({sources[s] for s in ("override", "openrouter", "litellm", "catalog")}) == 4


def _trace_colours(at: AppTest) -> dict[str, set[str]]:
    """Every chart's traces on the page: name -> the colours it was drawn in."""
    out: dict[str, set[str]] = {}
    for chart in at.get("plotly_chart"):
        for t in json.loads(chart.proto.spec)["data"]:
            colour = (t.get("line") or {}).get("color") or (t.get("marker") or {}).get("color")
            if isinstance(colour, str) and t.get("name"):
                out.setdefault(t["name"], set()).add(colour)
    return out


def _specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def open_app(home: Path, monkeypatch: pytest.MonkeyPatch, **params: Any) -> AppTest:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.query_params.update(params)
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_a_model_has_the_same_colour_on_every_page(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)
    at.switch_page("views/latency.py").run()
    assert_clean(at)
    latency = _trace_colours(at)
    at.switch_page("views/reliability.py").run()
    assert_clean(at)
    reliability = _trace_colours(at)
    models = {"gpt-4o-mini", "deepseek-chat", "acme-large", "gpt-4o", "initech-small"}
    both = models & set(latency) & set(reliability)
    assert len(both) >= 3, (sorted(latency), sorted(reliability))
    for m in both:  # one colour per model, on the line, the box, the histogram and the bars
        assert len(latency[m]) == 1 and latency[m] == reliability[m], m
    assert len({next(iter(latency[m])) for m in both}) == len(both)  # and no two share one
    # the overlaid histograms are outlines, not translucent bars blending into each other
    specs = _specs(at.switch_page("views/latency.py").run())
    assert not any(s["layout"].get("barmode") == "overlay" for s in specs)
    steps = [t for s in specs for t in s["data"] if (t.get("line") or {}).get("shape") == "hv"]
    assert len(steps) >= 2


def test_the_cost_heatmap_has_a_dollar_colour_scale(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)
    at.switch_page("views/cost.py").run()
    assert_clean(at)
    heat = next(t for s in _specs(at) for t in s["data"] if t["type"] == "heatmap")
    assert heat["showscale"] is True
    labels = heat["colorbar"]["ticktext"]
    assert labels and all(x.startswith("$") for x in labels), labels
    cells = [c for row in heat["text"] for c in row if c.startswith("$")]
    decimals = {len(c.rstrip("*").rpartition(".")[2]) for c in cells}
    assert len(decimals) == 1, cells  # one precision in the whole grid


# -- date presets ---------------------------------------------------------------------------------


def _cfg(tmp_path: Path, toml: str = "") -> config.Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "routeledger.toml").write_text(toml, encoding="utf-8")
    return config.load(tmp_path)


def test_presets_follow_the_configured_week_start_and_the_last_day_with_data(
    tmp_path: Path,
) -> None:
    last = date(2026, 11, 18)  # a Wednesday, before today: presets count back from it
    p = ui.date_presets(_cfg(tmp_path / "mon"), date(2026, 8, 1), last, TODAY)
    assert p["Last 7 days"] == (date(2026, 11, 12), last)
    assert p["Last 28 days"] == (date(2026, 10, 22), last)  # the default window
    assert p["This week"] == (date(2026, 11, 16), last)  # from Monday
    assert p["Last week"] == (date(2026, 11, 9), date(2026, 11, 15))
    assert p["This month"] == (date(2026, 11, 1), last)
    assert p["Last month"] == (date(2026, 10, 1), date(2026, 10, 31))
    assert p["All data"] == (date(2026, 8, 1), last)

    sun = ui.date_presets(
        _cfg(tmp_path / "sun", '[calendar]\nweek_start = "sunday"\nwindow_days = 14\n'),
        date(2026, 8, 1),
        last,
        TODAY,
    )
    assert sun["This week"] == (date(2026, 11, 15), last)
    assert sun["Last week"] == (date(2026, 11, 8), date(2026, 11, 14))
    assert sun["Last 14 days"] == (date(2026, 11, 5), last)


def test_presets_are_cut_to_the_data(tmp_path: Path) -> None:
    first = date(2026, 11, 10)
    p = ui.date_presets(_cfg(tmp_path), first, date(2026, 11, 18), TODAY)
    assert "Last month" not in p  # wholly before the data
    assert p["This month"] == (first, date(2026, 11, 18))
    assert p["Last week"] == (first, date(2026, 11, 15))


def test_picking_a_preset_sets_the_days_and_the_url(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)
    assert_clean(at)
    since, until = at.date_input(key=ui.DATES_KEY).value
    assert at.selectbox(key=ui.PRESET_KEY).value == "Last 28 days"
    assert "since" not in at.query_params  # the default window keeps the link short
    at.selectbox(key=ui.PRESET_KEY).set_value("Last 7 days").run()
    assert_clean(at)
    assert tuple(at.date_input(key=ui.DATES_KEY).value) == (until - timedelta(days=6), until)
    assert at.query_params["since"] == str(until - timedelta(days=6))
    assert at.query_params["until"] == str(until)
    at.selectbox(key=ui.PRESET_KEY).set_value("Last week").run()
    week_from, week_to = at.date_input(key=ui.DATES_KEY).value
    assert week_from.weekday() == 0 and week_to == week_from + timedelta(days=6)  # Monday
    at.date_input(key=ui.DATES_KEY).set_value((since + timedelta(days=1), until)).run()
    assert at.selectbox(key=ui.PRESET_KEY).value == ui.CUSTOM
    note = " ".join(c.value for c in at.sidebar.caption)
    assert "week_start (Monday)" in note and "date picker" in note


# -- filters in the URL ---------------------------------------------------------------------------


def test_a_link_presets_the_filters_and_ignores_what_it_cannot_use(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch)
    _, until = at.date_input(key=ui.DATES_KEY).value
    since = until - timedelta(days=9)
    at = open_app(
        dashboard_home,
        monkeypatch,
        since=str(since),
        until=str(until),
        model=["gpt-4o-mini,no-such-model", "deepseek-chat"],
        task="extract",
        count="request",
    )
    assert_clean(at)
    assert tuple(at.date_input(key=ui.DATES_KEY).value) == (since, until)
    assert at.multiselect(key="rl_models").value == ["gpt-4o-mini", "deepseek-chat"]
    assert at.multiselect(key="rl_tasks").value == ["extract"]
    assert at.session_state[ui.GRAIN_KEY] == "request"
    notice = " ".join(w.value for w in at.sidebar.warning)
    assert ui.md_text("no-such-model") in notice and "not in the data" in notice
    assert at.query_params["model"] == ["gpt-4o-mini", "deepseek-chat"]  # cleaned, repeated

    at.switch_page("views/reliability.py").run()  # the filters, and the link, survive a page
    assert_clean(at)
    assert at.radio(key=ui.GRAIN_WIDGET_KEY).value == "request"
    assert at.query_params["task"] == "extract" and at.query_params["count"] == "request"


def test_changing_a_filter_updates_the_url(
    dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, campaign="kept")  # not ours: left alone
    assert dict(at.query_params) == {"campaign": "kept"}
    at.multiselect(key="rl_tasks").set_value(["extract", "summarize"]).run()
    at.multiselect(key="rl_teams").set_value(["<b>growth</b>"]).run()
    assert_clean(at)
    assert at.query_params["task"] == ["extract", "summarize"]
    assert at.query_params["team"] == "<b>growth</b>"
    at.multiselect(key="rl_tasks").set_value([]).run()
    assert "task" not in at.query_params
    next(b for b in at.button if b.label == "Reset filters").click().run()
    assert_clean(at)
    assert dict(at.query_params) == {"campaign": "kept"}


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday", "until": "2026-13-45", "count": "everything"},
        {"since": "2099-01-01", "until": "2000-01-01"},
        {"model": ",,,", "provider": "x" * 500, "team": "[a](https://evil.example)"},
    ],
)
def test_a_bad_link_is_a_notice_never_an_exception(
    params: dict[str, str], dashboard_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(dashboard_home, monkeypatch, **params)
    assert_clean(at)
    assert at.sidebar.warning, "what the link gave and was ignored is said"
    assert at.multiselect(key="rl_models").value == []
    text = " ".join(w.value for w in at.sidebar.warning)
    assert "](https://evil" not in text  # quoted as text, never a live link
