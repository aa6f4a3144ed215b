-- grain: one validity period of one price series (source, model, variant, tier, window)
-- key: version_id
SELECT
    version_id, source, source_rank, provider, model_id, variant, tier_min_prompt_tokens,
    window_start_utc, window_end_utc, weekdays_only,
    input_per_mtok, cached_input_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
    output_per_mtok, reasoning_per_mtok, per_request, per_image,
    coalesce(discount_pct, 0) AS discount_pct,
    valid_from, valid_to, first_observed_at, last_observed_at
FROM price_versions
