"""RouteLedger's own log format, for home-grown routers: JSONL, or CSV with a header.

One attempt a line. Fields (DESIGN.md, "Interfaces"): ``attempt_id``, ``logical_request_id``,
``attempt_index``, ``started_at``, ``ended_at`` (ISO 8601 or epoch seconds), ``ttft_ms``,
``provider``, ``model`` (served), ``requested_model``, ``task``, ``team``, ``user``,
``input_tokens``, ``cached_input_tokens``, ``cache_write_tokens``, ``output_tokens``,
``reasoning_tokens``, ``status`` (success|error), ``error_class``, ``http_status``, ``cost_usd``
(as reported), ``validation_passed``, ``quality_score``. Only ``attempt_id``, ``started_at``,
``ended_at``, ``model`` and ``status`` are required. A validation gate that rejects an answer is
logged as ``status=error, error_class=validation_failed``.

Extensions (optional): ``deployment_id``, ``key_alias``, ``route``, ``cache_write_1h_tokens``,
``gateway_cache_hit``, ``streamed``, ``latency_ms``, ``agent_name`` (the agent whose run made
the call), ``conversation_id`` (the conversation or session it belongs to: a label, not a
logical request; a request's calls are grouped by ``logical_request_id``), and
``input_includes_cached`` / ``output_includes_reasoning`` (default true: ``input_tokens``
counts cached and cache-write tokens, ``output_tokens`` counts reasoning tokens, as OpenAI
reports them; write false for Anthropic-style exclusive counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collectors.logs.base import SqlFormat

FIELDS = (
    "attempt_id logical_request_id attempt_index started_at ended_at ttft_ms provider model "
    "requested_model task team user input_tokens cached_input_tokens cache_write_tokens "
    "output_tokens reasoning_tokens status error_class http_status cost_usd validation_passed "
    "quality_score deployment_id key_alias route cache_write_1h_tokens gateway_cache_hit "
    "streamed latency_ms input_includes_cached output_includes_reasoning agent_name "
    "conversation_id"
).split()
REQUIRED = ("attempt_id", "started_at", "ended_at", "model", "status")


@dataclass(frozen=True)
class RouteLedgerFormat(SqlFormat):
    name = "routeledger"
    family = "rl"
    csv_ok = True
    required_columns = REQUIRED
    columns: dict[str, str] = field(default_factory=lambda: {f: "VARCHAR" for f in FIELDS})

    def select(self) -> str:
        missing = " ".join(
            f"WHEN nullif(trim({f}), '') IS NULL THEN 'missing_field:required field {f} is empty'"
            for f in REQUIRED
        )
        return f"""
        SELECT
            source_line,
            attempt_id AS attempt_key,
            logical_request_id,
            attempt_index,
            started_at,
            ended_at,
            NULL AS first_token_at,
            ttft_ms,
            latency_ms,
            provider,
            requested_model,
            model AS served_model,
            deployment_id,
            NULL AS base_model,
            task,
            team,
            "user" AS user_id,
            NULL AS api_key,
            key_alias,
            route,
            agent_name,
            conversation_id,
            input_tokens,
            cached_input_tokens,
            cache_write_tokens,
            cache_write_1h_tokens,
            output_tokens,
            reasoning_tokens,
            input_includes_cached,
            output_includes_reasoning,
            status,
            error_class AS error_type,
            NULL AS error_hint,
            http_status,
            gateway_cache_hit,
            streamed,
            cost_usd AS reported_cost_usd,
            validation_passed,
            quality_score,
            CASE {missing} END AS format_reject
        FROM src
        """


FORMAT = RouteLedgerFormat()
