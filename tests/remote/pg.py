"""A real PostgreSQL server for the tests: a throwaway cluster on 127.0.0.1 and a free port.

``initdb`` and ``pg_ctl`` are found on PATH or under ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package; ``.ci/run`` installs it). Without them the tests skip, except under
``CI`` where they fail. PostgreSQL refuses to run as root: as root the cluster belongs to the
``postgres`` user when there is one (``nobody`` otherwise), in a temporary folder of its own.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ADMIN = "rl_admin"
ADMIN_PASSWORD = "admin-pw-5d1c"


def bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


def require_bin_dir() -> Path:
    found = bin_dir()
    if found is None:
        why = "PostgreSQL's initdb/pg_ctl not found (install Debian's postgresql; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    bin: Path
    root: Path  # the cluster's own folder: data, socket, log
    port: int
    user: str | None  # the unprivileged user the server runs as (when we are root)

    def dsn(self, user: str = ADMIN, password: str = ADMIN_PASSWORD, db: str = "postgres") -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{db}"

    def admin(self, db: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.dsn(db=db), autocommit=True)

    def create_db(self, name: str) -> str:
        with self.admin() as c:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def log_tail(self) -> str:
        p = self.root / "server.log"
        return p.read_text(errors="replace")[-2000:] if p.exists() else ""


def _as_user(user: str | None, cmd: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def _run(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {res.returncode}: {res.stderr[-1500:]}")


@contextmanager
def server() -> Iterator[Server]:
    """A started cluster with superuser ``rl_admin``; stopped and removed afterwards."""
    bins = require_bin_dir()
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = "nobody"
    root = Path(tempfile.mkdtemp(prefix="rl-pg-"))
    if user:
        ent = pwd.getpwnam(user)
        os.chown(root, ent.pw_uid, ent.pw_gid)
    pwfile = root / "pw"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    if user:
        os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
    data = root / "data"
    _run(
        _as_user(
            user,
            [str(bins / "initdb"), "-D", str(data), "-U", ADMIN, f"--pwfile={pwfile}",
             "--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"],
        )
    )  # fmt: skip
    srv = None
    for _ in range(5):  # a free port can be taken between the probe and the bind
        port = free_port()
        opts = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        cmd = [str(bins / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "server.log")]
        try:
            _run(_as_user(user, [*cmd, "-w", "-t", "60", "start"]))
        except RuntimeError:
            continue
        srv = Server(bins, root, port, user)
        break
    if srv is None:
        log = (root / "server.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {log}")
    try:
        _wait(srv)
        yield srv
    finally:
        subprocess.run(
            _as_user(user, [str(bins / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def _wait(srv: Server) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with srv.admin():
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


SPENDLOGS_DDL = Path(__file__).parents[1] / "fixtures/remote/litellm_postgres/spendlogs.sql"
READER_PASSWORD = "reader-pw-9f3a"


@dataclass
class SpendLogsDB:
    """A database holding LiteLLM's ``LiteLLM_SpendLogs`` and a role that may only read it."""

    srv: Server
    name: str
    reader: str

    @property
    def reader_dsn(self) -> str:
        return self.srv.dsn(self.reader, READER_PASSWORD, self.name)

    def insert(self, rows: list[dict[str, object]], table: str = "LiteLLM_SpendLogs") -> None:
        """Rows as LiteLLM writes them: each a dict of column -> value (JSON columns as
        ``psycopg.types.json.Jsonb`` or JSON text), the rest left to the table's defaults."""
        with self.srv.admin(self.name) as c:
            for r in rows:
                c.execute(
                    sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                        sql.Identifier(table),
                        sql.SQL(", ").join(map(sql.Identifier, r)),
                        sql.SQL(", ").join(sql.Placeholder() * len(r)),
                    ),
                    list(r.values()),
                )


def spendlogs_db(srv: Server, name: str, ddl: str | None = None) -> SpendLogsDB:
    """A new database ``name`` with LiteLLM's table (``ddl``, or the recorded migrations) and a
    login role ``<name>_reader`` granted SELECT on it and nothing else."""
    srv.create_db(name)
    reader = f"{name}_reader"
    with srv.admin(name) as c:
        c.execute(ddl or SPENDLOGS_DDL.read_text())
        c.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(reader), sql.Literal(READER_PASSWORD)
            )
        )
        c.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"))
        c.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(reader)))
        c.execute(
            sql.SQL('GRANT SELECT ON "LiteLLM_SpendLogs" TO {}').format(sql.Identifier(reader))
        )
    return SpendLogsDB(srv, name, reader)
