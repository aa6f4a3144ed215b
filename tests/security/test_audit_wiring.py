"""`make audit` (.ci/audit.py: pip-audit of the hash-pinned lock, then PyPI's project pages for
what pip-audit could not look up) runs in CI after the tests and fails on a known vulnerability
or when it could audit nothing.

The real audit needs PyPI, so it is not run here: a loopback HTTP server plays the index (the
project-page JSON PyPI serves), and pip-audit is replaced by a script printing the report
pip-audit prints when its per-version lookups fail (every pin skipped).
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".ci"))
import audit  # noqa: E402


def test_pip_audit_is_a_locked_dev_dependency() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dev = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'"pip-audit>=', dev)
    lock = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")
    assert re.search(r"^pip-audit==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", lock, re.MULTILINE)


def test_ci_runs_the_audit_after_the_tests_and_stops_on_failure() -> None:
    lines = [x.strip() for x in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "set -euo pipefail" in lines
    assert lines.index("make audit") > lines.index("make test")
    assert ".ci/audit.py" in (ROOT / "Makefile").read_text()


PAGES: dict[str, dict] = {
    "clean": {"info": {"version": "1.0"}, "vulnerabilities": []},
    "holey": {
        "info": {"version": "2.0"},
        "vulnerabilities": [{"id": "PYSEC-0000-1", "fixed_in": ["2.1"], "withdrawn": None}],
    },
    "withdrawn": {
        "info": {"version": "3.0"},
        "vulnerabilities": [{"id": "PYSEC-0000-2", "fixed_in": [], "withdrawn": "2025-01-01"}],
    },
    "moved-on": {"info": {"version": "9.0"}, "vulnerabilities": []},
}


@pytest.fixture()
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            name = self.path.strip("/").split("/")[1]
            page = PAGES.get(name)
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(page or {}).encode())

        def log_message(self, *a: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/pypi"
    monkeypatch.setattr(audit, "INDEX", url)
    yield url
    srv.shutdown()


def _lock_and_fake_pip_audit(tmp_path: Path, pins: dict[str, str]) -> list[str]:
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "".join(f"{n}=={v} \\\n    --hash=sha256:{'a' * 64}\n" for n, v in pins.items())
    )
    report = {
        "dependencies": [
            {"name": n, "skip_reason": f"Dependency not found on PyPI: {n} ({v})"}
            for n, v in pins.items()
        ],
        "fixes": [],
    }
    fake = tmp_path / "pip-audit"
    fake.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(report))})\n")
    fake.chmod(0o755)
    return ["--lock", str(lock), "--pip-audit", str(fake)]


def test_clean_pins_pass(index: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _lock_and_fake_pip_audit(tmp_path, {"clean": "1.0", "withdrawn": "3.0"})
    assert audit.main(args) == 0
    assert (
        "2 from the project's newest-release advisories, 0 not audited" in capsys.readouterr().out
    )


def test_a_known_vulnerability_fails(
    index: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _lock_and_fake_pip_audit(tmp_path, {"clean": "1.0", "holey": "2.0"})
    assert audit.main(args) == 1
    assert "VULNERABLE holey==2.0: PYSEC-0000-1 (fixed in 2.1)" in capsys.readouterr().out


def test_a_pin_behind_the_newest_release_is_named_and_fails_only_strict(
    index: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _lock_and_fake_pip_audit(tmp_path, {"clean": "1.0", "moved-on": "8.0"})
    assert audit.main(args) == 0
    assert "1 not audited (moved-on==8.0" in capsys.readouterr().out
    assert audit.main([*args, "--strict"]) == 1


def test_an_audit_that_reaches_nothing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed
    monkeypatch.setattr(audit, "INDEX", f"http://127.0.0.1:{closed}/pypi")
    args = _lock_and_fake_pip_audit(tmp_path, {"clean": "1.0"})
    assert audit.main(args) == 1
