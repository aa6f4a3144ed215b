"""The CLI contract of DESIGN.md "Interfaces": JSON shapes, one-line errors, documentation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from app.cli import main
from tests.conftest import LOG_FIXTURES

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"`routeledger {prefix}{name}` is listed but cannot be loaded"
        full = f"{prefix}{name}"
        out.append(full)
        if isinstance(cmd, click.Group):
            out += _commands(cmd, full + " ")
    return out


def test_every_command_module_is_in_the_lazy_table() -> None:
    """A command registered by a module of app/cli but missing from COMMANDS would be
    reachable only after some other import: `routeledger NAME` must find it on its own."""
    import importlib
    import pkgutil

    import app.cli as cli_pkg

    for mod in pkgutil.iter_modules(cli_pkg.__path__):
        importlib.import_module(f"app.cli.{mod.name}")
    assert set(main.commands) == set(cli_pkg.COMMANDS)
    for name, module in cli_pkg.COMMANDS.items():
        assert main.commands[name].callback.__module__ == f"app.cli.{module}", name


def test_ingest_does_not_load_the_dashboard_or_report_libraries() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from app.cli import main; "
        "r = CliRunner().invoke(main, ['ingest', '--help']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('pandas', 'plotly', 'streamlit', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_is_documented_in_the_readme(command: str) -> None:
    assert f"routeledger {command}" in README, f"`routeledger {command}` is not in README.md"


def test_ingest_json_has_the_contract_keys(home: Path) -> None:
    res = CliRunner().invoke(
        main, ["--home", str(home), "ingest", str(LOG_FIXTURES / "litellm"), "--json"]
    )
    # one file of the folder is a documentation row without a time: it loads nothing, so the
    # run says which and exits 1 (everything else loaded)
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert [f["file"].rsplit("/", 1)[-1] for f in out["files_loaded_nothing"]] == [
        "03_spend_logs_row_docs_partial.json"
    ]
    assert {
        "files",
        "attempts_loaded",
        "duplicates_skipped",
        "quarantined",
        "quarantined_by_reason",
        "logical_requests",
        "failed_files",
        "files_loaded_nothing",
        "unmatched_globs",
    } <= set(out)
    assert out["attempts_loaded"] == 5 and out["quarantined_by_reason"] == {"missing_timestamp": 1}


def test_errors_are_one_line_on_stderr_with_a_non_zero_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "routeledger.toml").write_text('[calendar]\ntimezone = "Nowhere/Else"\n')
    for h in ("a", "b"):
        (tmp_path / h).mkdir()
    cases = [
        (tmp_path / "a", ["ingest", str(tmp_path / "nope.jsonl")], "no such file"),
        (
            tmp_path / "b",
            ["ingest", str(LOG_FIXTURES / "litellm"), "--format", "mapped"],
            "--mapping",
        ),
        (bad, ["stats"], "calendar.timezone"),
    ]
    for h, args, needle in cases:
        p = subprocess.run(
            [sys.executable, "-m", "app.cli", "--home", str(h), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode != 0, args
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("routeledger: error: "), p.stderr
        assert needle in lines[0]
        assert "Traceback" not in p.stderr


def test_stats_json_on_an_empty_window_is_well_formed(home: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["--home", str(home), "ingest", str(LOG_FIXTURES / "litellm")])
    res = runner.invoke(
        main,
        ["--home", str(home), "stats", "--since", "2001-01-01", "--until", "2001-01-31", "--json"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {
        "window": {"since": "2001-01-01", "until": "2001-01-31"},
        "tasks": [],
        "models": [],
        "unpriced_attempts": 0,
    }


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["ingest", str(LOG_FIXTURES / "litellm")],
        ["prices", "refresh", "--source", "overrides"],
        ["prices", "unmatched"],
        ["tune"],
        ["report", "weekly"],
        ["serve", "--once"],
        ["dashboard"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_only_init_and_demo_create_a_home(tmp_path: Path, args: list[str]) -> None:
    """A mistyped --home (or none, next to a demo) names the home it looked for and stops;
    it never starts an empty warehouse there."""
    home = tmp_path / "typo" / "home"
    p = subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert p.returncode == 2, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert lines == [
        f"routeledger: error: {home}: no RouteLedger home here; run `routeledger init` (or "
        "`routeledger demo`) first, or point --home / ROUTELEDGER_HOME at an existing one"
    ]
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / ".routeledger").exists()


def test_init_creates_the_home_the_others_then_use(tmp_path: Path) -> None:
    home = tmp_path / "new"
    runner = CliRunner()
    assert runner.invoke(main, ["--home", str(home), "init"]).exit_code == 0
    res = runner.invoke(main, ["--home", str(home), "stats", "--json"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stat"], "No such command 'stat'. Did you mean 'stats'?"),
        (["dashbord"], "No such command 'dashbord'. Did you mean 'dashboard'?"),
        (["prices", "shwo"], "No such command 'shwo'. Did you mean 'show'?"),
        (["nonsense"], "No such command 'nonsense'."),
    ],
)
def test_a_mistyped_command_gets_the_closest_one(args: list[str], message: str) -> None:
    """The commands are imported lazily, so click alone would suggest among none of them."""
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1] == f"Error: {message}"
