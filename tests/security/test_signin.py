"""Approver sign-in is throttled on the Routing page (issue 15, item 3: 2.4 guesses a second, no
lockout, the right password still working after 112 wrong ones).

tests/tuner/test_auth.py checks :class:`app.tuner.auth.Throttle` itself (the waits, sessions and
processes sharing one count, the log, constant-time checking); here the page uses it: after five
wrong passwords the right one is refused with a message saying when to try again, and accepted
once that time has come.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit.config as st_config
from streamlit.testing.v1 import AppTest

from app.tuner import auth

PAGE = Path(__file__).resolve().parents[2] / "app" / "views" / "routing.py"


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def exposed_home(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tuner's home with one approver, served beyond localhost."""
    entry = auth.hash_password("erin", "hunter22", iterations=1000)
    toml = fresh_home / "routeledger.toml"
    toml.write_text(toml.read_text() + f"\n[dashboard]\napprovers = {json.dumps([entry])}\n")
    monkeypatch.setenv("ROUTELEDGER_HOME", str(fresh_home))
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "192.0.2.10")
    yield fresh_home
    st_config.set_option("server.address", before)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The page's throttle on a clock the test moves (no sleeping through waits)."""
    c = Clock()

    def for_home(cls: type[auth.Throttle], home: Path, clock: Any = None) -> auth.Throttle:
        return cls(Path(home) / auth.SIGNIN_FILE, c)

    monkeypatch.setattr(auth.Throttle, "for_home", classmethod(for_home))
    return c


def sign_in(at: AppTest, user: str, password: str) -> list[str]:
    at.text_input(key="rl_routing_user_in").input(user)
    at.text_input(key="rl_routing_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


def test_the_routing_page_locks_a_name_out_after_five_wrong_passwords(
    exposed_home: Path, clock: Clock
) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    for i in range(4):
        assert sign_in(at, "erin", f"guess{i}") == [auth.WRONG]
    (fifth,) = sign_in(at, "erin", "guess4")
    assert fifth.startswith(auth.WRONG) and "try again in 2 s" in fifth
    (refused,) = sign_in(at, "erin", "hunter22")  # the right password, while the name waits
    assert "Too many failed sign-ins" in refused and "even the right password" in refused
    assert "rl_routing_approve" not in {b.key for b in at.button}
    assert json.loads((exposed_home / "locks" / "signin.json").read_text())["users"]

    clock.t += 2
    assert sign_in(at, "erin", "hunter22") == []
    assert "rl_routing_approve" in {b.key for b in at.button}  # signed in
