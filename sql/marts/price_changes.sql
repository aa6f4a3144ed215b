-- grain: one price version that replaced an earlier one of the same series
-- key: version_id
-- A version whose prices equal the one before (e.g. cut only by a discount period) is no change.
WITH versions AS (
    SELECT * FROM stg_prices__versions
),
sequenced AS (
    SELECT
        *,
        lag(input_per_mtok) OVER s AS prev_input_per_mtok,
        lag(cached_input_per_mtok) OVER s AS prev_cached_input_per_mtok,
        lag(output_per_mtok) OVER s AS prev_output_per_mtok,
        lag(version_id) OVER s AS prev_version_id,
        lag([input_per_mtok, cached_input_per_mtok, cache_write_5m_per_mtok, cache_write_1h_per_mtok,
             output_per_mtok, reasoning_per_mtok, per_request, per_image]) OVER s AS prev_prices
    FROM versions
    WINDOW s AS (PARTITION BY source, provider, model_id, variant, tier_min_prompt_tokens,
                              window_start_utc, window_end_utc ORDER BY valid_from)
)
SELECT
    version_id, prev_version_id, source, provider, model_id, variant, tier_min_prompt_tokens,
    valid_from AS changed_at,
    prev_input_per_mtok, input_per_mtok,
    prev_cached_input_per_mtok, cached_input_per_mtok,
    prev_output_per_mtok, output_per_mtok
FROM sequenced
WHERE prev_version_id IS NOT NULL
  AND prev_prices IS DISTINCT FROM [input_per_mtok, cached_input_per_mtok, cache_write_5m_per_mtok,
      cache_write_1h_per_mtok, output_per_mtok, reasoning_per_mtok, per_request, per_image]
