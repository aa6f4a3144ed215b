"""Who may change things from a dashboard page (approve a manifest, build or send a report):
anyone on localhost, and beyond it only someone signed in; and whether the page is the
browser's top window, as a page inside another page's frame changes nothing."""

from __future__ import annotations

import logging

import streamlit as st

from app.tuner import auth

log = logging.getLogger("routeledger.dashboard")

# -- who may change things -----------------------------------------------------------------------

SIGNED_IN_KEY = "rl_routing_user"  # the approver the Routing page signed in, for this session


def exposed() -> bool:
    """Whether this session may come from beyond this machine: the server listens beyond it
    (``server.address`` not a loopback address; unset means every interface), or the request
    came through a proxy or under another host name (``auth.reached_from_elsewhere``)."""
    if not auth.is_local(st.get_option("server.address")):
        return True
    return auth.reached_from_elsewhere(request_headers())


def request_headers() -> dict[str, str]:
    """The headers of the request that opened this session (none outside a server)."""
    return dict(st.context.headers)


def may_act() -> bool:
    """Whether this session may change things (approve a manifest, build or send a report): on
    localhost, anyone who can reach it; beyond it, only someone signed in on the Routing page
    (an approver's password, or OIDC through ``st.login``). Framing is checked apart
    (:func:`not_framed`)."""
    if not exposed() or st.session_state.get(SIGNED_IN_KEY):
        return True
    return bool(st.user.get("is_logged_in", False))  # False without [auth]: nobody logs in


# -- is this page inside another page's frame? ---------------------------------------------------
#
# `routeledger dashboard` sends headers that forbid other origins to frame it
# (app/dashboard_server.py); `streamlit run app/dashboard.py` by hand sends none. So the pages
# that change things also ask the browser: the server cannot tell, as the only request a session
# knows (`st.context.headers`) is the websocket's, and a framed page's websocket carries the same
# headers as a top-level one (same Origin and Host, no Sec-Fetch-Dest). A custom component (v2:
# JavaScript in the app's own document, no iframe of its own) reports `window.top ===
# window.self`; a page of another origin cannot forge that report or stop it running.

TOP_LEVEL_KEY = "rl_top_level"  # the browser's answer, for this session: True top, False framed
FRAME_PROBE_KEY = "rl_frame_probe"
_FRAME_PROBE = st.components.v2.component(
    "rl_frame_probe",
    js="export default function (c) { c.setStateValue('top', window.top === window.self); }",
)
FRAMED_MESSAGE = (
    "This page is shown inside a frame of another page, so nothing can be approved, rejected, "
    "rolled back, built or sent from it. Open the dashboard in a tab of its own."
)


def _noop() -> None:
    pass


def top_level() -> bool | None:
    """Whether this session's page is the browser's top window: True, False when it is inside a
    frame, None until the browser has answered (a rerun follows its answer). A session with no
    request (a bare script run, AppTest) has no browser to frame it: True."""
    if not request_headers():
        return True
    known = st.session_state.get(TOP_LEVEL_KEY)
    if known is None:
        known = _FRAME_PROBE(key=FRAME_PROBE_KEY, on_top_change=_noop).get("top")
        if known is not None:
            st.session_state[TOP_LEVEL_KEY] = known = bool(known)
            if not known:
                log.warning("a dashboard page was opened inside a frame: its actions are refused")
    return known


def not_framed() -> bool:
    """True when this page is the browser's top window; otherwise says why its actions are off
    (framed, or the browser has not answered yet) and returns False."""
    top = top_level()
    if top is None:
        st.caption("Checking that this page is not inside a frame of another page...")
    elif not top:
        st.error(FRAMED_MESSAGE)
    return top is True
