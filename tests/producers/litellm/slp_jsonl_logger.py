"""LiteLLM proxy logging callback: every StandardLoggingPayload as one JSON line.

The way a LiteLLM user exports logs to a file: a ``CustomLogger`` whose success and failure
hooks write ``kwargs["standard_logging_object"]`` (the StandardLoggingPayload LiteLLM builds for
every call it logs) as JSON lines, to the file named by ``SLP_LOG``. Loaded by the proxy from
``config.yaml`` (``litellm_settings.callbacks: slp_jsonl_logger.handler``); runs inside the proxy's
own venv, never in RouteLedger's.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from litellm.integrations.custom_logger import CustomLogger


class SlpJsonlLogger(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def _write(self, kwargs: dict[str, Any]) -> None:
        payload = kwargs.get("standard_logging_object")
        if payload is None:
            return
        line = json.dumps(payload, default=str, separators=(",", ":"))
        with self._lock, open(os.environ["SLP_LOG"], "a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
        self._write(kwargs)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # type: ignore[no-untyped-def]
        self._write(kwargs)


handler = SlpJsonlLogger()
