-- grain: the one calendar of the configuration (UTC, weeks from Monday when none is configured)
-- key: (one row)
SELECT coalesce(max(timezone), 'UTC') AS timezone, coalesce(max(week_start), 1) AS week_start
FROM config_calendar
