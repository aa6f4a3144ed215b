"""The Routing page under Streamlit's AppTest: chains, diff, frontier and savings shown; approve
-> history -> rollback; refused when the dashboard is exposed without authentication, allowed
with a configured approver's password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app.tuner import auth
from app.tuner import manifest as m

PAGE = Path(__file__).resolve().parents[2] / "app" / "views" / "routing.py"


@pytest.fixture
def address() -> Iterator[None]:
    before = st_config.get_option("server.address")
    yield
    st_config.set_option("server.address", before)


def open_page(home: Path, monkeypatch: pytest.MonkeyPatch, bind: str) -> AppTest:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    st_config.set_option("server.address", bind)
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def decisions(home: Path) -> list[tuple[str, str, str, str | None]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT decision, decided_by, auth, comment FROM manifest_decisions ORDER BY decided_at"
        ).fetchall()


def test_the_page_shows_the_proposal(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    at = open_page(fresh_home, monkeypatch, "127.0.0.1")
    assert not at.error, [e.value for e in at.error]
    labels = [e.label for e in at.expander]
    assert "summarize · changed" in labels and "rare · insufficient_data" in labels
    texts = "\n".join(t.value for t in at.text)
    assert "strong-large" in texts and "cheap-mini → strong-large" in texts
    assert "strong-large after cheap-mini failed: " in texts
    assert "95% interval" in texts
    diff = next(c.value for c in at.code)
    assert "+    chain: [cheap-mini, strong-large]" in diff
    assert len(at.get("plotly_chart")) >= 4  # a frontier per task with candidates
    savings = next(x for x in at.metric if x.label == "Savings (window)")
    assert savings.value.startswith("$") and "95% interval" in str(savings.delta)


def test_approve_history_rollback_through_the_page(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    path = fresh_home / "manifest.yaml"
    original = path.read_bytes()
    at = open_page(fresh_home, monkeypatch, "127.0.0.1")
    at.text_input(key="rl_routing_name").input("dana")
    at.text_area(key="rl_routing_comment").input("ship it")
    at.button(key="rl_routing_approve").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Approved" in s.value for s in at.success)
    approved = path.read_text(encoding="utf-8")
    assert m.loads(approved).tasks["summarize"].chain == ("cheap-mini", "strong-large")
    assert decisions(fresh_home) == [("approved", "dana", "local", "ship it")]
    versions = at.dataframe[0].value
    assert list(versions["version"]) == [2, 1] and list(versions["kind"]) == [
        "approved",
        "baseline",
    ]

    at.selectbox(key="rl_routing_version").set_value(1)
    at.button(key="rl_routing_rollback").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Rolled back" in s.value for s in at.success)
    assert path.read_bytes() == original
    assert [d[0] for d in decisions(fresh_home)] == ["approved", "rolled_back"]


def test_an_exposed_dashboard_refuses_approval_without_authentication(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    path = fresh_home / "manifest.yaml"
    before = path.read_bytes()
    at = open_page(fresh_home, monkeypatch, "0.0.0.0")  # noqa: S104  (simulating exposure)
    errors = [e.value for e in at.error]
    assert any(e.startswith("Approving is disabled") and "0.0.0.0" in e for e in errors), errors
    keys = {b.key for b in at.button}
    assert not keys & {"rl_routing_approve", "rl_routing_reject", "rl_routing_rollback"}
    assert path.read_bytes() == before and not decisions(fresh_home)


def test_an_exposed_dashboard_approves_after_a_password_sign_in(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    entry = auth.hash_password("erin", "hunter22", iterations=1000)
    toml = fresh_home / "routeledger.toml"
    toml.write_text(toml.read_text() + f"\n[dashboard]\napprovers = {json.dumps([entry])}\n")
    at = open_page(fresh_home, monkeypatch, "192.0.2.10")
    assert "rl_routing_approve" not in {b.key for b in at.button}
    sign_in = next(b for b in at.button if b.label == "Sign in")
    at.text_input(key="rl_routing_user_in").input("erin")
    at.text_input(key="rl_routing_password").input("wrong")
    sign_in.click()
    at.run()
    assert any("wrong password" in e.value for e in at.error)
    at.text_input(key="rl_routing_password").input("hunter22")
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="rl_routing_approve").click()
    at.run()
    assert any("Approved" in s.value for s in at.success)
    assert decisions(fresh_home) == [("approved", "erin", "password", None)]


def test_an_exposed_dashboard_with_oidc_asks_to_log_in(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(fresh_home))
    st_config.set_option("server.address", "0.0.0.0")  # noqa: S104  (simulating exposure)
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.secrets["auth"] = {
        "redirect_uri": "https://dash.example.com/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "id",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    keys = {b.key for b in at.button}
    assert "rl_routing_login" in keys and "rl_routing_approve" not in keys
