"""Each view's declared key is unique on the fixture data, and `routeledger stats --json` equals
figures computed independently here from the generated rows."""

from __future__ import annotations

import json
import random
import re
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from app.cli import main
from collectors import config, pipeline
from collectors.pipeline import ingest
from collectors.warehouse.migrate import sql_files
from tests.conftest import LOG_FIXTURES


@pytest.fixture(scope="module")
def fixture_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("keys")
    cfg = config.load(home)
    ingest(cfg, [str(LOG_FIXTURES / d) for d in ("litellm", "otlp_genai", "openrouter_generation")])
    ingest(
        cfg,
        [str(LOG_FIXTURES / "envoy_ai_gateway_accesslog")],
        fmt="mapped",
        mapping="envoy-ai-gateway",
    )
    pipeline.update_marts(cfg, force=True)
    return home


def _key(text: str) -> list[str] | None:
    m = re.search(r"^-- key:\s*(.+)$", text, re.MULTILINE)
    assert m, "no -- key: line"
    key = m.group(1).strip()
    if key.startswith("("):
        return None  # a one-row relation
    return [k.strip() for k in key.split(",")]


VIEWS = [f for f in sql_files() if f.layer in ("staging", "intermediate", "marts")]


@pytest.mark.parametrize("f", VIEWS, ids=lambda f: f.name)
def test_declared_key_is_unique_on_fixture_data(fixture_home: Path, f) -> None:  # type: ignore[no-untyped-def]
    key = _key(f.text)
    rel = f"{f.name}('2000-01-01', '2100-01-01')" if f.macro_params else f.name
    con = duckdb.connect(str(fixture_home / "warehouse.duckdb"), read_only=True)
    try:
        total = con.execute(f"SELECT count(*) FROM {rel}").fetchall()[0][0]
        if key is None:
            assert total == 1
            return
        cols = ", ".join(key)
        dupes = con.execute(
            f"SELECT {cols}, count(*) FROM {rel} GROUP BY ALL HAVING count(*) > 1"
        ).fetchall()
    finally:
        con.close()
    assert dupes == [], f"{f.name}: key ({', '.join(key)}) repeats: {dupes[:3]}"
    if f.name in ("attempts", "logical_requests", "stg_gateway__attempts", "model_task_stats"):
        assert total > 0


def _dataset(
    n_requests: int, seed: int
) -> tuple[list[dict[str, object]], list[list[dict[str, object]]]]:
    rng = random.Random(seed)
    # fictional models: no price source knows them, so every cost is the reported one
    models = [("acme", "acme-large"), ("initech", "ini-small"), ("hooli", "hooli-xl")]
    tasks = ["review", "debugging", None]
    rows, requests = [], []
    t0 = datetime(2026, 3, 2, 8, 0, 0)
    for r in range(n_requests):
        n_attempts = rng.choice([1, 1, 1, 2, 3])
        task = rng.choice(tasks)
        start = t0 + timedelta(minutes=r * 7)
        attempts = []
        for i in range(n_attempts):
            provider, model = rng.choice(models)
            last = i == n_attempts - 1
            ok = last and rng.random() < 0.85
            lat = rng.randint(200, 5000)
            cost = round(rng.uniform(0.0001, 0.02), 6)
            row = {
                "attempt_id": f"a{r}-{i}",
                "logical_request_id": f"r{r}",
                "started_at": start.isoformat() + "Z",
                "ended_at": (start + timedelta(milliseconds=lat)).isoformat() + "Z",
                "provider": provider,
                "model": model,
                "status": "success" if ok else "error",
                "error_class": None
                if ok
                else rng.choice(["rate_limit", "server_error", "timeout"]),
                "input_tokens": rng.randint(10, 4000),
                "output_tokens": rng.randint(1, 800),
                "cost_usd": cost,
                "task": task,
            }
            start += timedelta(milliseconds=lat + 50)
            rows.append(row)
            attempts.append(row)
        requests.append(attempts)
    return rows, requests


def test_stats_json_matches_an_independent_computation(tmp_path: Path) -> None:
    rows, requests = _dataset(400, seed=7)
    log = tmp_path / "router.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    home = tmp_path / "home"
    home.mkdir()
    runner = CliRunner()
    res = runner.invoke(main, ["--home", str(home), "ingest", str(log), "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        main,
        ["--home", str(home), "stats", "--since", "2026-03-01", "--until", "2026-03-31", "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["window"] == {"since": "2026-03-01", "until": "2026-03-31"}

    # no price source has these prices: every cost is the router-reported one, except failed
    # attempts of a class the default billing policy does not bill (a 429 costs nothing)
    not_billed = set(config.load(home).get("billing.not_billed_error_classes"))
    assert "rate_limit" in not_billed

    def cost(x: dict[str, object]) -> float:
        return 0.0 if x["error_class"] in not_billed else float(x["cost_usd"])  # type: ignore[arg-type]

    by_task: dict[str, list[list[dict[str, object]]]] = {}
    for attempts in requests:
        by_task.setdefault(str(attempts[0]["task"] or "unlabeled"), []).append(attempts)
    got_tasks = {t["task"]: t for t in out["tasks"]}
    assert set(got_tasks) == set(by_task)
    for task, reqs in by_task.items():
        g = got_tasks[task]
        ok = [a for a in reqs if a[-1]["status"] == "success"]
        spend = sum(cost(x) for a in reqs for x in a)
        lat = sorted(
            (
                datetime.fromisoformat(str(a[-1]["ended_at"])[:-1])
                - datetime.fromisoformat(str(a[0]["started_at"])[:-1])
            ).total_seconds()
            * 1000
            for a in ok
        )
        assert g["logical_requests"] == len(reqs)
        assert g["succeeded"] == len(ok)
        assert g["spend_usd"] == pytest.approx(spend, rel=1e-9)
        assert g["cost_per_successful_request_usd"] == pytest.approx(spend / len(ok), rel=1e-9)
        assert g["retry_rate"] == pytest.approx(sum(len(a) > 1 for a in reqs) / len(reqs))
        assert g["fallback_rate"] == pytest.approx(
            sum(a[0]["model"] != a[-1]["model"] for a in reqs) / len(reqs)
        )
        assert g["p95_ms"] == pytest.approx(
            statistics.quantiles(lat, n=100, method="inclusive")[94], rel=1e-9
        )

    got_models = {(m["provider"], m["model"], m["task"]): m for m in out["models"]}
    flat: dict[tuple[str, str, str], list[dict[str, object]]] = {}
    for reqs in by_task.values():
        for a in reqs:
            for x in a:
                flat.setdefault(
                    (str(x["provider"]), str(x["model"]), str(a[0]["task"] or "unlabeled")), []
                ).append(x)
    assert set(got_models) == set(flat)
    for k, xs in flat.items():
        g = got_models[k]
        succ = [x for x in xs if x["status"] == "success"]
        assert g["attempts"] == len(xs) and g["successes"] == len(succ)
        spend = sum(cost(x) for x in xs)
        assert g["spend_usd"] == pytest.approx(spend, rel=1e-9)
        if succ:
            assert g["cost_per_success_usd"] == pytest.approx(spend / len(succ), rel=1e-9)
            lats = sorted(
                (
                    datetime.fromisoformat(str(x["ended_at"])[:-1])
                    - datetime.fromisoformat(str(x["started_at"])[:-1])
                ).total_seconds()
                * 1000
                for x in succ
            )
            if len(lats) > 1:
                assert g["p50_ms"] == pytest.approx(statistics.median(lats), rel=1e-9)
        p, n = len(succ) / len(xs), len(xs)
        z = 1.96
        low = (p + z * z / (2 * n) - z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)) / (
            1 + z * z / n
        )
        assert g["success_rate_low"] == pytest.approx(low, rel=1e-9)
    assert out["unpriced_attempts"] == 0  # reported costs stand in, marked as such
