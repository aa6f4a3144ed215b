-- grain: one line of a provider's usage or cost export, in one import
-- key: import_id, line_key
-- What the providers billed, as their exports say it (OpenAI's Costs and Usage API pages and
-- cost CSV, Anthropic's cost and usage reports and cost CSV), append-only, stamped with the
-- import that landed it. An import covers whole UTC days of one provider and kind: the latest
-- import of a (provider, kind, day) is the bill of that day (stg_bills__lines), so importing an
-- export again, or two exports that overlap, never counts a day twice. line_key is the hash of
-- what makes a line one line (day, project, model as billed, token class, line item, tier).
-- An empty day (the export's bucket had nothing) is one line with empty_day = true and $0.
CREATE TABLE IF NOT EXISTS provider_bills (
    import_id      VARCHAR NOT NULL,
    imported_at    TIMESTAMP NOT NULL,  -- UTC
    line_key       VARCHAR NOT NULL,
    provider       VARCHAR NOT NULL,    -- canonical slug: openai, anthropic
    kind           VARCHAR NOT NULL,    -- cost | usage
    export_format  VARCHAR NOT NULL,    -- openai-costs, openai-usage, openai-costs-csv, ...
    day            DATE NOT NULL,       -- the UTC day of the export's bucket
    project        VARCHAR,             -- OpenAI project_id, Anthropic workspace
    model          VARCHAR,             -- canonical model (no dated snapshot); NULL: not said
    billed_model   VARCHAR,             -- the model as the export wrote it
    token_class    VARCHAR,             -- input | cached_input | cache_write_5m | cache_write_1h
                                        -- | output | other; NULL: every class together
    line_item      VARCHAR,             -- the export's own label of the line
    service_tier   VARCHAR,
    amount_usd     DECIMAL(18, 9),      -- cost lines; NULL on a usage line
    tokens         BIGINT,              -- usage lines (and cost lines that carry a quantity)
    requests       BIGINT,
    empty_day      BOOLEAN NOT NULL,
    source_file    VARCHAR NOT NULL,    -- the file imported, or the endpoint fetched
    source_line    BIGINT NOT NULL      -- the CSV line, or the result's place in the export
);
