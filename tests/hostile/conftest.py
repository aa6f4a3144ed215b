"""Homes and the ``routeledger`` command for the hostile-input tests.

The tests drive RouteLedger from outside, as a user or a script does: ``routeledger --home DIR
COMMAND ... --json`` in a subprocess (a hostile input that crashed the interpreter would fail
one test, not the run), then read the warehouse's tables read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.hostile.payloads import CORPUS, MAX_LINE_BYTES

ROOT = Path(__file__).resolve().parents[2]
HOME_TOML = f"""[ingest]
max_line_bytes = {MAX_LINE_BYTES}

[warehouse]
lock_timeout_seconds = 60

[prices]
auto_catalog = false
"""


def make_home(path: Path, extra_toml: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "routeledger.toml").write_text(HOME_TOML + extra_toml, encoding="utf-8")
    return path


def run(
    home: Path, *args: str, timeout: float = 300, columns: int = 400
) -> subprocess.CompletedProcess[str]:
    """``routeledger --home HOME ARGS`` in its own process (a wide terminal, so tables do not
    cut the strings the tests look for)."""
    cmd = [sys.executable, "-m", "app.cli", "--home", str(home), *args]
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    env.pop("ROUTELEDGER_HOME", None)
    return subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        encoding="utf-8",
        errors="backslashreplace",
        env=env,
    )


def run_json(home: Path, *args: str, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """``run`` with ``--json``: exactly one JSON object on stdout, no traceback on stderr."""
    p = run(home, *args, "--json")
    assert p.returncode in ok, f"exit {p.returncode}: {p.stderr[-2000:]}"
    assert "Traceback" not in p.stderr, p.stderr[-2000:]
    doc = json.loads(p.stdout)
    assert isinstance(doc, dict)
    return doc


@contextmanager
def warehouse(home: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        yield con
    finally:
        con.close()


def copy_corpus(rel: str, dest: Path) -> Path:
    """A copy of corpus file ``rel`` in ``dest`` (tests may grow it; the corpus stays as is)."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / Path(rel).name
    shutil.copyfile(CORPUS / rel, target)
    return target


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return make_home(tmp_path / "home")


@pytest.fixture
def new_home(tmp_path: Path) -> Callable[..., Path]:
    count = iter(range(1000))

    def make(extra_toml: str = "") -> Path:
        return make_home(tmp_path / f"home{next(count)}", extra_toml)

    return make
