"""Approve, reject, list and roll back manifest versions, with an audit trail.

* :func:`approve` writes the proposed text to the manifest's path atomically (a temporary file
  in the same directory, fsynced, then ``os.replace``), after keeping the file it replaces: every
  version's bytes are stored under ``<home>/manifests/`` and listed in ``manifest_versions``.
  The decision (who, when, how they were authenticated, the comment, the hashes of the file
  before and after, the evidence window and the proposal JSON) goes to ``manifest_decisions``.
  It refuses when the file on disk is no longer the one the proposal was made from.
* :func:`reject` records the same decision without writing anything.
* :func:`history` lists the versions and decisions; :func:`rollback` restores a stored version
  the same way an approval writes, as a new version.

The database rows and the file change are one unit: the rows are inserted in a transaction,
the file is replaced, then the transaction commits; if the replace fails the rows roll back,
and if the commit fails the previous file is put back.
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from app.tuner import manifest as manifest_mod
from app.tuner import queries
from collectors import derive
from collectors.config import Config
from collectors.errors import InputError

STORE = "manifests"


@dataclass(frozen=True)
class Decision:
    by: str
    auth: str  # local | password | oidc | cli
    comment: str = ""


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers see the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _store(
    cfg: Config, con: duckdb.DuckDBPyConnection, path: Path, text: str, kind: str, d: Decision,
    restored_from: int | None = None,
) -> int:  # fmt: skip
    version = queries.next_version(con, str(path))
    digest = manifest_mod.sha256(text)
    stored = cfg.home / STORE / f"{path.stem}-v{version:04d}-{digest[:12]}{path.suffix or '.yaml'}"
    atomic_write(stored, text)
    con.execute(queries.INSERT_VERSION_SQL, [version, str(path), digest, str(stored), kind, _now(),
                                             d.by, d.comment or None, restored_from])  # fmt: skip
    return version


def _keep_current(cfg: Config, con: duckdb.DuckDBPyConnection, path: Path, d: Decision) -> None:
    """Store the file on disk as a version if it is not the latest one stored (the first
    approval, or an edit made outside RouteLedger), so nothing approved over is ever lost."""
    text = _read(path)
    if text is None:
        return
    rows = queries.versions(con, str(path))
    if not rows or rows[0]["sha256"] != manifest_mod.sha256(text):
        kind = "baseline" if not rows else "external_edit"
        _store(cfg, con, path, text, kind, Decision(d.by, d.auth, "found on disk"))


def _record(
    con: duckdb.DuckDBPyConnection, decision: str, path: Path, d: Decision, previous: str | None,
    proposed: str, window: tuple[date, date] | None, proposal: dict[str, Any] | None,
    version: int | None,
) -> str:  # fmt: skip
    decision_id = uuid.uuid4().hex
    since, until = window or (None, None)
    con.execute(queries.INSERT_DECISION_SQL, [
        decision_id, _now(), decision, d.by, d.auth, d.comment or None, str(path), previous,
        proposed, since, until, None if proposal is None else json.dumps(proposal, default=str),
        version,
    ])  # fmt: skip
    return decision_id


def _write_recorded(
    cfg: Config, path: Path, text: str, kind: str, decision: str, d: Decision,
    window: tuple[date, date] | None, proposal: dict[str, Any] | None,
    expect_sha256: str | None, restored_from: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    with derive.warehouse(cfg).connect() as con:
        queries.ensure_tables(con)
        before = _read(path)
        before_sha = None if before is None else manifest_mod.sha256(before)
        if expect_sha256 and before_sha != expect_sha256:
            raise InputError(f"{path} changed since the proposal was made (sha256 "
                             f"{(before_sha or 'missing')[:12]}, expected {expect_sha256[:12]}); "
                             "run `routeledger tune` again and review the new proposal")  # fmt: skip
        con.execute("BEGIN")
        try:
            _keep_current(cfg, con, path, d)
            version = _store(cfg, con, path, text, kind, d, restored_from)
            decision_id = _record(con, decision, path, d, before_sha, manifest_mod.sha256(text),
                                  window, proposal, version)  # fmt: skip
            atomic_write(path, text)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        try:
            con.execute("COMMIT")
        except BaseException:
            if before is not None:
                atomic_write(path, before)
            raise
    return {"decision": decision, "decision_id": decision_id, "manifest": str(path),
            "version": version, "sha256": manifest_mod.sha256(text), "previous_sha256": before_sha}  # fmt: skip


def approve(
    cfg: Config, path: Path, text: str, d: Decision, *, window: tuple[date, date] | None = None,
    proposal: dict[str, Any] | None = None, expect_sha256: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write ``text`` (a proposal) to ``path`` and record the approval."""
    manifest_mod.loads(text, str(path))  # never write a manifest that does not read back
    return _write_recorded(cfg, path, text, "approved", "approved", d, window, proposal,
                           expect_sha256)  # fmt: skip


def reject(
    cfg: Config, path: Path, text: str, d: Decision, *, window: tuple[date, date] | None = None,
    proposal: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    with derive.warehouse(cfg).connect() as con:
        queries.ensure_tables(con)
        before = _read(path)
        before_sha = None if before is None else manifest_mod.sha256(before)
        decision_id = _record(con, "rejected", path, d, before_sha, manifest_mod.sha256(text),
                              window, proposal, None)  # fmt: skip
    return {"decision": "rejected", "decision_id": decision_id, "manifest": str(path),
            "version": None, "sha256": manifest_mod.sha256(text), "previous_sha256": before_sha}  # fmt: skip


def history(cfg: Config, path: Path) -> dict[str, Any]:
    versions: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    if cfg.warehouse_path.exists():
        with derive.warehouse(cfg).connect(read_only=True) as con:
            versions = queries.versions(con, str(path))
            decisions = queries.decisions(con, str(path))
    current = _read(path)
    digest = None if current is None else manifest_mod.sha256(current)
    for v in versions:
        v["current"] = v["sha256"] == digest
    return {"manifest": str(path), "sha256": digest, "versions": versions, "decisions": decisions}


def rollback(cfg: Config, path: Path, version: int, d: Decision) -> dict[str, Any]:
    """Restore stored ``version`` of the manifest at ``path`` (recorded as a new version)."""
    rows = {v["version"]: v for v in history(cfg, path)["versions"]}
    if version not in rows:
        known = ", ".join(str(v) for v in sorted(rows)) or "none"
        raise InputError(f"{path}: no stored version {version} (versions: {known})")
    stored = Path(rows[version]["stored_path"])
    text = _read(stored)
    if text is None or manifest_mod.sha256(text) != rows[version]["sha256"]:
        raise InputError(f"{stored}: the stored copy of version {version} is missing or altered")
    return _write_recorded(cfg, path, text, "rollback", "rolled_back", d, None, None, None,
                           restored_from=version)  # fmt: skip
