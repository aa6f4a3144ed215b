-- generated from sql/marts/source_read_log.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one source that is not a file (a bucket prefix, LiteLLM's PostgreSQL)
-- key: source
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW source_read_log AS
WITH reads AS (
  SELECT
    *
  FROM source_reads
)
SELECT
  source,
  kind,
  last_read_at,
  last_ok_at,
  newest_at,
  rows_last,
  rows_total,
  errors_total,
  error
FROM reads;
