"""What counts as sensitive, defined once, and keeping it out of what RouteLedger stores or says
about itself: quarantine excerpts, error lines, log records, ``job_runs`` details.

* :data:`SECRET_PATTERN`: anything shaped like a credential. Ingest's SQL pass
  (:mod:`collectors.ingest.normalize`) replaces it with ``[REDACTED]`` in every string it
  stores; :func:`redact` does the same to messages.
* :data:`PROMPT_KEYS`: the JSON keys and CSV header columns whose value may be prompt or
  response text. :func:`excerpt` (a JSON or unparsed row) and :func:`csv_excerpt` (a CSV row)
  cut a quarantined row before the first of them, so no prompt text is kept.

Messages are the other way out. Two rules, applied at the edges (the CLI, the scheduler's job
runner, the dashboard's error box):

* :func:`redact` replaces anything shaped like a credential with ``[REDACTED]``.
* :func:`describe` renders an error as one line. RouteLedger's own errors
  (:class:`~collectors.errors.RouteLedgerError`) are written to be shown; any other exception's
  message may quote the data it choked on (DuckDB's "got VARCHAR: "<the value>"", a Python
  ``repr``), and a log value can be a prompt or a key, so its quoted parts are elided.

:class:`RedactingFilter` applies :func:`redact` to every record a logging handler emits,
tracebacks included.
"""

from __future__ import annotations

import csv
import logging
import re

from collectors.errors import RouteLedgerError

SECRET_PATTERN = (
    r"(sk-[A-Za-z0-9_\-]{8,}|sk_(live|test)_[A-Za-z0-9]{8,}|AKIA[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_\-]{30,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|[Bb]earer\s+[A-Za-z0-9._~+/\-]{12,}=*"
    # other providers a gateway routes to: Groq, Hugging Face, xAI, Perplexity, Replicate,
    # GitHub fine-grained tokens
    r"|gsk_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}|pplx-[A-Za-z0-9]{20,}"
    r"|r8_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"
)
# JSON keys and CSV columns whose value may be a prompt or a response (matched ignoring case)
PROMPT_KEYS = (
    "messages",
    "prompt",
    "prompts",
    "content",
    "response",
    "choices",
    "completion",
    "input",
    "output",
    "text",
    "system",
    "instructions",
    "query",
    "proxy_server_request",
    "payload",
    "request_body",
    "response_body",
)
EXCERPT_CHARS = 300

MASK = "[REDACTED]"
_SECRET_RE = re.compile(SECRET_PATTERN)
# "..." and '...' (a DuckDB error quoting a value, a Python repr), at most one line long
_QUOTED_RE = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")
_KEYS = "|".join(re.escape(k) for k in PROMPT_KEYS)
_PROMPT_KEY_RE = re.compile(
    rf'"({_KEYS})"\s*:'
    # OTLP attributes name their content in a value: {"key": "gen_ai.prompt", "value": ...}
    r'|"key"\s*:\s*"(gen_ai\.(prompt|completion|input|output|system)|llm\.(prompts|completions|'
    r"input_messages|output_messages)|(input|output)\.value)",
    re.IGNORECASE,
)
_PROMPT_COLUMN_RE = re.compile(rf"^({_KEYS})$", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every credential-shaped substring replaced by ``[REDACTED]``."""
    return _SECRET_RE.sub(MASK, text)


def excerpt(raw: bytes | str) -> str:
    """A short, redacted start of a bad row for the quarantine table: cut before the first
    prompt- or response-like key, so no prompt text is kept even when the row is not JSON."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = text[: EXCERPT_CHARS * 4]
    m = _PROMPT_KEY_RE.search(text)
    if m:
        text = text[: m.end()] + " [dropped]"
    return redact(text)[:EXCERPT_CHARS]


def csv_excerpt(raw: str, names: list[str]) -> str:
    """A quarantined CSV row's excerpt: its fields before the first prompt- or response-like
    column of the header, so no prompt text is kept (JSON rows are cut at such keys)."""
    cut = next((i for i, n in enumerate(names) if _PROMPT_COLUMN_RE.match(n)), None)
    if cut is None:
        return excerpt(raw)
    try:
        fields = next(csv.reader([raw]))
    except (csv.Error, StopIteration):
        fields = []
    return excerpt(",".join(fields[:cut]) + " [dropped]")


def elide_quoted(text: str) -> str:
    """``text`` with its quoted values ("..." and '...', one line at most) replaced by "…"."""
    return _QUOTED_RE.sub('"…"', text)


def describe(e: BaseException, limit: int = 500) -> str:
    """One line for ``e``: its message if it is RouteLedger's own, else its type and its message
    with quoted values elided; credential-shaped strings redacted either way."""
    lines = str(e).strip().splitlines()
    text = lines[0] if lines else ""
    if not isinstance(e, RouteLedgerError):
        text = elide_quoted(text)
        text = f"{type(e).__name__}: {text}" if text else type(e).__name__
    return redact(text)[:limit]


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message (arguments merged in) and its traceback are
    redacted before any formatter sees them."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
