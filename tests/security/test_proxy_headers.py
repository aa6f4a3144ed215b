"""Issue 15, item 8: a request to a loopback-bound dashboard that carries any proxy or
forwarding header came through a proxy, so it is not local (approving then needs a sign-in).

`Via`, `X-Forwarded-Proto`, `CF-Connecting-IP`, `True-Client-IP`, `X-Client-IP` and
`X-Original-Forwarded-For` alone used to count as local: only `Forwarded`, `X-Forwarded-For`,
`X-Forwarded-Host` and `X-Real-IP` were looked at.
"""

from __future__ import annotations

import pytest

from app.tuner import auth

PROXY_HEADERS = [
    "Forwarded",
    "Via",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
    "X-Forwarded-Prefix",
    "X-Real-IP",
    "X-Original-Forwarded-For",
    "X-Client-IP",
    "X-Cluster-Client-IP",
    "CF-Connecting-IP",
    "True-Client-IP",
    "Fastly-Client-IP",
]
LOCAL_HOSTS = ["127.0.0.1:8501", "localhost:8501", "[::1]:8501", "localhost"]


@pytest.mark.parametrize("header", PROXY_HEADERS)
@pytest.mark.parametrize("host", LOCAL_HOSTS)
def test_any_forwarding_header_alone_means_the_request_is_not_local(header: str, host: str) -> None:
    # values a proxy on this machine would send: they name loopback, and still count
    value = {"Via": "1.1 127.0.0.1", "Forwarded": "for=127.0.0.1"}.get(header, "127.0.0.1")
    assert auth.reached_from_elsewhere({"Host": host}) is False  # the control: local
    assert auth.reached_from_elsewhere({"Host": host, header: value}) is True


@pytest.mark.parametrize("header", PROXY_HEADERS)
@pytest.mark.parametrize("spelling", [str.lower, str.upper, lambda h: h.replace("-", "_")])
def test_the_header_name_is_matched_in_any_spelling(header: str, spelling: object) -> None:
    name = spelling(header)  # type: ignore[operator]
    assert auth.reached_from_elsewhere({"Host": "127.0.0.1:8501", name: ""}) is True


def test_ordinary_browser_headers_stay_local() -> None:
    headers = {
        "Host": "127.0.0.1:8501",
        "User-Agent": "Mozilla/5.0",
        "Accept": "text/html",
        "Accept-Language": "en",
        "Cookie": "_streamlit_xsrf=x",
        "Origin": "http://127.0.0.1:8501",
        "Referer": "http://localhost:8501/",
        "Sec-Fetch-Site": "same-origin",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
    }
    assert auth.reached_from_elsewhere(headers) is False


def test_every_header_of_the_finding_is_in_the_list() -> None:
    """The six headers the red team named, and the standard ones, are listed by name (not only
    matched by a prefix), so the documentation can say which."""
    named = set(auth.FORWARDING_HEADERS)
    for header in ("via", "x-forwarded-proto", "cf-connecting-ip", "true-client-ip",
                   "x-client-ip", "x-original-forwarded-for", "forwarded", "x-forwarded-for",
                   "x-forwarded-host", "x-real-ip", "fastly-client-ip", "x-cluster-client-ip"):  # fmt: skip
        assert header in named, header
