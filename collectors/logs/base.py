"""What a log format module provides, and the candidate row every format produces.

A format maps its input to *candidate* rows: the columns in :data:`CANDIDATE_COLUMNS`, all text
(``VARCHAR``) exactly as the source had them, plus ``source_line``. One SQL step
(:mod:`collectors.ingest.normalize`) then casts, validates, classifies and redacts them for every
format alike, so a rule about bad input lives in one place.

Two kinds of format:

* :class:`SqlFormat`: DuckDB reads the file (``read_json`` with the format's column spec, or
  ``read_csv``) and the format's ``select`` maps the source columns to candidates. The heavy
  lifting stays in DuckDB (RouteLedger, LiteLLM, mapped formats).
* :class:`PythonFormat`: nested documents (OTLP export batches, OpenRouter generation records)
  are walked in Python by ``extract(doc)``, which returns candidate dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from collectors.redact import redact

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "attempt_key",  # the source's own stable id of this attempt; NULL = hash of position+content
    "logical_request_id",  # trace / session id; NULL = the attempt key
    "attempt_index",
    "started_at",  # epoch (s, ms, us or ns) or ISO 8601 / 'YYYY-MM-DD HH:MM:SS[.f]' (UTC)
    "ended_at",
    "first_token_at",  # absolute time of the first token
    "ttft_ms",  # or relative time to first token
    "latency_ms",  # used when ended_at is missing
    "provider",
    "requested_model",
    "served_model",
    "deployment_id",
    "base_model",
    "task",  # from the default rules: tag task:<name>, metadata task, OTel task / app.task
    "team",
    "user_id",
    "api_key",  # raw or hashed; only its SHA-256 is kept
    "key_alias",
    "route",
    "agent_name",  # the agent whose run made the call (OTel gen_ai.agent.name, ...)
    "conversation_id",  # the conversation / session it belongs to; never the request
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "input_includes_cached",  # 'true' for OpenAI-style counts, 'false' for Anthropic-style
    "output_includes_reasoning",
    "status",  # success/failure/error/ok/... or an HTTP status code
    "error_type",  # the source's error label (exception class, error.type)
    "error_hint",  # extra text used only to classify the error; never stored
    "http_status",
    "gateway_cache_hit",
    "streamed",
    "reported_cost_usd",
    "validation_passed",
    "quality_score",
    "format_reject",  # set by a format: '<reason>[:<detail>]' quarantines the row, 'skip' drops it
)


def sql_literal(value: str) -> str:
    """A SQL string literal for a value from a config or mapping file (never from a log row)."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


@dataclass(frozen=True)
class LogFormat:
    name: ClassVar[str]
    family: ClassVar[str]  # attempt ids are namespaced by family: "<family>:<id>"
    # shape of the file: 'jsonl' (one document a line), 'json' (one document or an array),
    # 'csv' (header + rows)
    container: str = "jsonl"
    csv_ok: ClassVar[bool] = False  # may come as CSV with a header


@dataclass(frozen=True)
class SqlFormat(LogFormat):
    """DuckDB reads the file; :meth:`select` turns table ``src`` into candidate columns."""

    columns: dict[str, str] = field(default_factory=dict)  # read_json column spec
    # select() is a projection of src: one candidate row per source row, none dropped or
    # added. A JSONL log read from its start may then be read as one stream
    # (collectors.ingest.stream).
    row_per_record: ClassVar[bool] = True
    # columns a CSV file of this format must have in its header; without them the file fails
    # with one clear error instead of quarantining every row
    required_columns: ClassVar[tuple[str, ...]] = ()

    def read_columns(self) -> dict[str, str]:
        """Top-level keys DuckDB reads, with their types."""
        return self.columns

    def select(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class PythonFormat(LogFormat):
    """Python walks each parsed JSON document."""

    def extract(self, doc: Any) -> Iterable[dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError


class RecordError(ValueError):
    """A document is well-formed JSON but not a record of this format; ``reason`` is a code.
    ``detail`` is stored in the quarantine as it is, so credentials it quotes are redacted."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason, self.detail = reason, redact(detail)
        super().__init__(f"{reason}: {self.detail}" if detail else reason)


def text(v: Any) -> str | None:
    """A scalar as the candidate text it stands for; containers as JSON."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int | float):
        return repr(v) if isinstance(v, float) else str(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def candidate(**values: Any) -> dict[str, str | None]:
    """A candidate row from keyword values; unknown keys are a programming error."""
    unknown = set(values) - set(CANDIDATE_COLUMNS)
    if unknown:
        raise KeyError(f"not candidate columns: {sorted(unknown)}")
    return {c: text(values.get(c)) for c in CANDIDATE_COLUMNS}
