-- generated from sql/marts/file_loads.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one load (one ingest run reading one log file)
-- key: load_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW file_loads AS
WITH loads AS (
  SELECT
    *
  FROM loads FINAL
)
SELECT
  load_id,
  run_id,
  source,
  file,
  started_at,
  ended_at,
  status,
  rows_loaded,
  duplicates,
  quarantined,
  bytes_read,
  skipped,
  error
FROM loads;
