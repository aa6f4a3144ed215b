-- grain: one attempt as a log collector landed it
-- key: attempt_id
-- Normalised attempts as every log collector lands them. Append-only; deduplicated on attempt_id
-- at load time, stamped with the load that wrote them and their source position.
CREATE TABLE IF NOT EXISTS raw_attempts (
    load_id                   VARCHAR NOT NULL,
    source                    VARCHAR NOT NULL,
    source_file               VARCHAR NOT NULL,
    source_line               BIGINT NOT NULL,
    attempt_id                VARCHAR NOT NULL,
    logical_request_id        VARCHAR NOT NULL,
    attempt_index             INTEGER,
    started_at                TIMESTAMP NOT NULL,
    ended_at                  TIMESTAMP NOT NULL,
    ttft_ms                   DOUBLE,
    latency_ms                DOUBLE,
    provider                  VARCHAR,
    requested_model           VARCHAR,
    served_model              VARCHAR NOT NULL,
    deployment_id             VARCHAR,
    base_model                VARCHAR,
    task                      VARCHAR,
    team                      VARCHAR,
    user_id                   VARCHAR,
    key_hash                  VARCHAR,
    key_alias                 VARCHAR,
    route                     VARCHAR,
    input_tokens              BIGINT,
    cached_input_tokens       BIGINT,
    cache_write_tokens        BIGINT,
    cache_write_1h_tokens     BIGINT,
    output_tokens             BIGINT,
    reasoning_tokens          BIGINT,
    input_includes_cached     BOOLEAN NOT NULL,
    output_includes_reasoning BOOLEAN NOT NULL,
    status                    VARCHAR NOT NULL,
    error_class               VARCHAR,
    error_type                VARCHAR,
    http_status               INTEGER,
    gateway_cache_hit         BOOLEAN NOT NULL,
    streamed                  BOOLEAN,
    reported_cost_usd         DECIMAL(18, 10),
    validation_passed         BOOLEAN,
    quality_score             DOUBLE,
    ingested_at               TIMESTAMP NOT NULL,
    -- added later, so last: a new warehouse and a migrated one have the same column order
    agent_name                VARCHAR,
    conversation_id           VARCHAR
);
-- A warehouse made before a column existed gains it here: this file runs again whenever the
-- SQL changes (collectors/warehouse/migrate.py), its rows kept, the new column NULL in them.
ALTER TABLE raw_attempts ADD COLUMN IF NOT EXISTS agent_name VARCHAR;
ALTER TABLE raw_attempts ADD COLUMN IF NOT EXISTS conversation_id VARCHAR;
