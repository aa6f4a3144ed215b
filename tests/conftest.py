from __future__ import annotations

from pathlib import Path

import pytest

from collectors import config as config_mod

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures"
LOG_FIXTURES = FIXTURES / "logs"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh RouteLedger home with small batches, so multi-batch paths run on small files."""
    h = tmp_path / "home"
    h.mkdir()
    (h / "routeledger.toml").write_text(
        "[ingest]\nbatch_bytes = 65536\n\n[warehouse]\nlock_timeout_seconds = 60\n\n"
        "[prices]\nauto_catalog = false\n",
        encoding="utf-8",
    )
    return h


@pytest.fixture
def cfg(home: Path) -> config_mod.Config:
    return config_mod.load(home)
