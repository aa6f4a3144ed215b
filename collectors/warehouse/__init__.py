"""The warehouse: the one door to the DuckDB file.

==============  ===============================================================================
``connect``     :class:`Warehouse`: lock-retrying connections for one unit of work, built from a
                config by :meth:`Warehouse.from_config` only
``session``     settings every connection uses; :func:`transaction`, which always rolls back
``migrate``     ``sql/`` applied in layer order, one dependency sort, the schema hash
``ledger``      loads, file cursors, job runs, interrupted-run marking
``marts``       the one owner of mart freshness: full or incremental rebuilds, ``behind``
``snapshot``    the read snapshot readers open while a writer holds the file
``clickhouse``  the same ``sql/`` on ClickHouse: generated files, applied on a client
==============  ===============================================================================
"""

# registers warehouse.backend = "clickhouse" (the engine's client is imported only when used)
from collectors.warehouse.clickhouse import home as _clickhouse_home  # noqa: E402, F401
from collectors.warehouse.connect import Warehouse, is_lock_error
from collectors.warehouse.session import configure, transaction

__all__ = ["Warehouse", "configure", "is_lock_error", "transaction"]
