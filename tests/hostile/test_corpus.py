"""The corpus on disk is what ``tests/hostile/corpus.py`` builds, and SOURCES.md describes every
file of it (so a file and the expectations the tests hold for it never drift apart)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.hostile.corpus import all_files, generated_files, write
from tests.hostile.payloads import CORPUS

SOURCES = Path(__file__).with_name("SOURCES.md")


def test_the_committed_corpus_is_what_the_builder_makes(tmp_path: Path) -> None:
    write(tmp_path)
    built = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    assert on_disk == built == set(all_files())
    stale = [
        rel for rel in sorted(built) if (CORPUS / rel).read_bytes() != (tmp_path / rel).read_bytes()
    ]
    assert not stale, f"rebuild with `python -m tests.hostile.corpus`: {stale}"


def test_every_corpus_file_has_a_line_in_sources_md() -> None:
    text = SOURCES.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)`", text, re.M))
    names = set(all_files()) | {g.name for g in generated_files()}
    assert listed == names, (sorted(names - listed), sorted(listed - names))
