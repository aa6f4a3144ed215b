"""`make audit`: known vulnerabilities of every pin in requirements-dev.lock.

pip-audit does the audit (``--disable-pip``: the hash-pinned lock as it is, no resolver). Its
PyPI service reads ``/pypi/<name>/<version>/json``; where the index a machine can reach does not
serve those pages (this project's CI reaches package registries only, and its mirror answers
404 there), pip-audit reports the pin "not found" and, without ``--strict``, passes. So every pin
pip-audit skipped is audited again from ``/pypi/<name>/json``, which the index does serve: its
``vulnerabilities`` are those of the project's newest release, so they answer for a pin that is
the newest release. A pin neither can answer for is listed by name.

Exit 1 on any known vulnerability, or when nothing could be audited at all (the service is
unreachable: an audit that did not run never passes). ``--strict`` also fails on any pin left
unaudited.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
INDEX = "https://pypi.org/pypi"


def pins(lock: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ", 1)[0].split("==", 1)
            out[name.lower()] = version
    return out


def pip_audit(pip_audit_bin: str, lock: Path) -> tuple[list[dict], list[str]]:
    """(vulnerabilities found, names pip-audit could not audit)."""
    proc = subprocess.run(
        [pip_audit_bin, "-r", str(lock), "--require-hashes", "--disable-pip",
         "--vulnerability-service", "pypi", "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.exit(f"audit: pip-audit gave no report (exit {proc.returncode}): "
                 f"{proc.stderr.strip().splitlines()[-1:]}")  # fmt: skip
    found, skipped = [], []
    for dep in doc.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(dep["name"].lower())
        for v in dep.get("vulns", []):
            found.append({"name": dep["name"], "version": dep.get("version"), **v})
    return found, skipped


def latest_release_audit(client: httpx.Client, name: str, version: str) -> tuple[bool, list[dict]]:
    """(whether the project page answers for this pin, its vulnerabilities)."""
    r = client.get(f"{INDEX}/{name}/json")
    r.raise_for_status()
    doc = r.json()
    if doc.get("info", {}).get("version") != version:
        return False, []
    vulns = [v for v in doc.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return True, [{"name": name, "version": version, **v} for v in vulns]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lock", type=Path, default=ROOT / "requirements-dev.lock")
    ap.add_argument("--pip-audit", default=str(Path(sys.executable).parent / "pip-audit"))
    ap.add_argument("--strict", action="store_true", help="fail on any pin left unaudited")
    args = ap.parse_args(argv)
    pinned = pins(args.lock)
    found, skipped = pip_audit(args.pip_audit, args.lock)
    by_pip_audit = len(pinned) - len(skipped)
    by_project_page, unaudited = 0, []
    try:
        with httpx.Client(timeout=30, follow_redirects=True) as client:
            for name in skipped:
                answered, vulns = latest_release_audit(client, name, pinned.get(name, ""))
                found += vulns
                if answered:
                    by_project_page += 1
                else:
                    unaudited.append(f"{name}=={pinned.get(name)}")
    except httpx.HTTPError as e:
        print(f"audit: {INDEX} unreachable: {e}", file=sys.stderr)
        unaudited += [f"{n}=={pinned.get(n)}" for n in skipped[by_project_page + len(unaudited) :]]
    print(f"audit: {len(pinned)} pins; {by_pip_audit} audited by pip-audit, {by_project_page} "
          f"from the project's newest-release advisories, {len(unaudited)} not audited"
          + (f" ({', '.join(unaudited)}: not the newest release, and the index serves no "
             "per-version data)" if unaudited else ""))  # fmt: skip
    for v in found:
        print(f"VULNERABLE {v['name']}=={v['version']}: {v.get('id')} "
              f"(fixed in {', '.join(v.get('fix_versions') or v.get('fixed_in') or []) or '?'})")  # fmt: skip
    if found:
        return 1
    if by_pip_audit + by_project_page == 0:
        print("audit: nothing could be audited", file=sys.stderr)
        return 1
    if unaudited and args.strict:
        return 1
    print("audit: no known vulnerabilities in what was audited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
