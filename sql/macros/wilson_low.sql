-- grain: a scalar macro (no rows)
-- key: (none)
-- Lower bound of the 95% Wilson score interval for k successes in n trials (NULL when n = 0).
CREATE OR REPLACE MACRO wilson_low(k, n) AS CASE WHEN n > 0 THEN
    ((k / n + 1.96 * 1.96 / (2 * n)) - 1.96 * sqrt((k / n) * (1 - k / n) / n + 1.96 * 1.96 / (4 * n * n)))
    / (1 + 1.96 * 1.96 / n) END;
