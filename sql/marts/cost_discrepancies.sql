-- grain: one (provider, model: canonical) whose gateway-reported cost differs from the recomputed one
-- key: provider, model
-- materialize: table
-- An attempt differs when |reported - computed| exceeds both $0.000001 and 5% of the computed cost.
WITH both_costs AS (
    SELECT * FROM attempts
    WHERE reported_cost_usd IS NOT NULL AND computed_cost_usd IS NOT NULL AND NOT gateway_cache_hit
),
flagged AS (
    SELECT *, reported_cost_usd - computed_cost_usd AS diff
    FROM both_costs
    WHERE abs(reported_cost_usd - computed_cost_usd) > greatest(0.000001, 0.05 * abs(computed_cost_usd))
)
SELECT
    provider,
    model,
    count(*) AS attempts,
    sum(reported_cost_usd) AS reported_usd,
    sum(computed_cost_usd) AS computed_usd,
    sum(diff) AS difference_usd,
    min(started_at) AS first_seen,
    max(started_at) AS last_seen,
    any_value(price_source) AS price_source
FROM flagged
GROUP BY provider, model
