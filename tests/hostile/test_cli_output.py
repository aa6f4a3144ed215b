"""The human-readable CLI output of hostile names: a log string is printed as the text it is,
never read as rich markup (``[/]`` stopped ``stats`` with a MarkupError) and never with its
control characters (an ESC sequence from a log reached the terminal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import copy_corpus, make_home, run, run_json
from tests.hostile.payloads import ANSI, RICH, SCRIPT, TEMPLATE


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-cli")
    home = make_home(root / "home")
    for name in ("routeledger.jsonl", "routeledger.csv"):
        run_json(home, "ingest", str(copy_corpus(f"logs/{name}", root)), "--format", "routeledger")
    return home


def check(out: str, err: str, code: int) -> None:
    assert code == 0, err[-2000:]
    assert "Traceback" not in err and "MarkupError" not in err, err[-2000:]
    assert "\x1b" not in out, "a control sequence from a log reached the terminal"
    assert "\x07" not in out and "\u202e" not in out


def test_stats_prints_markup_and_escapes_as_text(home: Path) -> None:
    p = run(home, "stats", "--since", "2025-09-01", "--until", "2025-09-07")
    check(p.stdout, p.stderr, p.returncode)
    assert RICH in p.stdout  # a task: its [bold red] is text, not style
    assert TEMPLATE.split()[0] in p.stdout
    assert ANSI.replace("\x1b", "\ufffd").replace("\x07", "\ufffd") in p.stdout


def test_prices_unmatched_prints_markup_as_text(home: Path) -> None:
    p = run(home, "prices", "unmatched")
    check(p.stdout, p.stderr, p.returncode)
    assert SCRIPT in p.stdout
