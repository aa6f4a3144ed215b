-- generated from sql/macros/rl_cost_unknown_reason.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: a scalar macro (no rows)
-- key: (none)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE FUNCTION rl_cost_unknown_reason AS (coverage, priced_successes, unit) ->
    CASE WHEN coverage < ((SELECT COALESCE(MAX(min_price_coverage), 0.8) FROM config_metrics)) THEN printf('only %d%% of %ss priced', CAST(FLOOR(coverage * 100) AS Nullable(Int32)), unit) WHEN priced_successes = 0 THEN printf('no priced %s succeeded', unit) END;
