"""Who may approve a manifest on a dashboard that listens beyond localhost.

``dashboard.approvers`` lists ``"user:pbkdf2_sha256$iterations$salt$hash"`` entries, the hash
being the base64 PBKDF2-HMAC-SHA256 of the password (the format Django uses, so its hashes work
as they are). :func:`hash_password` makes one (``routeledger manifest hash-password``);
:func:`verify` checks a user and password against the list in constant time. The other way in is
OpenID Connect through Streamlit's ``st.login``, when ``[auth]`` is configured in its secrets.

"Beyond localhost" is the bind address (:func:`is_local`) or, for a server bound to loopback,
the request itself (:func:`reached_from_elsewhere`): a reverse proxy in front of it, or a web
page that made its own host name resolve to 127.0.0.1 (DNS rebinding), also comes from elsewhere.

Sign-ins are throttled per user name (:class:`Throttle`), across the dashboard's sessions and
processes through ``<home>/locks/signin.json``: after :data:`FREE_FAILURES` failures each
further attempt waits ``2**k`` seconds (2, 4, 8, ... capped at :data:`MAX_WAIT_S`), during which
even the right password is refused; a success, or :data:`FORGET_AFTER_S` without a failure,
starts the count again. Every refused attempt is logged, never with its password.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
# Headers a proxy, load balancer or CDN adds on the way (lower case): any one of them, whatever
# its value, means the request came through one. Every ``x-forwarded-*`` header counts too
# (``-proto``, ``-port``, ``-server``, ``-prefix``, ...).
FORWARDING_HEADERS = (
    "forwarded",  # RFC 7239
    "via",  # RFC 9110: every HTTP proxy
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",  # nginx
    "x-original-forwarded-for",  # ingress-nginx behind another proxy
    "x-client-ip",
    "x-cluster-client-ip",  # Rackspace, Riverbed
    "cf-connecting-ip",  # Cloudflare
    "true-client-ip",  # Cloudflare Enterprise, Akamai
    "fastly-client-ip",  # Fastly
)
FORWARDING_PREFIXES = ("x-forwarded-",)

FREE_FAILURES = 5  # failed sign-ins of one user name before each further attempt must wait
FORGET_AFTER_S = 15 * 60  # a name's failures are forgotten this long after its last one
MAX_WAIT_S = 15 * 60  # the longest wait: 2, 4, 8, ... seconds up to this
SIGNIN_FILE = Path("locks") / "signin.json"  # under the home

log = logging.getLogger("routeledger.auth")


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
    loopback one (a proxy passing the Host on, DNS rebinding). No headers tell nothing. Any
    forwarding header is enough, whatever its value (even one naming 127.0.0.1: a proxy on this
    machine still relays whoever reached it); names are compared ignoring case, and ``_`` as
    ``-``."""
    h = {k.strip().lower().replace("_", "-"): v for k, v in headers.items()}
    if any(name in FORWARDING_HEADERS or name.startswith(FORWARDING_PREFIXES) for name in h):
        return True
    host = h.get("host", "").strip()
    if not host:
        return False
    if host.startswith("["):  # [::1]:8501
        name = host[1:].partition("]")[0]
    else:  # localhost:8501, 127.0.0.1, or a bare IPv6 address
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return not is_local(name)


# -- throttling sign-ins -------------------------------------------------------------------------


def wait_after(failures: int) -> float:
    """Seconds a name must wait after its ``failures``-th consecutive failure: none before
    :data:`FREE_FAILURES`, then 2, 4, 8, ... capped at :data:`MAX_WAIT_S`."""
    if failures < FREE_FAILURES:
        return 0.0
    return float(min(2 ** min(failures - FREE_FAILURES + 1, 32), MAX_WAIT_S))


@dataclass(frozen=True)
class SignIn:
    """The answer to one sign-in attempt: ``ok``, or refused with a message to show; while a
    name waits, ``retry_at`` (epoch seconds) is when it may try again."""

    ok: bool
    message: str = ""
    retry_at: float | None = None


WRONG = "Unknown approver or wrong password."


class Throttle:
    """Failed sign-ins per user name, shared by every session and process of one home.

    The state is a small JSON file (``{sha256(name): {"failures", "last", "until"}}``; no name
    or password is stored), read and rewritten under an exclusive ``flock`` of a lock file
    beside it, which is held across the password check too: concurrent attempts, from two
    sessions or two dashboards, are counted one after the other and none slips past a wait.
    ``clock`` (epoch seconds) is injectable for tests."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.clock = clock

    @classmethod
    def for_home(cls, home: Path, clock: Callable[[], float] = time.time) -> Throttle:
        return cls(Path(home) / SIGNIN_FILE, clock)

    def sign_in(self, entries: list[str], user: str, password: str) -> SignIn:
        """Check ``user`` / ``password`` against ``entries`` (:func:`verify`) unless the name
        must wait; record the outcome. A refused attempt is logged without its password."""
        key = hashlib.sha256(user.encode()).hexdigest()
        who = _who(entries, user)
        with self._locked():
            now = self.clock()
            state = self._load(now)
            rec = state.get(key)
            until = rec["until"] if rec else 0.0
            if rec and until > now:  # waiting: refused without looking at the password
                log.warning(
                    "approver sign-in refused for %s: %d failures, waiting until %s",
                    who,
                    rec["failures"],
                    _utc(until),
                )
                return SignIn(False, _wait_message(until, now), until)
            if verify(entries, user, password):
                if state.pop(key, None) is not None:  # a success: the name starts from zero
                    self._write(state)
                return SignIn(True)
            failures = (rec["failures"] if rec else 0) + 1
            wait = wait_after(failures)
            until = now + wait if wait else 0.0
            state[key] = {"failures": failures, "last": now, "until": until}
            self._write(state)
        if wait:
            log.warning(
                "approver sign-in refused for %s: wrong password, failure %d, waiting until %s",
                who,
                failures,
                _utc(until),
            )
            return SignIn(False, f"{WRONG} {_wait_message(until, now)}", until)
        log.warning("approver sign-in refused for %s: wrong password, failure %d", who, failures)
        return SignIn(False, WRONG)

    def waiting(self, user: str) -> float:
        """Seconds ``user`` must still wait before its next attempt (0 when it may try)."""
        key = hashlib.sha256(user.encode()).hexdigest()
        with self._locked():
            now = self.clock()
            rec = self._load(now).get(key)
        return max(0.0, rec["until"] - now) if rec else 0.0

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _load(self, now: float) -> dict[str, dict[str, Any]]:
        """The records as they stand at ``now`` (:func:`_current`), saved when that changed
        any: forgotten names dropped, waits shortened after the clock was set back (saved, so
        a wait never keeps moving with a clock that is behind)."""
        stored = self._read()
        state = {k: r for k, v in stored.items() if (r := _current(v, now)) is not None}
        if state != stored:
            self._write(state)
        return state

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:  # rewritten whole on every change, so only by hand
            log.warning("ignoring the unreadable sign-in state %s: %s", self.path, type(e).__name__)
            return {}
        users = doc.get("users") if isinstance(doc, dict) else None
        if not isinstance(users, dict):
            return {}
        return {
            k: v
            for k, v in users.items()
            if isinstance(v, dict)
            and all(isinstance(v.get(f), (int, float)) for f in ("failures", "last", "until"))
        }

    def _write(self, state: dict[str, dict[str, Any]]) -> None:
        """Replace the file atomically (a crash leaves the old one or the new one)."""
        fd, tmp = tempfile.mkstemp(prefix=".signin-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "users": state}, f, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _current(rec: dict[str, Any] | None, now: float) -> dict[str, Any] | None:
    """A name's record as it stands at ``now``: None once :data:`FORGET_AFTER_S` passed since
    its last failure with no wait left; should the clock have been set back since, no later
    than ``now`` and waiting no longer than :data:`MAX_WAIT_S`."""
    if rec is None:
        return None
    last, until = float(rec["last"]), float(rec["until"])
    if now - last > FORGET_AFTER_S and until <= now:
        return None
    if last <= now and until <= now + MAX_WAIT_S:
        return rec
    return {
        "failures": rec["failures"],
        "last": min(last, now),
        "until": min(until, now + MAX_WAIT_S),
    }


def _who(entries: list[str], user: str) -> str:
    """How a log line names the user: a listed approver by name; anything else not at all (a
    password typed into the name field must not reach the log)."""
    listed = {entry.partition(":")[0] for entry in entries}
    return f"approver {user!r}" if user in listed else "a name that is not a listed approver"


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _wait_message(until: float, now: float) -> str:
    left = max(1, int(until - now + 0.999))
    span = f"{left} s" if left < 120 else f"{(left + 59) // 60} min"
    return (
        f"Too many failed sign-ins for this name: try again in {span} "
        f"(after {_utc(until)[11:]}). Until then even the right password is refused."
    )
