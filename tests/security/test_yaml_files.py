"""Issue 15, item 6: every YAML file given as a path is read through ``yamlguard.read_bytes``:
a regular file only (not ``/dev/zero``, a FIFO, a directory), never more than the size limit
plus one byte, and never blocking. The routing manifest and the ``--base`` config are tested
through the CLI in ``tests/tuner/test_manifest_files.py``; here the helper itself, the price
overrides file and a log mapping file.

Each read runs in a child process with its address space capped and a timeout (an unbounded
read of ``/dev/zero`` ends in MemoryError there, not in this machine's memory), and a FIFO gets
a watchdog writer that releases a blocked reader, so the suite never hangs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors import yamlguard
from collectors.errors import ConfigError
from collectors.logs import mapped
from collectors.prices import overrides

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 30.0
ADDRESS_SPACE = 2 << 30
READERS = {
    "yamlguard": "from collectors import yamlguard; yamlguard.read_bytes(PATH)",
    "overrides": "from datetime import datetime, UTC; from collectors.prices import overrides; "
    "overrides.load(PATH, datetime(2026, 1, 1, tzinfo=UTC))",
    "mapping": "from collectors.logs import mapped; mapped.load_mapping(PATH)",
}
CHILD = """
import json, sys
from pathlib import Path
PATH = Path(sys.argv[1])
try:
    {read}
    print(json.dumps({{"error": None}}))
except BaseException as e:
    print(json.dumps({{"error": type(e).__name__, "oserror": isinstance(e, OSError),
                      "message": str(e)}}))
"""


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def read_in_child(reader: str, path: Path) -> dict[str, object]:
    """What reading ``path`` with ``reader`` raised, in a child process (bounded in memory and
    time: a timeout fails the test)."""
    p = subprocess.run(
        [sys.executable, "-c", CHILD.format(read=READERS[reader]), str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        preexec_fn=_cap_memory,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    out: dict[str, object] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "file.fifo"
    os.mkfifo(path)
    done = threading.Event()

    def release() -> None:  # a reader blocked on the FIFO gets EOF, so its thread ends
        if done.wait(DEADLINE_S - 10):  # before the child times out: it sees EOF and says so
            return
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    threading.Thread(target=release, daemon=True).start()
    yield path
    done.set()


def _directory(tmp_path: Path, fifo: Path) -> Path:
    d = tmp_path / "a-directory"
    d.mkdir()
    return d


SPECIAL: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "dev-zero": (lambda tmp, fifo: Path("/dev/zero"), "a character device"),
    "fifo": (lambda tmp, fifo: fifo, "a FIFO"),
    "directory": (_directory, "a directory"),
}


# -- the helper ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(SPECIAL))
def test_read_bytes_refuses_what_is_not_a_regular_file(
    tmp_path: Path, fifo: Path, case: str
) -> None:
    make, kind = SPECIAL[case]
    out = read_in_child("yamlguard", make(tmp_path, fifo))
    assert out["error"] == "NotRegularFileError" and out["oserror"], out
    assert out["message"] == f"not a regular file ({kind})"


def test_read_bytes_reads_a_regular_file_and_refuses_one_over_the_limit(tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: 1\r\n")
    assert yamlguard.read_bytes(small) == b"a: 1\r\n"
    assert yamlguard.read_text(small) == "a: 1\n"  # universal newlines, as Path.read_text
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:
        f.truncate(yamlguard.MAX_BYTES + 1)  # sparse: its size says enough
    with pytest.raises(yamlguard.YamlLimitError, match="over the limit"):
        yamlguard.read_bytes(big)
    assert yamlguard.read_bytes(small, max_bytes=6) == b"a: 1\r\n"
    with pytest.raises(yamlguard.YamlLimitError):
        yamlguard.read_bytes(small, max_bytes=5)


def test_a_file_swapped_for_a_fifo_after_the_check_is_refused(
    fifo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The path is checked again on the opened descriptor: stat() saying "regular file" (the
    race: a FIFO put in its place before the open) does not make the FIFO readable. Opened
    non-blocking, it does not wait for a writer either (the fixture would release it)."""
    regular = os.stat(tmp_path)  # a real stat_result, made to look like a regular file
    fake = os.stat_result((0o100644, *tuple(regular)[1:]))
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: fake if Path(p) == fifo else real_stat(p))
    with pytest.raises(yamlguard.NotRegularFileError, match="a FIFO"):
        yamlguard.read_bytes(fifo)


def test_read_bytes_never_reads_past_the_limit(tmp_path: Path) -> None:
    """A file reporting a small size but longer (a growing file, a /proc file) is read at most
    to the limit plus one byte."""
    path = tmp_path / "grows.yaml"
    path.write_bytes(b"x" * 100)
    with pytest.raises(yamlguard.YamlLimitError, match="100 bytes, over the limit of 10"):
        yamlguard.read_bytes(path, max_bytes=10)  # fstat sees 100: refused before reading
    # /proc/self/status has size 0 and some hundred bytes of content
    with pytest.raises(yamlguard.YamlLimitError, match="more than 10 bytes"):
        yamlguard.read_bytes("/proc/self/status", max_bytes=10)


# -- its readers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", ["overrides", "mapping"])
@pytest.mark.parametrize("case", sorted(SPECIAL))
def test_overrides_and_mappings_that_are_not_a_regular_file_are_one_config_error(
    tmp_path: Path, fifo: Path, case: str, reader: str
) -> None:
    make, kind = SPECIAL[case]
    path = make(tmp_path, fifo)
    out = read_in_child(reader, path)
    message = str(out["message"])
    assert out["error"] == "ConfigError", out
    assert message.startswith(f"{path}: (file): ") and f"not a regular file ({kind})" in message
    assert "\n" not in message


@pytest.mark.parametrize("content", ["just a sentence\n", "- a\n- b\n"])
def test_overrides_and_mappings_that_are_not_a_mapping_are_refused(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        overrides.load(path, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ConfigError, match="expected a mapping"):
        mapped.load_mapping(path)
