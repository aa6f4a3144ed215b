"""SIGKILL inside a manifest approval, at seeded random lines of ``app/tuner/approvals.py``.

Each step approves the next version of the manifest in a subprocess that kills itself at a
random executed line of the approvals module, then checks what a person would find: the file
byte for byte the old or the new version (never half-written, never empty), and the history
(versions, their stored copies, the decisions) agreeing with the file. Then the same approval
is run again and must leave the new version in place, recorded exactly once.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.tuner import approvals
from app.tuner import manifest as manifest_mod
from collectors import config
from tests.faults.helpers import ROOT, seed
from tests.tuner.logs import MANIFEST

STEPS = 8
TRACE = "app/tuner/approvals.py"


def text(k: int) -> str:
    """Version k of the manifest (0 is the original): the routing budget differs."""
    if k == 0:
        return MANIFEST
    out = MANIFEST.replace("default_budget_limit: 0.50", f"default_budget_limit: 0.5{k}")
    assert out != MANIFEST
    return out


def driver(home: Path, path: Path, new: Path, old: Path, kill: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "tests.faults.driver"]
    if kill is not None:
        cmd += ["--kill-line", str(kill), "--trace", TRACE]
    return [*cmd, "approve", str(home), str(path), str(new), str(old)]


def check(home: Path, path: Path, old: str, new: str, why: str) -> dict:
    """The history as the public function reports it (it first settles what a killed write
    left), checked against the files on disk."""
    assert path.read_bytes() in (old.encode(), new.encode()), f"{why}: neither version"
    h = approvals.history(config.load(home), path)
    data = path.read_bytes()
    assert data in (old.encode(), new.encode()), f"{why}: the manifest is neither version"
    versions, decisions = h["versions"], h["decisions"]
    numbers = sorted(v["version"] for v in versions)
    assert numbers == list(range(1, len(numbers) + 1)), f"{why}: versions {numbers}"
    for v in versions:
        stored = Path(v["stored_path"])
        assert stored.is_file(), f"{why}: stored copy of version {v['version']} missing"
        assert manifest_mod.sha256(stored.read_text(encoding="utf-8")) == v["sha256"], why
    store = home / approvals.STORE
    on_disk = {p.name for p in store.iterdir()} if store.is_dir() else set()
    recorded = {Path(v["stored_path"]).name for v in versions}
    assert on_disk == recorded, f"{why}: store {sorted(on_disk)} vs versions {sorted(recorded)}"
    leftovers = [p.name for p in path.parent.iterdir() if re.match(r"^\..*\.tmp$", p.name)]
    assert not leftovers, f"{why}: temporary files left beside the manifest: {leftovers}"
    if versions:
        latest = max(versions, key=lambda v: v["version"])
        assert latest["sha256"] == manifest_mod.sha256(data.decode()), (
            f"{why}: the file on disk is not the latest recorded version ({latest['kind']} "
            f"v{latest['version']})"
        )
    else:  # nothing recorded yet: the first approval did not happen at all
        assert data == old.encode() and decisions == [], why
    by_version = {v["version"]: v for v in versions}
    for d in decisions:
        assert d["decision"] == "approved", why
        assert by_version[d["version"]]["sha256"] == d["proposed_sha256"], why
    new_sha, old_sha = manifest_mod.sha256(new), manifest_mod.sha256(old)
    this = [d for d in decisions if d["proposed_sha256"] == new_sha]
    if data == new.encode():
        assert len(this) == 1 and this[0]["previous_sha256"] == old_sha, f"{why}: {this}"
    else:
        assert this == [], f"{why}: an approval is recorded but the file is the old version"
    return h


@pytest.mark.slow
def test_sigkill_at_random_lines_of_an_approval(tmp_path: Path) -> None:
    rng = random.Random(seed("approve"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text("[prices]\nauto_catalog = false\n", encoding="utf-8")
    path = home / "routing" / "manifest.yaml"
    path.parent.mkdir()
    path.write_text(text(0), encoding="utf-8")
    files = []
    for k in range(STEPS + 1):
        f = tmp_path / f"v{k}.yaml"
        f.write_text(text(k), encoding="utf-8")
        files.append(f)

    # how many lines of approvals.py one approval runs (on a copy), to draw the points from
    scratch = tmp_path / "scratch"
    (scratch / "routing").mkdir(parents=True)
    (scratch / "routeledger.toml").write_text("", encoding="utf-8")
    (scratch / "routing" / "manifest.yaml").write_text(text(0), encoding="utf-8")
    dry = subprocess.run(
        driver(scratch, scratch / "routing" / "manifest.yaml", files[1], files[0], 0),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dry.returncode == 0, dry.stderr
    total = int(re.findall(r"traced lines: (\d+)", dry.stderr)[-1])
    assert total > 20, dry.stderr

    killed = 0
    for k in range(1, STEPS + 1):
        old, new = text(k - 1), text(k)
        # every other point falls in the last quarter, where the files and rows are written
        point = rng.randint(1 if k % 2 else total * 3 // 4, total)
        why = f"step {k}, SIGKILL at line {point} of {total} (FAULT_SEED in the output)"
        p = subprocess.run(
            driver(home, path, files[k], files[k - 1], point),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode in (-signal.SIGKILL, 0), f"{why}: {p.returncode}\n{p.stderr}"
        killed += p.returncode == -signal.SIGKILL
        state = "new" if path.read_text(encoding="utf-8") == new else "old"
        check(home, path, old, new, why + ", after the kill")
        settled = "new" if path.read_text(encoding="utf-8") == new else "old"
        print(
            f"{why}: {'killed' if p.returncode else 'finished first'}; the file was {state}, "
            f"{settled} once settled"
        )
        # the same approval again (what `routeledger manifest approve --expect` does)
        out = approvals.approve(
            config.load(home),
            path,
            new,
            approvals.Decision("again", "cli"),
            expect_sha256=manifest_mod.sha256(old),
        )
        assert out["decision"] == "approved" and out["sha256"] == manifest_mod.sha256(new), why
        assert path.read_text(encoding="utf-8") == new, why
        check(home, path, old, new, why + ", after the re-run")
    assert killed >= 1  # the points are drawn inside the approval: most runs die
    h = approvals.history(config.load(home), path)
    kinds = sorted((v["version"], v["kind"]) for v in h["versions"])
    assert kinds == [(1, "baseline")] + [(k + 1, "approved") for k in range(1, STEPS + 1)]
    assert len(h["decisions"]) == STEPS
