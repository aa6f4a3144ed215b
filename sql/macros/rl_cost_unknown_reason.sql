-- grain: a scalar macro (no rows)
-- key: (none)
-- Why rl_cost_per_success is NULL, in words every surface shows as is ("only 76% of requests
-- priced"); NULL when it is known. unit: 'request' or 'attempt'.
CREATE OR REPLACE MACRO rl_cost_unknown_reason(coverage, priced_successes, unit) AS
    CASE WHEN coverage < rl_cost_min_coverage()
             THEN printf('only %d%% of %ss priced', floor(coverage * 100)::INTEGER, unit)
         WHEN priced_successes = 0 THEN printf('no priced %s succeeded', unit) END;
