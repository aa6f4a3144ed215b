-- generated from sql/config/config_billing.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one failed-attempt billing rule of routeledger.toml
-- key: provider (NULL: the default for every provider)
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS config_billing (
    provider LowCardinality(Nullable(String)),
    failed_attempts LowCardinality(String),
    not_billed_error_classes Array(String)
)
ENGINE = MergeTree
ORDER BY tuple();
