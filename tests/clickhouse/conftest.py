"""One embedded ClickHouse (chdb) per test session, one database per warehouse under test.

chdb allows a single data path per process ("EmbeddedServer already initialized with path X"),
so every client here opens the same session-wide path; each warehouse gets a database of its
own. The DuckDB warehouses are built through the real pipeline: the dashboard fixture home and
a small demo.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

clickhouse_connect = pytest.importorskip("clickhouse_connect")
pytest.importorskip("chdb")

from app.demo import build as demo_build  # noqa: E402
from collectors.warehouse.clickhouse import apply  # noqa: E402
from tests.app import warehouse_fixture  # noqa: E402
from tests.clickhouse import parity  # noqa: E402

DEMO_NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@dataclass
class Pair:
    """One warehouse on both engines."""

    name: str
    duck: duckdb.DuckDBPyConnection
    client: Any
    copied: dict[str, int]
    home: Path


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's one chdb data path (a ``chdb://`` warehouse URL names it too)."""
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="session")
def chdb_client(chdb_path: Path) -> Callable[[str], Any]:
    """A client on the session's one chdb path, its database created and current."""
    path = chdb_path

    def connect(database: str) -> Any:
        admin = clickhouse_connect.get_client(dsn=f"chdb://{path}")
        admin.command(f"CREATE DATABASE IF NOT EXISTS {database}")
        return clickhouse_connect.get_client(dsn=f"chdb://{path}", database=database)

    return connect


def _pair(name: str, home: Path, connect: Callable[[str], Any]) -> Pair:
    """The home's warehouse copied, and the copy held open read-only for the session: the home
    stays free for commands and pages that write (tests/clickhouse/test_backend.py)."""
    reference = home.parent / f"{name}-reference.duckdb"
    shutil.copyfile(home / "warehouse.duckdb", reference)
    duck = duckdb.connect(str(reference), read_only=True)
    client = connect(name)
    copied = parity.copy_tables(duck, client)
    apply.apply(client, name)
    return Pair(name, duck, client, copied, home)


@pytest.fixture(scope="session")
def warehouses(
    tmp_path_factory: pytest.TempPathFactory, chdb_client: Callable[[str], Any]
) -> Iterator[dict[str, Pair]]:
    root = tmp_path_factory.mktemp("parity")
    fixture_home = warehouse_fixture.build(root / "fixture")
    demo = demo_build.build(root / "demo", requests=3000, seed=11, now=DEMO_NOW)
    pairs = {
        "fixture": _pair("fixture", fixture_home, chdb_client),
        "demo": _pair("demo", Path(demo.home), chdb_client),
    }
    yield pairs
    for p in pairs.values():
        p.duck.close()
