"""``python -m collectors.warehouse.clickhouse.generate [--check]``: writes
``sql/clickhouse/<layer>/<name>.sql`` for every file of ``sql/`` (a dev-time module: sqlglot is
imported here and in :mod:`.dialect` only; the runtime reads the files).

Tables get ClickHouse engines: ``raw_attempts`` a ReplacingMergeTree partitioned by month and
ordered as the marts read it (a logical request's attempts side by side; the ordering key is
what a replayed landing collapses on, so a row landed twice with the same start counts once);
a table with a primary key a ReplacingMergeTree ordered by it (an upsert's last row wins); any
other a MergeTree ordered by the non-NULL columns of its ``-- key:``. Names (provider, model,
task, status, ...) are LowCardinality, money Decimal, Nullable only where DuckDB allows NULL.
Scalar macros become ClickHouse functions (the views inline them instead, so a view never needs
a function of another database); table macros parameterized views; materialized marts the view
``<name>__logic`` and an empty table ``<name>`` of its shape, ordered by its ``-- key:`` and, when
it has a ``local_day``, partitioned by it (a refresh swaps the days it recomputes:
:mod:`.refresh`). Tables of ``sql/raw`` and ``sql/ledger`` keep the last 1000 insert tokens
(``non_replicated_deduplication_window``), so a batch re-sent with its token is dropped
(:mod:`.load`).
``--check`` writes nothing and exits 1 listing the stale files.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from collectors.warehouse import migrate
from collectors.warehouse.clickhouse import dialect
from collectors.warehouse.clickhouse.apply import SETTINGS
from collectors.warehouse.migrate import LOGIC_SUFFIX, TABLE_LAYERS, SqlFile, sql_files

ROOT = Path(__file__).resolve().parents[3] / "sql"
OUT = ROOT / "clickhouse"
OVERRIDES = OUT / "overrides"
COMMAND = "python -m collectors.warehouse.clickhouse.generate"

LOW_CARDINALITY = {
    "provider", "logged_provider", "model", "served_model", "requested_model", "base_model",
    "task", "status", "error_class", "error_type", "source", "kind", "variant", "team", "route",
    "deployment_id", "key_alias", "match_rule", "logged_model", "priced_provider",
    "priced_model_id", "model_provider", "model_id", "export_format", "token_class",
    "service_tier", "field", "failed_attempts", "job", "scope", "channel",
}  # fmt: skip
RAW_ATTEMPTS = (
    "ENGINE = ReplacingMergeTree\nPARTITION BY toYYYYMM(started_at)\n"
    "ORDER BY (logical_request_id, attempt_id, started_at)"
)
# Tables ingest and the bookkeeping write: a non-replicated MergeTree drops a repeated
# insert_deduplication_token only when it keeps a window of recent tokens.
DEDUPLICATED_LAYERS = ("raw", "ledger")
DEDUPLICATION_WINDOW = 1000
DEDUPLICATION_NOTE = (
    "-- Inserts into this table carry an insert_deduplication_token "
    "(collectors/warehouse/clickhouse/load.py):\n"
    f"-- the tokens of its last {DEDUPLICATION_WINDOW} insert blocks are kept, so a batch re-sent "
    "after a crash\n-- (rows landed, cursor not yet moved) is dropped by the engine, never "
    "counted twice.\n"
)
# Materialized marts with a local day: partitioned by it, so a refresh recomputes and swaps only
# the days new loads touched (ALTER TABLE ... REPLACE PARTITION) while readers keep reading: an
# hour's ingest recomputes a day or two, not a month. About 400 partitions for 13 months of
# retention: within what ClickHouse handles; at a billion attempts a month a day of attempts is
# tens of millions of rows, the size a partition should be.
MART_PARTITION = "toYYYYMMDD(local_day)"
_KEY_RE = re.compile(r"^--\s*key:\s*([a-z_, ]+)", re.MULTILINE)
_TYPES = {
    exp.DataType.Type.VARCHAR: "String",
    exp.DataType.Type.TEXT: "String",
    exp.DataType.Type.BIGINT: "Int64",
    exp.DataType.Type.INT: "Int32",
    exp.DataType.Type.DOUBLE: "Float64",
    exp.DataType.Type.BOOLEAN: "Bool",
    exp.DataType.Type.TIMESTAMP: "DateTime64(6, 'UTC')",
    exp.DataType.Type.TIMESTAMPNTZ: "DateTime64(6, 'UTC')",
    exp.DataType.Type.DATE: "Date32",
    exp.DataType.Type.TIME: "Time64(6)",
}


def header(f: SqlFile, override: bool = False) -> str:
    how = "copied from the override " if override else "generated from "
    where = f"sql/clickhouse/overrides/{f.layer}/{f.name}.sql" if override else ""
    # the source's grain and key, as every SQL file of the project states them
    grain_key = "".join(
        f"{line}\n" for line in f.text.splitlines()[:5] if line.startswith(("-- grain:", "-- key:"))
    )
    return (
        f"-- {how}{where or f'sql/{f.layer}/{f.name}.sql'} by `{COMMAND}`: do not edit.\n"
        f"{grain_key}"
        f"-- Queries need the settings {', '.join(f'{k}={v!r}' for k, v in SETTINGS.items())}.\n"
    )


def _type(dt: exp.DataType, name: str, nullable: bool) -> str:
    if dt.this == exp.DataType.Type.ARRAY:
        (inner,) = dt.expressions
        return f"Array({_type(inner, '', False)})"
    if dt.this == exp.DataType.Type.DECIMAL:
        p, s = (int(x.this.this) for x in dt.expressions)
        base = f"Decimal({p}, {s})"
    elif dt.this not in _TYPES:
        raise ValueError(f"{name}: no ClickHouse type for {dt.sql('duckdb')}")
    else:
        base = _TYPES[dt.this]
    base = f"Nullable({base})" if nullable else base
    return f"LowCardinality({base})" if name in LOW_CARDINALITY and "String" in base else base


def _columns(create: exp.Create) -> tuple[list[str], list[str], set[str]]:
    """Column lines, the primary key's columns and the columns that cannot be NULL."""
    lines: list[tuple[str, exp.DataType, exp.DefaultColumnConstraint | None]] = []
    pk: list[str] = []
    not_null: set[str] = set()
    for col in create.this.expressions:
        if isinstance(col, exp.PrimaryKey):
            pk = [c.name for c in col.expressions]
            continue
        kinds = [c.kind for c in col.constraints]
        if any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds):
            pk = [col.name]
        if any(isinstance(k, (exp.NotNullColumnConstraint, exp.PrimaryKeyColumnConstraint))
               for k in kinds):  # fmt: skip
            not_null.add(col.name)
        default = next((k for k in kinds if isinstance(k, exp.DefaultColumnConstraint)), None)
        lines.append((col.name, col.args["kind"], default))
    not_null |= set(pk)
    out = []
    for name, dt, default in lines:
        text = f"    {name} {_type(dt, name, name not in not_null)}"
        if default is not None:
            text += f" DEFAULT {default.this.sql('clickhouse')}"
        out.append(text)
    return out, pk, not_null


def table_sql(f: SqlFile) -> str:
    """A table's DuckDB DDL -> ClickHouse CREATE TABLE (and the ADD COLUMNs of later columns)."""
    statements = [s for s in sqlglot.parse(f.text, read="duckdb") if s is not None]
    create = next(s for s in statements if isinstance(s, exp.Create))
    lines, pk, not_null = _columns(create)
    if f.name == "raw_attempts":
        engine = RAW_ATTEMPTS
    elif pk:
        engine = f"ENGINE = ReplacingMergeTree\nORDER BY {_order_by(pk)}"
    else:
        m = _KEY_RE.search(f.text)
        keys = [k.strip() for k in m.group(1).split(",")] if m else []
        engine = f"ENGINE = MergeTree\nORDER BY {_order_by([k for k in keys if k in not_null])}"
    note = ""
    if f.layer in DEDUPLICATED_LAYERS:
        engine += f"\nSETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}"
        note = DEDUPLICATION_NOTE
    out = [f"{note}CREATE TABLE IF NOT EXISTS {f.name} (\n" + ",\n".join(lines) + f"\n)\n{engine}"]
    if note:  # a table created before the setting existed gains it
        out.append(
            f"ALTER TABLE {f.name} MODIFY SETTING "
            f"non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}"
        )
    for s in statements:
        if isinstance(s, exp.Alter):
            for action in s.actions:
                dt = action.args["kind"]
                out.append(
                    f"ALTER TABLE {f.name} ADD COLUMN IF NOT EXISTS {action.name} "
                    f"{_type(dt, action.name, True)}"
                )
    return ";\n\n".join(out) + ";\n"


def _order_by(keys: list[str]) -> str:
    return keys[0] if len(keys) == 1 else f"({', '.join(keys)})" if keys else "tuple()"


def _mart_key(f: SqlFile) -> str:
    m = _KEY_RE.search(f.text)
    return _order_by([k.strip() for k in m.group(1).split(",")] if m else [])


def _describer(con: duckdb.DuckDBPyConnection, f: SqlFile) -> dialect.Describe:
    """Column names of a DuckDB query over a new warehouse (a table macro's parameters NULL)."""
    params = [p.strip() for p in (f.macro_params or "").split(",") if p.strip()]

    def describe(sql: str) -> list[str]:
        if params:
            args = ", ".join(f"NULL::VARCHAR AS {p}" for p in params)
            sql = f"SELECT * FROM (SELECT {args}) AS rl_params, LATERAL ({sql})"
            return [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()][len(params) :]
        return [r[0] for r in con.execute(f"DESCRIBE {sql}").fetchall()]

    return describe


def list_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the list columns of a DuckDB warehouse (tables and views)."""
    sql = "SELECT DISTINCT column_name FROM duckdb_columns() WHERE data_type LIKE '%[]'"
    return {r[0] for r in con.execute(sql).fetchall()}


def view_sql(
    f: SqlFile,
    macros: dict[str, dialect.Macro],
    con: duckdb.DuckDBPyConnection,
    lists: set[str],
) -> str:
    params = tuple(p.strip() for p in (f.macro_params or "").split(",") if p.strip())
    body = dialect.view_sql(f.text, macros, _describer(con, f), lists, params)
    if f.materialized:
        columns = {r[0] for r in con.execute(f"DESCRIBE {f.name}").fetchall()}
        partition = f"PARTITION BY {MART_PARTITION}\n" if "local_day" in columns else ""
        return (
            f"CREATE OR REPLACE VIEW {f.name}{LOGIC_SUFFIX} AS\n{body};\n\n"
            f"CREATE TABLE IF NOT EXISTS {f.name}\nENGINE = MergeTree\n{partition}"
            f"ORDER BY {_mart_key(f)}\n"
            f"SETTINGS allow_nullable_key = 1\nEMPTY AS SELECT * FROM {f.name}{LOGIC_SUFFIX};\n"
        )
    return f"CREATE OR REPLACE VIEW {f.name} AS\n{body};\n"


def macro_sql(m: dialect.Macro, macros: dict[str, dialect.Macro]) -> str:
    body = dialect.inline_macros(m.body.copy(), macros)
    for rule in dialect.rules(set()):
        body = rule(body)
    return (
        f"CREATE OR REPLACE FUNCTION {m.name} AS ({', '.join(m.params)}) ->\n"
        f"    {body.sql(dialect='clickhouse')};\n"
    )


def generate() -> dict[Path, str]:
    """Every file of sql/clickhouse/ (but the overrides) and its text."""
    files = sql_files()
    macros = {m.name: m for m in (dialect.macro_definition(f.text) for f in files
                                  if f.layer == "macros")}  # fmt: skip
    out: dict[Path, str] = {}
    con = duckdb.connect()  # a new warehouse: the views' columns, for the rules that need them
    migrate.apply(con, ":memory:")
    lists = list_columns(con)
    for f in files:
        override = OVERRIDES / f.layer / f"{f.name}.sql"
        if override.exists():
            body = override.read_text(encoding="utf-8")
        elif f.layer in TABLE_LAYERS:
            body = table_sql(f)
        elif f.layer == "macros":
            body = macro_sql(macros[f.name], macros)
        else:
            body = view_sql(f, macros, con, lists)
        out[OUT / f.layer / f"{f.name}.sql"] = header(f, override.exists()) + body
    return out


def stale(files: dict[Path, str]) -> list[Path]:
    """Files that differ from a fresh generation, are missing, or are left from a removed one."""
    bad = [p for p, text in files.items() if not p.exists() or p.read_text("utf-8") != text]
    present = {p for p in OUT.glob("*/*.sql") if p.parent.name != "overrides"}
    return sorted(bad + sorted(present - set(files)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list stale files, write nothing")
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        bad = stale(files)
        for p in bad:
            print(f"stale: {p.relative_to(ROOT.parent)}")
        if bad:
            print(f"regenerate with: {COMMAND}")
        return 1 if bad else 0
    for p in stale(files):
        if p in files:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(files[p], encoding="utf-8")
        else:
            p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
