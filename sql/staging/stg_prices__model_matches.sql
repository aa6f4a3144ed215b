-- grain: one distinct logged model (provider, logged model, requested model, base model)
-- key: provider, logged_model, requested_model, base_model
SELECT provider, logged_model, requested_model, base_model, priced_provider, priced_model_id,
       match_rule, reason, matched_at, model_provider, model, model_snapshot
FROM model_matches
QUALIFY row_number() OVER (
    PARTITION BY provider, logged_model, requested_model, base_model ORDER BY matched_at DESC) = 1
