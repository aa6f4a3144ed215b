-- generated from sql/staging/stg_config__task_rules.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one task rule of the configuration
-- key: position
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW stg_config__task_rules AS
SELECT
  position,
  field,
  pattern,
  task
FROM config_task_rules;
