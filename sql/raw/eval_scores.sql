-- grain: one imported evaluation score
-- key: import_id, source_line
-- Offline evaluation scores imported with `routeledger evals import FILE.csv` (task, model,
-- score in [0, 1]); the tuner uses the mean of the latest import per (task, model) as quality.
CREATE TABLE IF NOT EXISTS eval_scores (
    import_id    VARCHAR NOT NULL,
    imported_at  TIMESTAMP NOT NULL,
    source_file  VARCHAR NOT NULL,
    source_line  BIGINT NOT NULL,
    task         VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,     -- a manifest provider name or the model as logged
    score        DOUBLE NOT NULL
);
