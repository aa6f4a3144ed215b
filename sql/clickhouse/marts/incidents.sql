-- generated from sql/marts/incidents.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one incident: an error spike, rate-limit storm, P95 regression, price change or new unpriced model
-- key: incident_id
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW incidents AS
WITH thresholds AS (
  SELECT
    20 AS min_attempts,
    5 AS min_failed,
    100 AS min_baseline_attempts,
    2.0 AS spike_factor,
    0.10 AS spike_margin,
    30 AS min_latency_n,
    3 AS min_baseline_days,
    1.5 AS p95_factor,
    200.0 AS p95_margin_ms
), calendar AS (
  SELECT
    *
  FROM stg_config__calendar
), hour_counts AS (
  SELECT
    *
  FROM incident_hours
), model_days AS (
  SELECT
    *
  FROM incident_model_days
), changes AS (
  SELECT
    *
  FROM price_changes
), versions AS (
  SELECT
    *
  FROM stg_prices__versions
), matches AS (
  SELECT
    *
  FROM stg_prices__model_matches
), unpriced AS (
  SELECT
    *
  FROM unpriced_usage
), counted AS (
  SELECT
    'hour' AS grain,
    hour_utc AS period,
    provider,
    model,
    MIN(local_day) AS first_day,
    MAX(local_day) AS last_day,
    CAST(SUM(attempts) AS Nullable(Int64)) AS attempts,
    CAST(SUM(errors) AS Nullable(Int64)) AS errors,
    CAST(SUM(rate_limited) AS Nullable(Int64)) AS rate_limited
  FROM hour_counts
  GROUP BY
    hour_utc,
    provider,
    model
  UNION ALL
  SELECT
    'day',
    CAST(local_day AS Nullable(DateTime64(6, 'UTC'))),
    provider,
    model,
    local_day,
    local_day,
    CAST(SUM(attempts) AS Nullable(Int64)),
    CAST(SUM(errors) AS Nullable(Int64)),
    CAST(SUM(rate_limited) AS Nullable(Int64))
  FROM hour_counts
  GROUP BY
    local_day,
    provider,
    model
), failures AS (
  SELECT
    grain,
    'error_spike' AS kind,
    period,
    provider,
    model,
    first_day,
    last_day,
    attempts,
    errors AS failed
  FROM counted
  UNION ALL
  SELECT
    grain,
    'rate_limit_storm',
    period,
    provider,
    model,
    first_day,
    last_day,
    attempts,
    rate_limited
  FROM counted
), baselined AS (
  SELECT
    *,
    SUM(attempts) OVER w AS base_attempts,
    SUM(failed) OVER w AS base_failed
  FROM failures
  WINDOW w AS (
    PARTITION BY grain, kind, provider, model
    ORDER BY toUnixTimestamp(period)
    RANGE BETWEEN 604800 PRECEDING AND 3600 PRECEDING
  )
), spiking AS (
  SELECT
    b.*,
    b.base_failed / b.base_attempts AS base_share
  FROM baselined AS b, thresholds AS t
  WHERE
    b.attempts >= t.min_attempts
    AND b.failed >= t.min_failed
    AND b.base_attempts >= t.min_baseline_attempts
    AND (
      CASE
        WHEN (
          b.attempts
        ) > 0
        THEN (
          (
            (
              b.failed
            ) / (
              b.attempts
            ) + 1.96 * 1.96 / (
              2 * (
                b.attempts
              )
            )
          ) - 1.96 * SQRT(
            (
              (
                b.failed
              ) / (
                b.attempts
              )
            ) * (
              1 - (
                b.failed
              ) / (
                b.attempts
              )
            ) / (
              b.attempts
            ) + 1.96 * 1.96 / (
              4 * (
                b.attempts
              ) * (
                b.attempts
              )
            )
          )
        ) / (
          1 + 1.96 * 1.96 / (
            b.attempts
          )
        )
      END
    ) >= GREATEST(
      t.spike_factor * b.base_failed / b.base_attempts,
      b.base_failed / b.base_attempts + t.spike_margin
    )
), spikes AS (
  SELECT
    *
  FROM spiking AS s
  WHERE
    s.grain = 'hour'
    OR NOT EXISTS(
      SELECT
        1
      FROM spiking AS h
      WHERE
        h.grain = 'hour'
        AND h.kind = s.kind
        AND h.model = s.model
        AND h.provider IS NOT DISTINCT FROM s.provider
        AND s.first_day BETWEEN h.first_day AND h.last_day
    )
), spike_runs AS (
  SELECT
    *,
    period - CASE grain
      WHEN 'hour'
      THEN toIntervalSecond(seq * 3600)
      ELSE toIntervalSecond(seq * 86400)
    END AS run
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY grain, kind, provider, model ORDER BY period) AS seq
    FROM spikes
  )
), spike_incidents AS (
  SELECT
    r.kind AS kind,
    r.grain AS grain,
    r.provider AS provider,
    r.model AS model,
    CASE r.grain
      WHEN 'hour'
      THEN MIN(r.period)
      ELSE toTimeZone(
        toDateTime64(
          toString(CAST(MIN(r.first_day) AS Nullable(DateTime64(6, 'UTC')))),
          6,
          (
            SELECT
              timezone
            FROM stg_config__calendar
          )
        ),
        'UTC'
      )
    END AS start_at,
    CASE r.grain
      WHEN 'hour'
      THEN MAX(r.period) + INTERVAL '1' HOUR
      ELSE toTimeZone(
        toDateTime64(
          toString(CAST((
            MAX(r.last_day) + 1
          ) AS Nullable(DateTime64(6, 'UTC')))),
          6,
          (
            SELECT
              timezone
            FROM stg_config__calendar
          )
        ),
        'UTC'
      )
    END AS end_at,
    MIN(r.first_day) AS first_day,
    MAX(r.last_day) AS last_day,
    SUM(r.failed) / SUM(r.attempts) AS value,
    argMin(r.base_share, r.period) AS baseline,
    CAST(SUM(r.failed) AS Nullable(Int64)) AS affected,
    CAST(SUM(r.attempts) AS Nullable(Int64)) AS n,
    toInt64(COUNT(*)) AS periods
  FROM spike_runs AS r, calendar AS c
  GROUP BY
    r.kind,
    r.grain,
    r.provider,
    r.model,
    r.run
), latency AS (
  SELECT
    d.*,
    d.latency_n >= t.min_latency_n AS enough
  FROM model_days AS d, thresholds AS t
), lat_baselined AS (
  SELECT
    *,
    quantileExactInclusiveOrNull(0.5)(CASE WHEN enough THEN p95_ms END) OVER w AS base_p95,
    toInt64(COUNT(CASE WHEN enough THEN 1 END) OVER w) AS base_days
  FROM latency
  WINDOW w AS (
    PARTITION BY provider, model
    ORDER BY toUnixTimestamp(local_day)
    RANGE BETWEEN 604800 PRECEDING AND 86400 PRECEDING
  )
), lat_flagged AS (
  SELECT
    l.*,
    l.enough
    AND l.base_days >= t.min_baseline_days
    AND l.p95_ms >= t.p95_factor * l.base_p95
    AND l.p95_ms - l.base_p95 >= t.p95_margin_ms AS slow
  FROM lat_baselined AS l, thresholds AS t
), lat_starts AS (
  SELECT
    provider,
    model,
    local_day AS start_day,
    base_p95 AS baseline
  FROM (
    SELECT
      *,
      lagInFrame(toNullable(slow), 1, NULL) OVER (
        PARTITION BY provider, model
        ORDER BY local_day
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS was_slow
    FROM lat_flagged
    WHERE
      enough
  )
  WHERE
    slow AND NOT COALESCE(was_slow, FALSE)
), lat_marks AS (
  SELECT
    s.provider AS provider,
    s.model AS model,
    s.start_day AS start_day,
    l.local_day AS local_day,
    NOT (
      l.p95_ms >= t.p95_factor * s.baseline
      AND l.p95_ms - s.baseline >= t.p95_margin_ms
    ) AS back
  FROM lat_starts AS s
  JOIN latency AS l
    ON l.provider IS NOT DISTINCT FROM s.provider
    AND l.model = s.model
    AND l.local_day > s.start_day
    AND l.enough
  CROSS JOIN thresholds AS t
), lat_spans AS (
  SELECT
    s.provider AS provider,
    s.model AS model,
    s.start_day AS start_day,
    s.baseline AS baseline,
    MIN(m.local_day) FILTER(WHERE
      m.back AND COALESCE(m.next_back, TRUE)) AS back_day
  FROM lat_starts AS s
  LEFT JOIN (
    SELECT
      *,
      leadInFrame(toNullable(back), 1, NULL) OVER (
        PARTITION BY provider, model, start_day
        ORDER BY local_day
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS next_back
    FROM lat_marks
  ) AS m
    ON m.provider IS NOT DISTINCT FROM s.provider
    AND m.model = s.model
    AND m.start_day = s.start_day
  GROUP BY
    s.provider,
    s.model,
    s.start_day,
    s.baseline
), lat_incidents AS (
  SELECT
    s.provider AS provider,
    s.model AS model,
    s.baseline AS baseline,
    s.start_day AS first_day,
    MAX(l.local_day) AS last_day,
    MAX(l.p95_ms) FILTER(WHERE
      l.enough) AS value,
    argMax(l.local_day, l.p95_ms) FILTER(WHERE
      l.enough) AS peak_day,
    argMax(l.latency_n, l.p95_ms) FILTER(WHERE
      l.enough) AS peak_n,
    CAST(SUM(l.latency_n) AS Nullable(Int64)) AS n,
    s.back_day IS NULL AS ongoing
  FROM lat_spans AS s
  JOIN latency AS l
    ON l.provider IS NOT DISTINCT FROM s.provider
    AND l.model = s.model
    AND l.local_day >= s.start_day
    AND (
      s.back_day IS NULL OR l.local_day < s.back_day
    )
  WHERE
    NOT EXISTS(
      SELECT
        1
      FROM lat_spans AS e
      WHERE
        e.provider IS NOT DISTINCT FROM s.provider
        AND e.model = s.model
        AND e.start_day < s.start_day
        AND (
          e.back_day IS NULL OR e.back_day > s.start_day
        )
    )
  GROUP BY
    s.provider,
    s.model,
    s.baseline,
    s.start_day,
    s.back_day
), in_force AS (
  SELECT
    provider,
    model_id,
    MIN(source_rank) AS source_rank
  FROM versions
  WHERE
    valid_to IS NULL
    AND variant = 'standard'
    AND tier_min_prompt_tokens = 0
    AND window_start_utc IS NULL
  GROUP BY
    provider,
    model_id
), logged AS (
  SELECT
    priced_provider,
    priced_model_id,
    MIN(model_provider) AS provider,
    COALESCE(MIN(model), priced_model_id) AS model
  FROM matches
  WHERE
    NOT (
      priced_model_id IS NULL
    )
  GROUP BY
    priced_provider,
    priced_model_id
), price_moves AS (
  SELECT
    "c"."version_id" AS version_id,
    "c"."prev_version_id" AS prev_version_id,
    "c"."source" AS source,
    "c"."provider" AS provider,
    "c"."model_id" AS model_id,
    "c"."variant" AS variant,
    "c"."tier_min_prompt_tokens" AS tier_min_prompt_tokens,
    "c"."changed_at" AS changed_at,
    "c"."prev_input_per_mtok" AS prev_input_per_mtok,
    "c"."input_per_mtok" AS input_per_mtok,
    "c"."prev_cached_input_per_mtok" AS prev_cached_input_per_mtok,
    "c"."cached_input_per_mtok" AS cached_input_per_mtok,
    "c"."prev_output_per_mtok" AS prev_output_per_mtok,
    "c"."output_per_mtok" AS output_per_mtok,
    g.provider AS subject_provider,
    g.model AS subject_model,
    arrayFilter(
      x -> x.old IS DISTINCT FROM x.new,
      [
        tuple(
          'output' AS dim,
          CAST(c.prev_output_per_mtok AS Nullable(Float64)) AS old,
          CAST(c.output_per_mtok AS Nullable(Float64)) AS new
        ),
        tuple(
          'input' AS dim,
          CAST(c.prev_input_per_mtok AS Nullable(Float64)) AS old,
          CAST(c.input_per_mtok AS Nullable(Float64)) AS new
        ),
        tuple(
          'cached input' AS dim,
          CAST(c.prev_cached_input_per_mtok AS Nullable(Float64)) AS old,
          CAST(c.cached_input_per_mtok AS Nullable(Float64)) AS new
        )
      ]
    ) AS moved
  FROM changes AS c
  JOIN versions AS v
    USING (version_id)
  JOIN in_force AS f
    ON f.provider = c.provider
    AND f.model_id = c.model_id
    AND f.source_rank = v.source_rank
  JOIN logged AS g
    ON g.priced_provider = c.provider AND g.priced_model_id = c.model_id
  WHERE
    c.variant = 'standard'
    AND c.tier_min_prompt_tokens = 0
    AND v.window_start_utc IS NULL
), found AS (
  SELECT
    SUBSTRING(
      LOWER(
        HEX(
          MD5(
            CONCAT_WS(
              '|',
              COALESCE(kind, ''),
              COALESCE(COALESCE(provider, ''), ''),
              COALESCE(model, ''),
              COALESCE(formatDateTime(start_at, '%Y-%m-%dT%H:%i:%S'), '')
            )
          )
        )
      ),
      1,
      16
    ) AS incident_id,
    kind,
    grain,
    provider,
    model,
    start_at,
    end_at,
    first_day,
    last_day,
    value,
    baseline,
    value / nullIf(baseline, 0) AS ratio,
    affected,
    n,
    printf(
      '%s of %s attempts %s (%.1f%%) %s, against %.1f%% in the 7 days before%s',
      reverse(
        replaceRegexpOne(replaceRegexpAll(reverse(toString(affected)), '(\\d{3})', '\\1,'), ',(-?)$', '\\1')
      ),
      reverse(
        replaceRegexpOne(replaceRegexpAll(reverse(toString(n)), '(\\d{3})', '\\1,'), ',(-?)$', '\\1')
      ),
      CASE kind WHEN 'rate_limit_storm' THEN 'rate-limited' ELSE 'failed' END,
      100 * value,
      CASE
        WHEN grain = 'hour' AND periods = 1
        THEN 'in one hour'
        WHEN grain = 'hour'
        THEN printf('over %d hours', periods)
        WHEN periods = 1
        THEN 'in one day'
        ELSE printf('over %d days', periods)
      END,
      100 * baseline,
      CASE WHEN baseline > 0 THEN printf(' (x%.1f)', value / baseline) ELSE '' END
    ) AS summary,
    'reliability' AS page
  FROM spike_incidents
  UNION ALL
  SELECT
    SUBSTRING(
      LOWER(
        HEX(
          MD5(
            CONCAT_WS(
              '|',
              'p95_regression',
              COALESCE(COALESCE(i.provider, ''), ''),
              COALESCE(i.model, ''),
              COALESCE(formatDateTime(i.first_day, '%Y-%m-%d'), '')
            )
          )
        )
      ),
      1,
      16
    ),
    'p95_regression',
    'day',
    i.provider AS provider,
    i.model AS model,
    toTimeZone(
      toDateTime64(
        toString(CAST(i.first_day AS Nullable(DateTime64(6, 'UTC')))),
        6,
        (
          SELECT
            timezone
          FROM stg_config__calendar
        )
      ),
      'UTC'
    ),
    toTimeZone(
      toDateTime64(
        toString(CAST((
          i.last_day + 1
        ) AS Nullable(DateTime64(6, 'UTC')))),
        6,
        (
          SELECT
            timezone
          FROM stg_config__calendar
        )
      ),
      'UTC'
    ),
    i.first_day AS first_day,
    i.last_day AS last_day,
    i.value AS value,
    i.baseline AS baseline,
    i.value / nullIf(i.baseline, 0),
    i.peak_n AS peak_n,
    i.n AS n,
    printf(
      'P95 up to %s ms (%s, n = %s) against %s ms in the 7 days before (x%.1f); %s',
      reverse(
        replaceRegexpOne(
          replaceRegexpAll(reverse(toString(CAST(ROUND(i.value) AS Nullable(Int64)))), '(\\d{3})', '\\1,'),
          ',(-?)$',
          '\\1'
        )
      ),
      formatDateTime(i.peak_day, '%Y-%m-%d'),
      reverse(
        replaceRegexpOne(replaceRegexpAll(reverse(toString(i.peak_n)), '(\\d{3})', '\\1,'), ',(-?)$', '\\1')
      ),
      reverse(
        replaceRegexpOne(
          replaceRegexpAll(reverse(toString(CAST(ROUND(i.baseline) AS Nullable(Int64)))), '(\\d{3})', '\\1,'),
          ',(-?)$',
          '\\1'
        )
      ),
      i.value / i.baseline,
      CASE
        WHEN i.ongoing
        THEN 'still slow on the last day'
        WHEN i.last_day = i.first_day
        THEN 'for one day'
        ELSE printf('for %d days', (
          dateDiff('day', i.first_day, i.last_day)
        ) + 1)
      END
    ),
    'latency'
  FROM lat_incidents AS i, calendar AS c
  UNION ALL
  SELECT
    SUBSTRING(LOWER(HEX(MD5('price_change|' || p.version_id))), 1, 16),
    'price_change',
    'moment',
    p.subject_provider AS subject_provider,
    p.subject_model AS subject_model,
    p.changed_at AS changed_at,
    p.changed_at AS changed_at,
    CAST(addSeconds(
      p.changed_at,
      timeZoneOffset(toTimeZone(p.changed_at, (
        SELECT
          timezone
        FROM stg_config__calendar
      )))
    ) AS Nullable(Date32)),
    CAST(addSeconds(
      p.changed_at,
      timeZoneOffset(toTimeZone(p.changed_at, (
        SELECT
          timezone
        FROM stg_config__calendar
      )))
    ) AS Nullable(Date32)),
    p.moved[1].new,
    p.moved[1].old,
    p.moved[1].new / nullIf(p.moved[1].old, 0),
    NULL,
    NULL,
    CASE
      WHEN length(p.moved) = 0
      THEN 'a price other than input, cached input and output changed'
      ELSE arrayStringConcat(
        arrayMap(
          x -> CASE
            WHEN x.old IS NULL
            THEN printf('%s now $%g', x.dim, x.new)
            WHEN x.new IS NULL
            THEN printf('%s no longer listed (was $%g)', x.dim, x.old)
            ELSE printf('%s $%g -> $%g', x.dim, x.old, x.new)
          END,
          p.moved
        ),
        ', '
      ) || ' per 1M tokens' || CASE
        WHEN p.moved[1].old > 0 AND NOT (
          p.moved[1].new IS NULL
        )
        THEN printf(' (%s %+.0f%%)', p.moved[1].dim, 100 * (
          p.moved[1].new / p.moved[1].old - 1
        ))
        ELSE ''
      END
    END || printf(' (source %s)', p.source),
    'prices'
  FROM price_moves AS p, calendar AS c
  UNION ALL
  SELECT
    SUBSTRING(
      LOWER(
        HEX(
          MD5(
            CONCAT_WS('|', 'unpriced_model', COALESCE(COALESCE(u.provider, ''), ''), COALESCE(u.model, ''))
          )
        )
      ),
      1,
      16
    ),
    'unpriced_model',
    'moment',
    u.provider AS provider,
    u.model AS model,
    u.first_seen AS first_seen,
    u.first_seen AS first_seen,
    CAST(addSeconds(
      u.first_seen,
      timeZoneOffset(toTimeZone(u.first_seen, (
        SELECT
          timezone
        FROM stg_config__calendar
      )))
    ) AS Nullable(Date32)),
    CAST(addSeconds(
      u.first_seen,
      timeZoneOffset(toTimeZone(u.first_seen, (
        SELECT
          timezone
        FROM stg_config__calendar
      )))
    ) AS Nullable(Date32)),
    CAST((
      u.attempts - u.priced_from_gateway
    ) AS Nullable(Float64)),
    NULL,
    NULL,
    u.attempts - u.priced_from_gateway,
    u.attempts AS attempts,
    printf(
      CONCAT(
        '%s attempts (%s logical requests) with no price and no gateway-reported cost, ',
        'first on %s UTC'
      ),
      reverse(
        replaceRegexpOne(
          replaceRegexpAll(reverse(toString(u.attempts - u.priced_from_gateway)), '(\\d{3})', '\\1,'),
          ',(-?)$',
          '\\1'
        )
      ),
      reverse(
        replaceRegexpOne(
          replaceRegexpAll(reverse(toString(u.logical_requests)), '(\\d{3})', '\\1,'),
          ',(-?)$',
          '\\1'
        )
      ),
      formatDateTime(u.first_seen, '%Y-%m-%d %H:%i')
    ),
    'prices'
  FROM unpriced AS u, calendar AS c
  WHERE
    u.attempts > u.priced_from_gateway
)
SELECT
  *
FROM found;
