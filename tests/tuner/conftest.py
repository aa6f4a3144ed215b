"""One warehouse of constructed logs for the tuner tests, built once through the real pipeline;
tests that write (approvals, imports, prices) work on a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from collectors import config, pipeline
from tests.tuner import logs


@pytest.fixture(scope="session")
def tuner_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("tuner") / "home"
    logs.build_home(home, logs.scenario(), logs.MANIFEST)
    pipeline.update_marts(config.load(home))
    return home


@pytest.fixture
def fresh_home(tuner_home: Path, tmp_path: Path) -> Path:
    """A private copy of the built home (warehouse, config, manifest)."""
    home = tmp_path / "home"
    shutil.copytree(tuner_home, home)
    return home
