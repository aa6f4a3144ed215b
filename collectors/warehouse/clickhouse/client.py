"""A clickhouse-connect client for a warehouse URL, every query with :data:`.apply.SETTINGS`.

``chdb:///abs/path`` opens the embedded engine (chdb) on that data directory, database
``routeledger`` unless the URL says ``?database=x``. ``http(s)://[user@]host:port/database``
opens a server; its password is read from the environment variable named by ``password_env``
and never written in the URL, nor in any error. Every failure (chdb's one data path per process,
an unreachable server, a refused password, a missing database) is one line of
:class:`~collectors.errors.WarehouseError`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from collectors.errors import WarehouseError
from collectors.warehouse.clickhouse.apply import SETTINGS

DEFAULT_DATABASE = "routeledger"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_OTHER_PATH = re.compile(r"initialized with path '([^']*)', cannot connect with different path")
CONNECT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Target:
    """Where a URL points: ``kind`` chdb or http(s), with a path or a host."""

    kind: str
    database: str
    path: str = ""
    host: str = ""
    port: int = 0
    user: str = "default"

    def describe(self) -> str:
        """The target in an error message (never a password)."""
        if self.kind == "chdb":
            return f"chdb:{self.path} database {self.database}"
        return f"{self.kind}://{self.user}@{self.host}:{self.port}/{self.database}"


def parse_url(url: str) -> Target:
    """``chdb:///abs/path[?database=x]`` or ``http(s)://[user@]host[:port]/database``."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        if parts.netloc or not parts.path.startswith("/"):
            raise WarehouseError(f"{url!r}: a chdb URL names an absolute path: chdb:///abs/path")
        query = parse_qs(parts.query)
        database = query.get("database", [DEFAULT_DATABASE])[0]
        return Target("chdb", _database(database, url), path=unquote(parts.path))
    if parts.scheme in ("http", "https"):
        if parts.password is not None:
            raise WarehouseError(
                "a ClickHouse URL must not hold a password: name its environment variable "
                "(password_env) instead"
            )
        if not parts.hostname:
            raise WarehouseError(f"{url!r}: no host (http(s)://[user@]host:port/database)")
        database = parts.path.strip("/") or DEFAULT_DATABASE
        port = parts.port or (8443 if parts.scheme == "https" else 8123)
        user = unquote(parts.username) if parts.username else "default"
        return Target(
            parts.scheme, _database(database, url), host=parts.hostname, port=port, user=user
        )
    raise WarehouseError(f"{url!r}: a ClickHouse URL is chdb:///path or http(s)://host:port/db")


def _database(name: str, url: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise WarehouseError(f"{url!r}: {name!r} is not a database name (letters, digits, _)")
    return name


def connect(url: str, password_env: str | None = None, create: bool = False) -> Any:
    """A client on ``url``'s database (created first when ``create``; otherwise it must exist),
    every query with :data:`.apply.SETTINGS`."""
    target = parse_url(url)
    password = ""
    if password_env:
        if password_env not in os.environ:
            raise WarehouseError(f"the environment variable {password_env} (password) is not set")
        password = os.environ[password_env]
    try:
        client = _open(target, password)
        exists = client.query(
            "SELECT count() FROM system.databases WHERE name = {db:String}",
            parameters={"db": target.database},
        ).result_rows[0][0]
        if not exists and create:
            client.command(f"CREATE DATABASE IF NOT EXISTS {target.database}")
        elif not exists:
            raise WarehouseError(f"{target.describe()}: the database does not exist")
    except WarehouseError:
        raise
    except Exception as e:  # noqa: BLE001 (driver, chdb, transport; unchained: no secret shown)
        raise WarehouseError(_one_line(target, e, password)) from None
    client.database = target.database
    return client


def _open(target: Target, password: str) -> Any:
    import clickhouse_connect  # a dependency of the ClickHouse backend only

    if target.kind == "chdb":
        return clickhouse_connect.get_client(dsn=f"chdb://{target.path}", settings=dict(SETTINGS))
    return clickhouse_connect.get_client(
        host=target.host,
        port=target.port,
        username=target.user,
        password=password,
        secure=target.kind == "https",
        settings=dict(SETTINGS),
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )


def _one_line(target: Target, e: BaseException, password: str) -> str:
    """Why the client could not be opened, in one line, without the password."""
    text = " ".join(str(e).split())
    if password:  # before any cut, so no part of it is left either
        text = text.replace(password, "***")
    other = _OTHER_PATH.search(text)
    if other:
        return (
            f"chdb: this process already opened the embedded ClickHouse at {other.group(1)}; "
            f"it cannot also open {target.path} (chdb allows one data path per process)"
        )
    if "AUTHENTICATION_FAILED" in text or "Authentication failed" in text:
        why = f"user {target.user} was refused (wrong password?)"
    elif "UNKNOWN_DATABASE" in text:
        why = "the database does not exist"
    elif "Connection refused" in text or "Failed to establish" in text or "timed out" in text:
        why = "unreachable (is the server running, and the port right?)"
    else:
        why = text[:300]
    return f"{target.describe()}: {why}"


# -- statements on an open client: every one with SETTINGS, every failure one WarehouseError line --


def _failure(e: BaseException, what: str = "") -> WarehouseError:
    text = " ".join(str(e).split())[:400]
    return WarehouseError(f"{what}: {text}" if what else text)


def command(
    client: Any, sql: str, parameters: dict[str, Any] | None = None, **settings: Any
) -> None:
    """Run ``sql`` (no result) with :data:`.apply.SETTINGS` plus ``settings``."""
    try:
        client.command(sql, parameters=parameters, settings={**SETTINGS, **settings})
    except Exception as e:  # the driver's and chdb's errors share no base class
        raise _failure(e) from e


def rows(client: Any, sql: str, **parameters: Any) -> list[Any]:
    """The result rows of ``sql`` with ``{name:Type}`` placeholders bound from ``parameters``."""
    try:
        return list(client.query(sql, parameters=parameters, settings=SETTINGS).result_rows)
    except Exception as e:  # as above
        raise _failure(e) from e


def insert_arrow(client: Any, table: str, data: Any, **settings: Any) -> None:
    """Insert an Arrow table into ``table`` with :data:`.apply.SETTINGS` plus ``settings`` (the
    deduplication ones: a token, or ``insert_deduplicate=0`` for a state row that may repeat)."""
    try:
        client.insert_arrow(table, data, settings={**SETTINGS, **settings})
    except Exception as e:  # as above
        raise _failure(e, table) from e


def insert_row(client: Any, table: str, row: dict[str, Any], **settings: Any) -> None:
    """Insert one row given as {column: value}, as :func:`insert_arrow`."""
    try:
        client.insert(
            table, [list(row.values())], column_names=list(row), settings={**SETTINGS, **settings}
        )
    except Exception as e:  # as above
        raise _failure(e, table) from e
