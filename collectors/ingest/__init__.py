"""Ingest: log files into ``raw_attempts``, exactly once. One module a stage, arrows one way
(plan, readers and candidates -> batch -> engine):

* :mod:`~collectors.ingest.plan`: which files, their container, and batches of whole lines.
* :mod:`~collectors.ingest.read_jsonl`: JSON lines and documents -> rows (fast, then careful).
* :mod:`~collectors.ingest.read_csv`: CSV -> rows; bad rows caught in DuckDB's reject tables.
* :mod:`~collectors.ingest.stream`: the first read of a big JSONL log as one DuckDB stream.
* :mod:`~collectors.ingest.candidates`: rows -> candidate rows (``cand``), the format's select.
* :mod:`~collectors.ingest.normalize`: candidate rows -> attempts or quarantined rows, in SQL.
* :mod:`~collectors.ingest.batch`: one batch of bytes -> normalized rows, with no warehouse.
* :mod:`~collectors.ingest.engine`: parse on worker threads, commit in file order.
"""

from collectors.ingest.batch import parse_bytes
from collectors.ingest.engine import Ingester, IngestSummary
from collectors.ingest.plan import expand, files_to_ingest

__all__ = ["Ingester", "IngestSummary", "expand", "files_to_ingest", "parse_bytes"]
