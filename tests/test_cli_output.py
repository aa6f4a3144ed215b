"""What the CLI prints for people (issue 16): piped or redirected, a table is as wide as its rows,
nothing wrapped or cut; on a terminal of 80 or 120 columns no figure is ever cut with "…" or
broken across lines (text wraps, a table too wide comes in parts); `prices show` says its unit
and which price is in use."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.table import Table

from app.cli import main
from app.cli import text as cli_text
from app.demo import build

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FIGURE = re.compile(r"\S*\d\S*")  # a token with a digit in it: a count, money, a share, a time


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo month: long cells ("$0.43 + 233 unpriced attempts", "unknown (only 76% of
    requests priced)", "30,731 ms (n=484)") and an unpriced model."""
    home = tmp_path_factory.mktemp("cli-output") / "home"
    build.build(home, requests=1500, seed=11, now=NOW)
    return home


def cli(home: Path, *args: str, columns: int | None = None) -> str:
    """The command's stdout: through CliRunner (not a terminal), or as a terminal of
    ``columns`` columns would get it (rich's TTY_COMPATIBLE; colour codes removed)."""
    env = (
        {"TTY_COMPATIBLE": "1", "COLUMNS": str(columns), "NO_COLOR": "1"}
        if columns
        else {"TTY_COMPATIBLE": "0", "COLUMNS": "80"}  # a pipe, from an 80-column shell
    )
    res = CliRunner().invoke(main, ["--home", str(home), *args], env=env)
    assert res.exit_code == 0, res.output
    return ANSI.sub("", res.stdout)


def figures(out: str) -> set[str]:
    return set(FIGURE.findall(out))


def whole(token: str, out: str) -> bool:
    return re.search(rf"(?<!\S){re.escape(token)}(?!\S)", out) is not None


def test_piped_stats_print_every_row_on_one_line(home: Path) -> None:
    out = cli(home, "stats")
    assert "…" not in out
    doc = json.loads(cli(home, "stats", "--json"))
    lines = out.splitlines()
    for m in doc["models"]:
        row = [
            line
            for line in lines
            if f" {m['model']} " in line
            and f" {m['task']} " in line
            and f" {m['provider']} " in line
        ]
        assert len(row) == 1, (m, out)
        assert whole(f"{m['attempts']:,}", row[0])
        if m["p95_ms"] is not None:
            assert whole(f"{m['p95_ms']:,.0f}", row[0]) and f"(n={m['latency_n']:,})" in row[0]
    tasks = out.split("\nModels")[0].splitlines()
    for t in doc["tasks"]:
        (row,) = [line for line in tasks if f" {t['task']} " in line]
        assert whole(f"{t['logical_requests']:,}", row)
    assert max(len(line) for line in lines) > 120  # as wide as the rows, not cut at 80


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize(
    "args", [["stats"], ["prices", "show", "deepseek-chat"], ["prices", "unmatched"]], ids=" ".join
)
def test_on_a_terminal_no_figure_is_cut(home: Path, columns: int, args: list[str]) -> None:
    piped = cli(home, *args)
    out = cli(home, *args, columns=columns)
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= columns
    broken = sorted(f for f in figures(piped) if not whole(f, out))
    assert not broken, f"figures cut or broken across lines at {columns} columns: {broken}\n{out}"


def test_stats_at_80_columns_keep_the_p95_and_its_n(home: Path) -> None:
    doc = json.loads(cli(home, "stats", "--json"))
    out = cli(home, "stats", columns=80)
    for t in doc["tasks"]:
        assert whole(f"{t['p95_ms']:,.0f}", out) and whole(f"(n={t['latency_n']:,})", out)


def figure_table(rows: int = 3) -> Table:
    t = Table(title="Models", title_justify="left")
    for name in ("provider", "model", "task"):
        t.add_column(name)
    for name in ("attempts", "spend", "cost / success", "P50", "P95", "P99"):
        t.add_column(name, justify="right")
    for i in range(rows):
        t.add_row(
            "anthropic",
            f"claude-sonnet-4-5-{i}",
            "architecture",
            "19,954,321",
            "$29.34 + 14,939 unpriced attempts",
            "unknown (only 76% of requests priced)",
            "11,729 ms",
            "30,731 ms (n=6,921)",
            "41,487 ms",
        )
    return t


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_fit_keeps_every_figure_whole_in_a_forced_terminal(width: int) -> None:
    buf = io.StringIO()
    out = Console(file=buf, force_terminal=True, width=width, color_system=None)
    cli_text.print_table(out, figure_table())
    shown = buf.getvalue()
    assert "…" not in shown
    assert max(len(line) for line in shown.splitlines()) <= width
    for token in ("19,954,321", "$29.34", "14,939", "76%", "11,729", "30,731", "(n=6,921)"):
        assert whole(token, shown), (token, shown)
    # at 80 columns the table comes in two parts, the row's subject on each; from 100 on in
    # one (at 100 a model name wraps rather than a figure)
    parts = shown.count("Models")
    assert parts == (2 if width == 80 else 1), shown
    if parts > 1:
        assert shown.count("claude-sonnet-4-5-0") == parts


def test_a_table_too_wide_for_anything_folds_rather_than_cuts() -> None:
    buf = io.StringIO()
    out = Console(file=buf, force_terminal=True, width=24, color_system=None)
    cli_text.print_table(out, figure_table(1))
    assert "…" not in buf.getvalue()


def test_output_that_is_not_a_terminal_is_not_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    monkeypatch.setenv("COLUMNS", "80")
    buf = io.StringIO()
    out = cli_text.console()
    out.file = buf
    assert not out.is_terminal and out.width >= 10_000
    cli_text.print_table(out, figure_table(1))
    (row,) = [line for line in buf.getvalue().splitlines() if "claude" in line]
    assert "unknown (only 76% of requests priced)" in row and "30,731 ms (n=6,921)" in row


def test_prices_show_says_the_unit_and_marks_the_price_in_use(home: Path) -> None:
    doc = json.loads(cli(home, "prices", "show", "gpt-4o", "--json"))
    # the JSON is extended, never changed: every key it had, plus "in_use" on the prices in force
    assert {"model", "provider", "model_id", "match_rule", "current", "history"} <= set(doc)
    used = {(e["source"], e["variant"]): e["in_use"] for e in doc["current"]}
    # OpenRouter (rank 3) prices gpt-4o's requests ahead of the catalog (rank 5); batch and
    # priority prices are there for reference only
    assert used == {
        ("openrouter", "standard"): True,
        ("catalog", "standard"): False,
        ("catalog", "batch"): False,
        ("catalog", "priority"): False,
    }
    out = cli(home, "prices", "show", "gpt-4o")
    assert "in force (USD per 1M tokens)" in out and "input $/1M" in out and "output $/1M" in out
    marked = [line for line in out.splitlines() if "✓" in line and "│" in line]
    assert len(marked) == 1 and "openrouter" in marked[0], out


def test_prices_show_marks_each_window_of_the_source_in_use(home: Path) -> None:
    """DeepSeek's off-peak hours are a second price of the same source: both are in use."""
    doc = json.loads(cli(home, "prices", "show", "deepseek-chat", "--json"))
    standard = [e for e in doc["current"] if e["variant"] == "standard"]
    assert any(e["window_start_utc"] for e in standard)
    assert all(e["in_use"] for e in standard)
