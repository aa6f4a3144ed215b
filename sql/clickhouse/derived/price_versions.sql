-- generated from sql/derived/price_versions.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one validity period of one price
-- key: version_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE TABLE IF NOT EXISTS price_versions (
    version_id String,
    source LowCardinality(String),
    source_rank Int32,
    provider LowCardinality(String),
    model_id LowCardinality(String),
    variant LowCardinality(String),
    tier_min_prompt_tokens Int64,
    window_start_utc Nullable(Time64(6)),
    window_end_utc Nullable(Time64(6)),
    weekdays_only Bool,
    input_per_mtok Nullable(Decimal(18, 6)),
    cached_input_per_mtok Nullable(Decimal(18, 6)),
    cache_write_5m_per_mtok Nullable(Decimal(18, 6)),
    cache_write_1h_per_mtok Nullable(Decimal(18, 6)),
    output_per_mtok Nullable(Decimal(18, 6)),
    reasoning_per_mtok Nullable(Decimal(18, 6)),
    per_request Nullable(Decimal(18, 6)),
    per_image Nullable(Decimal(18, 6)),
    discount_pct Nullable(Decimal(9, 4)),
    valid_from DateTime64(6, 'UTC'),
    valid_to Nullable(DateTime64(6, 'UTC')),
    first_observed_at Nullable(DateTime64(6, 'UTC')),
    last_observed_at Nullable(DateTime64(6, 'UTC'))
)
ENGINE = ReplacingMergeTree
ORDER BY version_id;
