-- grain: one [[tasks.rules]] entry of routeledger.toml
-- key: position
-- The [[tasks.rules]] of routeledger.toml, copied here before each rebuild so the SQL layer can
-- label attempts; position is the rule's order in the file (first match wins).
CREATE TABLE IF NOT EXISTS config_task_rules (
    position  INTEGER NOT NULL,
    field     VARCHAR NOT NULL,
    pattern   VARCHAR NOT NULL,
    task      VARCHAR NOT NULL
);
