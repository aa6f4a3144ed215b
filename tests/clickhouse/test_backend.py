"""``warehouse.backend = "clickhouse"``: the dashboard fixture home and the demo built through the
real pipeline on ClickHouse (chdb) give the numbers their DuckDB twins give: every view and mart,
the CLI's JSON, the dashboard's pages. Both twins are built from the same logs, prices and clock
(the DuckDB ones are the parity suite's, ``conftest.warehouses``)."""

from __future__ import annotations

import json
import numbers
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from app.cli import main as cli_main
from app.demo import build as demo_build
from collectors import config
from collectors.warehouse import Warehouse
from collectors.warehouse.clickhouse import apply
from collectors.warehouse.migrate import VIEW_LAYERS, sql_files
from tests.app import warehouse_fixture
from tests.app.test_pages import PAGES, open_app
from tests.clickhouse import parity
from tests.clickhouse.conftest import DEMO_NOW

pytestmark = pytest.mark.slow  # builds two homes on ClickHouse through the pipeline (~40 s)

SESSION_START = pd.Timestamp(datetime.now(UTC).replace(tzinfo=None)) - pd.Timedelta(hours=1)
RELATIONS = [f for f in sql_files() if f.layer in VIEW_LAYERS]
# Columns that hold when or where a twin was built, not what its logs say: the wall clock of a
# load or a price fetch, and the home's own paths.
BUILD_COLUMNS = re.compile(
    r"^(ingested_at|matched_at|refresh_id|last_refresh_id|first_at|last_at|last_success_at|last_attempt_at|built_at|imported_at|applied_at|started_at_load|loaded_at|quarantined_at|first_observed_at|last_observed_at"
    r"|fetched_at|refreshed_at|observed_at|last_refresh_at|last_ok_at|last_loaded_at"
    r"|first_loaded_at|ended_at|duration_s|seconds|load_id|load_ids|run_id|file|source_file"
    r"|origin|detail)$"
)


@dataclass
class Twin:
    name: str
    home: Path
    client: Any
    duck_home: Path

    @contextmanager
    def duck(self) -> Iterator[Any]:
        """The DuckDB twin, read-only, for one comparison (a command or page may write it)."""
        con = duckdb.connect(str(self.duck_home / "warehouse.duckdb"), read_only=True)
        try:
            yield con
        finally:
            con.close()


def _warehouse(chdb_path: Path, database: str) -> str:
    return f'backend = "clickhouse"\nurl = "chdb://{chdb_path}?database={database}"'


@pytest.fixture(scope="session")
def twins(
    tmp_path_factory: pytest.TempPathFactory, chdb_path: Path, chdb_client: Any, warehouses: Any
) -> Iterator[dict[str, Twin]]:
    """Each home built twice, from the same logs, prices and clock: on DuckDB (the parity
    suite's homes, ``conftest.warehouses``) and on ClickHouse (a database of the session's chdb
    path)."""
    duck_fixture, duck_demo = warehouses["fixture"].home, warehouses["demo"].home
    root = tmp_path_factory.mktemp("native")
    fixture = warehouse_fixture.build(
        root / "fixture", warehouse=_warehouse(chdb_path, "native_fixture")
    )
    demo = demo_build.build(
        root / "demo",
        requests=3000,
        seed=11,
        now=DEMO_NOW,
        warehouse=_warehouse(chdb_path, "native_demo"),
    )
    yield {
        "fixture": Twin("fixture", fixture, chdb_client("native_fixture"), duck_fixture),
        "demo": Twin("demo", Path(demo.home), chdb_client("native_demo"), duck_demo),
    }


def test_the_configured_warehouse_is_clickhouse_and_holds_no_duckdb_file(
    twins: dict[str, Twin],
) -> None:
    for twin in twins.values():
        wh = Warehouse.from_config(config.load(twin.home))
        assert wh.backend == "clickhouse"
        assert wh.exists()
        assert not (twin.home / "warehouse.duckdb").exists()


# Relations keyed by a load id or a path (random per build): compared as multisets of the
# columns that are not about the build.
KEYED_BY_BUILD = {"file_loads", "quarantined_rows"}


def _without_build(f: Any, twin: Twin) -> list[str]:
    with twin.duck() as con:
        d = con.execute(parity.relation_sql(f, "duckdb"))
        d_cols, d_rows = [c[0] for c in d.description], d.fetchall()
    c = twin.client.query(parity.relation_sql(f, "clickhouse"), settings=apply.SETTINGS)
    keep = [
        n for n in d_cols if not BUILD_COLUMNS.match(n) and n != "started_at"
    ]  # the load's clock

    def bag(cols: list[str], data: list[Any]) -> list[str]:
        return sorted(
            repr([parity.normal(dict(zip(cols, r, strict=True))[k]) for k in keep]) for r in data
        )

    left, right = bag(d_cols, d_rows), bag(list(c.column_names), c.result_rows)
    return [] if left == right else [f"rows differ: duckdb {left[:3]} != clickhouse {right[:3]}"]


def _differences(f: Any, twin: Twin) -> list[str]:
    if f.name in KEYED_BY_BUILD:
        return _without_build(f, twin)
    with twin.duck() as con:
        diff = parity.differences(f, con, twin.client, limit=50)
    return [d for d in diff if not _build_column(d)]


def _build_column(line: str) -> bool:
    m = re.match(r"^\[.*\]\.(\w+): ", line)
    return bool(m and BUILD_COLUMNS.match(m.group(1)))


@pytest.mark.parametrize(
    ("f", "name"),
    [
        pytest.param(f, n, id=f"{n}-{f.layer}/{f.name}")
        for n in ("fixture", "demo")
        for f in RELATIONS
    ],
)
def test_every_relation_built_on_clickhouse_equals_duckdb(
    f: Any, name: str, twins: dict[str, Twin]
) -> None:
    diff = _differences(f, twins[name])
    assert diff == [], f"sql/{f.layer}/{f.name}.sql, {name} built on ClickHouse:\n" + "\n".join(
        diff[:10]
    )


# -- the CLI's figures ---------------------------------------------------------------------------

# keys that name the home's own files or the wall clock of a build
OWN_KEYS = {"folder", "files", "first_observed_at", "last_observed_at", "observed_at", "home",
            "manifest"}  # fmt: skip


def _cli(home: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli_main, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _json_differences(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in OWN_KEYS:
                out += _json_differences(a.get(k), b.get(k), f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _json_differences(x, y, f"{where}[{i}]")]  # fmt: skip
    if isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-9 * max(1.0, abs(a)):
        return []
    return [] if a == b else [f"{where}: duckdb {a!r} != clickhouse {b!r}"]


COMMANDS = {
    "stats": ("stats",),
    "tune": ("tune",),
    "report": ("report", "weekly", "--week", "2026-W46"),
    "prices-show": ("prices", "show", "gpt-4o-mini"),
    "prices-unmatched": ("prices", "unmatched"),
    "bills-drift": ("bills", "drift"),
    "manifest-verify": ("manifest", "verify"),
}


# the fixture home (no routing manifest, no bills): the commands its unpriced models change
ON_THE_FIXTURE = {"stats", "prices-unmatched", "report"}


@pytest.mark.parametrize(
    ("command", "name"),
    [(c, n) for c in COMMANDS for n in ("fixture", "demo") if n == "demo" or c in ON_THE_FIXTURE],
)
def test_every_command_prints_the_same_figures_on_both_backends(
    command: str, name: str, twins: dict[str, Twin], tmp_path: Path
) -> None:
    twin, duck_home = twins[name], twins[name].duck_home
    args = COMMANDS[command]
    if command == "report":  # saved out of both homes, so the paths are not the difference
        a = _cli(duck_home, *args, "--out", str(tmp_path / "duckdb"))
        b = _cli(twin.home, *args, "--out", str(tmp_path / "clickhouse"))
    else:
        a, b = _cli(duck_home, *args), _cli(twin.home, *args)
    assert _json_differences(a, b) == []
    assert a, "the command printed nothing to compare"


# -- the dashboard -------------------------------------------------------------------------------


def _shown(at: Any) -> dict[str, Any]:
    """What a page shows a person: its metrics, captions and tables' cells (floats to 1e-9
    relative; wall-clock columns of the builds left out)."""
    return {
        "metrics": [(m.label, _ago(m.value), _ago(m.delta)) for m in at.metric],
        "captions": [c.value for c in at.caption],
        "tables": [_cells(df.value) for df in at.dataframe],
        "notes": [e.value for e in (*at.error, *at.warning, *at.info)],
    }


def _ago(text: Any) -> Any:
    """How long ago the build loaded ("3 min ago") is the wall clock, not the data."""
    return _AGO.sub("<ago>", text) if isinstance(text, str) else text


_AGO = re.compile(r"\b(just now|\d+(\.\d+)? ?(s|sec|min|h|d) ago)\b")


def _cells(df: Any) -> list[list[Any]]:
    cols = [c for c in df.columns if not BUILD_COLUMNS.match(str(c))]
    out = []
    for row in df[cols].itertuples(index=False):
        out.append([_cell(v) for v in row])
    return [list(map(str, cols)), *sorted(out, key=repr)]  # ties are in no set order


def _first_difference(a: list[Any], b: list[Any]) -> str | None:
    if len(a) != len(b):
        return f"{len(a)} tables != {len(b)}"
    for i, (ta, tb) in enumerate(zip(a, b, strict=True)):
        if len(ta) != len(tb):
            return f"table {i} ({ta[0]}): {len(ta)} rows != {len(tb)}"
        for ra, rb in zip(ta, tb, strict=True):
            if ra != rb:
                cols = ta[0]
                return f"table {i}: " + "; ".join(
                    f"{c}: {x!r} != {y!r}" for c, x, y in zip(cols, ra, rb, strict=False) if x != y
                )
    return None


def _cell(v: Any) -> Any:
    """A number as a float to 9 digits (DuckDB's HUGEINT sums reach pandas as floats,
    ClickHouse's as ints: shown alike), a missing value as null, a time stamped by the build
    (the wall clock of this session, after every time in the logs) as such, anything else as
    its text."""
    try:
        if pd.isna(v):
            return "null"
    except (TypeError, ValueError):  # a list or an array
        pass
    stamp = pd.to_datetime(str(v), errors="coerce") if isinstance(v, str | datetime) else None
    if stamp is not None and not pd.isna(stamp) and stamp.tz is None and stamp >= SESSION_START:
        return "<built at>"
    if isinstance(v, numbers.Number) and not isinstance(v, bool):
        return "nan" if v != v else float(f"{float(v):.9g}")
    return str(v)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_the_same_on_both_backends(
    page: str,
    twins: dict[str, Twin],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    duck = open_app(twins["demo"].duck_home, monkeypatch, page)
    ch = open_app(twins["demo"].home, monkeypatch, page)
    assert not duck.exception and not ch.exception, [*duck.exception, *ch.exception]
    a, b = _shown(duck), _shown(ch)
    assert any(a.values()), f"{page} showed nothing to compare"
    assert a["notes"] == b["notes"]  # errors, warnings and notes too (e.g. approving disabled)
    assert a["metrics"] == b["metrics"]
    assert _first_difference(a["tables"], b["tables"]) is None
    home_a, home_b = str(twins["demo"].duck_home), str(twins["demo"].home)
    assert [c.replace(home_a, "HOME") for c in a["captions"]] == [
        c.replace(home_b, "HOME") for c in b["captions"]
    ]
