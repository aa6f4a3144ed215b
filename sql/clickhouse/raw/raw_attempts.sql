-- generated from sql/raw/raw_attempts.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one attempt as a log collector landed it
-- key: attempt_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
-- Inserts into this table carry an insert_deduplication_token (collectors/warehouse/clickhouse/load.py):
-- the tokens of its last 1000 insert blocks are kept, so a batch re-sent after a crash
-- (rows landed, cursor not yet moved) is dropped by the engine, never counted twice.
CREATE TABLE IF NOT EXISTS raw_attempts (
    load_id String,
    source LowCardinality(String),
    source_file String,
    source_line Int64,
    attempt_id String,
    logical_request_id String,
    attempt_index Nullable(Int32),
    started_at DateTime64(6, 'UTC'),
    ended_at DateTime64(6, 'UTC'),
    ttft_ms Nullable(Float64),
    latency_ms Nullable(Float64),
    provider LowCardinality(Nullable(String)),
    requested_model LowCardinality(Nullable(String)),
    served_model LowCardinality(String),
    deployment_id LowCardinality(Nullable(String)),
    base_model LowCardinality(Nullable(String)),
    task LowCardinality(Nullable(String)),
    team LowCardinality(Nullable(String)),
    user_id Nullable(String),
    key_hash Nullable(String),
    key_alias LowCardinality(Nullable(String)),
    route LowCardinality(Nullable(String)),
    input_tokens Nullable(Int64),
    cached_input_tokens Nullable(Int64),
    cache_write_tokens Nullable(Int64),
    cache_write_1h_tokens Nullable(Int64),
    output_tokens Nullable(Int64),
    reasoning_tokens Nullable(Int64),
    input_includes_cached Bool,
    output_includes_reasoning Bool,
    status LowCardinality(String),
    error_class LowCardinality(Nullable(String)),
    error_type LowCardinality(Nullable(String)),
    http_status Nullable(Int32),
    gateway_cache_hit Bool,
    streamed Nullable(Bool),
    reported_cost_usd Nullable(Decimal(18, 10)),
    validation_passed Nullable(Bool),
    quality_score Nullable(Float64),
    ingested_at DateTime64(6, 'UTC'),
    agent_name Nullable(String),
    conversation_id Nullable(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (logical_request_id, attempt_id, started_at)
SETTINGS non_replicated_deduplication_window = 1000;

ALTER TABLE raw_attempts MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE raw_attempts ADD COLUMN IF NOT EXISTS agent_name Nullable(String);

ALTER TABLE raw_attempts ADD COLUMN IF NOT EXISTS conversation_id Nullable(String);
