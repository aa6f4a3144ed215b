-- generated from sql/macros/rl_cost_min_coverage.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: a scalar macro (no rows)
-- key: (none)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE FUNCTION rl_cost_min_coverage AS () ->
    (SELECT COALESCE(MAX(min_price_coverage), 0.8) FROM config_metrics);
