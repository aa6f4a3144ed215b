"""The Routing page lists the manifest's decisions (who, when, what, the comment), newest first,
and says plainly when the proposal it shows was already rejected, by whom and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app.tuner import approvals
from app.tuner.proposal import propose
from collectors import config
from tests.tuner.conftest import fresh_home, tuner_home  # noqa: F401  (the tuner's warehouse)

PAGE = Path(__file__).resolve().parents[2] / "app" / "views" / "routing.py"


@pytest.fixture
def local() -> Iterator[None]:
    """The dashboard listens on localhost: anyone who reaches it may decide."""
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


def decisions_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "decision" in d.value.columns)


def test_a_rejected_proposal_is_said_rejected_and_attributed(
    fresh_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    local: None,
) -> None:
    cfg = config.load(fresh_home)
    p = propose(cfg)
    assert p.changed
    before = open_page(fresh_home, monkeypatch)
    assert not before.warning  # a new proposal: nothing said about a rejection
    assert any("No decision recorded yet" in i.value for i in before.info)

    approvals.reject(
        cfg,
        Path(p.manifest.file),
        p.text,
        approvals.Decision("alice", "cli", "wait for the eval run"),
        window=(p.since, p.until),
        proposal=p.as_json(),
    )
    at = open_page(fresh_home, monkeypatch)
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("This proposal was rejected by alice on ")
    assert "'wait for the eval run'" in warning
    assert at.button(key="rl_routing_reject").disabled  # not offered as new
    table = decisions_table(at)
    assert list(table["decided_by"]) == ["alice"]
    assert list(table["decision"]) == [f"rejected proposal {p.sha256[:12]}"]
    assert list(table["comment"]) == ["wait for the eval run"]


def test_decisions_are_listed_newest_first_with_what_they_did(
    fresh_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    local: None,
) -> None:
    cfg = config.load(fresh_home)
    p = propose(cfg)
    path = Path(p.manifest.file)
    approvals.reject(cfg, path, p.text, approvals.Decision("alice", "cli", "not yet"))
    approved = approvals.approve(
        cfg,
        path,
        p.text,
        approvals.Decision("bob", "local", "ok now"),
        expect_sha256=p.manifest.sha256,
    )
    assert approved["version"] == 2  # version 1 is the file it replaced
    approvals.rollback(cfg, path, 1, approvals.Decision("carol", "password", "too slow"))
    at = open_page(fresh_home, monkeypatch)
    table = decisions_table(at)
    assert list(table["decided_by"]) == ["carol", "bob", "alice"]
    assert list(table["decision"]) == [
        "rolled back to version 1 (as version 3)",
        "approved version 2",
        f"rejected proposal {p.sha256[:12]}",
    ]
    assert list(table["comment"]) == ["too slow", "ok now", "not yet"]
    # the manifest is back where it was, so the same proposal shows again: the page says it was
    # approved and rolled back (its newest decision), not that it was rejected
    assert not at.warning
    notes = [i.value for i in at.info if i.value.startswith("This proposal was approved before")]
    assert len(notes) == 1 and "as version 2, by bob on " in notes[0]
    assert "rolled back by carol on " in notes[0] and "'too slow'" in notes[0]
