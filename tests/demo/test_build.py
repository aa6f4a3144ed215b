"""Building the demo home: reused when complete, never over someone's real home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.demo import build
from collectors.errors import InputError
from tests.demo.conftest import NOW, SEED, SMALL


def test_a_complete_home_is_reused(demo_home: Path) -> None:
    marker = json.loads((demo_home / build.MARKER).read_text())
    assert marker["generator_version"] == build.GENERATOR_VERSION and marker["requests"] == SMALL
    again = build.ensure(demo_home, SMALL, SEED, now=NOW)
    assert not again.built and again.ingested == marker["ingested"]
    assert again.timings == marker["timings"]


def test_a_different_size_or_day_rebuilds(tmp_path: Path) -> None:
    home = tmp_path / "h"
    first = build.ensure(home, 300, 1, now=NOW)
    assert first.built and first.ingested["attempts_loaded"] > 300
    (home / "logs" / "stray.txt").write_text("left from before")
    second = build.ensure(home, 400, 1, now=NOW)
    assert second.built and second.ingested["logical_requests"] == 400
    assert not (home / "logs" / "stray.txt").exists()  # rebuilt from scratch


def test_a_real_home_is_refused(tmp_path: Path) -> None:
    (tmp_path / "routeledger.toml").write_text("[calendar]\ntimezone = 'UTC'\n")
    with pytest.raises(InputError, match="did not write"):
        build.ensure(tmp_path, 300, 1, now=NOW)
    assert (tmp_path / "routeledger.toml").exists()
