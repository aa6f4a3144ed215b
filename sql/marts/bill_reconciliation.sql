-- grain: one UTC day x provider x model that a provider's cost bill covers
-- key: day, provider, model
-- Billed against recomputed against gateway-reported cost, per UTC day and provider, and per
-- model when the bill names models (else model '(all)': the day's whole bill; a billed line
-- without a model, such as web search, is model '(other)'). Only days a cost export covers.
-- drift_usd = billed - recomputed (positive: the provider billed more than RouteLedger
-- computed); drift_share = drift_usd / billed_usd. reported_drift_* compare the bill with the
-- gateway's own logged cost. recomputed_usd is NULL when the gateway logged attempts and none
-- had a price (unknown, never $0), and $0 when it logged none.
-- origin names where the gap comes from, the first that fits (tolerance: $0.01 or 1% of the
-- bill, whichever is larger):
--   bill_only            billed, but no attempt in the gateway's logs (calls that bypassed the
--                        gateway, another key, or a model name that maps to none of the logged)
--   gateway_only         attempts logged, nothing billed for them
--   unpriced             the gateway's attempts have no price, so RouteLedger's figure is short
--   matches              within the tolerance
--   failed_billed        the gap is what failed attempts cost that the billing policy counts
--                        as free: the provider billed them
--   failed_not_billed    the gap is what failed attempts cost: the provider did not bill them
--   cache_counted_twice  the gap is the cache reads at the fresh input price: cached tokens
--                        counted as input as well
--   cache_tokens         most of the gap sits in the cache token classes of the bill
--   unexplained          none of the above
WITH bills AS (
    SELECT * FROM stg_bills__lines
),
gateway AS (
    SELECT * FROM bill_gateway_days
),
classes AS (
    SELECT * FROM bill_reconciliation_classes
),
covered AS (
    SELECT provider, day, coalesce(bool_or(model IS NOT NULL AND NOT empty_day), false) AS by_model
    FROM bills
    WHERE kind = 'cost'
    GROUP BY provider, day
),
keyed AS (
    SELECT b.*,
        CASE WHEN v.by_model THEN coalesce(b.model, '(other)') ELSE '(all)' END AS model_key
    FROM bills b
    JOIN covered v USING (provider, day)
    WHERE NOT (b.empty_day AND v.by_model)
),
billed AS (
    SELECT day, provider, model_key AS model,
        sum(amount_usd) FILTER (WHERE kind = 'cost') AS billed_usd,
        count(*) FILTER (WHERE kind = 'cost' AND NOT empty_day) AS bill_lines,
        sum(tokens) FILTER (WHERE kind = 'usage') AS billed_tokens,
        string_agg(DISTINCT export_format, ', ' ORDER BY export_format) AS exports
    FROM keyed
    GROUP BY ALL
),
logged AS (
    SELECT g.utc_day AS day, g.provider,
        CASE WHEN v.by_model THEN g.model ELSE '(all)' END AS model,
        sum(g.attempts) AS attempts,
        sum(g.failed_attempts) AS failed_attempts,
        sum(g.unpriced_attempts) AS unpriced_attempts,
        sum(g.reported_attempts) AS reported_attempts,
        sum(g.recomputed_usd) AS recomputed_usd,
        sum(g.reported_usd) AS reported_usd,
        sum(g.failed_usd) AS failed_usd,
        sum(g.failed_unbilled_usd) AS failed_unbilled_usd,
        sum(g.cache_read_full_usd) AS cache_read_full_usd,
        sum(g.tokens_input + g.tokens_cached_input + g.tokens_cache_write_5m
            + g.tokens_cache_write_1h + g.tokens_output) AS gateway_tokens
    FROM gateway g
    JOIN covered v ON v.provider = g.provider AND v.day = g.utc_day
    GROUP BY ALL
),
cache_drift AS (
    SELECT day, provider, model,
        sum(drift_usd) FILTER (WHERE token_class IN ('cached_input', 'cache_write_5m',
                                                     'cache_write_1h')) AS cache_drift_usd
    FROM classes
    GROUP BY ALL
),
joined AS (
    SELECT
        day,
        provider,
        model,
        coalesce(b.billed_usd, 0)::DECIMAL(18, 9) AS billed_usd,
        coalesce(b.bill_lines, 0) AS bill_lines,
        b.billed_tokens,
        b.exports,
        coalesce(l.attempts, 0) AS attempts,
        coalesce(l.failed_attempts, 0) AS failed_attempts,
        coalesce(l.unpriced_attempts, 0) AS unpriced_attempts,
        coalesce(l.reported_attempts, 0) AS reported_attempts,
        CASE WHEN coalesce(l.attempts, 0) = 0 THEN 0 ELSE l.recomputed_usd END
            ::DECIMAL(24, 12) AS recomputed_usd,
        l.reported_usd,
        l.failed_usd,
        l.failed_unbilled_usd,
        l.cache_read_full_usd,
        l.gateway_tokens,
        c.cache_drift_usd
    FROM billed b
    FULL JOIN logged l USING (day, provider, model)
    LEFT JOIN cache_drift c USING (day, provider, model)
),
drifts AS (
    SELECT *,
        billed_usd - recomputed_usd AS drift_usd,
        CASE WHEN reported_attempts > 0 THEN billed_usd - reported_usd END AS reported_drift_usd,
        greatest(0.01, 0.01 * abs(billed_usd)) AS tolerance_usd
    FROM joined
)
SELECT
    day,
    provider,
    model,
    billed_usd,
    recomputed_usd,
    reported_usd,
    drift_usd,
    CASE WHEN billed_usd <> 0 THEN (drift_usd / billed_usd)::DOUBLE END AS drift_share,
    reported_drift_usd,
    CASE WHEN billed_usd <> 0 THEN (reported_drift_usd / billed_usd)::DOUBLE END
        AS reported_drift_share,
    CASE
        WHEN attempts = 0 THEN 'bill_only'
        WHEN bill_lines = 0 AND billed_usd = 0 THEN 'gateway_only'
        WHEN recomputed_usd IS NULL THEN 'unpriced'
        WHEN abs(drift_usd) <= tolerance_usd THEN 'matches'
        WHEN unpriced_attempts > 0 AND drift_usd > 0 THEN 'unpriced'
        WHEN coalesce(failed_unbilled_usd, 0) > 0
             AND abs(drift_usd - failed_unbilled_usd) <= tolerance_usd THEN 'failed_billed'
        WHEN coalesce(failed_usd, 0) > 0
             AND abs(drift_usd + failed_usd) <= tolerance_usd THEN 'failed_not_billed'
        WHEN coalesce(cache_read_full_usd, 0) > 0
             AND abs(drift_usd + cache_read_full_usd) <= tolerance_usd THEN 'cache_counted_twice'
        WHEN cache_drift_usd IS NOT NULL
             AND abs(drift_usd - cache_drift_usd) < 0.5 * abs(drift_usd) THEN 'cache_tokens'
        ELSE 'unexplained'
    END AS origin,
    tolerance_usd,
    attempts,
    failed_attempts,
    unpriced_attempts,
    reported_attempts,
    failed_usd,
    failed_unbilled_usd,
    cache_read_full_usd,
    cache_drift_usd,
    billed_tokens,
    gateway_tokens,
    bill_lines,
    exports
FROM drifts
