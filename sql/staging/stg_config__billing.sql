-- grain: one failed-attempt billing rule (provider NULL: the default)
-- key: provider
-- The rules of config_billing; a warehouse whose configuration was never copied bills the
-- logged usage of every failed attempt.
SELECT provider, failed_attempts, not_billed_error_classes FROM config_billing
UNION ALL
SELECT NULL, 'usage', []::VARCHAR[]
WHERE NOT EXISTS (SELECT 1 FROM config_billing WHERE provider IS NULL)
