"""Candidate rows -> attempts or quarantined rows, in one SQL pass for every format.

Run on an in-memory DuckDB connection holding table ``cand`` (``source_line`` plus
:data:`~collectors.logs.base.CANDIDATE_COLUMNS`, all text). Produces two temp tables:
``norm_ok`` with the ``raw_attempts`` columns (no ``load_id`` / ``ingested_at`` yet) and
``norm_bad`` with ``source_line, reason, detail, raw_excerpt``.

Rules (the first that fails names the reason): the format's own ``format_reject`` (``skip``
drops the row, counted as skipped, not quarantined); a start time (``missing_timestamp``) that parses
(``bad_timestamp``, years 2000-2100); an end not before the start (``end_before_start``); a model
(``missing_model``); a known status (``unknown_status``); numbers that are numbers
(``bad_number``); no negative token counts (``negative_tokens``) and none above 100M
(``absurd_tokens``); a latency under a day (``absurd_latency``); a finite, non-negative cost
under $100k (``bad_cost``).

Secrets: API keys are kept only as SHA-256; every other stored string (every text column of
``norm_ok``, the quarantine ``detail`` and ``raw_excerpt``) has anything shaped like a credential
(``sk-…``, ``AKIA…`` / ``ASIA…``, JWTs, ``Bearer …`` in any case, ``Authorization: …``,
percent-encoded keys: :data:`collectors.redact.SECRET_SHAPES`) replaced by ``[REDACTED]``,
whatever field it hides in. An id that held one keeps ``#`` and 16 hex digits of its SHA-256
after the mask (``rl_id``), so two attempts whose ids differ only in a credential stay two
attempts instead of deduplicating into one (a ``conversation_id`` is such an id: two
conversations stay two). Redaction comes first, on the string as logged: a value that is also
lowercased (the provider) is lowercased after it, the mask kept as ``[REDACTED]``, so no case
change can hide a credential from the pattern or expose one. Names are cut to 200 characters
(``task`` and ``provider`` 100, ``route`` 300), ids to 200.
"""

from __future__ import annotations

import duckdb

from collectors.records import ERROR_CLASSES
from collectors.redact import MASK, SECRET_PATTERN

# Bump when these rules produce other rows from the same bytes: a ClickHouse insert's
# deduplication token names it (collectors.warehouse.clickhouse.load.batch_token)
NORMALISER_VERSION = "1"
MAX_TOKENS = 100_000_000
MAX_LATENCY_MS = 86_400_000
ERROR_CLASS_NAMES = ERROR_CLASSES
if "'" in SECRET_PATTERN or MASK != "[REDACTED]":  # both are written into SQL literals below
    raise RuntimeError("SECRET_PATTERN must hold no single quote, MASK must be [REDACTED]")

MACROS = rf"""
CREATE OR REPLACE TEMP MACRO rl_blank(x) AS x IS NULL OR (length(x) <= 6 AND trim(x) IN ('', 'null', 'None', 'NULL'))
    OR (length(x) > 6 AND trim(x) = '');
CREATE OR REPLACE TEMP MACRO rl_epoch(v) AS CASE
    WHEN v IS NULL OR isnan(v) OR abs(v) > 4e18 THEN NULL
    WHEN abs(v) >= 1e17 THEN make_timestamp((v / 1000)::BIGINT)
    WHEN abs(v) >= 1e14 THEN make_timestamp(v::BIGINT)
    WHEN abs(v) >= 1e11 THEN make_timestamp((v * 1000)::BIGINT)
    ELSE make_timestamp((v * 1000000)::BIGINT) END;
CREATE OR REPLACE TEMP MACRO rl_ts(x) AS CASE
    WHEN rl_blank(x) THEN NULL
    WHEN TRY_CAST(x AS DOUBLE) IS NOT NULL THEN rl_epoch(TRY_CAST(x AS DOUBLE))
    ELSE TRY_CAST(TRY_CAST(trim(x) AS TIMESTAMPTZ) AS TIMESTAMP) END;
CREATE OR REPLACE TEMP MACRO rl_num(x) AS CASE
    WHEN rl_blank(x) THEN NULL ELSE TRY_CAST(trim(x) AS DOUBLE) END;
CREATE OR REPLACE TEMP MACRO rl_int(x) AS CASE
    WHEN rl_blank(x) THEN NULL
    ELSE coalesce(TRY_CAST(trim(x) AS BIGINT),
                  CASE WHEN abs(TRY_CAST(trim(x) AS DOUBLE)) < 9e18
                       THEN TRY_CAST(TRY_CAST(trim(x) AS DOUBLE) AS BIGINT) END) END;
CREATE OR REPLACE TEMP MACRO rl_bool(x) AS CASE
    WHEN lower(trim(x)) IN ('true', '1', 'yes', 't', 'y', 'hit') THEN true
    WHEN lower(trim(x)) IN ('false', '0', 'no', 'f', 'n', 'miss', 'none', 'null', '') THEN false
    END;
CREATE OR REPLACE TEMP MACRO rl_redact(x) AS
    substr(regexp_replace(' ' || x, '{SECRET_PATTERN}', '\1[REDACTED]', 'g'), 2);
CREATE OR REPLACE TEMP MACRO rl_str(x, n, suspect) AS CASE
    WHEN rl_blank(x) THEN NULL
    WHEN suspect THEN left(rl_redact(trim(x)), n) ELSE left(trim(x), n) END;
CREATE OR REPLACE TEMP MACRO rl_id(x, suspect) AS CASE
    WHEN rl_blank(x) THEN NULL
    WHEN NOT suspect OR rl_redact(trim(x)) = trim(x) THEN left(trim(x), 200)
    ELSE left(rl_redact(trim(x)), 183) || '#' || left(sha256(trim(x)), 16) END;
CREATE OR REPLACE TEMP MACRO rl_lower_str(x, n, suspect) AS
    replace(lower(rl_str(x, n, suspect)), '[redacted]', '[REDACTED]');
"""

# The candidate columns ``norm_ok`` keeps as text (rl_str / rl_id / rl_lower_str). One search of
# the pattern over all of them, joined by spaces after a space, finds every credential that
# redacting each on its own (`` ' ' || trim(x)``) would: the pattern has no anchor, so a match in
# a part is a match in the whole. Only a row where it finds one (``rl_suspect``) pays for a
# replace per column; the rest, nearly every row, keep their strings as they are. A column
# missing here would be stored unredacted: tests/security/test_redaction_shapes.py plants a
# credential in each candidate column alone.
REDACTED_COLUMNS = (
    "attempt_key", "logical_request_id", "provider", "requested_model", "served_model",
    "deployment_id", "base_model", "task", "team", "user_id", "key_alias", "route",
    "agent_name", "conversation_id", "error_type",
)  # fmt: skip
_SUSPECT = f"regexp_matches(concat_ws(' ', '', {', '.join(REDACTED_COLUMNS)}), '{SECRET_PATTERN}')"

# Statuses a log may use. HTTP-like codes are read too: 1xx-3xx success, 4xx-5xx error.
SUCCESS_WORDS = ("success", "succeeded", "ok", "completed", "complete", "true", "stop")
ERROR_WORDS = ("failure", "error", "failed", "fail", "false", "cancelled", "canceled", "timeout")

NORMALIZE = rf"""
CREATE OR REPLACE TEMP TABLE norm_typed AS
WITH c AS (
    SELECT *, lower(trim(status)) AS status_l, rl_int(http_status) AS http_i,
        {_SUSPECT} AS rl_suspect
    FROM cand
),
typed AS (
    SELECT
        c.*,
        rl_ts(started_at) AS t_start,
        rl_ts(ended_at) AS t_end0,
        rl_ts(first_token_at) AS t_first,
        rl_num(latency_ms) AS n_latency,
        rl_num(ttft_ms) AS n_ttft,
        rl_num(reported_cost_usd) AS n_cost,
        rl_num(quality_score) AS n_quality,
        rl_int(input_tokens) AS i_in,
        rl_int(cached_input_tokens) AS i_cached,
        rl_int(cache_write_tokens) AS i_cw,
        rl_int(cache_write_1h_tokens) AS i_cw1h,
        rl_int(output_tokens) AS i_out,
        rl_int(reasoning_tokens) AS i_reason,
        CASE
            WHEN status_l IN {SUCCESS_WORDS} THEN 'success'
            WHEN status_l IN {ERROR_WORDS} THEN 'error'
            WHEN regexp_full_match(status_l, '[1-3][0-9][0-9]') THEN 'success'
            WHEN regexp_full_match(status_l, '[45][0-9][0-9]') THEN 'error'
        END AS status_n
    FROM c
),
timed AS (
    SELECT *,
        coalesce(t_end0, CASE WHEN abs(n_latency) <= {MAX_LATENCY_MS}
                              THEN t_start + to_microseconds((n_latency * 1000)::BIGINT) END) AS t_end
    FROM typed
)
SELECT *,
    CASE
        WHEN NOT rl_blank(format_reject) THEN split_part(format_reject, ':', 1)
        WHEN rl_blank(started_at) THEN 'missing_timestamp'
        WHEN t_start IS NULL OR NOT (t_start BETWEEN TIMESTAMP '2000-01-01' AND TIMESTAMP '2100-01-01')
            THEN 'bad_timestamp'
        WHEN t_end IS NULL AND NOT rl_blank(ended_at) THEN 'bad_timestamp'
        WHEN t_end IS NULL AND NOT rl_blank(latency_ms) AND n_latency IS NULL THEN 'bad_number'
        WHEN t_end IS NULL AND NOT rl_blank(latency_ms) THEN 'absurd_latency'
        WHEN t_end IS NULL THEN 'missing_timestamp'
        WHEN NOT (t_end BETWEEN TIMESTAMP '2000-01-01' AND TIMESTAMP '2100-01-01') THEN 'bad_timestamp'
        WHEN t_end < t_start THEN 'end_before_start'
        WHEN rl_blank(served_model) AND rl_blank(requested_model) THEN 'missing_model'
        WHEN status_n IS NULL THEN 'unknown_status'
        WHEN (i_in IS NULL AND NOT rl_blank(input_tokens))
             OR (i_cached IS NULL AND NOT rl_blank(cached_input_tokens))
             OR (i_cw IS NULL AND NOT rl_blank(cache_write_tokens))
             OR (i_cw1h IS NULL AND NOT rl_blank(cache_write_1h_tokens))
             OR (i_out IS NULL AND NOT rl_blank(output_tokens))
             OR (i_reason IS NULL AND NOT rl_blank(reasoning_tokens))
             OR (NOT rl_blank(latency_ms) AND n_latency IS NULL)
             OR (NOT rl_blank(ttft_ms) AND n_ttft IS NULL)
             OR (NOT rl_blank(http_status) AND http_i IS NULL)
             OR (NOT rl_blank(quality_score) AND (n_quality IS NULL OR isnan(n_quality)))
            THEN 'bad_number'
        WHEN least(i_in, i_cached, i_cw, i_cw1h, i_out, i_reason) < 0 THEN 'negative_tokens'
        WHEN greatest(i_in, i_cached, i_cw, i_cw1h, i_out, i_reason) > {MAX_TOKENS}
            THEN 'absurd_tokens'
        WHEN date_diff('millisecond', t_start, t_end) > {MAX_LATENCY_MS}
             OR n_latency > {MAX_LATENCY_MS} OR n_ttft < 0 OR n_ttft > {MAX_LATENCY_MS}
            THEN 'absurd_latency'
        WHEN NOT rl_blank(reported_cost_usd)
             AND (n_cost IS NULL OR isnan(n_cost) OR isinf(n_cost) OR n_cost < 0 OR n_cost > 1e5)
            THEN 'bad_cost'
    END AS reject_reason
FROM timed;

CREATE OR REPLACE TEMP TABLE norm_bad AS
SELECT source_line,
       reject_reason AS reason,
       CASE WHEN NOT rl_blank(format_reject) THEN left(rl_redact(substr(format_reject, length(split_part(format_reject, ':', 1)) + 2)), 200)
           ELSE CASE reject_reason
           WHEN 'missing_timestamp' THEN 'no start or end time'
           WHEN 'bad_timestamp' THEN 'time not understood: ' || left(rl_redact(coalesce(started_at, '')) || ' / ' || rl_redact(coalesce(ended_at, '')), 80)
           WHEN 'end_before_start' THEN 'ended_at is before started_at'
           WHEN 'missing_model' THEN 'no model'
           WHEN 'unknown_status' THEN 'status not understood: ' || left(rl_redact(coalesce(status, 'NULL')), 40)
           WHEN 'bad_number' THEN 'a token count, latency, status code or score is not a number'
           WHEN 'negative_tokens' THEN 'a token count is negative'
           WHEN 'absurd_tokens' THEN 'a token count is above {MAX_TOKENS:,}'
           WHEN 'absurd_latency' THEN 'latency or time to first token out of range'
           WHEN 'bad_cost' THEN 'reported cost is not a finite amount between 0 and 100000'
       END END AS detail,
       left(rl_redact(to_json(struct_pack(
           attempt_key := rl_redact(attempt_key), started_at := rl_redact(started_at),
           ended_at := rl_redact(ended_at),
           model := rl_redact(coalesce(served_model, requested_model)),
           status := rl_redact(status), input_tokens := rl_redact(input_tokens),
           output_tokens := rl_redact(output_tokens))
       )::VARCHAR), 300) AS raw_excerpt
FROM norm_typed WHERE reject_reason IS NOT NULL AND reject_reason <> 'skip';

CREATE OR REPLACE TEMP TABLE norm_ok AS
WITH ok AS (
    SELECT *,
        lower(coalesce(error_type, '') || ' ' || coalesce(error_hint, '') || ' ' || coalesce(status_l, '')) AS et
    FROM norm_typed WHERE reject_reason IS NULL
)
SELECT
    $source AS source,
    $source_file AS source_file,
    source_line,
    $family || ':' || CASE WHEN rl_blank(attempt_key)
        THEN 'h' || left(sha256($source_file || ':' || source_line::VARCHAR || ':' ||
            concat_ws('|', started_at, ended_at, served_model, requested_model, status,
                      input_tokens, output_tokens, logical_request_id)), 32)
        ELSE rl_id(attempt_key, rl_suspect) END AS attempt_id,
    CASE WHEN NOT rl_blank(logical_request_id) THEN rl_id(logical_request_id, rl_suspect)
         WHEN NOT rl_blank(attempt_key) THEN rl_id(attempt_key, rl_suspect)
         ELSE 'h' || left(sha256($source_file || ':' || source_line::VARCHAR || ':' ||
            concat_ws('|', started_at, ended_at, served_model, requested_model, status,
                      input_tokens, output_tokens)), 32) END AS logical_request_id,
    rl_int(attempt_index)::INTEGER AS attempt_index,
    t_start AS started_at,
    t_end AS ended_at,
    coalesce(n_ttft, CASE WHEN t_first >= t_start AND t_first <= t_end
                          AND coalesce(rl_bool(streamed), false)
                     THEN date_diff('microsecond', t_start, t_first) / 1000.0 END) AS ttft_ms,
    date_diff('microsecond', t_start, t_end) / 1000.0 AS latency_ms,
    rl_lower_str(provider, 100, rl_suspect) AS provider,
    rl_str(requested_model, 200, rl_suspect) AS requested_model,
    coalesce(rl_str(served_model, 200, rl_suspect), rl_str(requested_model, 200, rl_suspect)) AS served_model,
    rl_str(deployment_id, 200, rl_suspect) AS deployment_id,
    rl_str(base_model, 200, rl_suspect) AS base_model,
    rl_str(task, 100, rl_suspect) AS task,
    rl_str(team, 200, rl_suspect) AS team,
    rl_str(user_id, 200, rl_suspect) AS user_id,
    CASE WHEN rl_blank(api_key) THEN NULL
         WHEN regexp_full_match(lower(trim(api_key)), '[0-9a-f]{{64}}') THEN lower(trim(api_key))
         ELSE sha256(trim(api_key)) END AS key_hash,
    rl_str(key_alias, 200, rl_suspect) AS key_alias,
    rl_str(route, 300, rl_suspect) AS route,
    rl_str(agent_name, 200, rl_suspect) AS agent_name,
    rl_id(conversation_id, rl_suspect) AS conversation_id,
    i_in AS input_tokens,
    i_cached AS cached_input_tokens,
    i_cw AS cache_write_tokens,
    i_cw1h AS cache_write_1h_tokens,
    i_out AS output_tokens,
    i_reason AS reasoning_tokens,
    coalesce(rl_bool(input_includes_cached), true) AS input_includes_cached,
    coalesce(rl_bool(output_includes_reasoning), true) AS output_includes_reasoning,
    status_n AS status,
    CASE
        WHEN status_n = 'success' THEN NULL
        WHEN lower(trim(error_type)) IN {ERROR_CLASS_NAMES} THEN lower(trim(error_type))
        WHEN http_i = 429 OR regexp_matches(et, 'rate.?limit|too many requests|quota|\b429\b') THEN 'rate_limit'
        WHEN regexp_matches(et, 'content.?policy|content.?filter|safety|moderation|guardrail') THEN 'content_filter'
        WHEN regexp_matches(et, 'context.?window|context.?length|maximum context|too many tokens|prompt is too long') THEN 'context_length'
        WHEN http_i IN (408, 504) OR regexp_matches(et, 'timeout|timed out|deadline') THEN 'timeout'
        WHEN http_i IN (401, 403) OR regexp_matches(et, 'authenticat|permission.?denied|unauthori[sz]ed|forbidden|invalid api key|\b40[13]\b') THEN 'auth'
        WHEN regexp_matches(et, 'validation') THEN 'validation_failed'
        WHEN http_i >= 500 OR regexp_matches(et, 'internal.?server|service.?unavailable|api.?connection|bad.?gateway|overloaded|server.?error|\b5[0-9][0-9]\b') THEN 'server_error'
        WHEN http_i BETWEEN 400 AND 499 OR regexp_matches(et, 'bad.?request|not.?found|unprocessable|invalid.?request|\b4[0-9][0-9]\b') THEN 'bad_request'
        ELSE 'other'
    END AS error_class,
    rl_str(error_type, 200, rl_suspect) AS error_type,
    CASE WHEN http_i BETWEEN 100 AND 599 THEN http_i::INTEGER END AS http_status,
    coalesce(rl_bool(gateway_cache_hit), false) AS gateway_cache_hit,
    rl_bool(streamed) AS streamed,
    CASE WHEN rl_blank(reported_cost_usd) THEN NULL
         ELSE TRY_CAST(trim(reported_cost_usd) AS DECIMAL(18, 10)) END AS reported_cost_usd,
    rl_bool(validation_passed) AS validation_passed,
    n_quality AS quality_score
FROM ok;
"""


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS)


def normalize(con: duckdb.DuckDBPyConnection, source: str, family: str, source_file: str) -> None:
    """Turn table ``cand`` into ``norm_ok`` and ``norm_bad`` (see the module docstring)."""
    params = {"source": source, "family": family, "source_file": source_file}
    for statement in _statements(NORMALIZE):
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        con.execute(statement, used)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n\n") if s.strip()]
