from __future__ import annotations

from pathlib import Path

import pytest

from collectors import config as config_mod

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
LOG_FIXTURES = FIXTURES / "logs"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh RouteLedger home with small batches, so multi-batch paths run on small files."""
    h = tmp_path / "home"
    h.mkdir()
    (h / "routeledger.toml").write_text(
        "[ingest]\nbatch_bytes = 65536\n\n[warehouse]\nlock_timeout_seconds = 60\n\n"
        "[prices]\nauto_catalog = false\n",
        encoding="utf-8",
    )
    return h


@pytest.fixture
def cfg(home: Path) -> config_mod.Config:
    return config_mod.load(home)


# `make test` runs the suite on every core (pytest-xdist, `--dist loadgroup`). A file's tests stay
# on one worker (its module fixtures are built once); so do a whole folder's where its tests share
# an expensive session fixture: the ClickHouse suite's twin homes (one chdb data path per
# process), the demo build.
SHARED_SESSION = {"clickhouse", "demo"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        rel = Path(str(item.fspath)).relative_to(TESTS)
        group = rel.parts[0] if rel.parts[0] in SHARED_SESSION else rel.as_posix()
        item.add_marker(pytest.mark.xdist_group(group))
