"""Issue 15, item 6: `tune --manifest` and `--base` read only a regular file holding a mapping.

`/dev/zero` (size 0, endless) used to be read until the kernel killed the process, a FIFO hung
the command, and a directory, a plain string or a list got no clear answer. Each is now one line
on stderr naming the file, exit 2. The CLI runs in its own process with its address space
capped (so the unfixed reader hits MemoryError instead of the machine's memory) and a timeout;
a FIFO also gets a watchdog writer, so a reader that blocks on it is released (and the test
fails) instead of hanging.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.tuner.logs import SINCE, UNTIL

ROOT = Path(__file__).resolve().parents[2]
WINDOW = ["--since", SINCE, "--until", UNTIL]
ADDRESS_SPACE = 4 << 30  # plenty for the CLI and DuckDB; /dev/zero read whole would exceed it
TIMEOUT = 120.0
WATCHDOG_S = 30.0  # far more than a refusal takes


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(home), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_memory,
    )


def one_line_error(p: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("routeledger: error: "), p.stderr[-2000:]
    assert "Traceback" not in p.stderr and p.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO no one writes to; a watchdog writes to it (releasing a blocked reader) after
    WATCHDOG_S, and the test fails if it had to."""
    path = tmp_path / "manifest.fifo"
    os.mkfifo(path)
    done, fired = threading.Event(), threading.Event()

    def watchdog() -> None:
        if done.wait(WATCHDOG_S):
            return
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO: nobody is reading
        except OSError:
            return
        fired.set()
        os.write(fd, b"routing: {}\n")
        os.close(fd)

    t = threading.Thread(target=watchdog, daemon=True)
    t.start()
    yield path
    done.set()
    t.join()
    assert not fired.is_set(), "the command blocked reading the FIFO"


def _dir(tmp_path: Path) -> Path:
    d = tmp_path / "manifest.d"
    d.mkdir()
    return d


def _text(content: str) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        p = tmp_path / "manifest.yaml"
        p.write_text(content, encoding="utf-8")
        return p

    return make


NOT_A_FILE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "dev-zero": (lambda _: Path("/dev/zero"), "not a regular file (a character device)"),
    "directory": (_dir, "not a regular file (a directory)"),
}
NOT_A_MAPPING: dict[str, Callable[[Path], Path]] = {
    "plain-string": _text("just a sentence, not a manifest\n"),
    "list": _text("- routing\n- providers\n- tasks\n"),
    "number": _text("42\n"),
}


@pytest.mark.parametrize("case", sorted(NOT_A_FILE))
def test_a_manifest_that_is_not_a_regular_file_is_refused(
    tuner_home: Path, tmp_path: Path, case: str
) -> None:
    make, why = NOT_A_FILE[case]
    path = make(tmp_path)
    start = time.monotonic()
    p = cli(tuner_home, "tune", *WINDOW, "--manifest", str(path), "--json")
    one_line_error(p, str(path), why)
    assert time.monotonic() - start < TIMEOUT


def test_a_manifest_fifo_is_refused_without_waiting(tuner_home: Path, fifo: Path) -> None:
    start = time.monotonic()
    p = cli(tuner_home, "tune", *WINDOW, "--manifest", str(fifo), "--json")
    one_line_error(p, str(fifo), "not a regular file (a FIFO)")
    assert time.monotonic() - start < WATCHDOG_S


@pytest.mark.parametrize("case", sorted(NOT_A_MAPPING))
def test_a_manifest_that_is_not_a_mapping_is_refused(
    tuner_home: Path, tmp_path: Path, case: str
) -> None:
    path = NOT_A_MAPPING[case](tmp_path)
    p = cli(tuner_home, "tune", *WINDOW, "--manifest", str(path), "--json")
    one_line_error(p, str(path), "expected a mapping at the top")


def test_approve_refuses_the_same_files(tuner_home: Path, fifo: Path) -> None:
    """`manifest approve` reads the manifest the same way (and writes nothing)."""
    p = cli(tuner_home, "manifest", "approve", *WINDOW, "--manifest", str(fifo), "--json")
    one_line_error(p, str(fifo), "not a regular file (a FIFO)")


@pytest.mark.parametrize("case", sorted(NOT_A_FILE))
def test_a_base_config_that_is_not_a_regular_file_is_refused(
    tuner_home: Path, tmp_path: Path, case: str
) -> None:
    make, why = NOT_A_FILE[case]
    path = make(tmp_path)
    out = tmp_path / "litellm.yaml"
    p = cli(tuner_home, "tune", *WINDOW, "--out", str(out), "--format", "litellm",
            "--base", str(path))  # fmt: skip
    one_line_error(p, str(path), why)
    assert not out.exists()


def test_a_base_fifo_is_refused_without_waiting(
    tuner_home: Path, tmp_path: Path, fifo: Path
) -> None:
    out = tmp_path / "litellm.yaml"
    start = time.monotonic()
    p = cli(tuner_home, "tune", *WINDOW, "--out", str(out), "--format", "litellm",
            "--base", str(fifo))  # fmt: skip
    one_line_error(p, str(fifo), "not a regular file (a FIFO)")
    assert time.monotonic() - start < WATCHDOG_S and not out.exists()


@pytest.mark.parametrize("case", sorted(NOT_A_MAPPING))
def test_a_base_config_that_is_not_a_mapping_is_refused(
    tuner_home: Path, tmp_path: Path, case: str
) -> None:
    path = NOT_A_MAPPING[case](tmp_path)
    out = tmp_path / "litellm.yaml"
    p = cli(tuner_home, "tune", *WINDOW, "--out", str(out), "--format", "litellm",
            "--base", str(path))  # fmt: skip
    one_line_error(p, str(path), "expected a mapping")
    assert not out.exists()
