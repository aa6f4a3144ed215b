-- generated from sql/marts/quarantined_rows.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one candidate row that could not become an attempt
-- key: load_id, source_file, source_line, candidate_index
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW quarantined_rows AS
WITH quarantine AS (
  SELECT
    *
  FROM raw_quarantine
)
SELECT
  load_id,
  source,
  source_file,
  source_line,
  ROW_NUMBER() OVER (
    PARTITION BY load_id, source_file, source_line
    ORDER BY quarantined_at, reason, detail, raw_excerpt
  ) AS candidate_index,
  reason,
  detail,
  raw_excerpt,
  quarantined_at
FROM quarantine;
