-- grain: one UTC day x local day x provider x model (canonical) of the gateway's attempts
-- key: utc_day, local_day, provider, model
-- materialize: table
-- incremental: local_day
-- What the gateway's logs say a provider should bill, per UTC day (the providers' bills are
-- UTC days) and per token class, for the reconciliation with the providers' bills.
-- recomputed_usd is RouteLedger's own cost (cost_usd: the price in force, the billing policy);
-- reported_usd the gateway's logged cost. usd_<class> split an attempt priced from its tokens
-- (cost_basis computed) by token class at the price version it was priced with; usd_other holds
-- its per-request fee and rounding, and the whole cost of an attempt that is not split (its
-- reported cost standing in). Tokens are those the provider saw: gateway cache hits excluded.
-- failed_unbilled_usd is what the failed attempts the billing policy counts as free would
-- cost at their usage; cache_read_full_usd what their cache reads would cost at the fresh
-- input price (the evidence a drift's origin is named with). NULL money is
-- unknown (every attempt of the row unpriced), never $0. local_day is kept so the mart is
-- updated per local day like spend_per_day.
WITH attempts AS (
    SELECT * FROM attempts WHERE NOT gateway_cache_hit
),
versions AS (
    SELECT * FROM stg_prices__versions
),
priced AS (
    SELECT
        a.started_at::DATE AS utc_day,
        a.local_day,
        a.provider,
        a.model,
        a.status,
        a.cost_basis,
        a.cost_usd,
        a.computed_cost_usd,
        a.reported_cost_usd,
        a.fresh_input_tokens,
        a.cache_read_tokens,
        a.cache_write_5m_tokens,
        a.cache_write_1h_tokens,
        a.output_tokens,
        a.reasoning_tokens,
        a.cost_basis = 'computed' AS split,
        (1 - coalesce(v.discount_pct, 0) / 100) * 0.000001 AS k,
        v.input_per_mtok,
        coalesce(v.cached_input_per_mtok, v.input_per_mtok, 0) AS cached_price,
        coalesce(v.cache_write_5m_per_mtok, v.input_per_mtok, 0) AS cw5_price,
        coalesce(v.cache_write_1h_per_mtok, v.cache_write_5m_per_mtok, v.input_per_mtok, 0)
            AS cw1_price,
        v.output_per_mtok,
        v.reasoning_per_mtok
    FROM attempts a
    LEFT JOIN versions v ON v.version_id = a.price_version_id
),
classed AS (
    SELECT *,
        CASE WHEN split THEN (fresh_input_tokens * coalesce(input_per_mtok, 0) * k)
            ::DECIMAL(24, 12) END AS c_input,
        CASE WHEN split THEN (cache_read_tokens * cached_price * k)::DECIMAL(24, 12) END
            AS c_cached,
        CASE WHEN split THEN (cache_write_5m_tokens * cw5_price * k)::DECIMAL(24, 12) END
            AS c_cw5,
        CASE WHEN split THEN (cache_write_1h_tokens * cw1_price * k)::DECIMAL(24, 12) END
            AS c_cw1,
        CASE WHEN NOT split THEN NULL
             WHEN reasoning_per_mtok IS NULL
                 THEN (output_tokens * coalesce(output_per_mtok, 0) * k)::DECIMAL(24, 12)
             ELSE ((output_tokens - reasoning_tokens) * coalesce(output_per_mtok, 0) * k
                   + reasoning_tokens * reasoning_per_mtok * k)::DECIMAL(24, 12) END AS c_output
    FROM priced
)
SELECT
    utc_day,
    local_day,
    provider,
    model,
    count(*) AS attempts,
    count(*) FILTER (WHERE status <> 'success') AS failed_attempts,
    count(*) FILTER (WHERE cost_basis = 'unpriced') AS unpriced_attempts,
    count(*) FILTER (WHERE reported_cost_usd IS NOT NULL) AS reported_attempts,
    sum(cost_usd) AS recomputed_usd,
    sum(reported_cost_usd) AS reported_usd,
    sum(cost_usd) FILTER (WHERE status <> 'success') AS failed_usd,
    sum(computed_cost_usd) FILTER (WHERE cost_basis = 'not_billed') AS failed_unbilled_usd,
    sum(CASE WHEN split THEN (cache_read_tokens * coalesce(input_per_mtok, 0) * k)
        ::DECIMAL(24, 12) END) AS cache_read_full_usd,
    sum(fresh_input_tokens) AS tokens_input,
    sum(cache_read_tokens) AS tokens_cached_input,
    sum(cache_write_5m_tokens) AS tokens_cache_write_5m,
    sum(cache_write_1h_tokens) AS tokens_cache_write_1h,
    sum(output_tokens) AS tokens_output,
    sum(c_input) AS usd_input,
    sum(c_cached) AS usd_cached_input,
    sum(c_cw5) AS usd_cache_write_5m,
    sum(c_cw1) AS usd_cache_write_1h,
    sum(c_output) AS usd_output,
    sum(CASE WHEN split THEN cost_usd - c_input - c_cached - c_cw5 - c_cw1 - c_output
             ELSE cost_usd END) AS usd_other
FROM classed
GROUP BY utc_day, local_day, provider, model
