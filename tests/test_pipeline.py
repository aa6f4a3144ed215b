"""The sequences of collectors.pipeline: the catalog on a new warehouse, then the load, then the
marts; a load alone leaves the marts behind until the next run catches them up; price loads
never touch the marts themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors import config, pipeline
from collectors.prices import api as prices
from collectors.warehouse import Warehouse, marts
from tests.logs.helpers import rl_row


def _home(tmp_path: Path, n: int = 4) -> tuple[config.Config, Path]:
    home = tmp_path / "home"
    home.mkdir()
    log = tmp_path / "a.jsonl"
    log.write_text("".join(json.dumps(rl_row(i)) + "\n" for i in range(n)), encoding="utf-8")
    return config.load(home), log


def _count(cfg: config.Config, sql: str) -> int:
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        return int(con.execute(sql).fetchall()[0][0])


def test_ingest_loads_the_catalog_then_the_log_then_the_marts(tmp_path: Path) -> None:
    cfg, log = _home(tmp_path)
    summary = pipeline.ingest(cfg, [str(log)])
    assert summary.attempts_loaded == 4
    assert _count(cfg, "SELECT count(*) FROM price_refreshes WHERE source = 'catalog'") == 1
    assert _count(cfg, "SELECT count(*) FROM attempts") == 4
    # priced from the catalog it bootstrapped: gpt-4o-mini is in every catalog
    assert _count(cfg, "SELECT count(*) FROM attempts WHERE cost_usd IS NOT NULL") == 4


def test_a_load_without_refresh_is_caught_up_by_the_next_run(tmp_path: Path) -> None:
    cfg, log = _home(tmp_path)
    pipeline.ingest(cfg, [str(log)], refresh=False)
    wh = Warehouse.from_config(cfg)
    assert marts.behind(wh)
    assert pipeline.catch_up(cfg, loaded=False) is True
    assert not marts.behind(wh)
    assert _count(cfg, "SELECT count(*) FROM logical_requests") == 4
    assert pipeline.catch_up(cfg, loaded=False) is False  # nothing to do: nothing rebuilt


def test_a_price_load_leaves_the_marts_to_the_pipeline(tmp_path: Path) -> None:
    cfg, log = _home(tmp_path)
    pipeline.ingest(cfg, [str(log)])
    with Warehouse.from_config(cfg).connect() as con:
        built = con.execute("SELECT built_at FROM derived_state").fetchall()
    prices.refresh(cfg, ["overrides"])  # a load only
    with Warehouse.from_config(cfg).connect(read_only=True) as con:
        assert con.execute("SELECT built_at FROM derived_state").fetchall() == built
    pipeline.refresh_prices(cfg, ["overrides"])  # the load, then the marts
    assert _count(cfg, "SELECT count(*) FROM attempts") == 4


@pytest.mark.parametrize("auto", [True, False])
def test_the_catalog_is_bootstrapped_once_and_only_when_configured(
    tmp_path: Path, auto: bool
) -> None:
    cfg, log = _home(tmp_path)
    (cfg.home / "routeledger.toml").write_text(
        f"[prices]\nauto_catalog = {str(auto).lower()}\n", encoding="utf-8"
    )
    cfg = config.load(cfg.home)
    Warehouse.from_config(cfg).migrate()
    assert pipeline.ensure_catalog(cfg) is auto
    assert pipeline.ensure_catalog(cfg) is False
    assert _count(cfg, "SELECT count(*) FROM price_refreshes") == int(auto)
