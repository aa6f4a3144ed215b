-- generated from sql/macros/wilson_high.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: a scalar macro (no rows)
-- key: (none)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE FUNCTION wilson_high AS (k, n) ->
    CASE WHEN n > 0 THEN ((k / n + 1.96 * 1.96 / (2 * n)) + 1.96 * SQRT((k / n) * (1 - k / n) / n + 1.96 * 1.96 / (4 * n * n))) / (1 + 1.96 * 1.96 / n) END;
