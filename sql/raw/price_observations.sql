-- grain: one price seen by one source in one refresh
-- key: refresh_id, source, provider, model_id, variant, tier_min_prompt_tokens
-- Every price seen by a price source, append-only, stamped with the refresh that wrote it.
-- USD per 1M tokens (per_request, per_image: USD per unit). A "skip" row (skipped = true, every
-- price NULL, a note) records why a model listed by the source was not priced.
CREATE TABLE IF NOT EXISTS price_observations (
    refresh_id               VARCHAR NOT NULL,
    source                   VARCHAR NOT NULL,
    observed_at              TIMESTAMP NOT NULL,  -- UTC
    provider                 VARCHAR NOT NULL,
    model_id                 VARCHAR NOT NULL,
    variant                  VARCHAR NOT NULL,
    tier_min_prompt_tokens   BIGINT NOT NULL,
    window_start_utc         TIME,
    window_end_utc           TIME,
    weekdays_only            BOOLEAN NOT NULL,
    valid_from               TIMESTAMP,           -- a start date the source itself states
    input_per_mtok           DECIMAL(18, 6),
    cached_input_per_mtok    DECIMAL(18, 6),
    cache_write_5m_per_mtok  DECIMAL(18, 6),
    cache_write_1h_per_mtok  DECIMAL(18, 6),
    output_per_mtok          DECIMAL(18, 6),
    reasoning_per_mtok       DECIMAL(18, 6),
    per_request              DECIMAL(18, 6),
    per_image                DECIMAL(18, 6),
    discount_pct             DECIMAL(9, 4),
    skipped                  BOOLEAN NOT NULL,
    match_rule               VARCHAR NOT NULL,
    source_model_id          VARCHAR,
    raw                      VARCHAR,
    note                     VARCHAR,
    extra                    VARCHAR              -- JSON object of source-specific strings
);
