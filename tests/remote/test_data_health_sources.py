"""Data health shows each bucket and PostgreSQL source: its last read, how far behind its newest
record is, what it read, and a failed read's one-line error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors import config, pipeline
from collectors.remote import sources
from collectors.warehouse import Warehouse


def test_data_health_lists_remote_sources_and_says_which_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        '[[sources]]\ndsn_env = "RL_TEST_NOT_SET"\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("RL_TEST_NOT_SET", raising=False)
    cfg = config.load(home)
    pg = next(s for s in cfg.sources if s.kind == "postgres")
    # a bucket read well earlier (as collectors.remote.bucket records it; since removed from
    # the configuration, its last read is still shown)
    newest = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=42)
    wh = Warehouse.from_config(cfg)
    wh.migrate()
    sources.record(wh, "litellm-bucket", "bucket", sources.Fetched('{"k": 1}', 317, newest), None)
    # the database's variable is not set: the read fails, recorded in one line
    got = {r.source: r for r in sources.fetch_all(cfg) if r.source == pg.label}
    assert got[pg.label].status == "failed" and "RL_TEST_NOT_SET" in str(got[pg.label].error)
    pipeline.update_marts(cfg)

    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    root = Path(__file__).parents[2]
    at = AppTest.from_file(str(root / "app" / "dashboard.py"), default_timeout=60)
    at.run()
    at.switch_page("views/data_health.py").run()
    assert not at.exception
    assert any(h.value == "Buckets and databases" for h in at.subheader)
    warnings = [w.value.replace("\\", "") for w in at.warning]  # Markdown-escaped
    warned = [w for w in warnings if pg.label in w]
    assert len(warned) == 1 and "RL_TEST_NOT_SET" in warned[0], warnings
    table = next(d.value for d in at.dataframe if "lag_minutes" in d.value.columns)
    rows = table.set_index("source")
    assert set(rows.index) == {pg.label, "litellm-bucket"}
    assert rows.loc["litellm-bucket", "rows_total"] == 317
    assert 41 <= rows.loc["litellm-bucket", "lag_minutes"] <= 60
    assert rows.loc[pg.label, "errors_total"] == 1
