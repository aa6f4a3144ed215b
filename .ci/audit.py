"""`make audit`: known vulnerabilities of every pin in requirements-dev.lock, and exactly what
each pin was audited against.

Per pin, the strongest evidence available is used and named:

1. **per-version** advisories: the vulnerabilities the index lists for exactly the pinned
   version. pip-audit reads them first (``--vulnerability-service pypi --disable-pip``: the
   hash-pinned lock as it is, no resolver), from ``/pypi/<name>/<version>/json``; for a pin it
   skips, that page is asked again here.
2. **newest-release = pin**: ``/pypi/<name>/json`` lists the vulnerabilities of the project's
   newest release only; when that release *is* the pin, they answer for it.
3. **newest-release, not the pin**: the pin is older than the newest release and no per-version
   page answers. Its own vulnerabilities are unknown (one fixed since would not show): a WARNING
   line names it, and any vulnerability of the newer release is printed as a warning too.
4. **not audited**: the index has no page for it, or could not be reached: a WARNING line.

Beside the advisories, what the index publishes per version is checked for every pin: the
files whose sha256 the lock pins (PEP 691 JSON simple page ``/simple/<name>/``, else the
``releases`` of the JSON API): how many of them the index still serves, and whether they are
yanked (a yanked pin, or one whose locked files the index does not serve, is a WARNING).

Exit 1 on a known vulnerability of a pin (kinds 1 and 2), or when no pin could be audited at all
(an audit that did not run never passes). ``--strict`` also fails on every WARNING: a pin
checked against another release or not at all, yanked, or not served. The index is
``$PIP_INDEX_URL`` when it is an http(s) URL (its ``/simple`` replaced by ``/pypi``), else
https://pypi.org; ``--index`` overrides it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"

PER_VERSION = "per-version"
NEWEST_IS_PIN = "newest-release = pin"
NEWEST_NOT_PIN = "newest-release, not the pin"
NOT_AUDITED = "not audited"


def configured_index(env: dict[str, str] | None = None) -> str:
    """The JSON API base of the index pip is configured with (``/pypi``), else PyPI's."""
    url = (env if env is not None else os.environ).get("PIP_INDEX_URL", "").strip()
    if not url.startswith(("http://", "https://")):
        return "https://pypi.org/pypi"
    base = url.rstrip("/")
    return (base[: -len("/simple")] if base.endswith("/simple") else base) + "/pypi"


INDEX = configured_index()


def simple_base(index: str) -> str:
    """The PEP 503/691 simple index beside a ``/pypi`` JSON API base."""
    return (index[: -len("/pypi")] if index.endswith("/pypi") else index) + "/simple"


def canonical(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def locked(lock: Path) -> dict[str, Pin]:
    """Every ``name==version`` of a hash-pinned requirements file, with its sha256 hashes."""
    out: dict[str, Pin] = {}
    current: tuple[str, str] | None = None
    hashes: set[str] = set()

    def flush() -> None:
        if current is not None:
            out[current[0]] = Pin(current[0], current[1], frozenset(hashes))

    for line in lock.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith((" ", "#", "\t")):
            flush()
            name, version = line.split(" ", 1)[0].split(";", 1)[0].split("==", 1)
            current, hashes = (canonical(name), version.strip()), set()
        hashes.update(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    flush()
    return out


def pins(lock: Path) -> dict[str, str]:
    return {name: pin.version for name, pin in locked(lock).items()}


def pip_audit(pip_audit_bin: str, lock: Path) -> tuple[list[dict], set[str]]:
    """(vulnerabilities found, names pip-audit audited against their pinned version's page)."""
    command = [
        *(pip_audit_bin, "-r", str(lock), "--require-hashes", "--disable-pip"),
        *("--vulnerability-service", "pypi", "--format", "json", "--progress-spinner", "off"),
    ]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        sys.exit(f"audit: pip-audit did not run: {exc}")
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = proc.stderr.strip().splitlines()[-1:]
        sys.exit(f"audit: pip-audit gave no report (exit {proc.returncode}): {last}")
    found, audited = [], set()
    for dep in doc.get("dependencies", []):
        if "skip_reason" not in dep:
            audited.add(canonical(dep["name"]))
        for v in dep.get("vulns", []):
            found.append({"name": canonical(dep["name"]), "version": dep.get("version"), **v})
    return found, audited


# --- what the index serves -----------------------------------------------------------------


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def project_page(client: httpx.Client, name: str) -> dict | None:
    """``/pypi/<name>/json`` (the newest release's info and vulnerabilities), or None (404)."""
    r = client.get(f"{INDEX}/{name}/json")
    if r.status_code == 404:
        return None
    r.raise_for_status()
    doc = _json(r)
    return doc if isinstance(doc, dict) and isinstance(doc.get("info"), dict) else None


def version_page(client: httpx.Client, name: str, version: str) -> dict | None:
    """``/pypi/<name>/<version>/json`` when the index serves it *for that version*, else None."""
    r = client.get(f"{INDEX}/{name}/{version}/json")
    if r.status_code != 200:
        return None
    doc = _json(r)
    if not isinstance(doc, dict) or (doc.get("info") or {}).get("version") != version:
        return None  # an index answering with another release's page answers nothing here
    return doc


def simple_files(client: httpx.Client, name: str) -> list[dict] | None:
    """The files of a PEP 691 JSON simple page (with ``hashes`` and ``yanked``), or None."""
    r = client.get(f"{simple_base(INDEX)}/{name}/", headers={"Accept": SIMPLE_JSON})
    if r.status_code != 200 or not r.headers.get("content-type", "").startswith(SIMPLE_JSON):
        return None
    doc = _json(r)
    files = doc.get("files") if isinstance(doc, dict) else None
    return files if isinstance(files, list) else None


def advisories(doc: dict) -> list[dict]:
    return [v for v in doc.get("vulnerabilities") or [] if not v.get("withdrawn")]


@dataclass
class Files:
    """The index's files of a pin: those whose sha256 the lock pins."""

    where: str  # "PEP 691 simple page" | "JSON API releases" | ""
    served: int = 0  # locked files the index serves
    locked: int = 0
    yanked: str | None = None  # reason ("yanked" when none is given)

    def describe(self) -> str:
        if not self.where:
            return "files: the index lists no files of this version"
        state = f"YANKED ({self.yanked})" if self.yanked else "not yanked"
        return f"files ({self.where}): {self.served}/{self.locked} locked files served, {state}"


def files_of(pin: Pin, simple: list[dict] | None, project: dict | None) -> Files:
    entries: list[tuple[str, Any]] = []  # (sha256, yanked: False | True | reason)
    where = ""
    if simple is not None:
        where = "PEP 691 simple page"
        entries = [((f.get("hashes") or {}).get("sha256", ""), f.get("yanked")) for f in simple]
    elif project is not None and isinstance(project.get("releases"), dict):
        where = "JSON API releases"
        for f in project["releases"].get(pin.version) or []:
            yanked = (f.get("yanked_reason") or True) if f.get("yanked") else False
            entries.append(((f.get("digests") or {}).get("sha256", ""), yanked))
    if not where:
        return Files("")
    mine = [y for sha, y in entries if sha in pin.hashes]
    reasons = [y for y in mine if y]
    reason = next((y for y in reasons if isinstance(y, str) and y.strip()), "yanked")
    return Files(where, len(mine), len(pin.hashes), reason.strip() if reasons else None)


@dataclass
class Finding:
    pin: Pin
    basis: str  # PER_VERSION | NEWEST_IS_PIN | NEWEST_NOT_PIN | NOT_AUDITED
    source: str  # where the advisories came from (or why there were none)
    files: Files
    newest: str | None = None
    vulns: list[dict] = field(default_factory=list)  # of the pin
    newer_vulns: list[dict] = field(default_factory=list)  # of the newest release, not the pin

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.basis == NEWEST_NOT_PIN:
            out.append(
                f"audited against {self.pin.name} {self.newest}'s advisories only, not "
                f"{self.pin.version}'s: the index serves no per-version advisory data, so a "
                f"vulnerability of {self.pin.version} fixed since is not seen"
            )
        elif self.basis == NOT_AUDITED:
            out.append(f"not audited: {self.source}")
        for v in self.newer_vulns:
            out.append(
                f"the newest release {self.newest} has {v.get('id')} (fixed in "
                f"{_fixes(v)}); {self.pin.version} may have it too"
            )
        if self.files.yanked:
            out.append(f"yanked on the index: {self.files.yanked}")
        if self.files.where and self.files.locked and not self.files.served:
            out.append(f"the index serves none of the {self.files.locked} files the lock pins")
        return out


def _fixes(v: dict) -> str:
    return ", ".join(v.get("fix_versions") or v.get("fixed_in") or []) or "?"


def audit_pin(client: httpx.Client, pin: Pin, pip_audited: bool) -> Finding:
    """Everything the index says about one pin (pip-audit's own findings are added later)."""
    try:
        simple = simple_files(client, pin.name)
        need_project = not pip_audited or simple is None
        project = project_page(client, pin.name) if need_project else None
        files = files_of(pin, simple, project)
        if pip_audited:
            return Finding(pin, PER_VERSION, "pip-audit (/pypi/<name>/<version>/json)", files)
        newest = str((project or {}).get("info", {}).get("version") or "") or None
        if project is not None and newest == pin.version:
            return Finding(
                pin,
                NEWEST_IS_PIN,
                f"{INDEX}/{pin.name}/json",
                files,
                newest,
                [{"name": pin.name, "version": pin.version, **v} for v in advisories(project)],
            )
        page = version_page(client, pin.name, pin.version)
        if page is not None:
            return Finding(
                pin,
                PER_VERSION,
                f"{INDEX}/{pin.name}/{pin.version}/json",
                files,
                newest,
                [{"name": pin.name, "version": pin.version, **v} for v in advisories(page)],
            )
        if project is not None:
            return Finding(
                pin,
                NEWEST_NOT_PIN,
                f"{INDEX}/{pin.name}/json",
                files,
                newest,
                newer_vulns=advisories(project),
            )
        return Finding(pin, NOT_AUDITED, "the index has no page for it", files)
    except httpx.HTTPError as e:
        why = f"the index could not be read ({type(e).__name__}: {str(e)[:120]})"
        basis = PER_VERSION if pip_audited else NOT_AUDITED
        source = "pip-audit (/pypi/<name>/<version>/json)" if pip_audited else why
        return Finding(pin, basis, source, Files(""))


def describe(f: Finding) -> str:
    label = {
        PER_VERSION: f"per-version advisories ({f.source})",
        NEWEST_IS_PIN: "newest-release advisories, and the pin is the newest release",
        NEWEST_NOT_PIN: f"newest-release advisories of {f.newest} only: NOT the pin",
        NOT_AUDITED: f"not audited: {f.source}",
    }[f.basis]
    return f"  {str(f.pin):<40} {label}; {f.files.describe()}"


def main(argv: list[str] | None = None) -> int:
    global INDEX
    configured = INDEX
    try:
        return _main(argv)
    finally:
        INDEX = configured


def _main(argv: list[str] | None) -> int:
    global INDEX
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--lock", type=Path, default=ROOT / "requirements-dev.lock")
    ap.add_argument("--pip-audit", default=str(Path(sys.executable).parent / "pip-audit"))
    ap.add_argument("--index", help=f"JSON API base of the index (default {INDEX})")
    ap.add_argument("--strict", action="store_true", help="fail on every WARNING as well")
    args = ap.parse_args(argv)
    if args.index:
        INDEX = args.index.rstrip("/")
    pinned = locked(args.lock)
    found, by_pip = pip_audit(args.pip_audit, args.lock)
    print(
        f"audit: {len(pinned)} pins of {args.lock.name}; index {INDEX} (JSON API) and "
        f"{simple_base(INDEX)} (PEP 691 pages)"
    )
    with (
        httpx.Client(timeout=30, follow_redirects=True) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        findings = list(pool.map(lambda p: audit_pin(client, p, p.name in by_pip), pinned.values()))
    for f in findings:
        f.vulns += [v for v in found if v["name"] == f.pin.name]
        found = [v for v in found if v["name"] != f.pin.name]
    vulns = [v for f in findings for v in f.vulns] + found  # (found: names not in the lock)
    warned = 0
    for f in findings:
        print(describe(f))
    for f in findings:
        for w in f.warnings:
            warned += 1
            print(f"WARNING {f.pin}: {w}")
    count = {
        b: [f for f in findings if f.basis == b]
        for b in (PER_VERSION, NEWEST_IS_PIN, NEWEST_NOT_PIN, NOT_AUDITED)
    }
    by_pip_audit = sum(1 for f in count[PER_VERSION] if f.source.startswith("pip-audit"))
    unaudited = count[NEWEST_NOT_PIN] + count[NOT_AUDITED]
    names = ", ".join(
        f"{f.pin} against {f.newest} only" if f.basis == NEWEST_NOT_PIN else str(f.pin)
        for f in unaudited
    )
    print(
        f"audit: {len(pinned)} pins; {len(count[PER_VERSION])} audited per version "
        f"({by_pip_audit} by pip-audit, {len(count[PER_VERSION]) - by_pip_audit} from the "
        f"index's per-version pages), {len(count[NEWEST_IS_PIN])} from the project's "
        f"newest-release advisories, {len(unaudited)} not audited ("
        + (f"{names}; " if unaudited else "")
        + f"{len(count[NEWEST_NOT_PIN])} checked against the newest release only, "
        f"{len(count[NOT_AUDITED])} not at all); {warned} warnings"
    )
    for v in vulns:
        print(f"VULNERABLE {v['name']}=={v['version']}: {v.get('id')} (fixed in {_fixes(v)})")
    if vulns:
        return 1
    if not count[PER_VERSION] and not count[NEWEST_IS_PIN]:
        print("audit: nothing could be audited", file=sys.stderr)
        return 1
    if warned and args.strict:
        print(f"audit: --strict: {warned} warnings", file=sys.stderr)
        return 1
    print(
        "audit: no known vulnerabilities in what was audited"
        + (f" ({warned} warnings above)" if warned else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
