-- grain: one UTC day x provider x model x token class of a bill that names token classes
-- key: day, provider, model, token_class
-- Where a model's drift sits, class by class: what the provider billed for each token class
-- (and the tokens its usage export counted) against RouteLedger's cost of the same class and
-- the tokens the gateway logged. Only the days whose cost bill names models and token classes
-- (OpenAI's costs by line_item, Anthropic's cost report by description); a line of the bill
-- without a model is model '(other)', without a class 'other'. The gateway's 'other' holds
-- per-request fees and the costs it could not split (a reported cost standing in).
WITH bills AS (
    SELECT * FROM stg_bills__lines WHERE NOT empty_day
),
gateway AS (
    SELECT * FROM bill_gateway_days
),
classed_days AS (
    SELECT provider, day
    FROM bills
    WHERE kind = 'cost'
    GROUP BY provider, day
    HAVING bool_or(model IS NOT NULL) AND bool_or(token_class IS NOT NULL)
),
billed AS (
    SELECT b.day, b.provider, coalesce(b.model, '(other)') AS model,
        coalesce(b.token_class, 'other') AS token_class,
        sum(b.amount_usd) FILTER (WHERE b.kind = 'cost') AS billed_usd,
        sum(b.tokens) FILTER (WHERE b.kind = 'usage') AS billed_tokens
    FROM bills b
    JOIN classed_days USING (provider, day)
    GROUP BY ALL
),
gateway_days AS (
    SELECT g.utc_day AS day, g.provider, g.model,
        sum(tokens_input) AS tokens_input, sum(tokens_cached_input) AS tokens_cached_input,
        sum(tokens_cache_write_5m) AS tokens_cache_write_5m,
        sum(tokens_cache_write_1h) AS tokens_cache_write_1h, sum(tokens_output) AS tokens_output,
        sum(usd_input) AS usd_input, sum(usd_cached_input) AS usd_cached_input,
        sum(usd_cache_write_5m) AS usd_cache_write_5m,
        sum(usd_cache_write_1h) AS usd_cache_write_1h, sum(usd_output) AS usd_output,
        sum(usd_other) AS usd_other, sum(unpriced_attempts) AS unpriced_attempts
    FROM gateway g
    JOIN classed_days c ON c.provider = g.provider AND c.day = g.utc_day
    GROUP BY ALL
),
gateway_classes AS (
    SELECT day, provider, model, token_class, tokens, recomputed_usd, unpriced_attempts
    FROM gateway_days,
    LATERAL (VALUES
        ('input', tokens_input, usd_input),
        ('cached_input', tokens_cached_input, usd_cached_input),
        ('cache_write_5m', tokens_cache_write_5m, usd_cache_write_5m),
        ('cache_write_1h', tokens_cache_write_1h, usd_cache_write_1h),
        ('output', tokens_output, usd_output),
        ('other', NULL, usd_other)
    ) AS c(token_class, tokens, recomputed_usd)
)
SELECT
    day,
    provider,
    model,
    token_class,
    coalesce(b.billed_usd, 0)::DECIMAL(18, 9) AS billed_usd,
    b.billed_tokens,
    g.recomputed_usd,
    g.tokens AS gateway_tokens,
    coalesce(b.billed_usd, 0) - g.recomputed_usd AS drift_usd,
    CASE WHEN coalesce(b.billed_usd, 0) <> 0
         THEN ((coalesce(b.billed_usd, 0) - g.recomputed_usd) / b.billed_usd)::DOUBLE END
        AS drift_share,
    b.billed_tokens - g.tokens AS token_drift
FROM billed b
FULL JOIN gateway_classes g USING (day, provider, model, token_class)
WHERE coalesce(b.billed_usd, 0) <> 0 OR coalesce(g.recomputed_usd, 0) <> 0
    OR coalesce(b.billed_tokens, 0) <> 0 OR coalesce(g.tokens, 0) <> 0
