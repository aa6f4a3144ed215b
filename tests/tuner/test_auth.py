"""Approver passwords (PBKDF2-SHA256, Django's format) and what counts as localhost."""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.tuner import auth


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
