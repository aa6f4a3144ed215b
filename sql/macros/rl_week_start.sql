-- grain: a scalar macro (no rows)
-- key: (none)
-- The first day of the week containing day d, for a week starting on ISO weekday ws (1 = Monday).
CREATE OR REPLACE MACRO rl_week_start(d, ws) AS (d - to_days(((isodow(d) - ws + 7) % 7)::INTEGER))::DATE;
