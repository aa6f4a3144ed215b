"""The Reports page under Streamlit's AppTest: past reports listed, the saved HTML previewed,
"Send now" delivering through a real webhook on loopback and recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app.reports import weekly
from collectors import config
from tests.reports.conftest import Hook, webhook_toml
from tests.reports.data import WEEK

PAGE = Path(__file__).resolve().parents[2] / "app" / "views" / "reports.py"


@pytest.fixture(autouse=True)
def on_localhost() -> Iterator[None]:
    """As `routeledger dashboard` runs it: on 127.0.0.1, where building and sending need no
    sign-in (tests/security/test_exposure.py covers an exposed dashboard)."""
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    yield
    st_config.set_option("server.address", before)


def open_page(home: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def test_past_reports_preview_and_send_now(
    make_cfg: Callable[[str], config.Config],
    webhook: Callable[..., Hook],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = webhook(200)
    cfg = make_cfg(webhook_toml(hook))
    weekly(cfg, WEEK)
    at = open_page(cfg.home, monkeypatch)
    assert [t.value for t in at.title] == ["Reports"]
    assert at.selectbox[0].value == WEEK
    spend = next(m for m in at.metric if m.label == "Spend")
    assert spend.value.startswith("$")
    assert "webhook at http://127.0.0.1:" in " ".join(c.value for c in at.caption)
    assert "secret-token" not in " ".join(c.value for c in at.caption)
    infos = " ".join(i.value for i in at.info)
    assert "No report has been sent yet" in infos

    at.button(key=f"send-{WEEK}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [
        f"Sent by webhook to {hook.url.rsplit('/services', 1)[0]}."
    ]
    assert len(hook.bodies) == 1 and hook.bodies[0]["text"].startswith(
        f"RouteLedger weekly cost report {WEEK}"
    )
    at.run()
    assert "No report has been sent yet" not in " ".join(i.value for i in at.info)


def test_without_reports_the_page_says_how_to_make_one(
    make_cfg: Callable[[str], config.Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_cfg("")
    at = open_page(cfg.home, monkeypatch)
    infos = " ".join(i.value for i in at.info)
    assert "No report saved yet" in infos and "No budget alert" in infos
    assert "No delivery configured" in " ".join(c.value for c in at.caption)
