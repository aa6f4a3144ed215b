"""What counts as sensitive, defined once, and keeping it out of what RouteLedger stores or says
about itself: quarantine excerpts, error lines, log records, ``job_runs`` details.

* :data:`SECRET_PATTERN`: anything shaped like a credential (:data:`SECRET_SHAPES`: provider
  keys, AWS key ids and labelled secret keys, JWTs, ``Bearer`` / ``Basic`` / ``Token`` in any
  case, ``Authorization:`` values, percent-encoded forms). Ingest's SQL pass
  (:mod:`collectors.ingest.normalize`) replaces it with ``[REDACTED]`` in every string it
  stores; :func:`redact` does the same to messages. One pattern, read alike by Python's ``re``
  and DuckDB's RE2.
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


def _ci(word: str) -> str:
    """``word`` in any letter case, spelled out letter by letter (``[Bb][Ee]...``). Neither
    ``(?i)`` nor ``re.IGNORECASE``: Python and RE2 fold some non-ASCII letters differently
    (the Kelvin sign, dotless i), and the two engines must match exactly the same text."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _some(unit: str, plain: str, special: str, n: int) -> str:
    """At least ``n`` of ``unit`` of which one, not the first, is ``special``; ``unit`` is
    exactly ``plain`` or ``special``. The ``plain`` ones make an ordinary word, so
    ``Basic summarization`` is left alone while ``Basic dXNlcjpwYXNz`` is not. Written out
    without look-ahead (RE2 has none): one alternative per place of the first ``special``."""
    alts = [f"{plain}{{{p - 1}}}{special}{unit}{{{n - 1 - p},}}" for p in range(1, n - 1)]
    alts.append(f"{plain}{{{n - 2},}}{special}{unit}*")
    return f"{unit}(?:{'|'.join(alts)})"


# Both engines read the pattern: Python's ``re`` (:func:`redact`, excerpts, messages) and
# DuckDB's RE2 (``rl_redact`` in collectors.ingest.normalize). So it uses only what the two
# read alike: no \s, \d, \w, \b (Unicode in Python, ASCII in RE2), no (?i), no look-around, no
# single quote (it sits in a SQL string literal: \x27 instead). tests/security/
# test_redaction_shapes.py runs one corpus, and random strings, through both.
_WS = r"[ \t\n\r\f]"  # RE2's \s; Python's would also take \v and Unicode spaces
# between a scheme and its credentials: spaces (JSON-escaped too: an excerpt is JSON text), or
# a URL's %20 or +
_SP = rf"(?:(?:{_WS}|\\[nrtf])+|%20|\+)"
_HY = r"(?:-|%2[Dd])"  # "-", or percent-encoded
_US = r"(?:_|%5[Ff])"  # "_", or percent-encoded
_ALNUM = r"[A-Za-z0-9]"
_KEY = r"(?:[A-Za-z0-9_\-]|%2[Dd]|%5[Ff])"  # a key's body: letters, digits, - and _
# a credential after an auth scheme: RFC 6750's b64token and its "=" padding, percent-encoded
# bytes too; "=" anywhere, so a "key=value" after the scheme is taken whole
_TOKEN = r"(?:[A-Za-z0-9._~+/=\-]|%[0-9A-Fa-f]{2})"
_WORDISH = r"[a-z._~\-]"  # what an ordinary word or name is made of
_NOT_WORDISH = r"(?:[A-Z0-9+/=]|%[0-9A-Fa-f]{2})"  # the rest of a token's characters
# between a label and its value: spaces, quotes (JSON-escaped too), then ":" or "=", plain or
# percent-encoded
_Q = r"(?:[ \t\\\"\x27]|%2[02])"
_SEP = rf"{_Q}*(?::|=|%3[AaDd]){_Q}*"

SECRET_SHAPES: dict[str, str] = {
    # "Authorization: <scheme> <credentials>" (or = , a JSON key, a Python repr): the value
    # whatever it looks like
    "authorization header": rf"{_ci('authorization')}{_SEP}(?:[A-Za-z]+{_SP})?{_TOKEN}{{8,}}",
    # Bearer in any letter case, then a token
    "Bearer": rf"{_ci('bearer')}{_SP}{_TOKEN}{{12,}}",
    # Basic / Token in any letter case (ordinary words too), then a token that is not an
    # ordinary lowercase word or name: base64 credentials have capitals, digits, + / =
    "Basic or Token": rf"(?:{_ci('basic')}|{_ci('token')}){_SP}"
    rf"{_some(_TOKEN, _WORDISH, _NOT_WORDISH, 12)}",
    # a JSON Web Token: base64url header starting {" , payload, signature (kept when a cut
    # left only header and payload)
    "JWT": r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{2,}(?:\.[A-Za-z0-9_\-]*)?",
    # AWS: access key ids (long-term AKIA, temporary ASIA, and the other unique-id prefixes),
    # and a secret access key where it is labelled as one (a bare 40-character base64 string
    # is too ambiguous to redact)
    "AWS access key id": r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA)[0-9A-Z]{16}",
    "AWS secret access key": rf"(?:{_ci('aws')}[_\-.]?)?{_ci('secret')}[_\-.]?{_ci('access')}"
    rf"[_\-.]?{_ci('key')}{_SEP}(?:[A-Za-z0-9/+=]|%2[BbFf]|%3[Dd]){{16,}}",
    # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), Stripe secret keys; "-" and "_" may be
    # percent-encoded (sk%2Dproj%2D... in a URL). Not inside a word: "task-summarize" and
    # "risk-assessment" are names, not keys. RE2 has no look-behind, so the character before
    # the key is matched too, as the pattern's one group, and put back by the replacement; a
    # space is put before the text so a key at its start has one (never ^: RE2 reads ^ at
    # the start of what is left after a match, Python only at the start of the text). Nor
    # right after a mask's "]": redacting twice changes nothing.
    "sk- key": rf"([^A-Za-z0-9\]])sk{_HY}{_KEY}{{8,}}",
    "Stripe key": rf"sk{_US}(?:live|test){_US}{_ALNUM}{{8,}}",
    "Google API key": r"AIza[0-9A-Za-z_\-]{30,}",
    "GitHub token": rf"gh[pousr]{_US}{_ALNUM}{{20,}}",
    "GitHub fine-grained token": rf"github{_US}pat{_US}(?:[A-Za-z0-9_]|%5[Ff]){{20,}}",
    "Slack token": rf"xox[abprs]{_HY}(?:[A-Za-z0-9\-]|%2[Dd]){{10,}}",
    # other providers a gateway routes to: Groq, Hugging Face, xAI, Perplexity, Replicate
    "Groq key": rf"gsk{_US}{_ALNUM}{{20,}}",
    "Hugging Face token": rf"hf{_US}{_ALNUM}{{20,}}",
    "xAI key": rf"xai{_HY}{_ALNUM}{{20,}}",
    "Perplexity key": rf"pplx{_HY}{_ALNUM}{{20,}}",
    "Replicate token": rf"r8{_US}{_ALNUM}{{20,}}",
}
"""Every credential shape, by name (the docs and the tests name them the same way)."""

SECRET_PATTERN = "|".join(f"(?:{p})" for p in SECRET_SHAPES.values())
"""One regular expression for all of :data:`SECRET_SHAPES`, read by Python and by RE2."""

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
MASK_REPLACEMENT = r"\1" + MASK
"""What a match becomes: the character kept before a key (the pattern's one group, empty for
every other shape), then the mask. Python and RE2 both read ``\1`` of an unmatched group as
nothing."""
_SECRET_RE = re.compile(SECRET_PATTERN)
if _SECRET_RE.groups != 1:
    raise RuntimeError(
        "SECRET_PATTERN must have exactly one capturing group (see MASK_REPLACEMENT)"
    )
# the end of a cut window, which may be the start of a credential too short to match
_CUT_TAIL_RE = re.compile(r"[A-Za-z0-9._~+/=%\-]+$")
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
    return _SECRET_RE.sub(MASK_REPLACEMENT, " " + text)[1:]  # the space: see "sk- key"


def excerpt(raw: bytes | str) -> str:
    """A short, redacted start of a bad row for the quarantine table: cut before the first
    prompt- or response-like key, so no prompt text is kept even when the row is not JSON."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    cut = len(text) > EXCERPT_CHARS * 4
    text = text[: EXCERPT_CHARS * 4]
    m = _PROMPT_KEY_RE.search(text)
    if m:
        text, cut = text[: m.end()] + " [dropped]", False
    out = redact(text)
    if cut and len(out) < EXCERPT_CHARS:
        # redaction shrank the window so far that its cut end shows: a credential cut there
        # is too short to match, so that last run of token characters goes
        out = _CUT_TAIL_RE.sub("", out)
    return out[:EXCERPT_CHARS]


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
