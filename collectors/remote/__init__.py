"""Sources that are not files: each lands what it reads in the home's spool, as files the ingest
engine then reads exactly once like any log (its cursor per file, its anti-join on
``attempt_id``).

- :mod:`collectors.remote.bucket`: ``[[sources]] url = "s3://..."`` (LiteLLM's S3/GCS bucket
  logger), each object read once by key and ETag.
- :mod:`collectors.remote.postgres`: ``[[sources]] dsn_env = ...`` (LiteLLM's
  ``LiteLLM_SpendLogs``), incremental by (start time, request id) with an overlap for late rows.
- :mod:`collectors.remote.spool`: the spool itself, and the OTLP/HTTP receiver's folder in it.
"""

from __future__ import annotations
