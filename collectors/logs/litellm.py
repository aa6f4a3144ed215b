"""LiteLLM's two record shapes: StandardLoggingPayload (``litellm``) and SpendLogs rows
(``litellm-spendlogs``).

Semantics (LiteLLM's schema.prisma, its StandardLoggingPayload spec, and the fixtures'
SOURCES.md):

* Attempts of one logical request share ``trace_id`` (SpendLogs: ``session_id``). The attempt
  key is ``id`` (SpendLogs ``request_id``, the same value), so a payload and its SpendLogs row
  never count twice.
* Not every attempt has a record. The proxy of litellm 1.108.7 logs a request's *first* failure
  and its success, nothing in between (one logging object serves the request's retries and
  fallbacks, and it logs a failure once); the SDK Router of 1.109.1 logged each failed try (the
  fixtures' SOURCES.md). A non-streamed success carries the router's counters in its response
  headers, ``hidden_params.additional_headers`` (``metadata`` in SpendLogs-shaped payloads):
  ``x-litellm-attempted-retries`` (failed tries in its own model group before it) and
  ``x-litellm-attempted-fallbacks`` (model groups given up before it, each tried at least
  once). Such a record is attempt ``retries + fallbacks + 1`` of its request *at least*: that
  lower bound is its ``attempt_index``, and a request with fewer records than its largest index
  has attempts the log does not hold (unlogged). Streamed successes and failures carry no
  counters: their ``attempt_index`` is NULL (unknown).
* Attempt order is end time: a streamed success's ``startTime`` is when the *request* began,
  before its failed attempts, but every attempt ends after the one before it. A streamed
  success's latency and time to first token therefore also span its request's earlier attempts.
  docs/log-formats.md ("LiteLLM") has the rule and what the log cannot show.
* ``status`` is ``success`` or ``failure``. Old SpendLogs exports have no status column and held
  successes only, so a missing status reads as success there.
* For streams ``completionStartTime`` is the first token; latency is ``endTime - startTime``.
  ``stream`` is null on a non-streamed proxy request; the request's own ``stream`` parameter
  (``model_parameters.stream``) then says whether it was streamed.
* ``cache_hit`` true is LiteLLM's own response cache: cost 0, tokens replayed.
* Usage is OpenAI-shaped for every provider: ``prompt_tokens`` includes the cached tokens
  reported in ``prompt_tokens_details.cached_tokens`` / ``cache_read_input_tokens`` (LiteLLM's
  OpenAI-compatible contract), and ``completion_tokens`` includes reasoning tokens.
* ``metadata.user_api_key_hash`` (SpendLogs ``api_key``) is already a SHA-256 hash.
* Prompts (``messages``), responses and ``proxy_server_request`` are never read into columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collectors.logs.base import SqlFormat

_USAGE_FIELDS = """
    json_extract_string(usage, '$.prompt_tokens_details.cached_tokens') AS u_cached,
    json_extract_string(usage, '$.cache_read_input_tokens') AS u_cache_read,
    json_extract_string(usage, '$.cache_creation_input_tokens') AS u_cache_write,
    json_extract_string(usage, '$.prompt_tokens_details.cache_creation_tokens') AS u_cache_write2,
    json_extract_string(usage, '$.cache_creation.ephemeral_1h_input_tokens') AS u_cache_write_1h,
    json_extract_string(usage, '$.completion_tokens_details.reasoning_tokens') AS u_reasoning
"""


# The router's counters (a whole number 0-99 each, anything else is no counter): the record is
# attempt retries + fallbacks + 1 of its request, at least; NULL when it has neither counter.
_COUNTERS = """
    json_extract_string(hidden_params, [
        '$.additional_headers."x-litellm-attempted-retries"',
        '$.additional_headers."x-litellm-attempted-fallbacks"']) AS hp_counters
"""


def _counter(expr: str) -> str:
    return (
        f"CASE WHEN regexp_full_match(trim({expr}), '[0-9]{{1,2}}') THEN trim({expr})::INTEGER END"
    )


_ATTEMPT_INDEX = """
    CASE WHEN r_retries IS NOT NULL OR r_fallbacks IS NOT NULL
         THEN coalesce(r_retries, 0) + coalesce(r_fallbacks, 0) + 1 END
"""


def _task_from_tags(tags: str) -> str:
    """SQL: the name in the first ``task:<name>`` tag of a VARCHAR[] expression."""
    return f"nullif(substr(list_filter({tags}, lambda t: starts_with(t, 'task:'))[1], 6), '')"


@dataclass(frozen=True)
class StandardLoggingPayload(SqlFormat):
    name = "litellm"
    family = "litellm"
    columns: dict[str, str] = field(
        default_factory=lambda: {
            "id": "VARCHAR",
            "litellm_call_id": "VARCHAR",
            "trace_id": "VARCHAR",
            "call_type": "VARCHAR",
            "cache_hit": "VARCHAR",
            "stream": "VARCHAR",
            "status": "VARCHAR",
            "custom_llm_provider": "VARCHAR",
            "startTime": "VARCHAR",
            "endTime": "VARCHAR",
            "completionStartTime": "VARCHAR",
            "model": "VARCHAR",
            "model_group": "VARCHAR",
            "model_id": "VARCHAR",
            "response_cost": "VARCHAR",
            "prompt_tokens": "VARCHAR",
            "completion_tokens": "VARCHAR",
            "request_tags": "VARCHAR[]",
            "end_user": "VARCHAR",
            "error_str": "VARCHAR",
            "metadata": "STRUCT(user_api_key_hash VARCHAR, user_api_key_alias VARCHAR, "
            "user_api_key_team_id VARCHAR, user_api_key_team_alias VARCHAR, "
            "user_api_key_user_id VARCHAR, user_api_key_request_route VARCHAR, "
            "requester_metadata JSON, spend_logs_metadata JSON, usage_object JSON, "
            "model_info JSON, attempted_retries VARCHAR, attempted_fallbacks VARCHAR)",
            # any JSON: only the router's counters are read from it, so an odd shape loses
            # the counters, never the record
            "hidden_params": "JSON",
            "model_parameters": "JSON",
            "error_information": "STRUCT(error_code VARCHAR, error_class VARCHAR)",
            "response": "STRUCT(usage JSON)",
            "model_map_information": "STRUCT(model_map_key VARCHAR, model_map_value "
            'STRUCT("key" VARCHAR))',
        }
    )

    def select(self) -> str:
        return f"""
        WITH s AS (
            SELECT *,
                coalesce(metadata.usage_object, response.usage) AS usage
            FROM src
        ), u AS (SELECT *, {_USAGE_FIELDS}, {_COUNTERS} FROM s),
        c AS (
            SELECT *,
                coalesce({_counter("metadata.attempted_retries")}, {_counter("hp_counters[1]")})
                    AS r_retries,
                coalesce({_counter("metadata.attempted_fallbacks")}, {_counter("hp_counters[2]")})
                    AS r_fallbacks
            FROM u
        )
        SELECT
            source_line,
            coalesce(nullif(id, ''), litellm_call_id) AS attempt_key,
            nullif(trace_id, '') AS logical_request_id,
            {_ATTEMPT_INDEX} AS attempt_index,
            "startTime" AS started_at,
            "endTime" AS ended_at,
            "completionStartTime" AS first_token_at,
            NULL AS ttft_ms,
            NULL AS latency_ms,
            custom_llm_provider AS provider,
            nullif(model_group, '') AS requested_model,
            model AS served_model,
            nullif(model_id, '') AS deployment_id,
            coalesce(json_extract_string(metadata.model_info, '$.base_model'),
                     model_map_information.model_map_value."key") AS base_model,
            coalesce({_task_from_tags("request_tags")},
                     json_extract_string(metadata.requester_metadata, '$.task'),
                     json_extract_string(metadata.spend_logs_metadata, '$.task')) AS task,
            coalesce(metadata.user_api_key_team_alias, metadata.user_api_key_team_id) AS team,
            coalesce(nullif(end_user, ''), metadata.user_api_key_user_id) AS user_id,
            metadata.user_api_key_hash AS api_key,
            metadata.user_api_key_alias AS key_alias,
            metadata.user_api_key_request_route AS route,
            prompt_tokens AS input_tokens,
            coalesce(u_cached, u_cache_read) AS cached_input_tokens,
            coalesce(u_cache_write, u_cache_write2) AS cache_write_tokens,
            u_cache_write_1h AS cache_write_1h_tokens,
            completion_tokens AS output_tokens,
            u_reasoning AS reasoning_tokens,
            'true' AS input_includes_cached,
            'true' AS output_includes_reasoning,
            status,
            nullif(error_information.error_class, '') AS error_type,
            error_str AS error_hint,
            nullif(error_information.error_code, '') AS http_status,
            cache_hit AS gateway_cache_hit,
            coalesce(stream, json_extract_string(model_parameters, '$.stream')) AS streamed,
            response_cost AS reported_cost_usd,
            NULL AS validation_passed,
            NULL AS quality_score
        FROM c
        """


@dataclass(frozen=True)
class SpendLogs(SqlFormat):
    """``LiteLLM_SpendLogs`` rows as JSON/JSONL or CSV. Every column after ``call_type`` is
    optional (added over releases); JSON columns may be JSON-encoded strings or plain JSON."""

    name = "litellm-spendlogs"
    family = "litellm"
    csv_ok = True
    columns: dict[str, str] = field(
        default_factory=lambda: {
            c: "VARCHAR"
            for c in (
                "request_id session_id call_type api_key spend prompt_tokens completion_tokens "
                "startTime endTime completionStartTime request_duration_ms model model_id "
                "model_group custom_llm_provider user team_id end_user metadata cache_hit "
                "request_tags status"
            ).split()
        }
    )

    def select(self) -> str:
        return f"""
        WITH s AS (
            SELECT *,
                json_extract_string(metadata, [
                    '$.user_api_key_alias', '$.user_api_key_team_alias',
                    '$.user_api_key_request_route', '$.spend_logs_metadata.task',
                    '$.requester_metadata.task', '$.error_information.error_class',
                    '$.error_information.error_code', '$.model_info.base_model',
                    '$.model_map_information.model_map_value.key'
                ]) AS m,
                json_extract(metadata, '$.usage_object') AS usage,
                TRY_CAST(json(CASE WHEN json_valid(request_tags) THEN request_tags END)
                         AS VARCHAR[]) AS tags
            FROM src
        ), u AS (SELECT *, {_USAGE_FIELDS} FROM s)
        SELECT
            source_line,
            nullif(request_id, '') AS attempt_key,
            nullif(session_id, '') AS logical_request_id,
            NULL AS attempt_index,
            "startTime" AS started_at,
            "endTime" AS ended_at,
            "completionStartTime" AS first_token_at,
            NULL AS ttft_ms,
            CASE WHEN nullif("endTime", '') IS NULL THEN request_duration_ms END AS latency_ms,
            custom_llm_provider AS provider,
            nullif(model_group, '') AS requested_model,
            model AS served_model,
            nullif(model_id, '') AS deployment_id,
            coalesce(m[8], m[9]) AS base_model,
            coalesce({_task_from_tags("tags")}, m[4], m[5]) AS task,
            coalesce(m[2], nullif(team_id, '')) AS team,
            coalesce(nullif(end_user, ''), nullif("user", '')) AS user_id,
            api_key,
            m[1] AS key_alias,
            m[3] AS route,
            prompt_tokens AS input_tokens,
            coalesce(u_cached, u_cache_read) AS cached_input_tokens,
            coalesce(u_cache_write, u_cache_write2) AS cache_write_tokens,
            u_cache_write_1h AS cache_write_1h_tokens,
            completion_tokens AS output_tokens,
            u_reasoning AS reasoning_tokens,
            'true' AS input_includes_cached,
            'true' AS output_includes_reasoning,
            coalesce(nullif(status, ''), 'success') AS status,
            nullif(m[6], '') AS error_type,
            NULL AS error_hint,
            nullif(m[7], '') AS http_status,
            cache_hit AS gateway_cache_hit,
            NULL AS streamed,
            spend AS reported_cost_usd,
            NULL AS validation_passed,
            NULL AS quality_score
        FROM u
        """


SLP = StandardLoggingPayload()
SPENDLOGS = SpendLogs()
