-- generated from sql/marts/read_snapshot.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one row
-- key: (none)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW read_snapshot AS
SELECT
  MAX(published_at) AS published_at
FROM snapshot_published;
