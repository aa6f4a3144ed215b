"""The one definition of a credential's shape (``collectors.redact.SECRET_PATTERN``) is read by
two regular-expression engines: Python's ``re`` (``redact``: quarantine excerpts, error lines,
log records) and DuckDB's RE2 (``rl_redact``: every string ingest stores). Both must find the
same credentials: the same corpus runs through both, and random strings (hypothesis) must come
out of both identically.

Also here: ordinary words after ``Basic`` / ``token`` are left alone, what is knowingly not
redacted stays so (a bare 40-character AWS secret), the provider is redacted before it is
lowercased, an excerpt cut inside a credential keeps none of it, a format's error detail is
redacted.
"""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.ingest.normalize import REDACTED_COLUMNS, install_macros, normalize
from collectors.logs.base import CANDIDATE_COLUMNS, RecordError
from collectors.logs.otel import FORMAT as OTEL
from collectors.redact import EXCERPT_CHARS, MASK, SECRET_PATTERN, SECRET_SHAPES, excerpt, redact
from tests.security.planted import (
    AWS_SECRET,
    BASIC_AUTH,
    BEARER_UPPER,
    CREDENTIALS,
    JWT,
    OPENAI_KEY,
    TOKEN_AUTH,
    URL_KEY,
    leaks,
)

_CON = duckdb.connect()
install_macros(_CON)


def sql_redact(text: str) -> str:
    return str(_CON.execute("SELECT rl_redact(?)", [text]).fetchall()[0][0])


def both(text: str) -> str:
    """``text`` redacted by Python; fails unless RE2 redacts it identically."""
    python = redact(text)
    assert sql_redact(text) == python, text
    return python


# Credentials as they show up in logs: each must be redacted whole (no needle of planted.py left,
# in any letter case), by both engines.
SHAPED = {
    **CREDENTIALS,
    "lowercase bearer": "bearer PLANTEDlowerBearer0123456789",
    "Bearer, tab": "Bearer\tPLANTEDtabBearer0123456789",
    "Bearer, JSON-escaped newline": "Bearer\\nPLANTEDjsonBearer0123456789",
    "Bearer, URL-encoded space": "Bearer%20PLANTEDurlBearer0123456789",
    "Bearer, query-string plus": "Bearer+PLANTEDplusBearer0123456789",
    "Bearer, base64url token with = inside": "Bearer abc_PLANTEDeqBearer=0123=456789",
    "Bearer, a lowercase hand-made token": "Bearer plantedhandmade-token",
    "BASIC upper case": "BASIC UExBTlRFRGJhc2ljOmh1bnRlcjJwdw==",
    "Token capitalised": "Token PLANTEDtokenScheme0123456789",
    "Authorization, JSON": '{"authorization": "Bearer PLANTEDjsonAuth0123456789"}',
    "Authorization, JSON-escaped": '{\\"Authorization\\": \\"Basic UExBTlRFRGJhc2lj\\"}',
    "Authorization, repr": "{'Authorization': 'PLANTEDrawAuthValue0123'}",
    "Authorization, raw value": "AUTHORIZATION: PLANTEDrawAuthValue0123",
    "Proxy-Authorization": "Proxy-Authorization: Basic UExBTlRFRGJhc2ljOmh1bnRlcjJwdw==",
    "Authorization=, query": "?authorization=Bearer%20PLANTEDqueryAuth0123",
    **{
        f"AWS key id {p}": f"{p}PLNTDTMP01234567"
        for p in ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA")
    },
    "AWS secret, env": f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
    "AWS secret, YAML": f"aws_secret_access_key: {AWS_SECRET}",
    "AWS secret, repr": f"{{'SecretAccessKey': '{AWS_SECRET}'}}",
    "AWS secret, JSON-escaped": f'{{\\"secretAccessKey\\":\\"{AWS_SECRET}\\"}}',
    "AWS secret, URL": "aws_secret_access_key%3DPLNTDawsSecretKey0123456789abcdef%2FGHIJ%2BZ",
    "JWT, unsigned": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJQTEFOVEVEYmFyZWp3dCIsImlhdCI6MX0.",
    "JWT, cut after the payload": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQTEFOVEVEYmFyZWp3dCIsImlh",
    "sk- lowercase %2d": "sk%2dproj%2dPLANTEDurlencoded0123456789",
    "sk-ant- encoded": "sk%2Dant%2Dapi03%2DPLANTEDurlencoded0123456789",
    "Stripe, encoded": "sk%5Flive%5FPLANTEDurlencoded0123",
    "Slack, encoded": "xoxb%2D1234%2DPLANTEDurlencoded",
    "GitHub, encoded": "ghp%5FPLANTEDurlencoded0123456789abcd",
    "GitHub fine-grained, encoded": "github%5Fpat%5F11PLANTEDurlencoded0123456789",
    "Groq, encoded": "gsk%5FPLANTEDurlencoded0123456789abcd",
    "xAI, encoded": "xai%2DPLANTEDurlencoded0123456789abcd",
}
# what the extra entries plant (their cores are not in planted.NEEDLES)
EXTRA_NEEDLES = (
    "PLANTEDlowerBearer",
    "PLANTEDtabBearer",
    "PLANTEDjsonBearer",
    "PLANTEDurlBearer",
    "PLANTEDplusBearer",
    "PLANTEDeqBearer",
    "PLANTEDjsonAuth",
    "PLANTEDrawAuthValue",
    "PLANTEDqueryAuth",
    "plantedhandmade",
)


def no_credential(text: str) -> bool:
    folded = text.casefold()
    return not leaks(text) and not any(n.casefold() in folded for n in EXTRA_NEEDLES)


@pytest.mark.parametrize("name", sorted(SHAPED))
@pytest.mark.parametrize("around", ["{}", "team {} end", "/v1/chat?key={}&x=1", "({})", '"{}"'])
def test_every_shape_is_redacted_alike_by_python_and_sql(name: str, around: str) -> None:
    text = around.format(SHAPED[name])
    out = both(text)
    assert MASK in out and no_credential(out), out


@pytest.mark.parametrize(
    "text",
    [
        "basic summarization",  # an ordinary word after a scheme name
        "Basic classification-pipeline",
        "Token ring.local_name~x",
        "token limit exceeded",
        "token limit_exceeded",
        "max token budget_exceeded_for_request",
        "tokens per minute",
        "authorization failed for this request",
        "secret access key rotation",
        "gpt-4o-mini",
        "anthropic/claude-3-5-sonnet-20241022",
        "eyJ is how a JWT starts",
        "AKIA0123",  # too short for a key id
        # knowingly left (docs/security.md): a bare 40-character AWS secret has no shape of its
        # own, and lowercase "akia..." is no AWS key id
        AWS_SECRET,
        "akiaplntdtmp01234567",
        # "sk-" inside a word is a name, not a key
        "task-summarize",
        "risk-assessment-pipeline-v2-prod",
        "disk-usage-monitoring-agent",
        "ask-question-answering-service",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert both(text) == text


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("key=sk-proj-PLANTEDabcdefghijkl", "key=[REDACTED]"),
        ('"sk-PLANTEDabcdefgh12"', '"[REDACTED]"'),
        ("sk-PLANTEDabcdefgh12 and sk-PLANTEDabcdefgh34", "[REDACTED] and [REDACTED]"),
        ("x\tsk-ant-PLANTEDabcdefgh12", "x\t[REDACTED]"),
    ],
)
def test_the_character_before_a_key_is_kept(text: str, want: str) -> None:
    assert both(text) == want


def test_the_patterns_hold_nothing_the_engines_read_differently() -> None:
    """No \\s \\d \\w \\b (Unicode in Python, ASCII in RE2), no (?i), no look-around, no quote
    (the pattern sits in a SQL literal)."""
    for bad in ("\\s", "\\d", "\\w", "\\b", "(?i", "(?=", "(?!", "(?<", "'"):
        assert bad not in SECRET_PATTERN, bad
    assert SECRET_PATTERN == "|".join(f"(?:{p})" for p in SECRET_SHAPES.values())


def test_the_provider_is_redacted_before_it_is_lowercased() -> None:
    """``BEARER x`` used to be lowercased to ``bearer x`` (and the mask to ``[redacted]``)."""
    got = _CON.execute(
        "SELECT rl_lower_str(?, 100, true), rl_lower_str(?, 100, true), "
        "rl_lower_str('OpenAI', 100, true)",
        [f"OpenAI {BEARER_UPPER}", f"Azure {TOKEN_AUTH} {BASIC_AUTH}"],
    ).fetchall()[0]
    assert got == ("openai [REDACTED]", "azure [REDACTED] [REDACTED]", "openai")


def test_an_id_that_held_a_credential_stays_distinct() -> None:
    a, b, plain = _CON.execute(
        "SELECT rl_id(?, true), rl_id(?, true), rl_id(' run-42 ', true)",
        [f"req {OPENAI_KEY}", f"req {OPENAI_KEY.replace('XYZ', 'XYW')}"],
    ).fetchall()[0]
    assert a.startswith("req [REDACTED]#") and b.startswith("req [REDACTED]#") and a != b
    assert plain == "run-42"


# a candidate row that normalises to an attempt: every other column empty
_VALID = {
    "attempt_key": "call-1",
    "started_at": "2026-10-05T10:00:00Z",
    "ended_at": "2026-10-05T10:00:02Z",
    "served_model": "gpt-4o",
    "status": "success",
    "input_tokens": "10",
    "output_tokens": "5",
}


@pytest.mark.parametrize("column", [c for c in CANDIDATE_COLUMNS if c != "format_reject"])
@pytest.mark.parametrize("where", ["alone", "after text", "padded"])
def test_a_credential_in_any_one_column_is_redacted(column: str, where: str) -> None:
    """Ingest searches a row's kept strings for a credential once (``rl_suspect``) and redacts
    each column only when that finds one: a credential in a column the search missed would be
    stored as it is. Each candidate column in turn holds one, every other column clean."""
    value = {"alone": OPENAI_KEY, "after text": f"team {JWT}", "padded": f"  {OPENAI_KEY}  "}
    con = duckdb.connect()
    install_macros(con)
    row = {c: _VALID.get(c) for c in CANDIDATE_COLUMNS}
    row[column] = value[where]
    cols = ", ".join(f"?::VARCHAR AS {c}" for c in CANDIDATE_COLUMNS)
    con.execute(
        f"CREATE TEMP TABLE cand AS SELECT 1::BIGINT AS source_line, {cols}", list(row.values())
    )
    normalize(con, "litellm", "litellm", "planted.jsonl")
    stored = (
        con.execute("SELECT * FROM norm_ok").fetchall()
        + con.execute("SELECT * FROM norm_bad").fetchall()
    )
    assert stored, column
    text = " ".join(str(v) for r in stored for v in r)
    assert not leaks(text), (column, text)
    suspect = con.execute("SELECT bool_or(rl_suspect) FROM norm_typed").fetchall()[0][0]
    assert suspect == (column in REDACTED_COLUMNS), column


def test_an_excerpt_cut_inside_a_credential_keeps_none_of_it() -> None:
    """The excerpt window (1,200 characters) can end inside a credential, too short there to
    match; when redaction has shrunk the window below the excerpt's length, that cut end shows."""
    keys = " ".join(f"sk-proj-{i:02d}{'x' * 97}" for i in range(11))  # 1,187 characters
    text = f"{keys} {JWT}"  # the window ends inside the JWT's header
    assert len(keys) < EXCERPT_CHARS * 4 < len(keys) + 1 + 36
    out = excerpt(text)
    assert out.count(MASK) == 11 and "eyJ" not in out, out
    cut_key = f"{keys} {URL_KEY}"[: EXCERPT_CHARS * 4 + 20]
    assert "PLANTED" not in excerpt(cut_key) and "sk%2" not in excerpt(cut_key)


def test_a_formats_error_detail_is_redacted() -> None:
    """A format quotes a bad value in its quarantine detail (OTel: the trace id)."""
    doc = {
        "resourceSpans": [
            {"scopeSpans": [{"spans": [{"traceId": BEARER_UPPER, "spanId": "00f067aa0ba902b7"}]}]}
        ]
    }
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["attributes"] = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]
    with pytest.raises(RecordError) as e:
        OTEL.extract(doc)
    assert e.value.reason == "bad_id" and MASK in e.value.detail and no_credential(e.value.detail)
    error = RecordError("x", f"bad {JWT}")
    assert error.detail == f"bad {MASK}" and str(error) == f"x: bad {MASK}"


# -- hypothesis: the two engines agree on anything ------------------------------------------------

# pieces of credentials, scheme and label words, the characters around them, and characters
# the two engines could read differently
PIECES = [
    "sk-",
    "sk%2D",
    "sk%2d",
    "sk_live_",
    "Bearer ",
    "BEARER",
    "bearer\t",
    "Basic ",
    "token ",
    "Token+",
    "%20",
    "%2F",
    "%3D",
    "%3a",
    "Authorization",
    "authorization: ",
    "aws_secret_access_key",
    "SecretAccessKey",
    '":"',
    "eyJ",
    "eyJhbGciOiJub25lIn0",
    ".",
    "AKIA",
    "ASIA",
    "ABCDEFGHIJKLMNOP",
    "0123456789",
    "\\n",
    '\\"',
    "'",
    '"',
    ":",
    "=",
    "==",
    "/",
    "+",
    "_",
    "-",
    "\u212a",  # KELVIN SIGN: "k" to Python's IGNORECASE
    "\u017f",  # LONG S
    "\u0131",  # DOTLESS I
    "\u0130",
    "\x0b",  # \s to Python, not to RE2
    "\x85",
    "\xa0",
    "\u2028",
    "\u00e9",
    "\u0663",  # ARABIC-INDIC THREE: \d to Python
]
FRAGMENTS = [
    *PIECES,
    *SHAPED.values(),
    *(p.upper() for p in CREDENTIALS.values()),
    *(p.lower() for p in CREDENTIALS.values()),
]
TOKENISH = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.%=/+:",
    min_size=1,
    max_size=24,
)
ANY = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=6)
TEXTS = st.lists(st.one_of(st.sampled_from(FRAGMENTS), TOKENISH, ANY), max_size=14).map("".join)
PLAIN = st.lists(st.one_of(st.sampled_from(PIECES), TOKENISH, ANY), max_size=14).map("".join)
# what separates a credential from the text before it: not a space, which after a scheme or
# label word ("Bearer", "Authorization:") would make that word take the credential as its own
BEFORE = st.sampled_from([", ", "; ", "|", "(", ")", "&", "?x=", "<", "\n,"])
AFTER = st.sampled_from([" ", "\t", "\n", ", ", "; ", "|", "(", ")", "&", "?x=", " / "])


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_python_and_sql_redact_any_string_alike(text: str) -> None:
    out = both(text)
    assert redact(out) == out  # nothing left that is credential-shaped


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLAIN, BEFORE, st.sampled_from(sorted(SHAPED)), AFTER, PLAIN)
def test_a_credential_between_anything_is_redacted(
    before: str, sep1: str, name: str, sep2: str, after: str
) -> None:
    text = before + sep1 + SHAPED[name] + sep2 + after
    assert no_credential(both(text)), (text, redact(text))
