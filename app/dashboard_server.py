"""The dashboard's web server: Streamlit's own, running ``app/dashboard.py``, with every HTTP
response forbidding other origins to frame it (clickjacking, issue 15).

``routeledger dashboard`` and ``routeledger demo`` start ``streamlit run app/dashboard_server.py``
(:func:`app.cli.dashboard.command`): ``streamlit run`` finds the ``st.App`` named ``app`` below
and serves ``dashboard.py`` through it, with the same flags and configuration as a bare
``streamlit run app/dashboard.py``. Streamlit has no setting for response headers; ``st.App``'s
``middleware`` is its documented way to add some, and it wraps Streamlit's own middleware and
routes, so the headers reach every response: the page, the static assets, the health check,
media, component files, and the errors Streamlit's middleware answers itself.

The headers are ``X-Frame-Options: SAMEORIGIN`` and ``Content-Security-Policy: frame-ancestors
'self'`` (the second for browsers that go by CSP; both agree). Same origin rather than none:
Streamlit shows custom components in iframes loaded from this same server (``/component/...``),
which ``DENY`` / ``'none'`` would break; a frame from the dashboard's own origin is no attack,
since such a page could act on the dashboard without framing it. ``components.html`` (the
report preview) is a ``srcdoc`` frame and needs neither.

Run by hand (``streamlit run app/dashboard.py``) the dashboard sends none of these; the pages
themselves refuse to change anything when shown in a frame (:func:`app.ui.not_framed`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FRAME_HEADERS = {
    "x-frame-options": "SAMEORIGIN",
    "content-security-policy": "frame-ancestors 'self'",
}


class FrameGuard:
    """ASGI middleware: adds :data:`FRAME_HEADERS` to every HTTP response. An
    ``X-Frame-Options`` already set is replaced; a ``Content-Security-Policy`` already set is
    kept beside ours (a browser enforces every policy it gets)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # a websocket or the lifespan: no page to frame
            await self.app(scope, receive, send)
            return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-frame-options"
                ]
                headers += [(k.encode(), v.encode()) for k, v in FRAME_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_guarded)


@asynccontextmanager
async def ctrl_c_stops_like_sigterm(_app: Any) -> AsyncIterator[None]:
    """Under ``st.App`` uvicorn handles the signals: it stops gracefully on SIGINT or SIGTERM,
    then raises the signal again. SIGINT then ends in a KeyboardInterrupt ("Aborted!", exit 1),
    and the second SIGINT that `routeledger dashboard` / `demo` pass on after Ctrl+C (the
    terminal sends one to both) lands in the interpreter's shutdown as a traceback. So, once
    uvicorn's handler is in place (this runs as the server starts, in its main thread), SIGINT
    is handed to it as SIGTERM: the same graceful stop, then a quiet exit (-15) that the
    commands count as stopped."""
    if threading.current_thread() is threading.main_thread():
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler) and handler is not signal.default_int_handler:  # uvicorn's

            def as_sigterm(_sig: int, frame: Any) -> None:
                handler(signal.SIGTERM, frame)

            signal.signal(signal.SIGINT, as_sigterm)
    yield


# `streamlit run` imports this file as the top-level module ``dashboard_server`` (its folder on
# sys.path) and serves the ``app`` it finds. Imported as ``app.dashboard_server`` (a test, a
# tool), it builds no App: constructing one pins Streamlit's process-wide script path.
if __name__ == "dashboard_server":
    app = st.App(
        "dashboard.py", middleware=[Middleware(FrameGuard)], lifespan=ctrl_c_stops_like_sigterm
    )
