"""ClickHouse as the warehouse: SQL generated from the canonical DuckDB files of ``sql/``.

============  ===================================================================================
``dialect``   DuckDB SQL -> ClickHouse SQL: sqlglot's transpile, macros inlined, ``t.*`` over many
              joins expanded, the rewrite rules in order; dev only
``shapes``    rules for a query's shape: quantiles, ordered lists, lag/lead, LATERAL VALUES,
              structs, count's type, column names, table macro parameters; dev only
``values``    rules for values: time zones, intervals and RANGE frames, globs, text formats,
              casts, exact money; the tree helpers; dev only
``generate``  ``python -m collectors.warehouse.clickhouse.generate [--check]``: writes
              ``sql/clickhouse/<layer>/<name>.sql`` (engines for tables, views, functions); dev only
``apply``     the generated files applied on a clickhouse-connect client in ``migrate``'s order;
              the materialized marts built; reads files, needs no sqlglot
============  ===================================================================================
"""
