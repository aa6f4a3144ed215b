-- grain: one incident: an error spike, rate-limit storm, P95 regression, price change or new unpriced model
-- key: incident_id
-- What happened to whom (provider, model: canonical, as the pages name it; an unpriced model as
-- logged) and when: start_at (inclusive) to end_at (exclusive), UTC, and the local days
-- first_day .. last_day it touches; how big in numbers (value against baseline, ratio, affected
-- of n) and in words (summary: numbers only, never a logged string); page: where the dashboard
-- shows it. incident_id hashes the kind, the subject and the start (a price change: its price
-- version), so it stays the same while an incident grows: incident_alerts sends each once.
--
-- Thresholds (defaults; all in the thresholds CTE below):
-- * error_spike (failed attempts other than rate limits) and rate_limit_storm (rate-limited
--   attempts), per provider, model and UTC hour: at least 20 attempts and 5 of the kind in the
--   hour; baseline = the kind's share of the model's attempts in the 168 hours before it, over
--   at least 100 attempts; the hour spikes when the 95% Wilson lower bound of its share is at
--   least 2x the baseline and at least 10 points above it. Consecutive hours are one incident.
--   The same rule per local day (baseline: the 7 days before) catches models too quiet for an
--   hour's test, on days with no spiking hour of that kind.
-- * p95_regression, per provider, model and local day: at least 30 successful attempts and a
--   P95 at least 1.5x the baseline and 200 ms above it; baseline = the median daily P95 of the
--   7 days before (days with 30 successes, at least 3 of them). It lasts until two days in a
--   row with 30 successes are back under that bar against the same baseline (or is still on).
-- * price_change: a change of the price in force for a model in the logs: the standard,
--   untiered, all-day price of the source that prices it now (price_changes).
-- * unpriced_model: a logged model with attempts neither a price nor the gateway's reported
--   cost covers (unpriced_usage), dated by its first attempt.
WITH thresholds AS (
    SELECT
        20 AS min_attempts,             -- attempts in the hour (day) tested
        5 AS min_failed,                -- of them failed with the kind
        100 AS min_baseline_attempts,   -- attempts in the baseline window
        2.0 AS spike_factor,            -- Wilson low >= factor x baseline share ...
        0.10 AS spike_margin,           -- ... and >= baseline share + margin
        30 AS min_latency_n,            -- successful attempts a day needs for its P95
        3 AS min_baseline_days,         -- such days among the 7 before
        1.5 AS p95_factor,              -- P95 >= factor x baseline ...
        200.0 AS p95_margin_ms          -- ... and >= baseline + margin
),
calendar AS (
    SELECT * FROM stg_config__calendar
),
hour_counts AS (
    SELECT * FROM incident_hours
),
model_days AS (
    SELECT * FROM incident_model_days
),
changes AS (
    SELECT * FROM price_changes
),
versions AS (
    SELECT * FROM stg_prices__versions
),
matches AS (
    SELECT * FROM stg_prices__model_matches
),
unpriced AS (
    SELECT * FROM unpriced_usage
),

-- error spikes and rate-limit storms ------------------------------------------------------------
counted AS (
    SELECT 'hour' AS grain, hour_utc AS period, provider, model,
        min(local_day) AS first_day, max(local_day) AS last_day, sum(attempts)::BIGINT AS attempts,
        sum(errors)::BIGINT AS errors, sum(rate_limited)::BIGINT AS rate_limited
    FROM hour_counts GROUP BY hour_utc, provider, model
    UNION ALL
    SELECT 'day', local_day::TIMESTAMP, provider, model, local_day, local_day,
        sum(attempts)::BIGINT, sum(errors)::BIGINT, sum(rate_limited)::BIGINT
    FROM hour_counts GROUP BY local_day, provider, model
),
failures AS (
    SELECT grain, 'error_spike' AS kind, period, provider, model, first_day, last_day, attempts,
        errors AS failed
    FROM counted
    UNION ALL
    SELECT grain, 'rate_limit_storm', period, provider, model, first_day, last_day, attempts,
        rate_limited
    FROM counted
),
baselined AS (  -- 168 hours before an hour, or the 7 days before a day
    SELECT *, sum(attempts) OVER w AS base_attempts, sum(failed) OVER w AS base_failed
    FROM failures
    WINDOW w AS (PARTITION BY grain, kind, provider, model ORDER BY period
                 RANGE BETWEEN INTERVAL 168 HOUR PRECEDING AND INTERVAL 1 HOUR PRECEDING)
),
spiking AS (
    SELECT b.*, b.base_failed / b.base_attempts AS base_share
    FROM baselined b, thresholds t
    WHERE b.attempts >= t.min_attempts AND b.failed >= t.min_failed
      AND b.base_attempts >= t.min_baseline_attempts
      AND wilson_low(b.failed, b.attempts) >= greatest(
          t.spike_factor * b.base_failed / b.base_attempts,
          b.base_failed / b.base_attempts + t.spike_margin)
),
spikes AS (  -- a day counts only where no hour of it spiked with the same kind
    SELECT * FROM spiking s
    WHERE s.grain = 'hour' OR NOT EXISTS (
        SELECT 1 FROM spiking h
        WHERE h.grain = 'hour' AND h.kind = s.kind AND h.model = s.model
          AND h.provider IS NOT DISTINCT FROM s.provider
          AND s.first_day BETWEEN h.first_day AND h.last_day)
),
spike_runs AS (  -- consecutive hours (days) of one kind on one model: one incident
    SELECT *, period - CASE grain WHEN 'hour' THEN to_hours(seq) ELSE to_days(seq) END AS run
    FROM (
        SELECT *, row_number() OVER (PARTITION BY grain, kind, provider, model ORDER BY period)
            AS seq
        FROM spikes
    )
),
spike_incidents AS (
    SELECT r.kind, r.grain, r.provider, r.model,
        CASE r.grain WHEN 'hour' THEN min(r.period)
             ELSE timezone('UTC', timezone(any_value(c.timezone), min(r.first_day)::TIMESTAMP))
             END AS start_at,
        CASE r.grain WHEN 'hour' THEN max(r.period) + INTERVAL 1 HOUR
             ELSE timezone('UTC', timezone(any_value(c.timezone), (max(r.last_day) + 1)::TIMESTAMP))
             END AS end_at,
        min(r.first_day) AS first_day,
        max(r.last_day) AS last_day,
        sum(r.failed) / sum(r.attempts) AS value,
        arg_min(r.base_share, r.period) AS baseline,
        sum(r.failed)::BIGINT AS affected,
        sum(r.attempts)::BIGINT AS n,
        count(*) AS periods
    FROM spike_runs r, calendar c
    GROUP BY r.kind, r.grain, r.provider, r.model, r.run
),

-- P95 regressions ---------------------------------------------------------------------------------
latency AS (
    SELECT d.*, d.latency_n >= t.min_latency_n AS enough
    FROM model_days d, thresholds t
),
lat_baselined AS (
    SELECT *,
        median(CASE WHEN enough THEN p95_ms END) OVER w AS base_p95,
        count(CASE WHEN enough THEN 1 END) OVER w AS base_days
    FROM latency
    WINDOW w AS (PARTITION BY provider, model ORDER BY local_day
                 RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING)
),
lat_flagged AS (
    SELECT l.*, l.enough AND l.base_days >= t.min_baseline_days
        AND l.p95_ms >= t.p95_factor * l.base_p95
        AND l.p95_ms - l.base_p95 >= t.p95_margin_ms AS slow
    FROM lat_baselined l, thresholds t
),
lat_starts AS (  -- a slow day after one that was not (days without enough successes skipped)
    SELECT provider, model, local_day AS start_day, base_p95 AS baseline
    FROM (
        SELECT *, lag(slow) OVER (PARTITION BY provider, model ORDER BY local_day) AS was_slow
        FROM lat_flagged WHERE enough
    )
    WHERE slow AND NOT coalesce(was_slow, false)
),
lat_marks AS (  -- each day with enough successes after a start: back under its bar or not
    SELECT s.provider, s.model, s.start_day, l.local_day,
        NOT (l.p95_ms >= t.p95_factor * s.baseline
             AND l.p95_ms - s.baseline >= t.p95_margin_ms) AS back
    FROM lat_starts s
    JOIN latency l
      ON l.provider IS NOT DISTINCT FROM s.provider AND l.model = s.model
     AND l.local_day > s.start_day AND l.enough
    CROSS JOIN thresholds t
),
lat_spans AS (  -- until two such days in a row are back under it (or the last one is)
    SELECT s.provider, s.model, s.start_day, s.baseline,
        min(m.local_day) FILTER (WHERE m.back AND coalesce(m.next_back, true)) AS back_day
    FROM lat_starts s
    LEFT JOIN (
        SELECT *, lead(back) OVER (PARTITION BY provider, model, start_day ORDER BY local_day)
            AS next_back
        FROM lat_marks
    ) m ON m.provider IS NOT DISTINCT FROM s.provider AND m.model = s.model
       AND m.start_day = s.start_day
    GROUP BY s.provider, s.model, s.start_day, s.baseline
),
lat_incidents AS (  -- a start inside an earlier regression's span belongs to it
    SELECT s.provider, s.model, s.baseline,
        s.start_day AS first_day,
        max(l.local_day) AS last_day,
        max(l.p95_ms) FILTER (WHERE l.enough) AS value,
        arg_max(l.local_day, l.p95_ms) FILTER (WHERE l.enough) AS peak_day,
        arg_max(l.latency_n, l.p95_ms) FILTER (WHERE l.enough) AS peak_n,
        sum(l.latency_n)::BIGINT AS n,
        s.back_day IS NULL AS ongoing
    FROM lat_spans s
    JOIN latency l
      ON l.provider IS NOT DISTINCT FROM s.provider AND l.model = s.model
     AND l.local_day >= s.start_day AND (s.back_day IS NULL OR l.local_day < s.back_day)
    WHERE NOT EXISTS (
        SELECT 1 FROM lat_spans e
        WHERE e.provider IS NOT DISTINCT FROM s.provider AND e.model = s.model
          AND e.start_day < s.start_day AND (e.back_day IS NULL OR e.back_day > s.start_day))
    GROUP BY s.provider, s.model, s.baseline, s.start_day, s.back_day
),

-- price changes of models in the logs ---------------------------------------------------------
in_force AS (  -- the source that prices each model now (lowest rank of its plain price)
    SELECT provider, model_id, min(source_rank) AS source_rank
    FROM versions
    WHERE valid_to IS NULL AND variant = 'standard' AND tier_min_prompt_tokens = 0
      AND window_start_utc IS NULL
    GROUP BY provider, model_id
),
logged AS (  -- priced models the logs used, named as the pages name them
    SELECT priced_provider, priced_model_id,
        min(model_provider) AS provider, coalesce(min(model), priced_model_id) AS model
    FROM matches WHERE priced_model_id IS NOT NULL
    GROUP BY priced_provider, priced_model_id
),
price_moves AS (
    SELECT c.*, g.provider AS subject_provider, g.model AS subject_model,
        list_filter([
            {'dim': 'output', 'old': c.prev_output_per_mtok::DOUBLE, 'new': c.output_per_mtok::DOUBLE},
            {'dim': 'input', 'old': c.prev_input_per_mtok::DOUBLE, 'new': c.input_per_mtok::DOUBLE},
            {'dim': 'cached input', 'old': c.prev_cached_input_per_mtok::DOUBLE,
             'new': c.cached_input_per_mtok::DOUBLE}
        ], lambda x: x.old IS DISTINCT FROM x.new) AS moved  -- output first: the headline one
    FROM changes c
    JOIN versions v USING (version_id)
    JOIN in_force f
      ON f.provider = c.provider AND f.model_id = c.model_id AND f.source_rank = v.source_rank
    JOIN logged g ON g.priced_provider = c.provider AND g.priced_model_id = c.model_id
    WHERE c.variant = 'standard' AND c.tier_min_prompt_tokens = 0 AND v.window_start_utc IS NULL
),

-- every incident ----------------------------------------------------------------------------------
found AS (
    SELECT
        substr(md5(concat_ws('|', kind, coalesce(provider, ''), model,
                             strftime(start_at, '%Y-%m-%dT%H:%M:%S'))), 1, 16) AS incident_id,
        kind, grain, provider, model, start_at, end_at, first_day, last_day,
        value, baseline, value / nullif(baseline, 0) AS ratio, affected, n,
        printf('%s of %s attempts %s (%.1f%%) %s, against %.1f%% in the 7 days before%s',
            format('{:,}', affected), format('{:,}', n),
            CASE kind WHEN 'rate_limit_storm' THEN 'rate-limited' ELSE 'failed' END,
            100 * value,
            CASE WHEN grain = 'hour' AND periods = 1 THEN 'in one hour'
                 WHEN grain = 'hour' THEN printf('over %d hours', periods)
                 WHEN periods = 1 THEN 'in one day'
                 ELSE printf('over %d days', periods) END,
            100 * baseline,
            CASE WHEN baseline > 0 THEN printf(' (x%.1f)', value / baseline) ELSE '' END)
            AS summary,
        'reliability' AS page
    FROM spike_incidents
    UNION ALL
    SELECT
        substr(md5(concat_ws('|', 'p95_regression', coalesce(i.provider, ''), i.model,
                             strftime(i.first_day, '%Y-%m-%d'))), 1, 16),
        'p95_regression', 'day', i.provider, i.model,
        timezone('UTC', timezone(c.timezone, i.first_day::TIMESTAMP)),
        timezone('UTC', timezone(c.timezone, (i.last_day + 1)::TIMESTAMP)),
        i.first_day, i.last_day,
        i.value, i.baseline, i.value / nullif(i.baseline, 0), i.peak_n, i.n,
        printf('P95 up to %s ms (%s, n = %s) against %s ms in the 7 days before (x%.1f); %s',
            format('{:,}', round(i.value)::BIGINT), strftime(i.peak_day, '%Y-%m-%d'),
            format('{:,}', i.peak_n), format('{:,}', round(i.baseline)::BIGINT),
            i.value / i.baseline,
            CASE WHEN i.ongoing THEN 'still slow on the last day'
                 WHEN i.last_day = i.first_day THEN 'for one day'
                 ELSE printf('for %d days', (i.last_day - i.first_day) + 1) END),
        'latency'
    FROM lat_incidents i, calendar c
    UNION ALL
    SELECT
        substr(md5('price_change|' || p.version_id), 1, 16),
        'price_change', 'moment', p.subject_provider, p.subject_model,
        p.changed_at, p.changed_at,
        timezone(c.timezone, timezone('UTC', p.changed_at))::DATE,
        timezone(c.timezone, timezone('UTC', p.changed_at))::DATE,
        p.moved[1].new, p.moved[1].old, p.moved[1].new / nullif(p.moved[1].old, 0), NULL, NULL,
        CASE WHEN len(p.moved) = 0
             THEN 'a price other than input, cached input and output changed'
             ELSE array_to_string(list_transform(p.moved, lambda x: CASE
                      WHEN x.old IS NULL THEN printf('%s now $%g', x.dim, x.new)
                      WHEN x.new IS NULL THEN printf('%s no longer listed (was $%g)', x.dim, x.old)
                      ELSE printf('%s $%g -> $%g', x.dim, x.old, x.new) END), ', ')
                  || ' per 1M tokens'
                  || CASE WHEN p.moved[1].old > 0 AND p.moved[1].new IS NOT NULL
                          THEN printf(' (%s %+.0f%%)', p.moved[1].dim,
                                      100 * (p.moved[1].new / p.moved[1].old - 1))
                          ELSE '' END
             END || printf(' (source %s)', p.source),
        'prices'
    FROM price_moves p, calendar c
    UNION ALL
    SELECT
        substr(md5(concat_ws('|', 'unpriced_model', coalesce(u.provider, ''), u.model)), 1, 16),
        'unpriced_model', 'moment', u.provider, u.model,
        u.first_seen, u.first_seen,
        timezone(c.timezone, timezone('UTC', u.first_seen))::DATE,
        timezone(c.timezone, timezone('UTC', u.first_seen))::DATE,
        (u.attempts - u.priced_from_gateway)::DOUBLE, NULL, NULL,
        u.attempts - u.priced_from_gateway, u.attempts,
        printf('%s attempts (%s logical requests) with no price and no gateway-reported cost, '
               'first on %s UTC', format('{:,}', u.attempts - u.priced_from_gateway),
               format('{:,}', u.logical_requests), strftime(u.first_seen, '%Y-%m-%d %H:%M')),
        'prices'
    FROM unpriced u, calendar c
    WHERE u.attempts > u.priced_from_gateway
)
SELECT * FROM found
