"""ClickHouse as the warehouse: SQL generated from the canonical DuckDB files of ``sql/``.

============  ===================================================================================
``dialect``   DuckDB SQL -> ClickHouse SQL: sqlglot's transpile, macros inlined, ``t.*`` over many
              joins expanded, the rewrite rules in order; generator and reader
``shapes``    rules for a query's shape: quantiles, ordered lists, lag/lead, LATERAL VALUES,
              structs, count's type, column names, table macro parameters, the app's queries'
``values``    rules for values: time zones, intervals and RANGE frames, globs, text formats,
              casts, exact money; the tree helpers
``generate``  ``python -m collectors.warehouse.clickhouse.generate [--check]``: writes
              ``sql/clickhouse/<layer>/<name>.sql`` (engines for tables, views, functions); dev only
``apply``     the generated files applied on a clickhouse-connect client in ``migrate``'s order;
              the materialized marts built; the raw tables' retention; reads files, needs no
              sqlglot
``reader``    ``Reader(client)``: a DuckDB connection look-alike for the app's query functions (their
              DuckDB SQL transpiled at run time with these rules, DuckDB's Python types back)
``bind``      parameters bound into the parsed query as typed literals, never as SQL text
``client``    ``connect(url, password_env)``: a client on ``chdb:///path`` or
              ``http(s)://[user@]host:port/db`` with the settings; failures one line, no password
``load``      one ingest batch written in a repeatable order (rows with deduplication tokens,
              then the cursor, then the load's counters); cursors and loads as newer rows
``refresh``   the materialized marts kept current by swaps: ``__next`` tables and one
              ``EXCHANGE TABLES``, or the touched days by ``REPLACE PARTITION``
``home``      ``warehouse.backend = "clickhouse"``: :class:`ClickHouseWarehouse`, the one door on
              ClickHouse (reads by ``reader``, marts by ``refresh``, ingest by ``load``), and the
              ``Mirror`` that runs every other writer's DuckDB SQL and writes back what changed
``cluster``   ``python -m collectors.warehouse.clickhouse.cluster --cluster NAME``: the same SQL as
              DDL for a replicated, sharded cluster (``ON CLUSTER``, Keeper, ``Distributed``)
============  ===================================================================================
"""
