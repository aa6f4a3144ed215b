-- grain: one attempt
-- key: attempt_id
-- Every attempt priced at the price in force when it started: the logged model resolved through
-- model_matches, then the version of the highest-precedence source valid at started_at (lowest
-- source_rank), inside a time-of-day window when one applies, at the highest tier the request's
-- prompt tokens exceed (the tier prices all of that request's tokens). Gateway cache hits cost 0.
-- Without a price, the gateway-reported cost is used and marked; otherwise the cost is NULL.
-- A log that counted no tokens has nothing to price: its reported cost stands in, as for an
-- unpriced model (never a recomputed $0).
-- A failed attempt costs what the billing policy of its provider says (config [billing]):
-- usage (the logged tokens at the price in force), reported (the gateway's reported cost, else
-- usage) or none; an error class the policy lists as not billed costs 0 ('not_billed').
-- provider and model are the canonical identity (model_matches: slug, no dated snapshot);
-- logged_provider and served_model keep what the log said, model_snapshot the snapshot.
WITH attempts AS (
    SELECT * FROM int_attempts_labeled
),
matches AS (
    SELECT * FROM stg_prices__model_matches
),
billing AS (
    SELECT * FROM stg_config__billing
),
versions AS (
    SELECT * FROM stg_prices__versions WHERE variant = 'standard'
),
matched AS MATERIALIZED (
    SELECT a.*, m.priced_provider, m.priced_model_id, m.match_rule,
        coalesce(m.model_provider, a.provider) AS canonical_provider,
        coalesce(m.model, a.served_model) AS model, m.model_snapshot
    FROM attempts a
    LEFT JOIN matches m
        ON a.provider IS NOT DISTINCT FROM m.provider
        AND a.served_model = m.logged_model
        AND a.requested_model IS NOT DISTINCT FROM m.requested_model
        AND a.base_model IS NOT DISTINCT FROM m.base_model
),
chosen_id AS (
    -- the version in force: lowest source rank, then a time-of-day window over none, the highest
    -- tier, the latest start (keys only: one small row per attempt)
    SELECT t.attempt_id,
        arg_min(v.version_id, (v.source_rank, v.window_start_utc IS NULL,
                               -v.tier_min_prompt_tokens, -epoch_us(v.valid_from), v.version_id))
            AS version_id
    FROM matched t
    JOIN versions v
        ON v.provider = t.priced_provider AND v.model_id = t.priced_model_id
        AND t.started_at >= v.valid_from AND (v.valid_to IS NULL OR t.started_at < v.valid_to)
        AND (v.tier_min_prompt_tokens = 0 OR t.prompt_tokens > v.tier_min_prompt_tokens)
        AND rl_in_window(t.started_at::TIME, v.window_start_utc, v.window_end_utc)
        AND (NOT v.weekdays_only OR isodow(t.started_at) <= 5)
    GROUP BY t.attempt_id
),
costed AS (
    SELECT
        t.*,
        p.version_id AS price_version_id,
        p.source AS price_source,
        CASE WHEN p.version_id IS NULL OR NOT t.has_token_counts THEN NULL ELSE ((
              t.fresh_input_tokens * coalesce(p.input_per_mtok, 0)
            + t.cache_read_tokens * coalesce(p.cached_input_per_mtok, p.input_per_mtok, 0)
            + t.cache_write_5m_tokens * coalesce(p.cache_write_5m_per_mtok, p.input_per_mtok, 0)
            + t.cache_write_1h_tokens
                * coalesce(p.cache_write_1h_per_mtok, p.cache_write_5m_per_mtok, p.input_per_mtok, 0)
            + CASE WHEN p.reasoning_per_mtok IS NULL
                   THEN t.output_tokens * coalesce(p.output_per_mtok, 0)
                   ELSE (t.output_tokens - t.reasoning_tokens) * coalesce(p.output_per_mtok, 0)
                        + t.reasoning_tokens * p.reasoning_per_mtok END
            ) * 0.000001 + coalesce(p.per_request, 0))
            * (1 - p.discount_pct / 100) END AS priced_cost
    FROM matched t
    LEFT JOIN chosen_id c USING (attempt_id)  -- a narrow hash table: id -> version
    LEFT JOIN versions p ON p.version_id = c.version_id
),
policed AS (
    SELECT c.*,
        coalesce(bp.failed_attempts, bd.failed_attempts) AS failed_policy,
        status <> 'success' AND (coalesce(bp.failed_attempts, bd.failed_attempts) = 'none'
            OR list_contains(coalesce(bp.not_billed_error_classes, bd.not_billed_error_classes),
                             coalesce(c.error_class, 'other'))) AS not_billed
    FROM costed c
    CROSS JOIN (SELECT * FROM billing WHERE provider IS NULL LIMIT 1) bd
    LEFT JOIN billing bp
        ON bp.provider IS NOT NULL AND bp.provider = c.canonical_provider
)
SELECT
    * EXCLUDE (priced_cost, provider, canonical_provider, failed_policy, not_billed),
    canonical_provider AS provider,
    provider AS logged_provider,
    CASE WHEN gateway_cache_hit THEN 0
         WHEN not_billed THEN 0
         WHEN status <> 'success' AND failed_policy = 'reported' AND reported_cost_usd IS NOT NULL
             THEN reported_cost_usd
         WHEN priced_cost IS NOT NULL THEN priced_cost
         ELSE reported_cost_usd END::DECIMAL(24, 12) AS cost_usd,
    CASE WHEN gateway_cache_hit THEN 'cache_hit'
         WHEN not_billed THEN 'not_billed'
         WHEN status <> 'success' AND failed_policy = 'reported' AND reported_cost_usd IS NOT NULL
             THEN 'reported'
         WHEN priced_cost IS NOT NULL THEN 'computed'
         WHEN reported_cost_usd IS NOT NULL THEN 'reported'
         ELSE 'unpriced' END AS cost_basis,
    CASE WHEN status = 'success' THEN NULL ELSE failed_policy END AS billing_policy,
    priced_cost::DECIMAL(24, 12) AS computed_cost_usd
FROM policed
