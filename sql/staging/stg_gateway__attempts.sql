-- grain: one attempt (one call to one provider)
-- key: attempt_id
-- Token classes normalised: OpenAI-style counts (cached and cache-write tokens inside the input,
-- reasoning inside the output) and Anthropic-style exclusive counts become the same columns.
-- Inside an incremental rebuild only (the session variable rl_derive_scope set), just the
-- requests in derive_scope are read, and only rows from rl_derive_since on (a lower bound of
-- their start times, so the scan skips the older row groups). The variables are constants to
-- DuckDB's planner: unset, the filter vanishes and a full rebuild is planned on true sizes.
-- An attempt that landed twice (the same id under another start time, in a later load) counts
-- once, the first landed; found by grouping the keys alone, as such repeats are rare.
WITH raw AS NOT MATERIALIZED (
    SELECT * FROM raw_attempts
    WHERE getvariable('rl_derive_scope') IS NULL
       OR (logical_request_id IN (SELECT logical_request_id FROM derive_scope)
           AND started_at >= getvariable('rl_derive_since'))
),
repeated_keys AS (
    SELECT logical_request_id, attempt_id FROM raw
    GROUP BY logical_request_id, attempt_id
    HAVING count(*) > 1
),
repeated AS (
    SELECT logical_request_id, attempt_id, min((ingested_at, load_id, source_line)) AS first_landed
    FROM raw SEMI JOIN repeated_keys USING (logical_request_id, attempt_id)
    GROUP BY logical_request_id, attempt_id
),
deduped AS (
    SELECT r.*
    FROM raw r
    LEFT JOIN repeated d USING (logical_request_id, attempt_id)
    WHERE d.first_landed IS NULL OR (r.ingested_at, r.load_id, r.source_line) = d.first_landed
),
counts AS (
    SELECT
        *,
        coalesce(input_tokens, 0) AS n_in,
        coalesce(cached_input_tokens, 0) AS n_cached,
        coalesce(cache_write_tokens, 0) AS n_cw,
        least(coalesce(cache_write_1h_tokens, 0), coalesce(cache_write_tokens, cache_write_1h_tokens, 0)) AS n_cw1h,
        coalesce(output_tokens, 0) AS n_out,
        coalesce(reasoning_tokens, 0) AS n_reason
    FROM deduped
)
SELECT
    load_id, source, source_file, source_line, attempt_id, logical_request_id,
    attempt_index AS source_attempt_index,
    started_at, ended_at, ttft_ms, latency_ms,
    provider, requested_model, served_model, deployment_id, base_model,
    task AS task_hint, team, user_id, key_hash, key_alias, route, agent_name, conversation_id,
    CASE WHEN input_includes_cached THEN n_in ELSE n_in + n_cached + n_cw END AS prompt_tokens,
    CASE WHEN input_includes_cached THEN greatest(n_in - n_cached - n_cw, 0) ELSE n_in END
        AS fresh_input_tokens,
    n_cached AS cache_read_tokens,
    n_cw - n_cw1h AS cache_write_5m_tokens,
    n_cw1h AS cache_write_1h_tokens,
    CASE WHEN output_includes_reasoning THEN n_out ELSE n_out + n_reason END AS output_tokens,
    n_reason AS reasoning_tokens,
    input_includes_cached, output_includes_reasoning,
    -- whether the log counted any tokens at all: without counts there is nothing to price
    coalesce(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens,
             reasoning_tokens) IS NOT NULL AS has_token_counts,
    status, error_class, error_type, http_status,
    gateway_cache_hit, streamed, reported_cost_usd, validation_passed, quality_score,
    ingested_at
FROM counts
