-- grain: one logged (provider, served model) with attempts that have no price
-- key: provider, model
-- materialize: table
-- Never priced at $0 silently: each unpriced model with its traffic and why it did not match.
-- provider is the canonical slug, model the name as logged (the name an alias must match).
WITH unpriced AS (
    SELECT * FROM attempts WHERE cost_basis IN ('unpriced', 'reported')
),
matches AS (
    SELECT * FROM stg_prices__model_matches
)
SELECT
    u.provider,
    u.served_model AS model,
    count(*) AS attempts,
    count(DISTINCT u.logical_request_id) AS logical_requests,
    sum(u.prompt_tokens) AS prompt_tokens,
    sum(u.output_tokens) AS output_tokens,
    count(*) FILTER (WHERE u.cost_basis = 'reported') AS priced_from_gateway,
    sum(u.reported_cost_usd) AS reported_cost_usd,
    min(u.started_at) AS first_seen,
    max(u.started_at) AS last_seen,
    coalesce(min(m.reason), 'no price match attempted yet') AS reason  -- one reason, the same every build
FROM unpriced u
LEFT JOIN matches m
    ON u.logged_provider IS NOT DISTINCT FROM m.provider AND u.served_model = m.logged_model
GROUP BY u.provider, u.served_model
