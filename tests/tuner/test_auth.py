"""Approver passwords (PBKDF2-SHA256, Django's format) and what counts as localhost."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from app.tuner import auth

ROOT = Path(__file__).resolve().parents[2]


def test_hash_and_verify() -> None:
    entry = auth.hash_password("alice", "correct horse", iterations=1000, salt="NaCl")
    assert entry == "alice:pbkdf2_sha256$1000$NaCl$" + base64.b64encode(
        hashlib.pbkdf2_hmac("sha256", b"correct horse", b"NaCl", 1000)).decode()  # fmt: skip
    other = auth.hash_password("bob", "x", iterations=1000)
    assert auth.verify([other, entry], "alice", "correct horse")
    assert not auth.verify([entry], "alice", "wrong")
    assert not auth.verify([entry], "bob", "correct horse")
    assert not auth.verify(["alice:md5$1$a$b", "garbage"], "alice", "correct horse")
    with pytest.raises(ValueError):
        auth.hash_password("a:b", "x")


@pytest.mark.parametrize(("address", "local"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.0.1.1", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("", False), (None, False),
    ("dashboard.example.com", False),
])  # fmt: skip
def test_is_local(address: str | None, local: bool) -> None:
    assert auth.is_local(address) is local


# -- throttling sign-ins (issue 15, item 3) -------------------------------------------------------

ERIN = auth.hash_password("erin", "hunter22", iterations=1000)


class Clock:
    """An injectable wall clock, moved by hand."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(tmp_path: Path, clock: Clock) -> auth.Throttle:
    return auth.Throttle.for_home(tmp_path, clock)


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = auth._derive

    def counting(password: str, salt: str, iterations: int) -> str:
        calls.append(iterations)
        return real(password, salt, iterations)

    monkeypatch.setattr(auth, "_derive", counting)
    return calls


def test_the_waits_grow_from_the_fifth_failure_and_stop_at_fifteen_minutes() -> None:
    assert [auth.wait_after(n) for n in range(1, 16)] == [
        0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900,
    ]  # fmt: skip
    assert auth.wait_after(10_000) == auth.MAX_WAIT_S == 15 * 60


def test_eight_guesses_lock_the_name_and_the_right_password_waits_too(
    throttle: auth.Throttle, clock: Clock, derivations: list[int]
) -> None:
    answers = [throttle.sign_in([ERIN], "erin", f"guess{i}") for i in range(8)]
    assert [a.ok for a in answers] == [False] * 8
    assert [a.message for a in answers[:4]] == [auth.WRONG] * 4  # four free failures
    fifth = answers[4]
    assert fifth.message.startswith(auth.WRONG) and "try again in 2 s" in fifth.message
    assert fifth.retry_at == clock.t + 2
    for a in answers[5:]:  # while it waits, an attempt is refused without a check
        assert "Too many failed sign-ins" in a.message and "try again in 2 s" in a.message
        assert a.retry_at == clock.t + 2
    assert len(derivations) == 5  # the three refused attempts derived nothing

    locked = throttle.sign_in([ERIN], "erin", "hunter22")  # the right password
    assert not locked.ok and "even the right password is refused" in locked.message
    assert throttle.waiting("erin") == 2

    clock.t += 2  # the wait is over
    assert throttle.waiting("erin") == 0
    assert throttle.sign_in([ERIN], "erin", "hunter22").ok
    # a success starts the count again: the next mistake is a free one
    assert throttle.sign_in([ERIN], "erin", "nope").message == auth.WRONG


def test_each_further_failure_doubles_the_wait_up_to_the_cap(
    throttle: auth.Throttle, clock: Clock
) -> None:
    waits = []
    for i in range(15):
        a = throttle.sign_in([ERIN], "erin", f"guess{i}")
        waits.append(round(a.retry_at - clock.t) if a.retry_at else 0)
        clock.t += waits[-1]  # the guesser comes back exactly when allowed
    assert waits == [0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    clock.t -= 900  # back to the 15th failure
    assert "try again in 15 min" in throttle.sign_in([ERIN], "erin", "hunter22").message


def test_failures_are_forgotten_fifteen_minutes_after_the_last(
    throttle: auth.Throttle, clock: Clock
) -> None:
    for i in range(4):
        throttle.sign_in([ERIN], "erin", f"guess{i}")
    clock.t += auth.FORGET_AFTER_S + 1
    assert throttle.sign_in([ERIN], "erin", "again").message == auth.WRONG  # 1st, not 5th
    for i in range(3):
        throttle.sign_in([ERIN], "erin", f"more{i}")
    assert throttle.sign_in([ERIN], "erin", "fifth").retry_at == clock.t + 2
    clock.t += 2
    assert throttle.sign_in([ERIN], "erin", "hunter22").ok


def test_the_count_is_per_name_and_an_unknown_name_is_throttled_alike(
    throttle: auth.Throttle, clock: Clock
) -> None:
    for i in range(5):
        assert not throttle.sign_in([ERIN], "mallory", f"guess{i}").ok
    assert throttle.waiting("mallory") == 2  # as for a listed name: no hint either way
    assert throttle.sign_in([ERIN], "erin", "hunter22").ok  # erin is not locked out by it


def test_two_sessions_share_the_count(tmp_path: Path, clock: Clock) -> None:
    """Two sessions of the dashboard, each with its own Throttle on the same home."""
    a, b = auth.Throttle.for_home(tmp_path, clock), auth.Throttle.for_home(tmp_path, clock)
    for i in range(3):
        assert a.sign_in([ERIN], "erin", f"a{i}").message == auth.WRONG
    assert b.sign_in([ERIN], "erin", "b0").message == auth.WRONG
    fifth = b.sign_in([ERIN], "erin", "b1")
    assert fifth.retry_at == clock.t + 2  # the fifth failure, counted across both
    assert not a.sign_in([ERIN], "erin", "hunter22").ok
    assert "Too many failed sign-ins" in a.sign_in([ERIN], "erin", "hunter22").message


GUESSER = """
import sys, time
from pathlib import Path
from app.tuner import auth
home, entry, n, now = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
t = auth.Throttle.for_home(home, lambda: now)
while not (home / "go").exists():  # all guessers start together
    time.sleep(0.01)
for i in range(n):
    a = t.sign_in([entry], "erin", f"wrong{i}")
    print("checked" if a.message.startswith(auth.WRONG) else "waiting")
"""


def _guessers(home: Path, count: int, guesses: int, now: float) -> list[list[str]]:
    home.mkdir(parents=True, exist_ok=True)
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", GUESSER, str(home), ERIN, str(guesses), repr(now)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    (home / "go").touch()
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
        out.append(stdout.split())
    return out


def test_two_processes_share_the_count_and_none_slips_past_a_wait(
    tmp_path: Path, clock: Clock
) -> None:
    """Two dashboards (processes) guessing at once on one home: the lock is held across the
    password check, so exactly five guesses are checked between them, then both wait."""
    results = _guessers(tmp_path, 2, 5, clock.t)
    flat = [r for rs in results for r in rs]
    assert flat.count("checked") == 5 and flat.count("waiting") == 5, results
    here = auth.Throttle.for_home(tmp_path, clock)  # and this process sees the same wait
    assert here.waiting("erin") == 2
    assert not here.sign_in([ERIN], "erin", "hunter22").ok
    clock.t += 2
    assert here.sign_in([ERIN], "erin", "hunter22").ok


def test_a_sign_in_still_costs_one_derivation_whoever_the_user(
    throttle: auth.Throttle, derivations: list[int]
) -> None:
    """The throttle does not bring back the timing hint verify() removed: a free attempt
    derives once for a listed name and for an unknown one."""
    throttle.sign_in([ERIN], "mallory", "hunter22")
    assert derivations == [1000]
    throttle.sign_in([ERIN], "erin", "wrong")
    assert derivations == [1000, 1000]
    assert throttle.sign_in([ERIN], "erin", "hunter22").ok and derivations == [1000] * 3


def test_every_refused_attempt_is_logged_without_its_password(
    throttle: auth.Throttle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="routeledger.auth")
    for i in range(5):
        throttle.sign_in([ERIN], "erin", f"Secret-guess-{i}")
    throttle.sign_in([ERIN], "erin", "hunter22")  # refused: waiting
    throttle.sign_in([ERIN], "Tr0ub4dor&3", "x")  # a password typed into the name field
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 7, lines
    assert all("refused" in line for line in lines)
    assert sum("approver 'erin'" in line for line in lines) == 6
    assert "waiting until" in lines[5] and "wrong password" not in lines[5]  # not checked
    assert "not a listed approver" in lines[6]
    text = "\n".join(lines)
    assert "Secret-guess" not in text and "hunter22" not in text and "Tr0ub4dor" not in text


def test_the_state_file_keeps_no_name_or_password(throttle: auth.Throttle, tmp_path: Path) -> None:
    for i in range(6):
        throttle.sign_in([ERIN], "erin", f"Secret-guess-{i}")
    text = (tmp_path / "locks" / "signin.json").read_text()
    assert "erin" not in text and "Secret" not in text
    doc = json.loads(text)
    (rec,) = doc["users"].values()
    assert rec["failures"] == 5  # the sixth was refused unchecked, and not counted


def test_a_clock_set_back_does_not_lengthen_a_wait_beyond_the_cap(
    throttle: auth.Throttle, clock: Clock
) -> None:
    for i in range(14):
        throttle.sign_in([ERIN], "erin", f"guess{i}")
        clock.t += auth.wait_after(i + 1)
    clock.t -= auth.wait_after(14)  # back to the 14th failure: waiting 900 s from here
    clock.t -= 3600  # then the system clock goes back an hour
    assert throttle.waiting("erin") == auth.MAX_WAIT_S
    clock.t += auth.MAX_WAIT_S
    assert throttle.sign_in([ERIN], "erin", "hunter22").ok
