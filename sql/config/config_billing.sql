-- grain: one failed-attempt billing rule of routeledger.toml
-- key: provider (NULL: the default for every provider)
-- [billing] and [billing.providers.<slug>] of routeledger.toml, copied here before each rebuild:
-- what a failed attempt costs (usage: the logged tokens at the price in force; reported: the
-- gateway's reported cost, else usage; none: nothing) and the error classes never billed.
CREATE TABLE IF NOT EXISTS config_billing (
    provider                  VARCHAR,
    failed_attempts           VARCHAR NOT NULL,
    not_billed_error_classes  VARCHAR[] NOT NULL
);
