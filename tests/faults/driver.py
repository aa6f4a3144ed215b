"""A subprocess the crash tests SIGKILL: one operation (a manifest approval, a price refresh, a
CLI command) run through its public function, optionally killed by itself at a chosen line.

    python -m tests.faults.driver [--kill-line N --trace FILE ...] approve HOME MANIFEST NEW [OLD]
    python -m tests.faults.driver [--kill-line N --trace FILE ...] prices HOME PORT
    python -m tests.faults.driver [--kill-line N --trace FILE ...] cli [ROUTELEDGER ARGS ...]

``--kill-line N`` counts the lines executed in the ``--trace`` files (paths relative to the
repository) once the operation starts, and sends SIGKILL to this process just before the N-th
one runs: a reproducible point inside the operation, with no hook in the product code.
``--kill-line 0`` kills nothing and prints ``traced lines: T`` on stderr at the end, so a test
can draw its points in ``1..T``.

``approve`` approves the text in file NEW over the version in file OLD (default: the manifest as
it is), as the CLI does with ``--expect``. ``prices`` fetches every source through a transport
that sends each request to a loopback HTTP server on PORT (the host becomes the first path
segment), and logs ``prices SOURCE: STATUS`` as each source is stored. ``cli`` runs the
``routeledger`` command itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


class KillAt:
    """A trace function that SIGKILLs the process at the N-th line executed in some files."""

    def __init__(self, n: int, files: list[str]) -> None:
        self.n = n
        self.files = {str((ROOT / f).resolve()) for f in files}
        self.count = 0
        self._traced: dict[Any, bool] = {}

    def _line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.count += 1
            if self.count == self.n:
                sys.stderr.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        return self._line

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        hit = self._traced.get(code)
        if hit is None:
            hit = self._traced[code] = code.co_filename in self.files
        return self._line if hit else None

    def run(self, fn: Callable[[], Any]) -> Any:
        threading.settrace(self)
        sys.settrace(self)
        try:
            return fn()
        finally:
            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]


class Loopback(httpx.BaseTransport):
    """Send every request to http://127.0.0.1:PORT/<host><path> over a real socket."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = httpx.URL(
            scheme="http",
            host="127.0.0.1",
            port=self.port,
            path=f"/{request.url.host}{request.url.path}",
        )
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "host"]
        return self.inner.handle_request(
            httpx.Request(request.method, url, headers=headers, content=request.content)
        )

    def close(self) -> None:
        self.inner.close()


def approve(
    home: str, manifest: str, text_file: str, old_file: str | None = None
) -> Callable[[], Any]:
    from app.tuner import approvals
    from app.tuner import manifest as manifest_mod
    from collectors import config

    cfg = config.load(home)
    path = Path(manifest)
    text = Path(text_file).read_text(encoding="utf-8")
    old = Path(old_file) if old_file else path  # the version the proposal was made from
    expect = manifest_mod.sha256(old.read_text(encoding="utf-8"))

    def op() -> Any:
        d = approvals.Decision("fault-test", "cli", "crash campaign")
        return approvals.approve(cfg, path, text, d, expect_sha256=expect)

    return op


def prices(home: str, port: str) -> Callable[[], Any]:
    from collectors import config, http, pipeline

    cfg = config.load(home)
    policy = http.RetryPolicy(attempts=2, base_delay=0.05, max_delay=0.1)

    def op() -> Any:
        return pipeline.refresh_prices(cfg, transport=Loopback(int(port)), policy=policy).as_json()

    return op


def cli(*args: str) -> Callable[[], Any]:
    import importlib

    from app.cli import COMMANDS, main

    for module in sorted(set(COMMANDS.values())):  # imported untraced: lines count work only
        importlib.import_module(f"app.cli.{module}")

    def op() -> Any:
        main.main(args=list(args), prog_name="routeledger", standalone_mode=False)

    return op


OPS = {"approve": approve, "prices": prices, "cli": cli}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kill-line", type=int, default=None)
    ap.add_argument("--trace", action="append", default=[])
    ap.add_argument("op", choices=sorted(OPS))
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    op = OPS[a.op](*a.args)
    print(f"driver {a.op} starting", file=sys.stderr, flush=True)
    if a.kill_line is None:
        result = op()
    else:
        tracer = KillAt(a.kill_line, a.trace)
        result = tracer.run(op)
        print(f"traced lines: {tracer.count}", file=sys.stderr, flush=True)
    if result is not None:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
