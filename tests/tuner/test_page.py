"""The Routing page under Streamlit's AppTest: chains, diff, frontier, savings (and their share of
the spend), quality evidence and the export downloads shown; approve -> confirm -> history ->
rollback -> confirm; reject needs a comment; refused when the dashboard is exposed without
authentication, allowed with a configured approver's password."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app.tuner import auth
from app.tuner import manifest as m
from app.ui import md_text

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
    assert "strong-large after cheap-mini failed on the same request: succeeded on " in texts
    assert "Wilson" not in texts and "⇒" not in texts
    assert "95% interval" in texts
    # the savings of a task as a share of its spend, beside the dollars and the interval
    assert re.search(
        r"Replayed over the window: \$[\d.,]+ saved, \d+\.\d% of this task's \$", texts
    )
    # no eval scores, no validation gate in these logs: every task says so
    notes = [x.value for x in at.markdown if "Quality not measured" in x.value]
    assert len(notes) == 5 and all(":orange-badge[" in n for n in notes), notes
    assert all(md_text("only the gateway's success; import eval scores") in n for n in notes)
    quality = next(x for x in at.metric if x.label == "Quality measured")
    assert quality.value == "0 of 5 tasks" and quality.delta == "5 on success only"
    diff = next(c.value for c in at.code)
    assert "+    chain: [cheap-mini, strong-large]" in diff
    assert len(at.get("plotly_chart")) >= 4  # a frontier per task with candidates
    savings = next(x for x in at.metric if x.label == "Savings (window)")
    assert savings.value.startswith("$") and re.fullmatch(r"\d+\.\d% of spend", savings.delta)
    caption = next(c.value for c in at.caption if c.value.startswith("Replaying the window"))
    assert re.search(
        r"saved \(\d+\.\d% of spend\); 95% interval \$[\d.]+ \.\. \$[\d.]+ \(", caption
    )


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
    # the first click writes nothing: it says what will be written and asks to confirm
    assert path.read_bytes() == original and not decisions(fresh_home)
    (confirm,) = [w.value for w in at.warning if w.value.startswith("Approving writes")]
    assert f"{md_text(path)} as version 2" in confirm and "'ship it'" in confirm
    assert "stays stored as version 1" in confirm
    assert "summarize: strong-large  becomes  cheap-mini → strong-large" in "\n".join(
        t.value for t in at.text
    )
    at.button(key="rl_routing_approve_confirm").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Approved" in s.value for s in at.success)
    approved = path.read_text(encoding="utf-8")
    assert m.loads(approved).tasks["summarize"].chain == ("cheap-mini", "strong-large")
    assert decisions(fresh_home) == [("approved", "dana", "local", "ship it")]
    versions = next(d.value for d in at.dataframe if "version" in d.value.columns)
    assert list(versions["version"]) == [2, 1] and list(versions["kind"]) == [
        "approved",
        "baseline",
    ]

    at.selectbox(key="rl_routing_version").set_value(1)
    at.button(key="rl_routing_rollback").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert path.read_text(encoding="utf-8") == approved  # not yet: a second step
    (confirm,) = [w.value for w in at.warning if w.value.startswith("Rolling back writes")]
    assert "version 1 (baseline" in confirm and f"{md_text(path)} as version 3" in confirm
    assert any("-    chain: [cheap-mini, strong-large]" in c.value for c in at.code)  # the diff
    at.text_input(key="rl_routing_rollback_comment").input("too slow at peak")
    at.button(key="rl_routing_rollback_confirm").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Rolled back" in s.value for s in at.success)
    assert path.read_bytes() == original
    assert decisions(fresh_home)[1:] == [("rolled_back", "dana", "local", "too slow at peak")]


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
    assert not decisions(fresh_home)  # asks to confirm first
    at.button(key="rl_routing_approve_confirm").click()
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


def test_cancel_leaves_the_manifest_alone(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    path = fresh_home / "manifest.yaml"
    original = path.read_bytes()
    at = open_page(fresh_home, monkeypatch, "127.0.0.1")
    at.button(key="rl_routing_approve").click()
    at.run()
    assert "rl_routing_approve_confirm" in {b.key for b in at.button}
    at.button(key="rl_routing_cancel").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "rl_routing_approve_confirm" not in {b.key for b in at.button}
    assert path.read_bytes() == original and not decisions(fresh_home)


def test_reject_needs_a_comment(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    path = fresh_home / "manifest.yaml"
    original = path.read_bytes()
    at = open_page(fresh_home, monkeypatch, "127.0.0.1")
    at.text_input(key="rl_routing_name").input("dana")
    at.text_area(key="rl_routing_comment").input("   ")
    at.button(key="rl_routing_reject").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.value.startswith("Say why in the comment to reject") for e in at.error)
    assert not decisions(fresh_home)
    at.text_area(key="rl_routing_comment").input("wait for the eval run")
    at.button(key="rl_routing_reject").click()
    at.run()
    assert any("Rejected" in s.value for s in at.success)
    assert decisions(fresh_home) == [("rejected", "dana", "local", "wait for the eval run")]
    assert path.read_bytes() == original


def test_the_proposed_manifest_downloads_in_every_gateway_format(
    fresh_home: Path, monkeypatch: pytest.MonkeyPatch, address: None
) -> None:
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    from app.tuner import exports
    from app.tuner.proposal import propose
    from app.views.routing import DOWNLOADS
    from collectors import config

    at = open_page(fresh_home, monkeypatch, "127.0.0.1")
    buttons = {b.key: b for b in at.get("download_button")}
    assert set(buttons) == {f"rl_routing_download_{f}" for f in DOWNLOADS}
    p = propose(config.load(fresh_home))
    proposed = m.loads(p.text, p.manifest.file)
    for fmt, (label, name, mime) in DOWNLOADS.items():
        b = buttons[f"rl_routing_download_{fmt}"]
        assert b.proto.label == label
        data = exports.export(proposed, fmt).encode("utf-8")
        # the button serves exactly the export (Streamlit names a download by its content)
        file_id = b.proto.url.rsplit("/", 1)[-1].split(".")[0]
        assert file_id == _calculate_file_id(data, mime, name), fmt
    litellm = exports.export(proposed, "litellm")
    assert "fallbacks" in litellm and "cheap-mini" in litellm
