"""What every connection to a RouteLedger DuckDB does: its settings, and its transactions."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

log = logging.getLogger(__name__)

MEMORY_LIMIT = "1536MB"  # per connection; DuckDB spills to disk beyond it (ingest target < 2 GB)


def configure(con: duckdb.DuckDBPyConnection, memory_limit: str = MEMORY_LIMIT) -> None:
    """Session settings every RouteLedger connection uses."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``BEGIN`` ... ``COMMIT``; ``ROLLBACK`` when the block raises anything (a
    ``KeyboardInterrupt`` too), so no caller writes its own rollback path. What raised is what
    the caller sees: a ROLLBACK that fails in turn (DuckDB may have ended the transaction
    already, e.g. on a full disk) never masks it."""
    con.execute("BEGIN")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error as e:
            log.debug("rollback after a failure did not run: %s", e)
        raise
    con.execute("COMMIT")
