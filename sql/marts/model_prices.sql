-- grain: one validity period of one price series (source, model, variant, tier, time window)
-- key: version_id
-- Every price version as it was derived, valid_to NULL = in force now; source_rank: the lowest
-- rank in force wins. discount_pct stays NULL where no discount was given (stg_prices__versions
-- reads it as 0 to price attempts).
WITH versions AS (
    SELECT * FROM price_versions
)
SELECT
    version_id,
    source,
    source_rank,
    provider,
    model_id,
    variant,
    tier_min_prompt_tokens,
    window_start_utc,
    window_end_utc,
    weekdays_only,
    input_per_mtok,
    cached_input_per_mtok,
    cache_write_5m_per_mtok,
    cache_write_1h_per_mtok,
    output_per_mtok,
    reasoning_per_mtok,
    per_request,
    per_image,
    discount_pct,
    valid_from,
    valid_to,
    first_observed_at,
    last_observed_at
FROM versions
