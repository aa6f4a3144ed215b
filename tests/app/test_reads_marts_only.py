"""The app reads marts only: every relation an SQL string in app/queries.py reads is a view of
``sql/marts/`` (or a CTE, or a table macro the module defines over the marts), and no page
imports duckdb or the warehouse package (pages call app.queries through app.ui.query).

sqlglot is not a dependency, so the SQL is read by a small tokenizer: string literals and
comments are dropped, and the relation after every FROM and JOIN (each item of a comma-separated
FROM list, tables and table functions alike) is collected. FROM inside ``IS [NOT] DISTINCT FROM``,
``EXTRACT(... FROM ...)`` and the like is not a relation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "app" / "queries.py"
VIEWS = ROOT / "app" / "views"
MARTS = {p.stem for p in (ROOT / "sql" / "marts").glob("*.sql")}
# DuckDB's catalog functions: they read which relations exist, not data
CATALOG_FUNCTIONS = {"duckdb_tables", "duckdb_views"}

_TOKEN = re.compile(
    r"""(?P<skip>\s+|--[^\n]*|/\*.*?\*/|'(?:[^']|'')*')
      | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
      | (?P<quoted>"(?:[^"]|"")*")
      | (?P<other>::|.)""",
    re.VERBOSE | re.DOTALL,
)
# words that may follow a relation and are not its alias
_CLAUSE_END = set(
    "where group order having qualify window limit offset on using join inner left right full "
    "cross natural semi anti asof positional union except intersect select pivot unpivot sample "
    "tablesample lateral".split()
)
_FROM_IS_NOT_A_CLAUSE_IN = {"extract", "trim", "substring", "overlay", "position", "date_part"}
_MACRO = re.compile(r"\bMACRO\s+(\w+)\s*\(", re.IGNORECASE)
_CTE = re.compile(
    r"(?:\bWITH(?:\s+RECURSIVE)?|,)\s*(\w+)\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(", re.IGNORECASE
)


def _tokens(sql: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(sql):
        if m.lastgroup == "word":
            out.append(m.group().lower())
        elif m.lastgroup == "quoted":
            out.append(m.group()[1:-1].replace('""', '"').lower())
        elif m.lastgroup == "other":
            out.append(m.group())
    return out


def _skip_parens(toks: list[str], i: int) -> int:
    """The index after the parenthesis closing the one at ``toks[i]``."""
    depth = 0
    for j in range(i, len(toks)):
        depth += {"(": 1, ")": -1}.get(toks[j], 0)
        if depth == 0:
            return j + 1
    return len(toks)


def _relation(toks: list[str], i: int, found: set[str]) -> int:
    """Collect the relation starting at ``toks[i]``; the index after it (and its alias)."""
    if i >= len(toks):
        return i
    if toks[i] == "(":  # a subquery (read by the main scan) or a parenthesised join
        if i + 1 < len(toks) and toks[i + 1] not in ("select", "with", "from", "values"):
            _relation(toks, i + 1, found)
        return _skip_parens(toks, i)
    if toks[i] in ("lateral", "only"):
        return _relation(toks, i + 1, found)
    name = toks[i]
    i += 1
    while i + 1 < len(toks) and toks[i] == ".":  # schema.table: the last part names it
        name = toks[i + 1]
        i += 2
    found.add(name)
    if i < len(toks) and toks[i] == "(":  # a table function or macro: its arguments are scanned
        i = _skip_parens(toks, i)
    if i < len(toks) and toks[i] == "as":
        i += 1
    if i < len(toks) and re.fullmatch(r"[a-z_]\w*", toks[i]) and toks[i] not in _CLAUSE_END:
        i += 1  # an alias
    return i


def relations(sql: str) -> set[str]:
    """Every relation ``sql`` reads (after FROM or JOIN), lower case, CTEs included."""
    toks = _tokens(sql)
    found: set[str] = set()
    opened: list[str] = []  # the word before each open parenthesis (a function's name)
    for i, tok in enumerate(toks):
        if tok == "(":
            opened.append(toks[i - 1] if i else "")
        elif tok == ")" and opened:
            opened.pop()
        elif tok == "join":
            _relation(toks, i + 1, found)
        elif tok == "from":
            if i and toks[i - 1] == "distinct":  # IS [NOT] DISTINCT FROM
                continue
            if opened and opened[-1] in _FROM_IS_NOT_A_CLAUSE_IN:
                continue
            j = _relation(toks, i + 1, found)
            while j < len(toks) and toks[j] == ",":  # FROM a, b: every item is a relation
                j = _relation(toks, j + 1, found)
    return found


def ctes(sql: str) -> set[str]:
    """The names of the common table expressions ``sql`` defines."""
    return {n.lower() for n in _CTE.findall(sql)}


def macros(sql: str) -> set[str]:
    """The table macros ``sql`` creates (``CREATE ... MACRO name(...) AS TABLE ...``)."""
    return {n.lower() for n in _MACRO.findall(sql)}


def _constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        out[t.id] = node.value.value
    return out


def sql_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string in the module that holds SQL, f-strings rendered with the
    module's string constants; docstrings are not SQL."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _constants(tree)
    docstrings, parts = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            if node.body and isinstance(node.body[0], ast.Expr):
                docstrings.add(id(node.body[0].value))
        if isinstance(node, ast.JoinedStr):
            parts |= {id(v) for v in node.values}
    out = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in parts:
            continue
        unknown: list[str] = []  # what an f-string interpolates that is not a module constant
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            pieces = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    pieces.append(str(v.value))
                elif (
                    isinstance(v, ast.FormattedValue)
                    and isinstance(v.value, ast.Name)
                    and v.value.id in constants
                ):
                    pieces.append(constants[v.value.id])
                else:
                    unknown.append(ast.unparse(v))
                    pieces.append("?")
            text = "".join(pieces)
        else:
            continue
        if re.search(r"\b(select|from|join)\b", text, re.IGNORECASE):
            assert not unknown, (
                f"{path.name}:{node.lineno}: SQL f-string interpolates {unknown}, not a string "
                "constant of the module: this test cannot read it (bind values with ?)"
            )
            out.append((node.lineno, text))
    return out


def test_the_reader_finds_every_relation_and_nothing_else() -> None:
    sql = """
    WITH a AS (SELECT * FROM t1), b AS (SELECT x FROM a JOIN t2 USING (k))
    SELECT extract(year FROM d) AS y, trim(BOTH ' ' FROM s), 'FROM t9' AS s -- FROM t8
    FROM b, "T3" q, f(1, (SELECT 1 FROM t4)) AS r
    LEFT JOIN (SELECT 1 FROM t5) s ON true
    SEMI JOIN main.t6 u ON u.k IS NOT DISTINCT FROM b.k
    WHERE EXISTS (SELECT 1 FROM t7 v, t10)
    """
    assert relations(sql) == {"t1", "a", "t2", "b", "t3", "f", "t4", "t5", "t6", "t7", "t10"}
    assert ctes(sql) == {"a", "b"} and macros(sql) == set()
    macro = "CREATE OR REPLACE TEMP MACRO m(x) AS TABLE SELECT * FROM spend_per_day"
    assert macros(macro) == {"m"} and relations(macro) == {"spend_per_day"}


def test_every_sql_string_of_the_app_reads_marts_only() -> None:
    strings = sql_strings(QUERIES)
    assert len(strings) > 30, "the SQL strings of app/queries.py were not found"
    # the filter macros (rl_f_*) are defined once for the module; their bodies are checked too
    allowed = MARTS | CATALOG_FUNCTIONS | set().union(*(macros(sql) for _, sql in strings))
    read, offending = set(), []
    for line, sql in strings:
        for rel in sorted(relations(sql) - ctes(sql)):
            read.add(rel)
            if rel not in allowed:
                offending.append(f"app/queries.py:{line}: reads {rel}")
    assert not offending, "the app reads marts only (sql/marts/): " + "; ".join(offending)
    assert {"spend_per_day", "attempts", "logical_requests", "model_prices"} <= read


def test_no_page_imports_duckdb_or_the_warehouse() -> None:
    def forbidden(module: str) -> bool:
        return module.split(".")[0] == "duckdb" or (module + ".").startswith(
            "collectors.warehouse."
        )

    found = []
    for path in sorted([*VIEWS.glob("*.py"), ROOT / "app" / "dashboard.py"]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if forbidden(n)]
    assert found == [], f"pages call app.queries through app.ui.query: {found}"
