"""What every connection to a RouteLedger DuckDB does: its settings, and its transactions."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

log = logging.getLogger(__name__)

BACKGROUND_NICENESS = 10  # a rebuild yields the CPU to readers (about 9 parts in 10 to them)
DISABLED_OPTIMIZERS = "in_clause"
REBUILD_DISABLED_OPTIMIZERS = DISABLED_OPTIMIZERS + ",common_subplan"
MEMORY_LIMIT = "1536MB"  # per connection; DuckDB spills to disk beyond it (ingest target < 2 GB)


def configure(con: duckdb.DuckDBPyConnection, memory_limit: str = MEMORY_LIMIT) -> None:
    """Session settings every RouteLedger connection uses."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = true")
    # DuckDB 2.0 turns a constant `x IN (...)` list into a MARK join against the list, a
    # pipeline of its own. The normaliser tests a dozen such lists (its rl_bool macro and the
    # status words): scheduling those pipelines made a one-line batch take 0.44 s instead of
    # 0.05 s, and a 20,000-line batch 0.63 s instead of 0.28 s. Evaluated in place they cost less.
    con.execute(f"SET disabled_optimizers = '{DISABLED_OPTIMIZERS}'")


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


@contextmanager
def rebuild_plans(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Plan the block's statements as a rebuild of the marts wants them: without DuckDB's
    common-subplan optimizer. It materializes the scan of the raw attempts that the staging view
    reads twice (for the repeated keys and for the rows) as one wide buffer: at 1M attempts that
    buffer pushed the build of the ``attempts`` mart 711 MB past the connection's memory limit,
    and the spill made it 8.9 s instead of 7.0 s. Two narrow scans cost less. Restored after."""
    con.execute(f"SET disabled_optimizers = '{REBUILD_DISABLED_OPTIMIZERS}'")
    try:
        yield con
    finally:
        con.execute(f"SET disabled_optimizers = '{DISABLED_OPTIMIZERS}'")


@contextmanager
def background_priority() -> Iterator[None]:
    """Run the block at a lower CPU priority, so a long write (a rebuild of the marts) leaves
    the cores to the readers of the read snapshot: the dashboard's pages render in about the
    time they take on an idle machine. Linux sets niceness per thread, and the threads DuckDB
    starts for a connection opened inside the block inherit it. Restored after the block where
    the process may raise its priority again (else the thread stays lower: it runs background
    work only); a no-op where the platform has no per-thread priority."""
    tid = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(before + BACKGROUND_NICENESS, 19))
    except (AttributeError, OSError) as e:
        log.debug("lower priority not set: %s", e)
        yield
        return
    try:
        yield
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, before)
        except OSError as e:
            log.debug("priority not restored (no privilege to raise it): %s", e)
