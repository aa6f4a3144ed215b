"""The package structure as a contract: layers and one-way arrows (import-linter, configured in
pyproject.toml), no import circle at all, no private name reached across modules, and a map of
where things live (docs/architecture.md) that names every module."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "collectors", "sql")


def _modules() -> dict[str, Path]:
    """Every module of ours: dotted name -> file."""
    out: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def test_the_import_contracts_are_kept_with_no_exceptions() -> None:
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = doc["tool"]["importlinter"]["contracts"]
    assert {c["type"] for c in contracts} >= {"forbidden", "acyclic_siblings"}
    for c in contracts:  # an exception would be an ignore_imports entry: there are none
        assert not c.get("ignore_imports"), f"{c['name']}: {c['ignore_imports']}"
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("lint-imports")),
            "--no-cache",
            "--no-logo",
            str(ROOT / "pyproject.toml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in run.stdout


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), a package's
    ``__init__`` counting as a module of its own."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


def test_no_module_takes_part_in_an_import_circle() -> None:
    graph = grimp.build_graph(*PACKAGES)
    assert _cycles(graph, set(graph.modules)) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p")  # a child importing its package's __init__
    graph.add_import(importer="p", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph, set(graph.modules)) == [["p", "p.a", "p.b"]]


def test_no_private_name_is_imported_from_another_module() -> None:
    ours = _modules()
    found = []
    for name, path in ours.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] not in PACKAGES:
                    continue
                found += [
                    f"{name}: from {node.module} import {a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert found == []


def _documented() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`([a-z_][a-z0-9_./]*)`", table, flags=re.MULTILINE))


def test_every_module_is_in_the_map_of_where_things_live() -> None:
    """docs/architecture.md opens with a table, one line a module (``app/cli/ingest.py``) or a
    folder of SQL (``sql/marts/``); this fails when a module is added, moved or removed
    without the map following."""
    listed = _documented()
    paths = _modules().values()
    files = {str(p.relative_to(ROOT)) for p in paths if p.name != "__init__.py"}
    packages = {f"{p.relative_to(ROOT).parent}/" for p in paths if p.name == "__init__.py"}
    missing = sorted((files | packages) - listed)
    stale = sorted(x for x in listed if not (ROOT / x).exists())
    assert missing == [] and stale == [], f"not in the map: {missing}; in the map but gone: {stale}"


@pytest.mark.parametrize(
    "layer",
    ["raw", "ledger", "derived", "config", "state", "macros", "staging", "intermediate", "marts"],
)
def test_every_sql_folder_is_in_the_map(layer: str) -> None:
    assert f"sql/{layer}/" in _documented()


def test_mypy_covers_collectors_and_the_tuner() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if "/mypy " in x)
    assert "collectors" in line.split() and "app/tuner" in line.split()
    assert tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
