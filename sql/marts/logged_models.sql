-- grain: one distinct logged model (provider, logged model, requested model, base model)
-- key: provider, logged_model, requested_model, base_model
-- The priced model each logged model resolved to (priced_model_id NULL = unmatched, with the
-- reason) and the rule that matched it; model_provider / model: the canonical identity the other
-- pages show for it (model_snapshot: the dated snapshot folded away).
WITH matches AS (
    SELECT * FROM stg_prices__model_matches
)
SELECT
    provider,
    logged_model,
    requested_model,
    base_model,
    priced_provider,
    priced_model_id,
    match_rule,
    reason,
    matched_at,
    model_provider,
    model,
    model_snapshot
FROM matches
