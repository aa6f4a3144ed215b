"""Keeping secrets and logged text out of what RouteLedger says about itself: error lines, log
records, ``job_runs`` details.

Ingest already redacts every string it stores (:mod:`collectors.logs.normalize`). This module
covers the other way out: messages. Two rules, applied at the edges (the CLI, the scheduler's job
runner, the dashboard's error box):

* :func:`redact` replaces anything shaped like a credential with ``[REDACTED]``. "Shaped like a
  credential" is defined once, by :data:`collectors.logs.normalize.SECRET_PATTERN`.
* :func:`describe` renders an error as one line. RouteLedger's own errors
  (:class:`~collectors.errors.RouteLedgerError`) are written to be shown; any other exception's
  message may quote the data it choked on (DuckDB's "got VARCHAR: "<the value>"", a Python
  ``repr``), and a log value can be a prompt or a key, so its quoted parts are elided.

:class:`RedactingFilter` applies :func:`redact` to every record a logging handler emits,
tracebacks included.
"""

from __future__ import annotations

import logging
import re

from collectors.errors import RouteLedgerError
from collectors.logs.normalize import SECRET_PATTERN

MASK = "[REDACTED]"
_SECRET_RE = re.compile(SECRET_PATTERN)
# "..." and '...' (a DuckDB error quoting a value, a Python repr), at most one line long
_QUOTED_RE = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")


def redact(text: str) -> str:
    """``text`` with every credential-shaped substring replaced by ``[REDACTED]``."""
    return _SECRET_RE.sub(MASK, text)


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
