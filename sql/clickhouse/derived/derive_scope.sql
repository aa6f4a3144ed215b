-- generated from sql/derived/derive_scope.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one logical request an incremental rebuild recomputes
-- key: logical_request_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS derive_scope (
    logical_request_id String
)
ENGINE = MergeTree
ORDER BY logical_request_id;
