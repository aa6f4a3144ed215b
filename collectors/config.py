"""``routeledger.toml``: every setting declared once (name, type, default, help).

The home directory comes from ``--home``, then ``ROUTELEDGER_HOME``, then ``./.routeledger``.
:data:`SETTINGS` is the single declaration: :func:`load` validates against it, ``routeledger
init`` writes a commented default from it, and a test checks the README documents every key.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from collectors.errors import ConfigError
from collectors.records import ERROR_CLASSES, FORMAT_NAMES

CONFIG_NAME = "routeledger.toml"
DEFAULT_HOME = ".routeledger"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LOG_FORMATS = ("auto", *FORMAT_NAMES)
TASK_RULE_FIELDS = ("model_group", "key_alias", "team", "route", "user", "model")


@dataclass(frozen=True)
class Setting:
    key: str  # dotted path in the TOML file
    kind: str  # str | int | float | bool | list[str] | table
    default: Any
    help: str
    check: Callable[[Any], bool] | None = None
    expected: str = ""
    secret: bool = False  # its value is never repeated in an error message


def _hhmm_ok(v: str) -> bool:
    h, sep, m = v.partition(":")
    return bool(sep) and len(m) == 2 and h.isdigit() and m.isdigit() and int(h) < 24 and int(m) < 60


def _budgets_ok(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 for x in v.values()
    )


FAILED_ATTEMPT_POLICIES = ("usage", "reported", "none")


def _billing_ok(v: Any) -> bool:
    if not isinstance(v, dict):
        return False
    for entry in v.values():
        if not isinstance(entry, dict) or set(entry) - {
            "failed_attempts",
            "not_billed_error_classes",
        }:
            return False
        if entry.get("failed_attempts", "usage") not in FAILED_ATTEMPT_POLICIES:
            return False
        classes = entry.get("not_billed_error_classes", [])
        if not isinstance(classes, list) or not all(c in ERROR_CLASSES for c in classes):
            return False
    return True


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Keys that would hold a credential: refused with a pointer to the environment-variable way.
_SECRET_KEY_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "credential")
_SECRET_KEY_HINTS = {
    "delivery.smtp.password": "delivery.smtp.password_env",
    "delivery.smtp.username": "delivery.smtp.username_env",
    "delivery.smtp.user": "delivery.smtp.username_env",
}


def _env_name_ok(v: str) -> bool:
    return v == "" or bool(_ENV_NAME.fullmatch(v))


def _webhook_url_ok(v: str) -> bool:
    """Empty (no webhook), or an absolute http(s) URL with a host: no spaces or control
    characters, a valid port and IPv6 brackets (what httpx would otherwise fail on at send time,
    after the report was built)."""
    if v == "":
        return True
    if any(c.isspace() or not c.isprintable() for c in v):
        return False
    try:
        parts = urlsplit(v)
        parts.port  # noqa: B018  (raises ValueError when it is not a port number)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _tz_ok(v: str) -> bool:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "warehouse.path", "str", "warehouse.duckdb", "DuckDB file, relative to the home directory"
    ),
    Setting(
        "warehouse.lock_timeout_seconds",
        "float",
        30.0,
        "how long to retry when another process holds the warehouse lock",
        lambda v: 0 < v <= 3600,
        "a number of seconds between 0 and 3600",
    ),
    Setting(
        "warehouse.read_snapshot",
        "bool",
        True,
        "after each refresh of the marts, publish a read-only copy of the warehouse that readers "
        "open while a writer holds it, so they never wait (one more copy of the file on disk)",
    ),
    Setting(
        "warehouse.backend",
        "str",
        "duckdb",
        "where the warehouse lives: duckdb (the file above) or clickhouse (warehouse.url; "
        "install with pip install 'routeledger[clickhouse]')",
        lambda v: v in ("duckdb", "clickhouse"),
        "duckdb or clickhouse",
    ),
    Setting(
        "warehouse.url",
        "str",
        "",
        "the ClickHouse warehouse: chdb:///abs/path[?database=x] (the embedded engine) or "
        "http(s)://[user@]host:port/database; empty: chdb in clickhouse/ under the home",
        lambda v: v == "" or v.startswith(("chdb:", "http://", "https://")),
        "chdb:///abs/path or http(s)://host:port/database",
    ),
    Setting(
        "warehouse.password_env",
        "str",
        "",
        "the environment variable holding the ClickHouse server's password (never the password "
        "itself)",
        lambda v: v == "" or (v.replace("_", "a").isalnum() and not v[0].isdigit()),
        "an environment variable name (letters, digits, _)",
    ),
    Setting(
        "warehouse.retention_days",
        "int",
        0,
        "ClickHouse: keep raw attempts and quarantined rows this many days (a TTL); 0 keeps them "
        "for ever",
        lambda v: v >= 0,
        "a whole number of days, 0 for ever",
    ),
    Setting(
        "ingest.batch_bytes",
        "int",
        1024 * 1024 * 1024,
        "most bytes of log per committed batch; a batch also stops at about 100,000 lines "
        "(bounds lock time and memory)",
        lambda v: 4096 <= v <= 2**31,
        "an integer between 4096 and 2147483648",
    ),
    Setting(
        "ingest.workers",
        "int",
        0,
        "batches parsed at once, each on its own thread and in-memory DuckDB (0: one per CPU core); "
        "commits stay in file order",
        lambda v: 0 <= v <= 64,
        "an integer between 0 and 64",
    ),
    Setting(
        "ingest.max_line_bytes",
        "int",
        16 * 1024 * 1024,
        "longest accepted log line; longer lines are quarantined",
        lambda v: 1024 <= v <= 2**30,
        "an integer between 1024 and 1073741824",
    ),
    Setting(
        "sources",
        "table",
        [],
        "log sources ingested by `routeledger ingest` with no paths and by `serve`: "
        "[[sources]] path (file or glob), url (s3://bucket/prefix/, gs://bucket/prefix/; "
        "endpoint_url, region) or dsn_env (LiteLLM's PostgreSQL; table), format (auto|routeledger|"
        "litellm|litellm-spendlogs|otel|openrouter|mapped), mapping (mapping file for format "
        "mapped), name",
    ),
    Setting(
        "tasks.rules",
        "table",
        [],
        "task rules tried in order after the default rules: [[tasks.rules]] field "
        "(model_group|key_alias|team|route|user|model), pattern (glob), task",
    ),
    Setting(
        "calendar.timezone",
        "str",
        "UTC",
        "IANA time zone for days, weeks and months",
        _tz_ok,
        "an IANA time zone name such as Europe/Berlin",
    ),
    Setting(
        "calendar.week_start",
        "str",
        "monday",
        "first day of the week",
        lambda v: v.lower() in WEEKDAYS,
        "a weekday name: " + "|".join(WEEKDAYS),
    ),
    Setting(
        "calendar.window_days",
        "int",
        28,
        "days of the default window of stats, tune, the dashboard: ending on the last day with "
        "data",
        lambda v: 1 <= v <= 366,
        "an integer between 1 and 366",
    ),
    Setting(
        "prices.review_factor",
        "float",
        5.0,
        "a price moving by more than this factor is held for review",
        lambda v: v > 1,
        "a number greater than 1",
    ),
    Setting(
        "prices.auto_catalog",
        "bool",
        True,
        "load the bundled offline price catalog into a new warehouse, so common models are "
        "priced with no network",
    ),
    Setting(
        "prices.overrides",
        "str",
        "price_overrides.yaml",
        "YAML file of negotiated discounts and own prices, relative to the home directory",
    ),
    Setting(
        "prices.aliases",
        "table",
        {},
        'logged model name = canonical model id (e.g. "my-gpt" = "openai/gpt-4o")',
    ),
    Setting(
        "tuner.manifest",
        "str",
        "manifest.yaml",
        "the routing manifest `routeledger tune` reads and `manifest approve` writes, "
        "relative to the home directory",
    ),
    Setting(
        "tuner.window_days",
        "int",
        28,
        "deprecated alias of calendar.window_days, used only where calendar.window_days is not set",
        lambda v: 1 <= v <= 366,
        "an integer between 1 and 366",
    ),
    Setting(
        "tuner.min_samples",
        "int",
        30,
        "requests a task, and attempts a model, need before the tuner changes or promotes them",
        lambda v: v >= 1,
        "a positive integer",
    ),
    Setting(
        "tuner.min_pair_samples",
        "int",
        10,
        "requests where A failed and B was tried next before P(B succeeds | A failed) is "
        "taken from the logs rather than assumed",
        lambda v: v >= 1,
        "a positive integer",
    ),
    Setting(
        "tuner.assumed_failure_correlation",
        "float",
        0.5,
        "where the logs never show B after A failed, B is assumed to rescue at most "
        "1 - this share of A's failures",
        lambda v: 0 <= v <= 1,
        "a number between 0 and 1",
    ),
    Setting(
        "tuner.confidence",
        "float",
        0.95,
        "a chain qualifies when the probability that it meets the success target is at least "
        "this (its success drawn from the stages' posteriors together)",
        lambda v: 0.5 <= v < 1,
        "a number from 0.5 to below 1",
    ),
    Setting(
        "tuner.exploration_share",
        "float",
        0.1,
        "the share of a task's traffic an exploration plan sends to the chain it tests "
        "(0: no plans)",
        lambda v: 0 <= v <= 0.5,
        "a number from 0 to 0.5",
    ),
    Setting(
        "tuner.max_exploration_days",
        "int",
        28,
        "an exploration plan that needs more days than this at the task's volume is not proposed",
        lambda v: 1 <= v <= 366,
        "an integer between 1 and 366",
    ),
    Setting(
        "tuner.min_improvement",
        "float",
        0.01,
        "a current chain that meets every target is replaced only by one at least this share "
        "cheaper per successful request",
        lambda v: 0 <= v < 1,
        "a number from 0 up to (not including) 1",
    ),
    Setting(
        "tuner.bootstrap_resamples",
        "int",
        200,
        "resamples of the logical requests behind the savings interval",
        lambda v: 0 <= v <= 10000,
        "an integer between 0 and 10000",
    ),
    Setting(
        "dashboard.approvers",
        "list[str]",
        [],
        'who may approve manifests when the dashboard listens beyond localhost: "user:'
        'pbkdf2_sha256$iterations$salt$hash" (see `routeledger manifest hash-password`)',
        lambda v: all(isinstance(x, str) and ":pbkdf2_sha256$" in x for x in v),
        'a list of "user:pbkdf2_sha256$iterations$salt$hash" strings (never a plain password)',
        secret=True,
    ),
    Setting(
        "schedule.ingest_minutes",
        "float",
        5,
        "`routeledger serve` ingests the [[sources]] every this many minutes "
        "(fractions allowed: 0.5 is every 30 seconds)",
        lambda v: 0.01 <= v <= 1440,
        "a number of minutes between 0.01 (0.6 seconds) and 1440",
    ),
    Setting(
        "schedule.prices_daily_at",
        "str",
        "03:00",
        "local time (calendar.timezone) of the daily price refresh",
        _hhmm_ok,
        "a local time HH:MM such as 03:00",
    ),
    Setting(
        "schedule.report_weekday",
        "str",
        "monday",
        "day of the weekly report (and, half an hour before it, the tuner's proposal)",
        lambda v: v.lower() in WEEKDAYS,
        "a weekday name: " + "|".join(WEEKDAYS),
    ),
    Setting(
        "schedule.report_at",
        "str",
        "08:00",
        "local time of the weekly report, which covers the calendar week before",
        _hhmm_ok,
        "a local time HH:MM such as 08:00",
    ),
    Setting(
        "schedule.misfire_grace_seconds",
        "int",
        300,
        "a run missed by at most this long (machine asleep, a busy job) still runs, once",
        lambda v: 1 <= v <= 7 * 86400,
        "an integer number of seconds between 1 and 604800",
    ),
    Setting(
        "budget.monthly_usd",
        "float",
        0.0,
        "monthly budget for all spend in USD (0 = no budget)",
        lambda v: v >= 0,
        "a number of USD, 0 or more",
    ),
    Setting(
        "budget.teams",
        "table",
        {},
        "monthly budgets per team in USD (e.g. search = 500.0)",
        _budgets_ok,
        "a table of team = USD amount",
    ),
    Setting(
        "budget.tasks",
        "table",
        {},
        'monthly budgets per task in USD (e.g. "code-review" = 300.0)',
        _budgets_ok,
        "a table of task = USD amount",
    ),
    Setting(
        "budget.alert_thresholds",
        "list[float]",
        [0.8, 1.0],
        "alert once a month when month-to-date spend, or its linear projection to the month's "
        "end, reaches these shares of a budget",
        lambda v: bool(v) and all(0 < x <= 10 for x in v),
        "a non-empty list of shares such as [0.8, 1.0]",
    ),
    Setting(
        "metrics.min_price_coverage",
        "float",
        0.8,
        "cost per successful request is computed over priced requests only and shown with its "
        "price coverage; below this share of requests priced it is shown as unknown",
        lambda v: 0 <= v <= 1,
        "a share between 0 and 1",
    ),
    Setting(
        "billing.failed_attempts",
        "str",
        "usage",
        "what a failed attempt costs: usage (the tokens the gateway logged, at the price in "
        "force), reported (the gateway's reported cost, else usage), none (nothing)",
        lambda v: v in FAILED_ATTEMPT_POLICIES,
        "|".join(FAILED_ATTEMPT_POLICIES),
    ),
    Setting(
        "billing.not_billed_error_classes",
        "list[str]",
        ["rate_limit", "auth", "bad_request", "context_length"],
        "failed attempts of these error classes cost nothing (providers do not bill a request "
        "they refused before generating)",
        lambda v: all(x in ERROR_CLASSES for x in v),
        "a list of error classes: " + "|".join(ERROR_CLASSES),
    ),
    Setting(
        "billing.providers",
        "table",
        {},
        "per provider, the same two settings: [billing.providers.anthropic] "
        'failed_attempts = "none", not_billed_error_classes = [...]',
        lambda v: _billing_ok(v),
        "a table of provider = {failed_attempts = usage|reported|none, "
        "not_billed_error_classes = [error class, ...]}",
    ),
    Setting(
        "bills.openai_key_env",
        "str",
        "OPENAI_ADMIN_KEY",
        "name of the environment variable holding an OpenAI admin key, for `routeledger prices "
        "bills` (the organization's Costs and Usage API)",
        _env_name_ok,
        "the name of an environment variable (letters, digits, _), not the key itself",
        secret=True,
    ),
    Setting(
        "bills.anthropic_key_env",
        "str",
        "ANTHROPIC_ADMIN_KEY",
        "name of the environment variable holding an Anthropic Admin API key (sk-ant-admin...), "
        "for `routeledger prices bills` (the cost and usage reports)",
        _env_name_ok,
        "the name of an environment variable (letters, digits, _), not the key itself",
        secret=True,
    ),
    Setting(
        "bills.openai_url",
        "str",
        "https://api.openai.com/v1",
        "base URL of OpenAI's API for the bills",
        lambda v: v.startswith(("https://", "http://")),
        "an http(s) URL",
    ),
    Setting(
        "bills.anthropic_url",
        "str",
        "https://api.anthropic.com/v1",
        "base URL of Anthropic's API for the bills",
        lambda v: v.startswith(("https://", "http://")),
        "an http(s) URL",
    ),
    Setting(
        "bills.fetch_days",
        "int",
        7,
        "`routeledger serve` fetches the bills of this many UTC days before today, daily, for "
        "each provider whose admin key is set",
        lambda v: 1 <= v <= 31,
        "an integer number of days between 1 and 31",
    ),
    Setting(
        "bills.drift_alert_share",
        "float",
        0.05,
        "`routeledger serve` alerts once when a provider's bill for a UTC day differs from "
        "RouteLedger's recomputed cost by more than this share of the bill (0 = never)",
        lambda v: 0 <= v <= 10,
        "a share such as 0.05",
    ),
    Setting(
        "bills.drift_alert_min_usd",
        "float",
        1.0,
        "... and by at least this many USD (small days drift by cents)",
        lambda v: v >= 0,
        "a number of USD, 0 or more",
    ),
    Setting(
        "report.regression_factor",
        "float",
        1.3,
        "the weekly report flags a model whose P95 latency grew by more than this factor",
        lambda v: v > 1,
        "a number greater than 1",
    ),
    Setting(
        "report.dashboard_url",
        "str",
        "http://localhost:8501",
        "the dashboard's address, for the links in the weekly report",
    ),
    Setting("delivery.recipients", "list[str]", [], "e-mail addresses of the weekly report"),
    Setting(
        "delivery.webhook_url",
        "str",
        "",
        "chat webhook of the weekly report and budget alerts (empty = none)",
        _webhook_url_ok,
        "an absolute http:// or https:// URL with a host, without spaces",
        secret=True,
    ),
    Setting(
        "delivery.webhook_kind",
        "str",
        "slack",
        "webhook payload: slack (text and blocks) or json (the report's figures)",
        lambda v: v in ("slack", "json"),
        "slack|json",
    ),
    Setting("delivery.smtp.host", "str", "", "SMTP server (empty = no e-mail)"),
    Setting(
        "delivery.smtp.port",
        "int",
        587,
        "SMTP port (587 for starttls, 465 for ssl)",
        lambda v: 1 <= v <= 65535,
        "a TCP port number",
    ),
    Setting(
        "delivery.smtp.security",
        "str",
        "starttls",
        "starttls, ssl or none",
        lambda v: v in ("starttls", "ssl", "none"),
        "starttls|ssl|none",
    ),
    Setting("delivery.smtp.from", "str", "", "sender address of the weekly report"),
    Setting(
        "delivery.smtp.username_env",
        "str",
        "",
        "name of the environment variable holding the SMTP user (empty = no login)",
        _env_name_ok,
        "the name of an environment variable (letters, digits, _), not the user itself",
        secret=True,
    ),
    Setting(
        "delivery.smtp.password_env",
        "str",
        "",
        "name of the environment variable holding the SMTP password",
        _env_name_ok,
        "the name of an environment variable (letters, digits, _), not the password itself",
        secret=True,
    ),
    Setting(
        "receiver.otlp_http",
        "str",
        "",
        "`routeledger serve` receives OpenTelemetry traces over OTLP/HTTP (POST /v1/traces) on "
        'this host:port, such as "127.0.0.1:4318"; empty: off',
        lambda v: v == "" or bool(re.fullmatch(r"(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):\d{1,5}", v)),
        'host:port such as "127.0.0.1:4318", or "" for off',
    ),
    Setting(
        "receiver.token_env",
        "str",
        "ROUTELEDGER_RECEIVER_TOKEN",
        "name of the environment variable holding the bearer token senders must present; "
        "required when the receiver listens beyond localhost",
        _env_name_ok,
        "the name of an environment variable (letters, digits, _), not the token itself",
        secret=True,
    ),
    Setting(
        "receiver.max_spool_mb",
        "int",
        512,
        "the receiver answers 503 with Retry-After while its spool of spans not yet ingested "
        "holds more than this many MiB",
        lambda v: 1 <= v <= 1024 * 1024,
        "an integer number of MiB between 1 and 1048576",
    ),
)

_BY_KEY = {s.key: s for s in SETTINGS}
# Deprecated name -> the setting it stands for; read only where the new name is not set, and
# written commented out by `routeledger init`.
DEPRECATED = {"tuner.window_days": "calendar.window_days"}
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list[str]": (list,),
    "list[float]": (list,),
}
_ITEM_TYPES: dict[str, tuple[type, ...]] = {"list[str]": (str,), "list[float]": (int, float)}


@dataclass(frozen=True)
class Source:
    """One ``[[sources]]`` entry: exactly one of ``path`` (a file or glob), ``url`` (a bucket
    prefix ``s3://bucket/prefix/`` or ``gs://bucket/prefix/``) or ``dsn_env`` (the environment
    variable holding a LiteLLM PostgreSQL DSN)."""

    path: str = ""
    format: str = "auto"
    mapping: str | None = None
    url: str | None = None
    endpoint_url: str | None = None  # an S3-compatible endpoint (MinIO, GCS's S3 API, moto)
    region: str | None = None
    dsn_env: str | None = None
    table: str = "LiteLLM_SpendLogs"
    name: str | None = None  # how Data health and the spool call it; derived when not given

    @property
    def kind(self) -> str:
        """files | bucket | postgres"""
        if self.url:
            return "bucket"
        if self.dsn_env:
            return "postgres"
        return "files"

    @property
    def label(self) -> str:
        """A stable name: the cursor's key and the spool folder's, and what Data health shows."""
        if self.name:
            return self.name
        if self.kind == "bucket":
            return str(self.url)
        if self.kind == "postgres":
            return f"postgres:{self.dsn_env}/{self.table}"
        return self.path


@dataclass(frozen=True)
class TaskRule:
    field: str
    pattern: str
    task: str


@dataclass(frozen=True)
class Config:
    home: Path
    file: Path
    values: dict[str, Any]
    sources: tuple[Source, ...] = ()
    task_rules: tuple[TaskRule, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.values[key]

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.values["warehouse.path"])

    @property
    def timezone(self) -> str:
        return str(self.values["calendar.timezone"])

    @property
    def week_start(self) -> str:
        return str(self.values["calendar.week_start"]).lower()

    def billing_rules(self) -> list[tuple[str | None, str, list[str]]]:
        """The failed-attempt billing policy: ``(None, policy, classes)`` for every provider, then
        one row per ``[billing.providers.<slug>]``, unset keys inherited from the default."""
        policy = str(self.values["billing.failed_attempts"])
        classes = list(self.values["billing.not_billed_error_classes"])
        out: list[tuple[str | None, str, list[str]]] = [(None, policy, classes)]
        for name, entry in sorted(self.values["billing.providers"].items()):
            out.append(
                (
                    str(name).strip().lower(),
                    str(entry.get("failed_attempts", policy)),
                    list(entry.get("not_billed_error_classes", classes)),
                )
            )
        return out

    def resolve(self, p: str) -> Path:
        """A path from the configuration: absolute, ``~``-relative, or relative to the home.

        Paths may leave the home on purpose (``../`` or absolute): the manifest usually lives
        with the gateway's own config and logs under ``/var/log``, and ``routeledger.toml`` is
        the operator's own file, trusted like the command line. What arrives from a web request
        never becomes a path here (the dashboard's rollback reads only copies under
        ``<home>/manifests``: :func:`app.tuner.approvals.rollback`)."""
        path = Path(os.path.expanduser(p))
        return path if path.is_absolute() else self.home / path


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    if home:
        return Path(home).expanduser()
    env = os.environ.get("ROUTELEDGER_HOME")
    return Path(env).expanduser() if env else Path(DEFAULT_HOME)


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in doc.items():
        key = f"{prefix}{k}"
        if key in _BY_KEY and _BY_KEY[key].kind == "table":
            out[key] = v
        elif isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _check(file: str, key: str, value: Any) -> Any:
    s = _BY_KEY.get(key)
    if s is None:
        name = key.rpartition(".")[2].lower()
        wordy = not name.endswith("_env") and any(w in name for w in _SECRET_KEY_WORDS)
        if wordy or key in _SECRET_KEY_HINTS:
            where = _SECRET_KEY_HINTS.get(key, "the matching *_env setting")
            raise ConfigError(
                file,
                key,
                "no secret in routeledger.toml: put it in an environment variable and name that "
                f"variable in {where}",
            )
        raise ConfigError(file, key, "a known setting (see README, Configuration)", "unknown key")
    shown = None if s.secret else value
    if s.kind == "table":
        if s.check is not None and not s.check(value):
            raise ConfigError(file, key, s.expected, shown)
        return value
    if not isinstance(value, _TYPES[s.kind]) or (s.kind != "bool" and isinstance(value, bool)):
        raise ConfigError(file, key, s.expected or f"a value of type {s.kind}", shown)
    items, seq = _ITEM_TYPES.get(s.kind), value if isinstance(value, list) else []
    if items and not all(isinstance(x, items) and not isinstance(x, bool) for x in seq):
        raise ConfigError(file, key, s.expected or f"a value of type {s.kind}", shown)
    if s.check is not None and not s.check(value):
        raise ConfigError(file, key, s.expected, shown)
    if s.kind == "list[float]":
        return [float(x) for x in seq]
    return float(value) if s.kind == "float" else value  # type: ignore[arg-type]


SOURCE_KEYS = (
    "path",
    "url",
    "dsn_env",
    "format",
    "mapping",
    "endpoint_url",
    "region",
    "table",
    "name",
)


def _sources(file: str, raw: Any) -> tuple[Source, ...]:
    if not isinstance(raw, list):
        raise ConfigError(file, "sources", "an array of tables ([[sources]])", raw)
    out = []
    for i, item in enumerate(raw):
        key = f"sources[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(file, key, "a table with one of path, url, dsn_env", item)
        where = [k for k in ("path", "url", "dsn_env") if k in item]
        if len(where) != 1:
            raise ConfigError(
                file, key, "exactly one of path (files), url (a bucket) or dsn_env (PostgreSQL)"
            )
        unknown = set(item) - set(SOURCE_KEYS)
        if unknown:
            raise ConfigError(
                file, f"{key}.{sorted(unknown)[0]}", "one of " + ", ".join(SOURCE_KEYS)
            )
        for part in SOURCE_KEYS:
            if part in item and (not isinstance(item[part], str) or not item[part]):
                raise ConfigError(file, f"{key}.{part}", "a non-empty string", item[part])
        url = item.get("url")
        if url is not None and not re.fullmatch(
            r"(s3|gs)://[a-z0-9][a-z0-9.\-_]{1,220}(/.*)?", url
        ):
            raise ConfigError(file, key + ".url", "s3://bucket/prefix/ or gs://bucket/prefix/", url)
        dsn_env = item.get("dsn_env")
        if dsn_env is not None and not _ENV_NAME.fullmatch(dsn_env):
            raise ConfigError(file, key + ".dsn_env", "an environment variable's name", dsn_env)
        if "table" in item and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", item["table"]):
            raise ConfigError(file, key + ".table", "a table name", item["table"])
        fmt = item.get("format", "litellm-spendlogs" if dsn_env else "auto")
        if fmt not in LOG_FORMATS:
            raise ConfigError(file, key + ".format", "one of " + "|".join(LOG_FORMATS), fmt)
        if dsn_env and fmt != "litellm-spendlogs":
            raise ConfigError(
                file, key + ".format", "litellm-spendlogs for a PostgreSQL source", fmt
            )
        mapping = item.get("mapping")
        if fmt == "mapped" and not mapping:
            raise ConfigError(file, key + ".mapping", "a mapping file for format mapped")
        out.append(
            Source(
                path=item.get("path", ""),
                format=fmt,
                mapping=mapping,
                url=url,
                endpoint_url=item.get("endpoint_url"),
                region=item.get("region"),
                dsn_env=dsn_env,
                table=item.get("table", "LiteLLM_SpendLogs"),
                name=item.get("name"),
            )
        )
    labels = [s.label for s in out]
    for label in labels:
        if labels.count(label) > 1:
            raise ConfigError(file, "sources", "sources with different names", label)
    return tuple(out)


def _rules(file: str, raw: Any) -> tuple[TaskRule, ...]:
    if not isinstance(raw, list):
        raise ConfigError(file, "tasks.rules", "an array of tables ([[tasks.rules]])", raw)
    out = []
    for i, item in enumerate(raw):
        key = f"tasks.rules[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(file, key, "a table with field, pattern, task", item)
        if item.get("field") not in TASK_RULE_FIELDS:
            raise ConfigError(file, key + ".field", "|".join(TASK_RULE_FIELDS), item.get("field"))
        for part in ("pattern", "task"):
            if not isinstance(item.get(part), str) or not item[part]:
                raise ConfigError(file, f"{key}.{part}", "a non-empty string", item.get(part))
        out.append(TaskRule(item["field"], item["pattern"], item["task"]))
    return tuple(out)


def load(home: str | os.PathLike[str] | None = None) -> Config:
    """Read ``routeledger.toml`` from the home directory; defaults when it does not exist."""
    root = resolve_home(home)
    path = root / CONFIG_NAME
    values = {s.key: s.default for s in SETTINGS}
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(str(path), "(file)", "valid TOML", str(e)) from None
        given = _flatten(doc)
        for key, value in given.items():
            values[key] = _check(str(path), key, value)
        for old, new in DEPRECATED.items():  # the old name counts while the new one is unset
            if old in given and new not in given:
                values[new] = values[old]
    for old, new in DEPRECATED.items():
        values[old] = values[new]
    aliases = values["prices.aliases"]
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        raise ConfigError(str(path), "prices.aliases", "a table of strings", aliases)
    return Config(
        home=root,
        file=path,
        values=values,
        sources=_sources(str(path), values["sources"]),
        task_rules=_rules(str(path), values["tasks.rules"]),
        aliases=dict(aliases),
    )


def default_toml() -> str:
    """The commented default written by ``routeledger init``."""
    lines = ["# RouteLedger configuration. Every setting is optional; defaults shown.", ""]
    section = None
    for s in SETTINGS:
        if s.kind == "table":
            continue
        sec, _, name = s.key.rpartition(".")
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        lines.append(f"# {s.help}")
        comment = "# " if s.key in DEPRECATED else ""
        lines.append(f"{comment}{name} = {_toml_value(s.default)}")
    lines += [
        "",
        "[prices.aliases]",
        '# "my-gpt" = "openai/gpt-4o"',
        "",
        "# Log sources for `routeledger ingest` with no paths, and for `routeledger serve`:",
        "# [[sources]]",
        '# path = "/var/log/litellm/*.jsonl"',
        '# format = "auto"        # ' + "|".join(LOG_FORMATS),
        '# mapping = "envoy.yaml"  # only for format = "mapped"',
        "# [[sources]]             # LiteLLM's S3 / GCS bucket logger",
        '# url = "s3://my-bucket/litellm-logs/"',
        '# endpoint_url = "https://storage.googleapis.com"   # S3-compatible endpoints only',
        "# [[sources]]             # LiteLLM's PostgreSQL spend logs (read-only access is enough)",
        '# dsn_env = "LITELLM_DATABASE_URL"',
        "",
        "# Task rules, tried in order after the default rules (request tag task:<name>,",
        "# metadata task, OTel attribute task / app.task):",
        "# [[tasks.rules]]",
        '# field = "model_group"   # ' + "|".join(TASK_RULE_FIELDS),
        '# pattern = "code-*"',
        '# task = "debugging"',
        "",
    ]
    return "\n".join(lines)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)
