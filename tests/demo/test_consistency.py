"""One set of numbers on every surface (issue 14): on the demo and on two fixture homes, for the
same calendar week, every task's spend, cost per successful request (with its price coverage
rule), success rate and P95 are the same in `routeledger stats --json`, on the dashboard's Cost
page (AppTest), in the weekly report's JSON and in the tuner's replay of the current routing.

The homes: the small demo (LiteLLM and OpenTelemetry logs, an unpriced self-hosted model, so a
task whose cost per success is unknown), the dashboard's fixture warehouse (RouteLedger JSONL
with an unpriced model and one priced only by the gateway), and the recorded real logs of
tests/fixtures/logs (LiteLLM, OTLP, OpenRouter, Envoy)."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from app import queries, ui
from app.cli import main
from app.reports.build import week_of
from collectors import config, pipeline
from collectors.pipeline import ingest
from collectors.warehouse import Warehouse
from tests.app.warehouse_fixture import build as build_dashboard_home
from tests.conftest import LOG_FIXTURES

DASHBOARD = Path(__file__).resolve().parents[2] / "app" / "dashboard.py"
FIGURES = ("spend_usd", "cost_per_successful_request_usd", "success_rate", "p95_ms")


@pytest.fixture(scope="module")
def fixture_homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    dash = build_dashboard_home(tmp_path_factory.mktemp("consistency") / "dashboard")
    logs = tmp_path_factory.mktemp("consistency") / "logs"
    logs.mkdir(exist_ok=True)
    cfg = config.load(logs)
    ingest(cfg, [str(LOG_FIXTURES / d) for d in ("litellm", "otlp_genai", "openrouter_generation")])
    ingest(cfg, [str(LOG_FIXTURES / "envoy_ai_gateway_accesslog")], fmt="mapped",
           mapping="envoy-ai-gateway")  # fmt: skip
    pipeline.update_marts(cfg, force=True)
    return {"dashboard": dash, "logs": logs}


def _json(home: Path, *args: str) -> dict[str, Any]:
    res = CliRunner().invoke(main, ["--home", str(home), *args, "--json"])
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)
    return out


def _busiest_week(home: Path) -> tuple[str, date, date]:
    """The calendar week (the configured week start) with the most logical requests."""
    cfg = config.load(home)
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        (day,) = con.execute(
            "SELECT local_week FROM logical_requests GROUP BY local_week "
            "ORDER BY count(*) DESC, local_week DESC LIMIT 1"
        ).fetchone()
    w = week_of(day, cfg.week_start)
    return w.label, w.since, w.until


def _manifest(home: Path, since: date, until: date) -> Path:
    """The home's own manifest, or one written from its traffic: per task, its busiest model."""
    own = home / "manifest.yaml"
    if own.exists():
        return own
    with Warehouse.from_config(config.load(home)).connect(read_only=True) as con:
        rows = con.execute(
            "SELECT task, arg_max(first_model, n), arg_max(first_provider, n) FROM ("
            " SELECT task, first_model, first_provider, count(*) AS n FROM logical_requests"
            " WHERE local_day BETWEEN ? AND ? GROUP BY ALL) GROUP BY task ORDER BY task",
            [since, until],
        ).fetchall()
    models = sorted({(p or "", m) for _, m, p in rows})
    names = {pm: f"m{i}" for i, pm in enumerate(models)}
    lines = ["version: 1", "routing: {default_budget_limit: 1.0}", "providers:"]
    for (p, m), name in names.items():
        lines.append(f"  - {{name: {name}, model: {json.dumps(f'{p}/{m}' if p else m)}}}")
    lines.append("tasks:")
    for task, m, p in rows:
        lines.append(f"  {json.dumps(task)}: {{chain: [{names[(p or '', m)]}]}}")
    path = home / "consistency-manifest.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _from_stats(home: Path, since: date, until: date) -> dict[str, dict[str, Any]]:
    out = _json(home, "stats", "--since", str(since), "--until", str(until))
    return {t["task"]: t for t in out["tasks"]}


def _from_report(home: Path, week: str, tmp: Path) -> dict[str, dict[str, Any]]:
    _json(home, "report", "weekly", "--week", week, "--out", str(tmp))
    doc = json.loads((tmp / "report.json").read_text(encoding="utf-8"))
    return {
        t["task"]: {**t, "cost_per_successful_request_usd": t["cost_per_success_usd"]}
        for t in doc["tasks"]
    }


def _from_tuner(home: Path, since: date, until: date) -> dict[str, dict[str, Any]]:
    manifest = _manifest(home, since, until)
    out = _json(home, "tune", "--manifest", str(manifest), "--since", str(since),
                "--until", str(until))  # fmt: skip
    return {t["task"]: t["savings"]["current"] for t in out["tasks"] if t["savings"]["current"]}


def _from_dashboard(
    home: Path, since: date, until: date, monkeypatch: pytest.MonkeyPatch
) -> dict[str, dict[str, Any]]:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60)
    at.session_state[ui.DATES_KEY] = (since, until)
    at.run()
    at.switch_page("views/cost.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert tuple(at.date_input(key=ui.DATES_KEY).value) == (since, until)
    table = at.dataframe[0].value
    return {r["task"]: r for r in table.to_dict("records")}


def _same(a: Any, b: Any, abs_: float = 1e-12) -> bool:
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (a, b)]
    if any(missing):
        return all(missing)
    return bool(float(a) == pytest.approx(float(b), rel=1e-9, abs=abs_))


def _agree(home: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    week, since, until = _busiest_week(home)
    surfaces = {
        "stats": _from_stats(home, since, until),
        "dashboard": _from_dashboard(home, since, until, monkeypatch),
        "report": _from_report(home, week, tmp),
        "tuner": _from_tuner(home, since, until),
    }
    stats = surfaces["stats"]
    assert stats, "no task in the week"
    for name, found in surfaces.items():
        # the tuner replays the manifest's tasks; every other surface shows every task
        expected = set(stats) if name != "tuner" else set(stats) & set(found)
        assert set(found) >= expected and expected, (name, sorted(found), sorted(stats))
        # tune --json rounds money to the micro-dollar; every other surface passes it whole
        tolerance = 5e-7 if name == "tuner" else 1e-12
        for task in expected:
            for key in FIGURES:
                assert _same(found[task][key], stats[task][key], tolerance), (name, task, key)
    with Warehouse.from_config(config.load(home)).connect(read_only=True) as con:
        mart = {r["task"]: r for r in queries.task_stats(con, since, until)}
    for task, row in stats.items():  # and stats is the mart
        for key in FIGURES:
            assert _same(row[key], queries.json_scalar(mart[task][key])), (task, key)
    return {"week": week, "tasks": stats}


def test_every_surface_shows_the_demos_figures(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = _agree(demo_home, tmp_path, monkeypatch)
    unknown = [t for t, r in found["tasks"].items() if r["cost_per_successful_request_usd"] is None]
    assert unknown, "the demo has a task whose cost per success is unknown (too little priced)"
    for t in unknown:
        assert found["tasks"][t]["cost_unknown_reason"].startswith("only ")


@pytest.mark.parametrize("name", ["dashboard", "logs"])
def test_every_surface_shows_a_fixture_homes_figures(
    fixture_homes: dict[str, Path], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _agree(fixture_homes[name], tmp_path, monkeypatch)
