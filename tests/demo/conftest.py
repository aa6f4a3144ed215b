"""One small demo home, built once for the module's tests through the real collectors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from app.demo import build, spec
from collectors.warehouse import Warehouse

SMALL = 3000
SEED = 11
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # a Friday afternoon; fixed for determinism


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> build.BuildResult:
    home = tmp_path_factory.mktemp("demo") / "home"
    return build.build(home, requests=SMALL, seed=SEED, now=NOW)


@pytest.fixture(scope="session")
def demo_home(demo: build.BuildResult) -> Path:
    return Path(demo.home)


@pytest.fixture
def wh(demo_home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with Warehouse(demo_home / "warehouse.duckdb").connect(read_only=True) as con:
        yield con


@pytest.fixture(scope="session")
def incidents() -> spec.Incidents:
    return spec.incidents(spec.window(NOW))
