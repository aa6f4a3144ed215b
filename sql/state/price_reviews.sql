-- grain: one price change held for review
-- key: review_id
-- Price changes held for a person: a move beyond prices.review_factor, or a model that vanished
-- from its source. While pending (or rejected) the last known price stays in force;
-- `routeledger prices confirm MODEL [--source S] [--reject]` decides. review_id is a hash of
-- (source, provider, model_id, kind, fingerprint of the new price list), so one change is one
-- review however many refreshes see it.
CREATE TABLE IF NOT EXISTS price_reviews (
    review_id    VARCHAR NOT NULL PRIMARY KEY,
    source       VARCHAR NOT NULL,
    provider     VARCHAR NOT NULL,
    model_id     VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,   -- price_jump | vanished
    status       VARCHAR NOT NULL,   -- pending | confirmed | rejected
    detected_at  TIMESTAMP NOT NULL, -- observed_at of the first refresh that showed the change
    refresh_id   VARCHAR NOT NULL,
    detail       VARCHAR NOT NULL,   -- one line, e.g. "input_per_mtok 3 -> 30 (x10)"
    decided_at   TIMESTAMP,
    decided_by   VARCHAR
);
