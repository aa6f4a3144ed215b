"""Log formats: one module each; :func:`get` names them, :func:`detect` recognises them."""

from __future__ import annotations

import json
from pathlib import Path

from collectors.errors import InputError
from collectors.logs.base import LogFormat
from collectors.records import FORMAT_NAMES


def get(name: str, mapping: str | Path | None = None) -> LogFormat:
    if name == "mapped":
        if not mapping:
            raise InputError("--format mapped needs --mapping FILE")
        from collectors.logs.mapped import load_mapping

        return load_mapping(mapping)
    if name == "routeledger":
        from collectors.logs.routeledger import FORMAT

        return FORMAT
    if name == "litellm":
        from collectors.logs.litellm import SLP

        return SLP
    if name == "litellm-spendlogs":
        from collectors.logs.litellm import SPENDLOGS

        return SPENDLOGS
    if name == "otel":
        from collectors.logs.otel import FORMAT as OTEL

        return OTEL
    if name == "openrouter":
        from collectors.logs.openrouter import FORMAT as OPENROUTER

        return OPENROUTER
    raise InputError(f"unknown format {name!r}; use one of auto, {', '.join(FORMAT_NAMES)}")


def _first_document(head: bytes) -> object | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        return None
    first_line = text.split("\n", 1)[0]
    for candidate in (first_line, text):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    # a large pretty-printed document cut by the sniff window: decode its first object
    try:
        return json.JSONDecoder().raw_decode(text.lstrip("["))[0]
    except ValueError:
        return None


def detect_name(path: Path, head: bytes) -> str:
    """Which format a file is in, from its first bytes; InputError says why when unsure."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text:
        raise InputError(f"{path}: empty file; nothing to detect")
    if text[0] not in "[{":
        header = text.split("\n", 1)[0].lower()
        cols = {c.strip().strip('"') for c in header.split(",")}
        if {"attempt_id", "started_at"} <= cols:
            return "routeledger"
        if "request_id" in cols and ({"spend", "starttime"} & cols):
            return "litellm-spendlogs"
        raise InputError(
            f"{path}: cannot tell the format: not JSON, and the CSV header has neither "
            "attempt_id/started_at (routeledger) nor request_id/spend (litellm-spendlogs); "
            "pass --format, or --format mapped --mapping FILE"
        )
    doc = _first_document(head)
    if isinstance(doc, list):
        doc = doc[0] if doc else None
    if not isinstance(doc, dict):
        raise InputError(
            f"{path}: cannot tell the format: the first record is not a JSON object; pass --format"
        )
    keys = set(doc)
    inner = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    if keys & {"resourceSpans", "resourceMetrics"}:
        return "otel"
    if inner and (set(inner) & {"provider_responses", "generation_time", "native_tokens_prompt"}):
        return "openrouter"
    if str(doc.get("id", "")).startswith("gen-") and "usage" in keys:
        return "openrouter"
    if ("request_id" in keys and keys & {"spend", "startTime", "api_key"}) or (
        "spend" in keys and keys & {"api_key", "model_group", "request_tags", "team_id"}
    ):
        return "litellm-spendlogs"
    if keys & {"litellm_call_id", "response_cost", "model_map_information", "hidden_params"}:
        return "litellm"
    if {"attempt_id", "started_at"} <= keys:
        return "routeledger"
    shown = ", ".join(sorted(keys)[:8])
    raise InputError(
        f"{path}: cannot tell the format: the first record has keys {shown}; "
        "pass --format, or --format mapped --mapping FILE"
    )
