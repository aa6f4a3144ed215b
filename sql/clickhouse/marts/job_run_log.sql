-- generated from sql/marts/job_run_log.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one run of one scheduled or CLI job
-- key: job, started_at
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW job_run_log AS
WITH runs AS (
  SELECT
    *
  FROM job_runs
)
SELECT
  job,
  started_at,
  ended_at,
  status,
  detail
FROM runs;
