"""The copied price recordings are byte-identical to the shared originals (and to their hashes)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.prices.conftest import FIXTURES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "prices"


def recorded_hashes() -> dict[str, str]:
    text = (FIXTURES / "SOURCES.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", text, re.M))


def test_sources_lists_every_fixture():
    files = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.rglob("*")
        if p.is_file() and p.name != "SOURCES.md"
    }
    assert files and set(recorded_hashes()) == files


@pytest.mark.parametrize("name", sorted(recorded_hashes()))
def test_fixture_hash_matches_sources(name):
    digest = hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()
    assert digest == recorded_hashes()[name]


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared fixtures not beside the clone")
@pytest.mark.parametrize("name", sorted(recorded_hashes()))
def test_fixture_identical_to_shared_copy(name):
    assert (FIXTURES / name).read_bytes() == (SHARED / name).read_bytes()
