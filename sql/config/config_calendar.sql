-- grain: one row: the configured calendar
-- key: (none: one row)
-- The calendar of routeledger.toml (one row): the time zone and week start that days, weeks and
-- months are cut in. Copied here before each rebuild.
CREATE TABLE IF NOT EXISTS config_calendar (
    timezone    VARCHAR NOT NULL,
    week_start  INTEGER NOT NULL  -- ISO day of week: 1 = Monday .. 7 = Sunday
);
