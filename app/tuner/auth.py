"""Who may approve a manifest on a dashboard that listens beyond localhost.

``dashboard.approvers`` lists ``"user:pbkdf2_sha256$iterations$salt$hash"`` entries, the hash
being the base64 PBKDF2-HMAC-SHA256 of the password (the format Django uses, so its hashes work
as they are). :func:`hash_password` makes one (``routeledger manifest hash-password``);
:func:`verify` checks a user and password against the list in constant time. The other way in is
OpenID Connect through Streamlit's ``st.login``, when ``[auth]`` is configured in its secrets.

"Beyond localhost" is the bind address (:func:`is_local`) or, for a server bound to loopback,
the request itself (:func:`reached_from_elsewhere`): a reverse proxy in front of it, or a web
page that made its own host name resolve to 127.0.0.1 (DNS rebinding), also comes from elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Mapping

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def _derive(password: str, salt: str, iterations: int) -> str:
    raw = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return base64.b64encode(raw).decode("ascii")


def hash_password(user: str, password: str, iterations: int = ITERATIONS, salt: str = "") -> str:
    if not user or ":" in user:
        raise ValueError("a user name must be non-empty and hold no ':'")
    salt = salt or secrets.token_hex(12)
    return f"{user}:{ALGORITHM}${iterations}${salt}${_derive(password, salt, iterations)}"


def verify(entries: list[str], user: str, password: str) -> bool:
    """True when ``user`` is listed and ``password`` matches its hash. An unknown user costs one
    derivation too, so the answer's timing does not tell which user names exist."""
    ok, derived, cost = False, False, 0
    for entry in entries:
        name, _, encoded = entry.partition(":")
        parts = encoded.split("$")
        if len(parts) != 4 or parts[0] != ALGORITHM or not parts[1].isdigit():
            continue
        _, iterations, salt, expected = parts
        cost = max(cost, int(iterations))
        if hmac.compare_digest(name.encode(), user.encode()):
            got = _derive(password, salt, int(iterations))
            ok, derived = hmac.compare_digest(got.encode(), expected.encode()) or ok, True
    if not derived:
        _derive(password, "no-such-user", cost or ITERATIONS)
    return ok


def is_local(address: str | None) -> bool:
    """Whether a bind address keeps the server on this machine. Streamlit with no address set
    listens on every interface, so an empty address is *not* local."""
    if not address:
        return False
    host = address.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reached_from_elsewhere(headers: Mapping[str, str]) -> bool:
    """Whether a request to a loopback-bound server came from beyond this machine all the same:
    through a reverse proxy (its forwarding headers), or under a host name that is not a
    loopback one (a proxy passing the Host on, DNS rebinding). No headers tell nothing."""
    h = {k.lower(): v for k, v in headers.items()}
    if any(name in h for name in FORWARDING_HEADERS):
        return True
    host = h.get("host", "").strip()
    if not host:
        return False
    if host.startswith("["):  # [::1]:8501
        name = host[1:].partition("]")[0]
    else:  # localhost:8501, 127.0.0.1, or a bare IPv6 address
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return not is_local(name)
