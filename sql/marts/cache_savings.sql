-- grain: one price version an attempt can be priced at (standard variant)
-- key: price_version_id
-- What the prompt cache saves per million cached-read input tokens at a price version: what
-- those tokens would cost as fresh input less what they cost as cache reads, after the
-- version's discount, exactly as int_attempts_priced charges them (a cache read without a
-- cached price is charged at the input price: nothing saved). attempts.price_version_id names
-- the version each attempt was priced at (the price in force, its tier and time window), so
-- what the cache saved on an attempt is cache_read_tokens * saved_per_mtok / 1,000,000.
WITH versions AS (
    SELECT * FROM stg_prices__versions WHERE variant = 'standard'
)
SELECT
    version_id AS price_version_id,
    source,
    provider,
    model_id,
    input_per_mtok,
    cached_input_per_mtok,
    discount_pct,
    (coalesce(input_per_mtok, 0) - coalesce(cached_input_per_mtok, input_per_mtok, 0))
        * (1 - discount_pct / 100) AS saved_per_mtok
FROM versions
