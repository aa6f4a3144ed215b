"""Gateway logs with secrets and prompt text planted in every field a gateway puts them in.

Each file starts from a recorded real input (``tests/fixtures/logs``) and plants:

* raw API keys where gateways log them: LiteLLM's ``metadata.user_api_key_hash`` and SpendLogs'
  ``api_key`` holding the raw key instead of its hash (a misconfigured or older proxy);
* credential-shaped strings (``sk-...``, ``AKIA...``, ``Bearer ...``) in the names RouteLedger
  keeps: team, user, key alias, route (a query-string key), request tags, model group, error
  type; and the shapes added for issue 15 (:data:`CREDENTIALS`: AWS temporary key ids and
  labelled secret keys, a bare JWT, ``BEARER`` upper case, ``Authorization: Basic``, ``token``,
  a percent-encoded key) in provider, deployment, base model, requested model, task, route and
  error type;
* prompts and responses: LiteLLM ``messages`` / ``response`` / ``proxy_server_request``, OTel
  ``gen_ai.prompt`` / ``gen_ai.completion`` / ``gen_ai.input.messages`` attributes, span events
  and the status message, OpenRouter's chat-completion ``choices``, and extra ``prompt`` /
  ``messages`` fields in RouteLedger's own format;
* rows that are quarantined while carrying a key and a prompt (broken JSON, CSV extra columns).

Every attempt starts in ISO week :data:`WEEK`, so one weekly report covers them all.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import LOG_FIXTURES

WEEK = "2026-W41"  # Monday 2026-10-05 .. Sunday 2026-10-11

OPENAI_KEY = "sk-proj-PLANTEDopenai0123456789abcdefXYZ"
ANTHROPIC_KEY = "sk-ant-api03-PLANTEDanthropic0123456789abc"
RAW_PROXY_KEY = "sk-PLANTEDlitellmvirtualkey01234"  # a LiteLLM virtual key, logged raw
AWS_KEY = "AKIAPLNTD01234567890"[:20]  # AKIA + 16 of [0-9A-Z]
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.PLANTEDjwtpayload0123.sig"
# issue 15: shapes that were stored verbatim
AWS_TEMP_KEY = "ASIAPLNTDTMP01234567"  # ASIA + 16 of [0-9A-Z]: a temporary (STS) key id
AWS_SECRET = "PLNTDawsSecretKey0123456789abcdefGHIJ/+Z"  # 40 characters, base64
AWS_SECRET_LABELLED = f"aws_secret_access_key={AWS_SECRET}"
AWS_SECRET_JSON = '{"SecretAccessKey":"PLNTDjsonSecretKey0123456789abcdefGHI/+Z"}'
JWT = (  # header {"alg":"HS256","typ":"JWT"}, payload {"sub":"PLANTEDbarejwt","iat":1}
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJQTEFOVEVEYmFyZWp3dCIsImlhdCI6MX0"
    ".PLANTEDjwtSignature0123_-x"
)
BEARER_UPPER = "BEARER PLANTEDupperBearer0123456789"
BASIC_AUTH = "Authorization: Basic UExBTlRFRGJhc2ljOmh1bnRlcjJwdw=="  # PLANTEDbasic:hunter2pw
TOKEN_AUTH = "token PLANTEDtokenScheme0123456789"
URL_KEY = "sk%2Dproj%2DPLANTEDurlencoded0123456789"  # sk-proj-..., percent-encoded
# one planted value per credential shape (collectors.redact.SECRET_SHAPES), each with a core
# in NEEDLES
CREDENTIALS: dict[str, str] = {
    "OpenAI key": OPENAI_KEY,
    "Anthropic key": ANTHROPIC_KEY,
    "AWS access key id": AWS_KEY,
    "AWS temporary key id": AWS_TEMP_KEY,
    "AWS secret access key, labelled": AWS_SECRET_LABELLED,
    "AWS secret access key, JSON": AWS_SECRET_JSON,
    "JWT": JWT,
    "Bearer": BEARER,
    "BEARER": BEARER_UPPER,
    "Authorization: Basic": BASIC_AUTH,
    "token": TOKEN_AUTH,
    "percent-encoded key": URL_KEY,
}
PROMPT = "Zorblax quarterly merger memo: summarize the confidential terms"
ANSWER = "Quuxifrage answer: the merger closes on Friday"

# Substrings that must appear nowhere, in any letter case: each secret's distinctive core (so a
# truncated, partly redacted or lowercased copy is caught too) and words of the prompt and the
# answer.
NEEDLES = (
    "PLANTEDopenai",
    "PLANTEDanthropic",
    "PLANTEDlitellmvirtualkey",
    "AKIAPLNTD",
    "PLANTEDjwtpayload",
    "eyJhbGciOiJIUzI1NiJ9",
    "PLNTDTMP",
    "PLNTDawsSecretKey",
    "PLNTDjsonSecretKey",
    "eyJzdWIiOiJQTEFOVEVE",
    "PLANTEDjwtSignature",
    "PLANTEDupperBearer",
    "UExBTlRFRGJhc2lj",
    "PLANTEDtokenScheme",
    "PLANTEDurlencoded",
    "Zorblax",
    "merger memo",
    "Quuxifrage",
    "closes on Friday",
)


def leaks(text: str) -> list[str]:
    """The needles in ``text``, in any letter case."""
    folded = text.casefold()
    return [n for n in NEEDLES if n.casefold() in folded]


# what the raw proxy key is kept as
RAW_PROXY_KEY_SHA256 = hashlib.sha256(RAW_PROXY_KEY.encode()).hexdigest()


def _epoch(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC).timestamp()


def _json(name: str) -> Any:
    return json.loads((LOG_FIXTURES / name).read_text(encoding="utf-8"))


def litellm_payloads() -> list[dict[str, Any]]:
    base = _json("litellm/slp_router_success.json")

    def slp(i: int, **over: Any) -> dict[str, Any]:
        d = copy.deepcopy(base)
        d["id"], d["trace_id"] = f"planted-{i}", f"planted-trace-{i}"
        d["startTime"] = _epoch(6, 9, i)
        d["endTime"] = d["completionStartTime"] = d["startTime"] + 0.8
        d["messages"] = [{"role": "system", "content": BEARER}, {"role": "user", "content": PROMPT}]
        d["response"]["choices"][0]["message"]["content"] = ANSWER
        d["proxy_server_request"] = {"headers": {"authorization": BEARER}, "body": PROMPT}
        d["model_parameters"] = {"user": OPENAI_KEY}
        d.update(over)
        return d

    keyed = slp(1, end_user=AWS_KEY, model_id=f"deployment {AWS_TEMP_KEY}")
    md = keyed["metadata"]
    md["user_api_key_hash"] = RAW_PROXY_KEY  # raw key where the hash belongs
    md["user_api_key_alias"] = ANTHROPIC_KEY
    md["user_api_key_team_alias"] = BEARER
    md["user_api_key_request_route"] = f"/v1/chat/completions?key={OPENAI_KEY}"
    md["requester_metadata"] = {"task": "summarize", "prompt": PROMPT, "api_key": OPENAI_KEY}
    failed = slp(
        2,
        status="failure",
        error_str=f"AuthenticationError: Incorrect API key provided: {OPENAI_KEY}. {PROMPT}",
        error_information={
            "error_code": "401",
            "error_class": f"AuthenticationError {ANTHROPIC_KEY} {BASIC_AUTH}",
            "error_message": PROMPT,
        },
        model_group=f"gpt-4o {JWT}",
    )
    tagged = slp(3, request_tags=[f"task:{OPENAI_KEY}", f"team:{BEARER}"])
    tagged["model_group"] = f"group-{ANTHROPIC_KEY}"
    tagged["custom_llm_provider"] = f"OpenAI {BEARER_UPPER}"  # lowercased when stored
    tagged["metadata"]["model_info"] = {"base_model": f"gpt-4o {AWS_SECRET_JSON}"}
    tagged["metadata"]["user_api_key_request_route"] = f"/v1/chat/completions?key={URL_KEY}"
    return [keyed, failed, tagged]


def spend_logs_rows() -> list[dict[str, Any]]:
    row = _json("litellm/01_spend_logs_row_gcs_pubsub.json")
    row.update(
        request_id="planted-spend-1",
        session_id="planted-session-1",
        api_key=RAW_PROXY_KEY,
        user=AWS_KEY,
        team_id=BEARER,
        startTime="2026-10-07 10:00:00.000000",
        endTime="2026-10-07 10:00:01.500000",
        completionStartTime="2026-10-07 10:00:01.500000",
        messages=json.dumps([{"role": "user", "content": PROMPT}]),
        response=json.dumps({"choices": [{"message": {"content": ANSWER}}]}),
        proxy_server_request=json.dumps({"headers": {"Authorization": BEARER}, "body": PROMPT}),
        model_id=f"deployment {TOKEN_AUTH}",
        custom_llm_provider=f"Azure {BEARER_UPPER}",
    )
    md = json.loads(row["metadata"])
    md.update(
        user_api_key_alias=ANTHROPIC_KEY,
        requester_metadata={"prompt": PROMPT, "task": f"summarize {AWS_SECRET_LABELLED}"},
        user_api_key_request_route=f"/v1/chat/completions?key={URL_KEY}",
    )
    row["metadata"] = json.dumps(md)
    return [row]


def otel_batch() -> dict[str, Any]:
    def attr(key: str, value: str) -> dict[str, Any]:
        return {"key": key, "value": {"stringValue": value}}

    span = {
        "traceId": "5af92f3577b34da6a3ce929d0e0e4799",
        "spanId": "63995c3f42cd8ad1",
        "name": "chat gpt-4o",
        "kind": 3,
        "startTimeUnixNano": str(int(_epoch(8, 11) * 1e9)),
        "endTimeUnixNano": str(int((_epoch(8, 11) + 1.2) * 1e9)),
        "attributes": [
            attr("gen_ai.operation.name", "chat"),
            attr("gen_ai.provider.name", f"OpenAI {BEARER_UPPER}"),
            attr("gen_ai.request.model", "gpt-4o"),
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "42"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "7"}},
            attr("gen_ai.prompt", PROMPT),
            attr("gen_ai.completion", ANSWER),
            attr("gen_ai.input.messages", json.dumps([{"content": PROMPT}])),
            attr("user.id", OPENAI_KEY),
            attr("http.request.header.authorization", BEARER),
            attr("error.type", f"AuthError {ANTHROPIC_KEY} {TOKEN_AUTH}"),
            attr("app.task", f"chat {JWT}"),
            attr("gen_ai.response.model", f"gpt-4o {AWS_TEMP_KEY}"),
        ],
        "status": {"code": 2, "message": f"Error code: 401 - {PROMPT} {OPENAI_KEY}"},
        "events": [{"name": "gen_ai.user.message", "attributes": [attr("content", PROMPT)]}],
    }
    resource = {"attributes": [attr("service.name", f"svc {URL_KEY}"), attr("team", BEARER)]}
    scope = {"scope": {"name": "planted.instrumentation"}, "spans": [span]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [scope]}]}


def openrouter_body() -> dict[str, Any]:
    body = _json(
        "openrouter_completion_usage/skills-openrouter_gemini-2.5-flash_chat-completion.json"
    )
    body["id"] = "gen-planted-1"
    body["created"] = int(_epoch(9, 15))
    body["choices"][0]["message"]["content"] = ANSWER
    body["prompt"] = PROMPT
    body["user"] = OPENAI_KEY
    body["provider"] = f"Google {BEARER_UPPER}"
    return body


def routeledger_rows() -> list[bytes]:
    def row(i: int, **over: Any) -> dict[str, Any]:
        r = {
            "attempt_id": f"planted-rl-{i}",
            "logical_request_id": f"planted-req-{i}",
            "started_at": "2026-10-10T08:00:00Z",
            "ended_at": "2026-10-10T08:00:02Z",
            "model": "gpt-4o-mini",
            "provider": "openai",
            "status": "success",
            "input_tokens": 30,
            "output_tokens": 9,
            "task": "chat",
            "team": "core",
        }
        r.update(over)
        return r

    good = row(
        1,
        team=OPENAI_KEY,
        user=AWS_KEY,
        key_alias=BEARER,
        route=f"/v1?api_key={OPENAI_KEY}",
        provider=f"OpenAI {BEARER_UPPER}",
        requested_model=f"gpt-4o {JWT}",
        deployment_id=f"deployment {AWS_SECRET_LABELLED}",
        prompt=PROMPT,
        messages=[{"role": "user", "content": PROMPT}],
        response=ANSWER,
    )
    failed = row(
        2,
        status="error",
        error_class=f"upstream {ANTHROPIC_KEY} {BASIC_AUTH}",
        http_status=500,
        task=f"chat {TOKEN_AUTH}",
        key_alias=f"alias {URL_KEY}",
        user=AWS_TEMP_KEY,
    )
    broken = f'{{"attempt_id": "{OPENAI_KEY}", "prompt": "{PROMPT}", "started_at": '
    return [json.dumps(good).encode(), json.dumps(failed).encode(), broken.encode()]


def routeledger_csv() -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        ["attempt_id", "started_at", "ended_at", "model", "status", "team", "user", "route"]
        + ["provider", "task"]
    )
    w.writerow(
        [
            "planted-csv-1",
            "2026-10-11T07:00:00Z",
            "2026-10-11T07:00:01Z",
            "gpt-4o-mini",
            "success",
            BEARER,
            ANTHROPIC_KEY,
            f"/v1?key={URL_KEY}",
            f"Anthropic {BEARER_UPPER}",
            f"chat {AWS_SECRET_JSON}",
        ]
    )
    return buf.getvalue().encode()


def write_logs(folder: Path) -> list[Path]:
    """Write one file per format into ``folder``; the paths, for ``routeledger ingest``."""
    folder.mkdir(parents=True, exist_ok=True)

    def jsonl(name: str, docs: list[Any]) -> Path:
        path = folder / name
        lines = [d if isinstance(d, bytes) else json.dumps(d).encode() for d in docs]
        path.write_bytes(b"".join(line + b"\n" for line in lines))
        return path

    csv_path = folder / "own.csv"
    csv_path.write_bytes(routeledger_csv())
    return [
        jsonl("litellm.jsonl", litellm_payloads()),
        jsonl("spend_logs.jsonl", spend_logs_rows()),
        jsonl("otel.jsonl", [otel_batch()]),
        jsonl("openrouter.jsonl", [openrouter_body()]),
        jsonl("own.jsonl", routeledger_rows()),
        csv_path,
    ]
