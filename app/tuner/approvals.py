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

The database rows and the file change are one unit, even when the process is killed halfway
(``kill -9``, a power cut). Before anything is written, a journal
(``<home>/manifests/.pending-<decision id>.json``) names the decision and the temporary file
beside the manifest; the rows are inserted in a transaction, the new text is written to that
temporary file and fsynced, the transaction commits, the temporary file replaces the manifest,
and the journal is removed. The committed decision is the point of no return. Whatever a killed
run left behind is settled by the next approval, rejection, rollback or history
(:func:`_recover`), and the database decides: a committed decision has its file put in place (if
the manifest is still the one it was approved over), an uncommitted one is undone (its
temporary file and the stored copies no version row names are removed). Approving again what is
already applied and recorded, over the same file, returns the recorded decision.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from app.tuner import manifest as manifest_mod
from app.tuner import queries
from collectors.config import Config
from collectors.errors import InputError
from collectors.warehouse import Warehouse

log = logging.getLogger(__name__)

STORE = "manifests"
JOURNAL_GLOB = ".pending-*.json"
_STORED_RE = re.compile(r"-v\d{4}-[0-9a-f]{12}\.[^.]+$")  # a stored copy's name, see _store
_TMP_RE = re.compile(r"^\..+\.tmp$")  # atomic_write's temporary files
# One write at a time in this process (the dashboard's sessions); across processes the
# warehouse connection each write holds already excludes the others.
_LOCK = threading.Lock()


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
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _prepare(tmp: Path, text: str, mode: int) -> None:
    """Write ``text`` to the new file ``tmp`` and fsync it (the first half of a replace)."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)


def _install(tmp: Path, path: Path) -> None:
    """Put the prepared ``tmp`` in place of ``path`` (the second half: one atomic rename)."""
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _store(
    cfg: Config,
    con: duckdb.DuckDBPyConnection,
    path: Path,
    text: str,
    kind: str,
    d: Decision,
    restored_from: int | None = None,
) -> int:
    version = queries.next_version(con, str(path))
    digest = manifest_mod.sha256(text)
    stored = cfg.home / STORE / f"{path.stem}-v{version:04d}-{digest[:12]}{path.suffix or '.yaml'}"
    atomic_write(stored, text)
    con.execute(
        queries.INSERT_VERSION_SQL,
        [
            version,
            str(path),
            digest,
            str(stored),
            kind,
            _now(),
            d.by,
            d.comment or None,
            restored_from,
        ],
    )
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
    con: duckdb.DuckDBPyConnection,
    decision: str,
    path: Path,
    d: Decision,
    previous: str | None,
    proposed: str,
    window: tuple[date, date] | None,
    proposal: dict[str, Any] | None,
    version: int | None,
    decision_id: str | None = None,
) -> str:
    decision_id = decision_id or uuid.uuid4().hex
    since, until = window or (None, None)
    con.execute(
        queries.INSERT_DECISION_SQL,
        [
            decision_id,
            _now(),
            decision,
            d.by,
            d.auth,
            d.comment or None,
            str(path),
            previous,
            proposed,
            since,
            until,
            None if proposal is None else json.dumps(proposal, default=str),
            version,
        ],
    )
    return decision_id


def _recover(cfg: Config, con: duckdb.DuckDBPyConnection) -> None:
    """Settle what killed writes left behind (see the module docstring). Runs under
    :data:`_LOCK` with a write connection open, so no other write is in flight."""
    store = cfg.home / STORE
    if not store.is_dir():
        return
    journals = sorted(store.glob(JOURNAL_GLOB))
    for journal in journals:
        try:
            j = json.loads(journal.read_text(encoding="utf-8"))
            tmp, path, decision_id = Path(j["tmp"]), Path(j["manifest"]), str(j["decision_id"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # written atomically, so never half there; an unreadable one is not ours
        row = con.execute(queries.DECISION_SQL, [decision_id]).fetchall()
        current = _read(path)
        unchanged = row and row[0][0] == (None if current is None else manifest_mod.sha256(current))
        if unchanged and tmp.exists():
            _install(tmp, path)  # committed: the approved file goes in place
            log.warning(
                "%s: completed decision %s interrupted before the file was replaced",
                path,
                decision_id,
            )
        else:
            tmp.unlink(missing_ok=True)  # not committed (or the file changed since): undone
    known = {Path(str(p)).name for (p,) in con.execute(queries.STORED_PATHS_SQL).fetchall()}
    for f in store.iterdir():
        if f.name not in known and (_STORED_RE.search(f.name) or _TMP_RE.match(f.name)):
            f.unlink(missing_ok=True)  # a copy no committed version names, a temporary file
    for journal in journals:
        journal.unlink(missing_ok=True)


def _unsettled(cfg: Config) -> bool:
    """A killed write left a journal or a temporary file in the store (see :func:`_recover`)."""
    store = cfg.home / STORE
    return store.is_dir() and any(
        _TMP_RE.match(f.name) or f.match(JOURNAL_GLOB) for f in store.iterdir()
    )


def _applied(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    decision: str,
    expect_sha256: str,
    digest: str,
) -> dict[str, Any] | None:
    """The recorded result when this very change (``expect_sha256`` to ``digest``) is the last
    decision on ``path`` and is what the file holds: approving it again changes nothing."""
    last = queries.decisions(con, str(path))[:1]
    if not last:
        return None
    d = last[0]
    if (d["decision"], d["previous_sha256"], d["proposed_sha256"]) != (
        decision,
        expect_sha256,
        digest,
    ):
        return None
    return {
        "decision": decision,
        "decision_id": d["decision_id"],
        "manifest": str(path),
        "version": d["version"],
        "sha256": digest,
        "previous_sha256": expect_sha256,
        "note": f"already {decision} at {d['decided_at']:%Y-%m-%d %H:%M:%S} UTC",
    }


def _write_recorded(
    cfg: Config,
    path: Path,
    text: str,
    kind: str,
    decision: str,
    d: Decision,
    window: tuple[date, date] | None,
    proposal: dict[str, Any] | None,
    expect_sha256: str | None,
    restored_from: int | None = None,
) -> dict[str, Any]:
    digest = manifest_mod.sha256(text)
    with _LOCK, Warehouse.from_config(cfg).connect() as con:
        queries.ensure_tables(con)
        _recover(cfg, con)
        before = _read(path)
        before_sha = None if before is None else manifest_mod.sha256(before)
        if expect_sha256 and before_sha != expect_sha256:
            done = before_sha == digest and _applied(con, path, decision, expect_sha256, digest)
            if done:
                return done
            raise InputError(
                f"{path} changed since the proposal was made (sha256 "
                f"{(before_sha or 'missing')[:12]}, expected {expect_sha256[:12]}); "
                "run `routeledger tune` again and review the new proposal"
            )
        decision_id = uuid.uuid4().hex
        tmp = path.parent / f".{path.name}.{decision_id}.tmp"
        journal = cfg.home / STORE / f".pending-{decision_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(
            journal,
            json.dumps(
                {
                    "decision_id": decision_id,
                    "manifest": str(path),
                    "tmp": str(tmp),
                    "sha256": digest,
                }
            ),
        )
        try:
            con.execute("BEGIN")
            _keep_current(cfg, con, path, d)
            version = _store(cfg, con, path, text, kind, d, restored_from)
            _record(
                con, decision, path, d, before_sha, digest, window, proposal, version, decision_id
            )
            _prepare(tmp, text, path.stat().st_mode & 0o777 if before is not None else 0o644)
            con.execute("COMMIT")
            _install(tmp, path)
            journal.unlink()
            _republish(cfg, con)
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # committed already, or the connection is gone
            _recover(cfg, con)  # the database decides: the file follows a commit, or nothing
            raise
    return {
        "decision": decision,
        "decision_id": decision_id,
        "manifest": str(path),
        "version": version,
        "sha256": digest,
        "previous_sha256": before_sha,
    }


def _republish(cfg: Config, con: duckdb.DuckDBPyConnection) -> None:
    """A decision is part of what readers read: the read snapshot, if there is one, is
    published again so a reader shown it while a writer holds the warehouse sees the decision."""
    wh = Warehouse.from_config(cfg)
    if wh.snapshot_path.exists():
        wh.publish(con)


def approve(
    cfg: Config,
    path: Path,
    text: str,
    d: Decision,
    *,
    window: tuple[date, date] | None = None,
    proposal: dict[str, Any] | None = None,
    expect_sha256: str | None = None,
) -> dict[str, Any]:
    """Write ``text`` (a proposal) to ``path`` and record the approval."""
    manifest_mod.loads(text, str(path))  # never write a manifest that does not read back
    return _write_recorded(
        cfg, path, text, "approved", "approved", d, window, proposal, expect_sha256
    )


def reject(
    cfg: Config,
    path: Path,
    text: str,
    d: Decision,
    *,
    window: tuple[date, date] | None = None,
    proposal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with _LOCK, Warehouse.from_config(cfg).connect() as con:
        queries.ensure_tables(con)
        _recover(cfg, con)
        before = _read(path)
        before_sha = None if before is None else manifest_mod.sha256(before)
        decision_id = _record(
            con, "rejected", path, d, before_sha, manifest_mod.sha256(text), window, proposal, None
        )
        _republish(cfg, con)
    return {
        "decision": "rejected",
        "decision_id": decision_id,
        "manifest": str(path),
        "version": None,
        "sha256": manifest_mod.sha256(text),
        "previous_sha256": before_sha,
    }


def history(cfg: Config, path: Path) -> dict[str, Any]:
    versions: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    if Warehouse.from_config(cfg).exists():
        if _unsettled(cfg):  # a write was killed: settle it first
            with _LOCK, Warehouse.from_config(cfg).connect() as con:
                queries.ensure_tables(con)
                _recover(cfg, con)
        with Warehouse.from_config(cfg).connect(read_only=True, fresh=True) as con:
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
    store = (cfg.home / STORE).resolve()
    if not stored.resolve().is_relative_to(store):  # a rollback reads only the home's own copies
        raise InputError(f"{stored}: version {version} is not stored under {store}; refused")
    text = _read(stored)
    if text is None or manifest_mod.sha256(text) != rows[version]["sha256"]:
        raise InputError(f"{stored}: the stored copy of version {version} is missing or altered")
    return _write_recorded(
        cfg, path, text, "rollback", "rolled_back", d, None, None, None, restored_from=version
    )
