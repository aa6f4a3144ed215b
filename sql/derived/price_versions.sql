-- grain: one validity period of one price
-- key: version_id
-- Validity periods of prices, rebuilt deterministically from price_observations and the review
-- decisions in price_reviews (collectors/prices/versions.py). One row per source, identity
-- (provider, model_id, variant, tier, time window) and period; valid_to NULL = in force now.
-- The first version of a price is assumed in force since before it was first observed
-- (valid_from = 1970-01-01; first_observed_at says when it really was). A windowed row takes
-- precedence over the unwindowed row of the same identity inside its window (weekdays_only:
-- Monday to Friday, UTC). Tiers: the tier with the highest tier_min_prompt_tokens below the
-- request's prompt tokens prices all its tokens. discount_pct (negotiated, from overrides) is to
-- be applied on top: price * (1 - discount_pct / 100). source_rank: 1 override, 2 provider page,
-- 3 openrouter, 4 litellm, 5 catalog; the lowest rank in force wins.
CREATE TABLE IF NOT EXISTS price_versions (
    version_id               VARCHAR NOT NULL PRIMARY KEY,
    source                   VARCHAR NOT NULL,
    source_rank              INTEGER NOT NULL,
    provider                 VARCHAR NOT NULL,
    model_id                 VARCHAR NOT NULL,
    variant                  VARCHAR NOT NULL,
    tier_min_prompt_tokens   BIGINT NOT NULL,
    window_start_utc         TIME,
    window_end_utc           TIME,
    weekdays_only            BOOLEAN NOT NULL,
    input_per_mtok           DECIMAL(18, 6),
    cached_input_per_mtok    DECIMAL(18, 6),
    cache_write_5m_per_mtok  DECIMAL(18, 6),
    cache_write_1h_per_mtok  DECIMAL(18, 6),
    output_per_mtok          DECIMAL(18, 6),
    reasoning_per_mtok       DECIMAL(18, 6),
    per_request              DECIMAL(18, 6),
    per_image                DECIMAL(18, 6),
    discount_pct             DECIMAL(9, 4),
    valid_from               TIMESTAMP NOT NULL,  -- UTC, inclusive
    valid_to                 TIMESTAMP,           -- UTC, exclusive; NULL = current
    first_observed_at        TIMESTAMP,
    last_observed_at         TIMESTAMP
);
