"""Paths that climb out of the home.

* ``routeledger.toml`` is the operator's own file, trusted like the command line: its paths may
  leave the home on purpose (the gateway's manifest, ``/var/log``), as
  :meth:`collectors.config.Config.resolve` documents. What such a path points at is still read
  as hostile input: a manifest that is really ``/etc/passwd`` is one clear error.
* Nothing from a web request becomes a path: the dashboard's rollback names a version number,
  and only a copy under ``<home>/manifests`` is ever restored, even when the warehouse row says
  otherwise; a report week that is not an ISO week is refused before any path is built.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from app.tuner import approvals
from app.tuner import manifest as manifest_mod
from collectors import config
from collectors.errors import InputError
from tests.hostile.conftest import run
from tests.hostile.corpus_inputs import MANIFEST_OK
from tests.hostile.payloads import CORPUS


@pytest.fixture
def traversal_home(tmp_path: Path) -> Path:
    """A home two levels down, whose routeledger.toml is the corpus's traversal.toml; the
    manifest it names (../../etc/passwd) is a decoy passwd file inside tmp_path."""
    home = tmp_path / "a" / "b" / "home"
    home.mkdir(parents=True)
    (home / "routeledger.toml").write_bytes((CORPUS / "config" / "traversal.toml").read_bytes())
    decoy = tmp_path / "a" / "etc" / "passwd"
    decoy.parent.mkdir(parents=True)
    decoy.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    return home


def test_configured_paths_may_leave_the_home_as_documented(traversal_home: Path) -> None:
    cfg = config.load(traversal_home)
    assert "leave the home on purpose" in (config.Config.resolve.__doc__ or "")
    outside = traversal_home.parent.parent
    assert cfg.resolve(cfg.get("tuner.manifest")).resolve() == outside / "etc" / "passwd"
    assert cfg.warehouse_path.resolve() == traversal_home.parent / "outside" / "warehouse.duckdb"
    assert cfg.resolve(cfg.sources[0].path).resolve().parent == outside / "var" / "log"


def test_a_manifest_path_that_is_really_passwd_is_one_clear_error(traversal_home: Path) -> None:
    p = run(traversal_home, "tune", "--json", timeout=60)
    assert p.returncode == 2, p.stderr[-2000:]
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "passwd" in lines[0] and "mapping at the top" in lines[0], lines


def _approved_home(tmp_path: Path) -> tuple[config.Config, Path]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
    cfg = config.load(home)
    path = (home / "manifest.yaml").resolve()
    path.write_text(MANIFEST_OK, encoding="utf-8")
    changed = MANIFEST_OK.replace("chain: [mini, haiku]", "chain: [haiku, mini]")
    approvals.approve(cfg, path, changed, approvals.Decision("tester", "local"))
    return cfg, path


def test_rollback_restores_only_copies_kept_in_the_home(tmp_path: Path) -> None:
    """A warehouse row pointing a version at a file outside ``<home>/manifests`` (tampered, or
    a bug) never makes a rollback read that file into the manifest."""
    cfg, path = _approved_home(tmp_path)
    versions = approvals.history(cfg, path)["versions"]
    baseline = min(v["version"] for v in versions)
    outside = tmp_path / "elsewhere.yaml"
    planted = MANIFEST_OK.replace("success_target: 0.95", "success_target: 0.5")
    outside.write_text(planted, encoding="utf-8")
    con = duckdb.connect(str(cfg.warehouse_path))
    try:
        con.execute(
            "UPDATE manifest_versions SET stored_path = ?, sha256 = ? WHERE version = ?",
            [str(outside), manifest_mod.sha256(planted), baseline],
        )
    finally:
        con.close()
    before = path.read_text(encoding="utf-8")
    with pytest.raises(InputError, match="not stored under"):
        approvals.rollback(cfg, path, baseline, approvals.Decision("web", "password"))
    assert path.read_text(encoding="utf-8") == before


def test_rollback_of_a_kept_version_still_works(tmp_path: Path) -> None:
    cfg, path = _approved_home(tmp_path)
    baseline = min(v["version"] for v in approvals.history(cfg, path)["versions"])
    approvals.rollback(cfg, path, baseline, approvals.Decision("web", "password"))
    assert path.read_text(encoding="utf-8") == MANIFEST_OK


@pytest.mark.parametrize("version", ["../../etc/passwd", "1; rm -rf /", -1, 10**9])
def test_a_version_that_is_not_a_stored_one_is_refused(tmp_path: Path, version: object) -> None:
    cfg, path = _approved_home(tmp_path)
    with pytest.raises(InputError, match="no stored version"):
        approvals.rollback(cfg, path, version, approvals.Decision("web", "password"))  # type: ignore[arg-type]


def test_a_report_week_cannot_name_a_path(home: Path) -> None:
    p = run(home, "report", "weekly", "--week", "../../../etc", "--json", timeout=60)
    assert p.returncode == 2, p.stderr[-2000:]
    assert "expected an ISO week" in p.stderr
    assert not (home / "reports").exists() or not any((home / "reports").iterdir())
