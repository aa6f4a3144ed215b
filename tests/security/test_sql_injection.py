"""SQL injection: every value from a user reaches SQL as a bound parameter or an escaped literal,
never as SQL text.

Values from users: names in the logs (team, provider, model, task), dashboard filters and search
boxes (app/queries.py), CLI arguments, configuration values (task rules, aliases, budgets), a
mapping file, the home directory's path. Each test plants strings built to break out of a
quoted literal and checks two things: the warehouse still holds every table and row, and the
string came back as data (stored verbatim, or matched exactly as a filter value).

The last test is a review gate on the source: SQL assembled with f-strings, ``.format`` or
``+`` may interpolate only the expressions listed in :data:`REVIEWED`, each checked to be a
constant of its module or a validated identifier (the audit is written up in
docs/security.md). A new interpolation fails until someone has checked it and added it there.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from app import queries
from app.cli import main
from app.queries import Filters
from collectors import config as config_mod
from tests.logs.helpers import rl_row

DROP = "x'); DROP TABLE raw_attempts; --"
OR_TRUE = "' OR '1'='1"
QUOTED_DROP = 'gpt-4o"; DROP TABLE attempts; --'
UNION = "t' UNION SELECT table_name FROM information_schema.tables --"
LIKE = "%_\\'"
HOSTILE = (DROP, OR_TRUE, QUOTED_DROP, UNION, LIKE)
SINCE, UNTIL = date(2026, 10, 1), date(2026, 10, 31)
TABLES = ("raw_attempts", "raw_quarantine", "loads", "attempts", "logical_requests",
          "spend_per_day", "price_versions", "file_cursors")  # fmt: skip


def run_cli(home: Path, *args: str) -> Any:
    res = CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)
    return res


def rows() -> list[dict[str, Any]]:
    """Two requests of a normal team, three whose names are hostile."""
    out = [rl_row(i, team="core", task="chat", started_at=f"2026-10-0{i + 1}T10:00:00Z",
                  ended_at=f"2026-10-0{i + 1}T10:00:01Z") for i in range(2)]  # fmt: skip
    out += [
        rl_row(10, team=DROP, task=UNION, provider=OR_TRUE, model=QUOTED_DROP,
               started_at="2026-10-06T10:00:00Z", ended_at="2026-10-06T10:00:02Z"),
        rl_row(11, team=DROP, task=UNION, user=OR_TRUE, key_alias=DROP, route=LIKE,
               started_at="2026-10-07T10:00:00Z", ended_at="2026-10-07T10:00:02Z"),
        rl_row(12, team="labelled-by-rule", model="rule-model",
               started_at="2026-10-08T10:00:00Z", ended_at="2026-10-08T10:00:02Z"),
    ]  # fmt: skip
    return out


def toml() -> str:
    return (
        "[prices]\nauto_catalog = true\n\n"
        f"[prices.aliases]\n{json.dumps(DROP)} = {json.dumps(OR_TRUE)}\n\n"
        f"[budget.teams]\n{json.dumps(DROP)} = 0.000001\n\n"
        '[[tasks.rules]]\nfield = "team"\n'
        f'pattern = "labelled-by-rule"\ntask = {json.dumps(DROP)}\n\n'
        f'[[tasks.rules]]\nfield = "model"\npattern = {json.dumps(OR_TRUE + "*")}\n'
        'task = "never"\n'
    )


def counts(con: Any) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}


def counts_at(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return counts(con)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a home whose path needs escaping too (the ingest ATTACHes the warehouse by path)
    h = tmp_path_factory.mktemp("sqli") / "it's; DROP TABLE loads; --"
    h.mkdir()
    (h / "routeledger.toml").write_text(toml(), encoding="utf-8")
    log = h.parent / "hostile.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in rows()), encoding="utf-8")
    res = run_cli(h, "ingest", str(log), "--format", "routeledger", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["attempts_loaded"] == 5
    return h


@pytest.fixture(scope="module")
def before(home: Path) -> dict[str, int]:
    return counts_at(home / "warehouse.duckdb")


@pytest.fixture
def con(home: Path) -> Any:
    """A read-write connection, so an injected DROP would have run."""
    c = duckdb.connect(str(home / "warehouse.duckdb"))
    yield c
    c.close()


def test_hostile_names_from_logs_and_config_are_stored_verbatim(
    home: Path, before: dict[str, int]
) -> None:
    assert before["raw_attempts"] == 5 and before["price_versions"] > 0
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as c:
        got = c.execute(
            "SELECT attempt_id, team, task, provider, served_model, user_id, key_alias, route "
            "FROM attempts ORDER BY attempt_id"
        ).fetchall()
    by_id = {r[0]: r[1:] for r in got}
    # providers are lower-cased on the way in, like every provider name
    assert by_id["rl:a10"] == (DROP, UNION, OR_TRUE.lower(), QUOTED_DROP, None, None, None)
    assert by_id["rl:a11"][:2] == (DROP, UNION) and by_id["rl:a11"][4:] == (OR_TRUE, DROP, LIKE)
    assert by_id["rl:a12"][1] == DROP  # the task rule's task, from routeledger.toml


def _call(fn: Callable[..., Any], con: Any, f: Filters) -> Any:
    args: dict[str, Any] = {}
    for name, p in list(inspect.signature(fn).parameters.items())[1:]:
        if name == "f":
            args[name] = f
        elif name in ("week", "prev_week", "month", "prev_month"):
            args[name] = SINCE
        elif name == "by":
            args[name] = "model" if fn in (queries.latency_over_time, queries.tokens_by) else "team"
        elif name == "n" and fn.__name__.startswith("explorer_"):  # its narrowing, hostile
            args[name] = queries.Narrowing(error_class=DROP, key_alias=OR_TRUE, user=UNION)
        elif name == "tz":
            args[name] = "UTC"
        elif name == "caps":
            args[name] = ((DROP, 10), (OR_TRUE, 5))
        elif name == "models":
            args[name] = list(HOSTILE)
        elif name == "search":
            args[name] = DROP
        elif name == "upto_ms":
            args[name] = 1000.0
        elif p.default is inspect.Parameter.empty:
            raise AssertionError(f"{fn.__name__}: no test value for {name}")
    return fn(con, **args)


FILTERED = [
    fn
    for _, fn in inspect.getmembers(queries, inspect.isfunction)
    if fn.__module__ == queries.__name__
    and not fn.__name__.startswith("_")
    and "f" in inspect.signature(fn).parameters
    and next(iter(inspect.signature(fn).parameters)) == "con"  # a query, not a link builder
]


def test_every_filtered_dashboard_query_is_covered() -> None:
    names = {fn.__name__ for fn in FILTERED}
    assert {"spend_over_time", "task_cost", "latency_box", "current_prices"} <= names
    assert len(names) >= 18


@pytest.mark.parametrize("fn", FILTERED, ids=lambda fn: fn.__name__)
def test_a_dashboard_query_takes_hostile_filters_as_data(
    fn: Callable[..., Any], con: Any, home: Path, before: dict[str, int]
) -> None:
    hostile = Filters(SINCE, UNTIL, providers=HOSTILE, models=HOSTILE, tasks=HOSTILE, teams=HOSTILE)
    _call(fn, con, hostile)
    _call(fn, con, Filters(SINCE, UNTIL, teams=(OR_TRUE,)))
    assert counts(con) == before


def test_a_filter_value_matches_exactly_that_value(con: Any) -> None:
    only = queries.task_cost(con, Filters(SINCE, UNTIL, teams=(DROP,)))
    assert list(only["task"]) == [UNION] and list(only["logical_requests"]) == [2]
    by_rule = queries.task_cost(con, Filters(SINCE, UNTIL, tasks=(DROP,)))  # rl:a12, by its rule
    assert list(by_rule["logical_requests"]) == [1]
    assert queries.task_cost(con, Filters(SINCE, UNTIL, teams=(OR_TRUE,))).empty
    provider = Filters(SINCE, UNTIL, providers=(OR_TRUE.lower(),))
    assert queries.spend_by_day(con, provider).shape[0] == 1  # the one day it ran
    assert queries.spend_by_day(con, Filters(SINCE, UNTIL, providers=(OR_TRUE,))).empty
    grouped = queries.spend_over_time(con, Filters(SINCE, UNTIL), "team")
    assert DROP in set(grouped["grp"])


def test_price_search_is_a_literal_substring(con: Any) -> None:
    f = Filters(SINCE, UNTIL)
    everything = queries.current_prices(con, f, "", used_only=False)
    assert len(everything) > 10
    assert len(queries.current_prices(con, f, "gpt-4o", used_only=False)) > 0
    ids = [str(m).lower() for m in everything["model_id"]]
    for term in (*HOSTILE, "%", "_", "\\", "-4o"):
        got = queries.current_prices(con, f, term, used_only=False)
        # a literal, case-insensitive substring: % and _ are not wildcards, quotes are text
        assert len(got) == sum(term.lower() in m for m in ids), term
        assert all(term.lower() in str(m).lower() for m in got["model_id"]), term
        queries.price_changes(con, f, term, used_only=False)
    assert queries.price_history(con, DROP, OR_TRUE).empty


def test_a_grouping_or_measure_outside_the_list_is_refused(con: Any) -> None:
    f = Filters(SINCE, UNTIL)
    with pytest.raises(ValueError, match="grouping"):
        queries.spend_over_time(con, f, "team; DROP TABLE attempts")
    with pytest.raises(ValueError, match="grouping"):
        queries.latency_over_time(con, f, "model) --")
    with pytest.raises(KeyError):
        queries.latency_over_time(con, f, "model", measure="p95; DROP TABLE attempts")


def test_cli_arguments_are_data(home: Path, before: dict[str, int], tmp_path: Path) -> None:
    res = run_cli(home, "prices", "show", DROP, "--json")
    assert res.exit_code in (0, 2) and "Traceback" not in res.output
    res = run_cli(home, "prices", "confirm", OR_TRUE, "--json")
    assert res.exit_code in (0, 2) and "Traceback" not in res.output
    for bad in (["stats", "--since", f"2026-10-01{DROP}"], ["report", "weekly", "--week", DROP]):
        res = run_cli(home, *bad)
        assert res.exit_code == 2, res.output  # validated before it reaches anything
    scores = tmp_path / "evals.csv"
    scores.write_text(f'task,model,score\n"{UNION}","{DROP}",0.5\n', encoding="utf-8")
    res = run_cli(home, "evals", "import", str(scores), "--json")
    assert res.exit_code == 0, res.output
    res = run_cli(home, "stats", "--since", "2026-10-01", "--until", "2026-10-31", "--json")
    assert res.exit_code == 0, res.output
    assert {DROP, UNION} <= {t["task"] for t in json.loads(res.output)["tasks"]}
    assert counts_at(home / "warehouse.duckdb") == before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as c:
        assert c.execute("SELECT task, model FROM eval_scores").fetchall() == [(UNION, DROP)]


def test_a_budget_named_by_a_hostile_team_is_data(home: Path, before: dict[str, int]) -> None:
    from app.reports import alerts

    cfg = config_mod.load(home)
    res = alerts.check(cfg, datetime(2026, 10, 20, 12, tzinfo=UTC))  # the month of the data
    assert res["budgets"] >= 1
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as c:
        scopes = c.execute("SELECT scope, scope_value FROM budget_alerts").fetchall()
    assert scopes and all(v == DROP for _, v in scopes)
    assert counts_at(home / "warehouse.duckdb") == before


def test_a_mapping_files_keys_and_constants_are_escaped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
    key = "model'); DROP TABLE raw_attempts; --"
    mapping = tmp_path / "hostile.yaml"
    mapping.write_text(
        "name: hostile\nfields:\n"
        f"  attempt_key: id\n  started_at: start\n  ended_at: end\n  status: status\n"
        f"  served_model: {json.dumps(key)}\n"
        f"  team: {{const: {json.dumps(DROP)}}}\n"
        f"  task: [meta, {json.dumps(OR_TRUE)}]\n",
        encoding="utf-8",
    )
    log = tmp_path / "gw.jsonl"
    doc = {"id": "m1", "start": "2026-10-06T10:00:00Z", "end": "2026-10-06T10:00:01Z",
           "status": "200", key: QUOTED_DROP, "meta": {OR_TRUE: UNION}}  # fmt: skip
    log.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    res = run_cli(home, "ingest", str(log), "--format", "mapped", "--mapping", str(mapping),
                  "--json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["attempts_loaded"] == 1
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as c:
        got = c.execute("SELECT served_model, team, task FROM raw_attempts").fetchall()
    assert got == [(QUOTED_DROP, DROP, UNION)]


# -- the review gate ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
NOT_GATED: set[str] = set()  # every module is gated
# file -> expressions its SQL text may interpolate, each checked: a module constant, an
# identifier from a fixed list or from sql/ file names, an escaped literal, or an int()
REVIEWED: dict[str, set[str]] = {
    "app/queries.py": {
        "_GROUP_SPEND",
        "_GROUP_ATTEMPT",
        "_PRICE_SCOPE",
        "_TOKEN_SUMS",
        "_LOCAL_HOUR",
        "_RATES",
        "_REQUEST_COUNTS",
    },
    "app/reports/queries.py": {"keys", "', '.join(cols)", "_ERROR_RATES_SQL.format"},
    # constants; _unrescuable(alias) joins a constant class list with a constant table alias
    "app/tuner/queries.py": {
        "_GRID_SQL",
        "_PATTERN_COLUMNS",
        "_UNRESCUABLE_SQL",
        "_unrescuable('r.')",
    },
    # error messages that name the table and the variable, not SQL (the query quotes the table
    # with psycopg.sql.Identifier)
    "collectors/remote/postgres.py": {"name", "table"},
    # the ingest engine: the attach alias, "?" placeholder lists, int(), format SQL from the
    # format modules (a mapping's keys and constants go through sql_ident / sql_literal), the
    # candidate column constants, the log's path as an escaped literal (stream_read_sql)
    "collectors/ingest/batch.py": {"', '.join(names)", "int(memory_mb)", "int(threads)"},
    "collectors/ingest/candidates.py": {"cols", "fmt.select()"},
    "collectors/ingest/engine.py": {"marks", "wh"},
    "collectors/ingest/normalize.py": {
        "ERROR_CLASS_NAMES",
        "ERROR_WORDS",
        "MAX_LATENCY_MS",
        "MAX_TOKENS",
        "SECRET_PATTERN",
        "SUCCESS_WORDS",
        "_SUSPECT",  # SECRET_PATTERN over the constant REDACTED_COLUMNS
    },
    "collectors/ingest/read_csv.py": {"cols", "int(max_line_bytes)"},
    "collectors/ingest/read_jsonl.py": {
        "_read_json_sql(fmt, 'newline_delimited', max_bytes)",
        "_read_json_sql(fmt, kind, max(max_bytes, path.stat().st_size))",
        "body",
        "columns_literal(fmt.read_columns())",
        "fmt_kind",
        "int(first_line)",
        "int(max_bytes) + 16",
        "nonfinite_sql()",
        "source",
        "sql",
    },
    "collectors/ingest/stream.py": {"NONFINITE_COLUMN", "cols", "nonfinite_sql()", "read_json"},
    "collectors/logs/litellm.py": {
        "_USAGE_FIELDS",
        "_COUNTERS",
        "_ATTEMPT_INDEX",
        "expr",
        "_counter('metadata.attempted_retries')",
        "_counter('hp_counters[1]')",
        "_counter('metadata.attempted_fallbacks')",
        "_counter('hp_counters[2]')",
        "_task_from_tags('request_tags')",
        "_task_from_tags('tags')",
    },  # fmt: skip
    "collectors/logs/mapped.py": {"',\\n'.join(cols)"},
    "collectors/logs/routeledger.py": {"missing"},
    # the warehouse: the attach alias and mode, the file path escaped as a literal, the
    # attached schema's alias, names of sql/ files and their logic views, bound-day lists
    "collectors/warehouse/connect.py": {"alias", "mode", "target"},
    "collectors/warehouse/ledger.py": {"schema"},
    "collectors/warehouse/marts.py": {
        "LOGIC_SUFFIX",
        "UNDERIVED_LOADS_SQL",
        "_MATCH_KEY",
        "days",
        "f.name",
        "into",
        "logic",
        "name",
    },  # fmt: skip
    "collectors/warehouse/migrate.py": {
        "LOGIC_SUFFIX",
        "body",
        "f.name",
        "name",
        "params",
        "row[0][0]",
    },  # fmt: skip
    "collectors/warehouse/session.py": {
        "memory_limit",
        "DISABLED_OPTIMIZERS",
        "REBUILD_DISABLED_OPTIMIZERS",
    },  # a constant
    "collectors/warehouse/snapshot.py": {"STAMP_TABLE"},
    # file stems of sql/ (identifiers by the architecture test); the database name is checked
    # against an identifier pattern in apply(); table/column from the constant RETENTION;
    # int(retention_days) checked a whole number >= 1
    "collectors/warehouse/clickhouse/apply.py": {
        "LOGIC_SUFFIX",
        "database",
        "f.name",
        "table",
        "column",
        "int(retention_days)",
    },
    # the database name matched against an identifier pattern by parse_url()
    "collectors/warehouse/clickhouse/client.py": {"target.database"},
    # a module constant (column names)
    "collectors/warehouse/clickhouse/load.py": {"_LOAD_COLUMNS"},
    # name/n: relation names of sql/'s files (relations()), never a caller's text; SWAP a
    # constant suffix; final " FINAL" or ""; was "rl_was_" + such a name; cols the quoted
    # column names DuckDB describes of that table; sql a query built here from those; quoted
    # the path of the schema file this module created in a fresh temporary directory, quotes
    # doubled
    "collectors/warehouse/clickhouse/home.py": {
        "SWAP",
        "cols",
        "final",
        "n",
        "name",
        "quoted",
        "sql",
        "was",
    },  # fmt: skip
    # constants (SCOPED a suffix); f.name, base, name and new file stems of sql/ (or those with a
    # constant suffix); db the current database matched against an identifier pattern; pid
    # (yyyymmdd) and listed (ISO dates) formatted from date objects read from ClickHouse
    "collectors/warehouse/clickhouse/refresh.py": {
        "SCOPED",
        "base",
        "name",
        "LOGIC_SUFFIX",
        "NEXT",
        "NEXT_LOGIC",
        "_MATCH_KEY",
        "_PARTITION",
        "db",
        "f.name",
        "listed",
        "logic",
        "new",
        "pid",
        "table",  # "raw_attempts" or "attempts" + NEXT or "" (_create_scoped's caller constants)
        "where",  # _IN_SCOPE, or a hash filter formatted from two ints (_build_in_parts)
    },
    # DDL text derived from the generated files; cluster and database names checked against an
    # identifier pattern in ddl(), names from the generated files' own statements
    "collectors/warehouse/clickhouse/cluster.py": {
        "SHARD_KEY",
        "_on(cluster)",
        "build",
        "cluster",
        "d",
        "db",
        "m.group(1)",
        "m.group(2)",
        "n",
        "name",
        "name.group(2)",
        "on",
        "source",
    },
    # a development tool: SQL text generated from sql/'s own files and its parsed tree
    "collectors/warehouse/clickhouse/generate.py": {
        "', '.join(m.params)",
        "DEDUPLICATION_WINDOW",
        "LOGIC_SUFFIX",
        "_mart_key(f)",
        "_type(dt, action.name, True)",
        "action.name",
        "args",
        "body",
        "body.sql(dialect='clickhouse')",
        "f.name",
        "m.name",
        "note",
        "partition",
        "sql",
    },
}
_SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ATTACH|DETACH|SET|FROM|WHERE|COPY|PRAGMA|"
    r"ALTER|MACRO|VIEW)\b"
)


def interpolations(source: str) -> set[str]:
    """Expressions spliced into SQL text: f-string fields, ``.format`` on a SQL string, and the
    non-literal side of ``+`` with a SQL literal."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if _SQL.search(text):
                out |= {ast.unparse(v.value) for v in node.values
                        if isinstance(v, ast.FormattedValue)}  # fmt: skip
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if node.func.attr == "format" and (
                (isinstance(target, ast.Constant) and _SQL.search(str(target.value)))
                or (isinstance(target, ast.Name) and target.id.endswith("_SQL"))
            ):
                out.add(f"{ast.unparse(target)}.format")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            sides = (node.left, node.right)
            if any(isinstance(s, ast.Constant) and _SQL.search(str(s.value)) for s in sides):
                # a nested + is walked on its own
                out |= {
                    ast.unparse(s) for s in sides if not isinstance(s, ast.Constant | ast.BinOp)
                }
    return out


def test_the_gate_sees_each_way_of_splicing_sql() -> None:
    src = (
        "a = f'SELECT * FROM t WHERE team = {team}'\n"
        "b = 'DELETE FROM t WHERE x = ' + name\n"
        "c = 'SELECT {c} FROM t'.format(c=col)\n"
        "d = _X_SQL.format(col=col)\n"
        "e = f'{n} rows'\n"
        "g = con.execute('SELECT * FROM t WHERE team = ?', [team])\n"
    )
    assert interpolations(src) == {"team", "name", "'SELECT {c} FROM t'.format", "_X_SQL.format"}


def test_sql_text_interpolates_only_reviewed_expressions() -> None:
    unreviewed: list[str] = []
    for d in ("app", "collectors"):
        for path in sorted((ROOT / d).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in NOT_GATED:
                continue
            new = interpolations(path.read_text("utf-8")) - REVIEWED.get(rel, set())
            unreviewed += [f"{rel}: {e}" for e in sorted(new)]
    assert not unreviewed, (
        "SQL text built from these expressions has not been reviewed; bind user values with ?, "
        "or check the expression is a constant or validated identifier and add it to REVIEWED:\n"
        + "\n".join(unreviewed)
    )
