-- grain: a scalar macro (no rows)
-- key: (none)
-- Whether time of day t falls in [start, end), a window that may wrap past midnight.
CREATE OR REPLACE MACRO rl_in_window(t, ws, we) AS CASE
    WHEN ws IS NULL THEN true
    WHEN ws <= we THEN t >= ws AND t < we
    ELSE t >= ws OR t < we END;
