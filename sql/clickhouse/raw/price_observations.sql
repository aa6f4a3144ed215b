-- generated from sql/raw/price_observations.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one price seen by one source in one refresh
-- key: refresh_id, source, provider, model_id, variant, tier_min_prompt_tokens
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS price_observations (
    refresh_id String,
    source LowCardinality(String),
    observed_at DateTime64(6, 'UTC'),
    provider LowCardinality(String),
    model_id LowCardinality(String),
    variant LowCardinality(String),
    tier_min_prompt_tokens Int64,
    window_start_utc Nullable(Time64(6)),
    window_end_utc Nullable(Time64(6)),
    weekdays_only Bool,
    valid_from Nullable(DateTime64(6, 'UTC')),
    input_per_mtok Nullable(Decimal(18, 6)),
    cached_input_per_mtok Nullable(Decimal(18, 6)),
    cache_write_5m_per_mtok Nullable(Decimal(18, 6)),
    cache_write_1h_per_mtok Nullable(Decimal(18, 6)),
    output_per_mtok Nullable(Decimal(18, 6)),
    reasoning_per_mtok Nullable(Decimal(18, 6)),
    per_request Nullable(Decimal(18, 6)),
    per_image Nullable(Decimal(18, 6)),
    discount_pct Nullable(Decimal(9, 4)),
    skipped Bool,
    match_rule LowCardinality(String),
    source_model_id Nullable(String),
    raw Nullable(String),
    note Nullable(String),
    extra Nullable(String)
)
ENGINE = MergeTree
ORDER BY (refresh_id, source, provider, model_id, variant, tier_min_prompt_tokens)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE price_observations MODIFY SETTING non_replicated_deduplication_window = 1000;
