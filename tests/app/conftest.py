"""One fixture warehouse for the dashboard tests, built through the real pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.warehouse_fixture import build


@pytest.fixture(scope="session")
def dashboard_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("dashboard") / "home")
