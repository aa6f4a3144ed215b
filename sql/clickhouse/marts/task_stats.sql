-- generated from sql/marts/task_stats.sql by `python -m collectors.warehouse.clickhouse.generate`: do not edit.
-- grain: one task over a window of local days
-- key: task
-- Queries need the settings join_use_nulls=1, prefer_column_name_to_alias=1, session_timezone='UTC', enable_named_columns_in_function_tuple=1, aggregate_functions_null_for_empty=1.
CREATE OR REPLACE VIEW task_stats AS
WITH requests AS (
  SELECT
    *
  FROM logical_requests
  WHERE
    local_day >= CAST({since: String} AS Nullable(Date32))
    AND local_day <= CAST({until: String} AS Nullable(Date32))
), stats AS (
  SELECT
    task,
    toInt64(COUNT(*)) AS logical_requests,
    toInt64(COUNT(*) FILTER(WHERE
      succeeded)) AS succeeded,
    toInt64(COUNT(*) FILTER(WHERE
      succeeded)) / toInt64(COUNT(*)) AS success_rate,
    (
      CASE
        WHEN (
          toInt64(COUNT(*))
        ) > 0
        THEN (
          (
            (
              toInt64(COUNT(*) FILTER(WHERE
                succeeded))
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              2 * (
                toInt64(COUNT(*))
              )
            )
          ) - 1.96 * SQRT(
            (
              (
                toInt64(COUNT(*) FILTER(WHERE
                  succeeded))
              ) / (
                toInt64(COUNT(*))
              )
            ) * (
              1 - (
                toInt64(COUNT(*) FILTER(WHERE
                  succeeded))
              ) / (
                toInt64(COUNT(*))
              )
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              4 * (
                toInt64(COUNT(*))
              ) * (
                toInt64(COUNT(*))
              )
            )
          )
        ) / (
          1 + 1.96 * 1.96 / (
            toInt64(COUNT(*))
          )
        )
      END
    ) AS success_rate_low,
    (
      CASE
        WHEN (
          toInt64(COUNT(*))
        ) > 0
        THEN (
          (
            (
              toInt64(COUNT(*) FILTER(WHERE
                succeeded))
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              2 * (
                toInt64(COUNT(*))
              )
            )
          ) + 1.96 * SQRT(
            (
              (
                toInt64(COUNT(*) FILTER(WHERE
                  succeeded))
              ) / (
                toInt64(COUNT(*))
              )
            ) * (
              1 - (
                toInt64(COUNT(*) FILTER(WHERE
                  succeeded))
              ) / (
                toInt64(COUNT(*))
              )
            ) / (
              toInt64(COUNT(*))
            ) + 1.96 * 1.96 / (
              4 * (
                toInt64(COUNT(*))
              ) * (
                toInt64(COUNT(*))
              )
            )
          )
        ) / (
          1 + 1.96 * 1.96 / (
            toInt64(COUNT(*))
          )
        )
      END
    ) AS success_rate_high,
    SUM(cost_usd) AS spend_usd,
    toInt64(COUNT(*) FILTER(WHERE
      priced)) AS priced_requests,
    toInt64(COUNT(*) FILTER(WHERE
      priced AND succeeded)) AS priced_succeeded,
    toInt64(COUNT(*) FILTER(WHERE
      priced)) / toInt64(COUNT(*)) AS price_coverage,
    SUM(cost_usd) FILTER(WHERE
      priced) AS priced_spend_usd,
    toInt64(COUNT(*) FILTER(WHERE
      succeeded)) AS latency_n,
    [
      quantileExactInclusiveOrNullIf(0.50)(latency_ms, succeeded),
      quantileExactInclusiveOrNullIf(0.95)(latency_ms, succeeded)
    ] AS q,
    toInt64(COUNT(*) FILTER(WHERE
      retried)) / toInt64(COUNT(*)) AS retry_rate,
    toInt64(COUNT(*) FILTER(WHERE
      fell_back)) / toInt64(COUNT(*)) AS fallback_rate,
    SUM(unpriced_attempts) AS unpriced_attempts,
    CASE
      WHEN toInt64(COUNT(*) FILTER(WHERE
        NOT succeeded)) = 0
      THEN 0
      ELSE SUM(cost_usd) FILTER(WHERE
        NOT succeeded)
    END AS spend_on_failed_requests_usd
  FROM requests
  GROUP BY
    task
)
SELECT
  *
  EXCEPT (q, priced_spend_usd),
  (
    CASE
      WHEN (
        price_coverage
      ) >= (
        (
          SELECT
            COALESCE(MAX(min_price_coverage), 0.8)
          FROM config_metrics
        )
      )
      AND (
        priced_succeeded
      ) > 0
      THEN toFloat64((
        priced_spend_usd
      )) / toFloat64((
        priced_succeeded
      ))
    END
  ) AS cost_per_successful_request_usd,
  (
    CASE
      WHEN (
        price_coverage
      ) < (
        (
          SELECT
            COALESCE(MAX(min_price_coverage), 0.8)
          FROM config_metrics
        )
      )
      THEN printf(
        'only %d%% of %ss priced',
        CAST(FLOOR((
          price_coverage
        ) * 100) AS Nullable(Int32)),
        (
          'request'
        )
      )
      WHEN (
        priced_succeeded
      ) = 0
      THEN printf('no priced %s succeeded', (
        'request'
      ))
    END
  ) AS cost_unknown_reason,
  q[1] AS p50_ms,
  q[2] AS p95_ms
FROM stats;
