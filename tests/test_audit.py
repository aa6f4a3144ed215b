"""`make audit` (.ci/audit.py) against a loopback index serving recorded responses: what each pin
was audited against is named, per-version data is used where the index serves it, a pin checked
against another release (or not at all) is a WARNING that fails only ``--strict``, and a known
vulnerability fails. No live network: the index is http.server on 127.0.0.1, and pip-audit is a
script printing the report pip-audit prints (every pin skipped, as on this machine, whose index
404s ``/pypi/<name>/<version>/json``; or one pin audited).

The responses are trimmed copies of what the index reachable from CI served (pypi.org through
the CI mirror), captured for this test: ``/pypi/<name>/json`` (``info.version``, the pinned
release's files under ``releases``, ``vulnerabilities`` as served) and the PEP 691 JSON simple
pages (the pinned release's files, ``meta`` as served). The mirror answers 404 to every
``/pypi/<name>/<version>/json``; the one per-version page served below is built in PyPI's
documented shape of that endpoint to test the path a full index takes.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
import audit  # noqa: E402

SIMPLE = "application/vnd.pypi.simple.v1+json"

H11_WHL = "63cf8bbe7522de3bf65932fda1d9c2772064ffb3dae62d55932da54b31cb6c86"
H11_SDIST = "4e35b956cf45792e4caa5885e69fba00bdbc6ffafbfa020300e549b208ee5ff1"
IDNA_WHL = "ab7ae7122974553370f0bdb919e1a960b2cd1bc1ef0276416d896db81c14582c"
IDNA_SDIST = "a7db850025b95ded1eae8a46181a1a6c56c92c96f0e2b005d9ff8dc0210cab44"
REQ_WHL = "f2c3881dddb70d056c5bd7600a4fae312b2a300e39be6a118d30b90bd27262b5"
REQ_SDIST = "fa5490319474c82ef1d2c9bc459d3652e3ae4ef4c4ebdd18a21145a47ca4b6b8"
PYCRYPTO = "f2ce1e989b272cfcb677616763e0a2e7ec659effa67a88aa92b3a65528f60a3c"
YANKED = "Yanked due to conflicts with CVE-2024-35195 mitigation"


def _release(*files: tuple[str, str, str | None]) -> list[dict]:
    return [
        {"filename": n, "yanked": r is not None, "yanked_reason": r, "digests": {"sha256": h}}
        for n, h, r in files
    ]


def _simple(name: str, serial: str, *files: tuple[str, str, str | bool]) -> dict:
    return {
        "meta": {"api-version": "1.1", "_last-serial": serial},
        "name": name,
        "files": [{"filename": n, "hashes": {"sha256": h}, "yanked": y} for n, h, y in files],
    }


PROJECT = {  # /pypi/<name>/json
    "h11": {
        "info": {"version": "0.16.0"},
        "releases": {
            "0.16.0": _release(
                ("h11-0.16.0.tar.gz", H11_SDIST, None),
                ("h11-0.16.0-py3-none-any.whl", H11_WHL, None),
            )
        },
        "vulnerabilities": [],
    },
    "idna": {
        "info": {"version": "3.21"},
        "releases": {
            "3.20": _release(
                ("idna-3.20-py3-none-any.whl", IDNA_WHL, None),
                ("idna-3.20.tar.gz", IDNA_SDIST, None),
            )
        },
        "vulnerabilities": [],
    },
    "requests": {
        "info": {"version": "2.34.2"},
        "releases": {
            "2.32.0": _release(
                ("requests-2.32.0-py3-none-any.whl", REQ_WHL, YANKED),
                ("requests-2.32.0.tar.gz", REQ_SDIST, YANKED),
            )
        },
        "vulnerabilities": [],
    },
    "pycrypto": {
        "info": {"version": "2.6.1"},
        "releases": {"2.6.1": _release(("pycrypto-2.6.1.tar.gz", PYCRYPTO, None))},
        "vulnerabilities": [
            {
                "id": "PYSEC-2017-94",
                "aliases": ["CVE-2013-7459", "GHSA-cq27-v7xp-c356"],
                "fixed_in": [],
                "withdrawn": None,
                "source": "osv",
            },
            {
                "id": "PYSEC-2018-97",
                "aliases": ["CVE-2018-6594", "GHSA-6528-wvf6-f6qg"],
                "fixed_in": [],
                "withdrawn": None,
                "source": "osv",
            },
        ],
    },
}
SIMPLE_PAGES = {  # /simple/<name>/ with Accept: application/vnd.pypi.simple.v1+json
    "h11": _simple(
        "h11",
        "28687432",
        ("h11-0.16.0-py3-none-any.whl", H11_WHL, False),
        ("h11-0.16.0.tar.gz", H11_SDIST, False),
    ),
    "idna": _simple(
        "idna",
        "41170495",
        ("idna-3.20-py3-none-any.whl", IDNA_WHL, False),
        ("idna-3.20.tar.gz", IDNA_SDIST, False),
    ),
    "requests": _simple(
        "requests",
        "37059094",
        ("requests-2.32.0-py3-none-any.whl", REQ_WHL, YANKED),
        ("requests-2.32.0.tar.gz", REQ_SDIST, YANKED),
    ),
    "pycrypto": _simple("pycrypto", "1131459", ("pycrypto-2.6.1.tar.gz", PYCRYPTO, False)),
}
LOCK = {  # name -> (version, locked sha256 hashes), as requirements-dev.lock pins them
    "h11": ("0.16.0", (H11_SDIST, H11_WHL)),
    "idna": ("3.20", (IDNA_SDIST, IDNA_WHL)),
    "requests": ("2.32.0", (REQ_WHL, REQ_SDIST)),
    "pycrypto": ("2.6.1", (PYCRYPTO,)),
}


class Index:
    """The routes a loopback index serves: path -> (status, content type, JSON body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, object]] = {}
        self.seen: list[str] = []
        for name, doc in PROJECT.items():
            self.routes[f"/pypi/{name}/json"] = (200, "application/json", doc)
        for name, doc in SIMPLE_PAGES.items():
            self.routes[f"/simple/{name}/"] = (200, SIMPLE, doc)

    def version_page(self, name: str, version: str, vulns: list[dict], says: str = "") -> None:
        """PyPI's ``/pypi/<name>/<version>/json``: that release's info and vulnerabilities."""
        doc = {"info": {"version": says or version}, "urls": [], "vulnerabilities": vulns}
        self.routes[f"/pypi/{name}/{version}/json"] = (200, "application/json", doc)


@pytest.fixture()
def index(monkeypatch: pytest.MonkeyPatch) -> Iterator[Index]:
    served = Index()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (the http.server API)
            served.seen.append(f"{self.headers.get('Accept', '')} {self.path}")
            status, kind, doc = served.routes.get(self.path, (404, "text/plain", "Not Found"))
            if kind == SIMPLE and SIMPLE not in (self.headers.get("Accept") or ""):
                status, kind, doc = 200, "text/html", "<html></html>"  # PEP 503 HTML only
            body = (json.dumps(doc) if kind != "text/html" else str(doc)).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    monkeypatch.setattr(audit, "INDEX", f"http://127.0.0.1:{srv.server_address[1]}/pypi")
    yield served
    srv.shutdown()
    srv.server_close()


def setup(
    tmp_path: Path,
    names: list[str],
    audited: dict[str, list[dict]] | None = None,
    lock: dict[str, tuple[str, tuple[str, ...]]] | None = None,
) -> list[str]:
    """A hash-pinned lock of ``names`` and a pip-audit that skips every pin but ``audited``
    (pin -> its vulns: what pip-audit reports when the per-version page answers)."""
    lock = {**LOCK, **(lock or {})}
    audited = audited or {}
    path = tmp_path / "lock.txt"
    path.write_text(
        "# header comment\n"
        + "".join(
            f"{n}=={lock[n][0]} \\\n"
            + " \\\n".join(f"    --hash=sha256:{h}" for h in lock[n][1])
            + "\n    # via something\n"
            for n in names
        ),
        encoding="utf-8",
    )
    report = {
        "dependencies": [
            {"name": n, "version": lock[n][0], "vulns": audited[n]}
            if n in audited
            else {
                "name": n,
                "skip_reason": f"Dependency not found on PyPI and could not be "
                f"audited: {n} ({lock[n][0]})",
            }
            for n in names
        ],
        "fixes": [],
    }
    fake = tmp_path / "pip-audit"
    fake.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(report))})\n")
    fake.chmod(0o755)
    return ["--lock", str(path), "--pip-audit", str(fake)]


def lines(out: str, prefix: str) -> dict[str, str]:
    """Per-pin lines (``  name==version  ...``) or WARNING lines, by pin."""
    got: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith(prefix):
            pin, _, rest = line[len(prefix) :].strip().partition(" ")
            got[pin.rstrip(":")] = (got.get(pin.rstrip(":"), "") + " | " + rest.strip()).strip(" |")
    return got


def summary(out: str) -> str:
    return next(x for x in out.splitlines() if x.startswith("audit: ") and " not audited (" in x)


def test_each_pin_says_what_it_was_audited_against(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, ["h11", "idna", "requests"])
    assert audit.main(args) == 0
    out = capsys.readouterr().out
    per_pin = lines(out, "  ")
    assert per_pin["h11==0.16.0"].startswith(
        "newest-release advisories, and the pin is the newest release;"
    )
    assert per_pin["idna==3.20"].startswith("newest-release advisories of 3.21 only: NOT the pin")
    assert per_pin["requests==2.32.0"].startswith(
        "newest-release advisories of 2.34.2 only: NOT the pin"
    )
    # what the index publishes per version: the locked files, and whether they are yanked
    assert (
        "files (PEP 691 simple page): 2/2 locked files served, not yanked" in per_pin["h11==0.16.0"]
    )
    assert f"2/2 locked files served, YANKED ({YANKED})" in per_pin["requests==2.32.0"]
    warnings = lines(out, "WARNING")
    assert set(warnings) == {"idna==3.20", "requests==2.32.0"}
    assert "audited against idna 3.21's advisories only, not 3.20's" in warnings["idna==3.20"]
    assert f"yanked on the index: {YANKED}" in warnings["requests==2.32.0"]
    assert summary(out) == (
        "audit: 3 pins; 0 audited per version (0 by pip-audit, 0 from the index's per-version "
        "pages), 1 from the project's newest-release advisories, 2 not audited (idna==3.20 "
        "against 3.21 only, requests==2.32.0 against 2.34.2 only; 2 checked against the newest "
        "release only, 0 not at all); 3 warnings"
    )
    assert out.rstrip().endswith("no known vulnerabilities in what was audited (3 warnings above)")
    assert audit.main([*args, "--strict"]) == 1
    # the per-version page was asked for each pin that is not the newest release
    assert {s.split()[-1] for s in index.seen if "/3.20/" in s or "/2.32.0/" in s} == {
        "/pypi/idna/3.20/json",
        "/pypi/requests/2.32.0/json",
    }


def test_every_pin_newest_and_served_passes_strict(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, ["h11"])
    assert audit.main([*args, "--strict"]) == 0
    out = capsys.readouterr().out
    assert "WARNING" not in out
    assert "1 from the project's newest-release advisories, 0 not audited (0 checked" in out


def test_a_vulnerability_of_the_pinned_newest_release_fails(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert audit.main(setup(tmp_path, ["h11", "pycrypto"])) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE pycrypto==2.6.1: PYSEC-2017-94 (fixed in ?)" in out
    assert "VULNERABLE pycrypto==2.6.1: PYSEC-2018-97 (fixed in ?)" in out


def test_a_vulnerability_of_a_newer_release_is_a_warning_not_a_verdict(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, ["h11", "pycrypto"], lock={"pycrypto": ("2.6", ("0" * 64,))})
    assert audit.main(args) == 0
    warnings = lines(capsys.readouterr().out, "WARNING")["pycrypto==2.6"]
    assert (
        "the newest release 2.6.1 has PYSEC-2017-94 (fixed in ?); 2.6 may have it too" in warnings
    )
    assert "the index serves none of the 1 files the lock pins" in warnings
    assert audit.main([*args, "--strict"]) == 1


def test_the_per_version_page_is_used_where_the_index_serves_it(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index.version_page("idna", "3.20", [])
    assert audit.main([*setup(tmp_path, ["idna"]), "--strict"]) == 0
    out = capsys.readouterr().out
    assert lines(out, "  ")["idna==3.20"].startswith(
        f"per-version advisories ({audit.INDEX}/idna/3.20/json)"
    )
    assert "1 audited per version (0 by pip-audit, 1 from the index's per-version pages)" in out

    vuln = {"id": "PYSEC-0000-9", "fixed_in": ["3.21"], "withdrawn": None}
    index.version_page("idna", "3.20", [vuln])
    assert audit.main(setup(tmp_path, ["idna"])) == 1
    assert "VULNERABLE idna==3.20: PYSEC-0000-9 (fixed in 3.21)" in capsys.readouterr().out


def test_a_per_version_page_for_another_release_answers_nothing(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An index that answers every version with its newest release's page (a redirect) must
    not pass for per-version data."""
    index.version_page("idna", "3.20", [], says="3.21")
    assert audit.main(setup(tmp_path, ["h11", "idna"])) == 0
    assert "idna==3.20 against 3.21 only" in summary(capsys.readouterr().out)


def test_pip_audit_per_version_findings_count_and_fail(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, ["h11", "idna"], audited={"idna": []})
    assert audit.main(args) == 0
    out = capsys.readouterr().out
    assert lines(out, "  ")["idna==3.20"].startswith("per-version advisories (pip-audit")
    assert "1 audited per version (1 by pip-audit, 0 from the index's per-version pages)" in out
    vuln = {"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["3.21"], "aliases": []}
    assert audit.main(setup(tmp_path, ["h11", "idna"], audited={"idna": [vuln]})) == 1
    assert "VULNERABLE idna==3.20: GHSA-xxxx-yyyy-zzzz (fixed in 3.21)" in capsys.readouterr().out


def test_a_pin_the_index_does_not_know_is_not_audited(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, ["h11", "internal-pkg"], lock={"internal-pkg": ("1.0", ("1" * 64,))})
    assert audit.main(args) == 0
    out = capsys.readouterr().out
    assert lines(out, "WARNING")["internal-pkg==1.0"] == "not audited: the index has no page for it"
    assert (
        "1 not audited (internal-pkg==1.0; 0 checked against the newest release only, 1 not "
        "at all)" in summary(out)
    )
    assert audit.main([*args, "--strict"]) == 1


def test_without_a_pep691_page_the_json_api_releases_are_read(
    index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del index.routes["/simple/requests/"]
    assert audit.main(setup(tmp_path, ["h11", "requests"])) == 0
    per_pin = lines(capsys.readouterr().out, "  ")["requests==2.32.0"]
    assert f"files (JSON API releases): 2/2 locked files served, YANKED ({YANKED})" in per_pin


def test_an_unreachable_index_audits_nothing_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed
    monkeypatch.setattr(audit, "INDEX", f"http://127.0.0.1:{closed}/pypi")
    assert audit.main(setup(tmp_path, ["h11", "idna"])) == 1
    out = capsys.readouterr()
    assert "nothing could be audited" in out.err
    warnings = lines(out.out, "WARNING")
    assert set(warnings) == {"h11==0.16.0", "idna==3.20"}
    assert all(w.startswith("not audited: the index could not be read") for w in warnings.values())


def test_the_index_is_the_configured_one() -> None:
    assert audit.configured_index({}) == "https://pypi.org/pypi"
    assert audit.configured_index({"PIP_INDEX_URL": "file:///opt/pypi/simple"}) == (
        "https://pypi.org/pypi"
    )
    mirror = {"PIP_INDEX_URL": "https://mirror.example/pypi-proxy/simple/"}
    assert audit.configured_index(mirror) == "https://mirror.example/pypi-proxy/pypi"
    assert audit.simple_base("https://mirror.example/pypi-proxy/pypi") == (
        "https://mirror.example/pypi-proxy/simple"
    )


def test_index_option_overrides_and_is_restored(
    index: Index,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served = audit.INDEX
    monkeypatch.setattr(audit, "INDEX", "http://127.0.0.1:9/pypi")  # nothing there
    assert audit.main([*setup(tmp_path, ["h11"]), "--index", served + "/"]) == 0
    assert f"index {served} (JSON API)" in capsys.readouterr().out
    assert audit.INDEX == "http://127.0.0.1:9/pypi"


def test_the_real_lock_parses_with_its_hashes() -> None:
    lock = ROOT / "requirements-dev.lock"
    pinned = audit.locked(lock)
    text = lock.read_text(encoding="utf-8")
    assert len(pinned) == sum(
        1 for x in text.splitlines() if "==" in x and not x.startswith((" ", "#"))
    )
    assert all(p.hashes and all(len(h) == 64 for h in p.hashes) for p in pinned.values())
    assert pinned["h11"].version and audit.pins(lock)["h11"] == pinned["h11"].version
