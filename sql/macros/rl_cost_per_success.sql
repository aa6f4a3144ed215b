-- grain: a scalar macro (no rows)
-- key: (none)
-- Cost per success, the one rule: the spend of priced requests (or attempts) over their
-- successes, numerator and denominator alike, when coverage (priced / all) reaches
-- rl_cost_min_coverage() and something priced succeeded; otherwise NULL (unknown, never $0).
CREATE OR REPLACE MACRO rl_cost_per_success(priced_spend, priced_successes, coverage) AS
    CASE WHEN coverage >= rl_cost_min_coverage() AND priced_successes > 0
         THEN priced_spend / priced_successes END;
