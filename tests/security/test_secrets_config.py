"""Secrets come from the environment or a git-ignored file, and an error never repeats one.

* SMTP credentials: only the *names* of environment variables are configured
  (``delivery.smtp.username_env`` / ``password_env``); a password written into
  routeledger.toml is refused with a pointer to the right setting, and one pasted where the
  variable's name belongs is refused without being repeated.
* ``delivery.webhook_url`` and ``dashboard.approvers`` may live in routeledger.toml, which
  ``routeledger init`` keeps out of git with a ``.gitignore``; an error about them never shows
  their value (the dashboard shows config errors to whoever opens it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from app.cli import main
from collectors import config
from collectors.errors import ConfigError

PASSWORD = "hunter2-Pl4intext!"
HOOK = "https://hooks.slack.com/services/T000/B000/PLANTEDwebhooktoken"


def load_with(home: Path, toml: str) -> config.Config:
    home.mkdir(parents=True, exist_ok=True)
    (home / "routeledger.toml").write_text(toml, encoding="utf-8")
    return config.load(home)


@pytest.mark.parametrize(
    ("toml", "key", "pointer"),
    [
        (
            f'[delivery.smtp]\npassword = "{PASSWORD}"\n',
            "delivery.smtp.password",
            "delivery.smtp.password_env",
        ),
        (
            f'[delivery.smtp]\nusername = "{PASSWORD}"\n',
            "delivery.smtp.username",
            "delivery.smtp.username_env",
        ),
        (f'[delivery]\nwebhook_token = "{PASSWORD}"\n', "delivery.webhook_token", "*_env"),
        (f'[prices]\nopenrouter_api_key = "{PASSWORD}"\n', "prices.openrouter_api_key", "*_env"),
    ],
)
def test_a_secret_written_into_routeledger_toml_is_refused(
    tmp_path: Path, toml: str, key: str, pointer: str
) -> None:
    with pytest.raises(ConfigError) as e:
        load_with(tmp_path, toml)
    msg = str(e.value)
    assert f": {key}: expected no secret in routeledger.toml" in msg and pointer in msg
    assert PASSWORD not in msg


@pytest.mark.parametrize(
    "toml",
    [
        f'[delivery.smtp]\npassword_env = "{PASSWORD}"\n',  # the password where its name goes
        f'[delivery.smtp]\nusername_env = "{PASSWORD}"\n',
        f'[delivery]\nwebhook_url = ["{HOOK}"]\n',
        f'[dashboard]\napprovers = ["alice:{PASSWORD}"]\n',  # a password, not its hash
    ],
)
def test_an_error_about_a_secret_setting_does_not_repeat_its_value(
    tmp_path: Path, toml: str
) -> None:
    with pytest.raises(ConfigError) as e:
        load_with(tmp_path, toml)
    assert PASSWORD not in str(e.value) and "PLANTED" not in str(e.value)
    res = CliRunner().invoke(main, ["--home", str(tmp_path), "stats", "--json"])
    assert res.exit_code == 2 and res.output.startswith("routeledger: error: ")
    assert PASSWORD not in res.output and "PLANTED" not in res.output


def test_an_ordinary_bad_value_is_still_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="got 'Mars/Olympus'"):
        load_with(tmp_path, '[calendar]\ntimezone = "Mars/Olympus"\n')


def test_variable_names_are_accepted(tmp_path: Path) -> None:
    cfg = load_with(
        tmp_path,
        '[delivery.smtp]\nusername_env = "SMTP_USER"\npassword_env = "RL_SMTP_PASSWORD_2"\n',
    )
    assert cfg.get("delivery.smtp.password_env") == "RL_SMTP_PASSWORD_2"


def test_no_setting_holds_a_credential_itself() -> None:
    """Every credential-like setting names an environment variable instead."""
    words = ("password", "passwd", "secret", "token", "api_key", "username", "credential")
    holding = [
        s.key
        for s in config.SETTINGS
        if any(w in s.key.lower() for w in words) and not s.key.endswith("_env")
    ]
    assert holding == []
    for key in ("delivery.webhook_url", "dashboard.approvers", "delivery.smtp.password_env"):
        assert next(s for s in config.SETTINGS if s.key == key).secret


def test_the_dashboard_shows_a_bad_approvers_entry_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exposed dashboard shows config errors to anyone who opens it."""
    home = tmp_path / "home"
    load_with(home, "")
    (home / "routeledger.toml").write_text(f'[dashboard]\napprovers = ["alice:{PASSWORD}"]\n')
    monkeypatch.setenv("ROUTELEDGER_HOME", str(home))
    page = Path(__file__).resolve().parents[2] / "app" / "views" / "data_health.py"
    at = AppTest.from_file(str(page), default_timeout=60).run()
    errors = [e.value for e in at.error]
    assert any("dashboard.approvers" in e for e in errors), errors
    assert not any(PASSWORD in e for e in errors)


# -- routeledger init keeps the home out of git --------------------------------------------------

GIT = shutil.which("git")


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.skipif(GIT is None, reason="needs git")
def test_init_keeps_the_home_out_of_the_project_repository(tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    assert git(repo, "init", "-q").returncode == 0
    home = repo / ".routeledger"
    res = CliRunner().invoke(main, ["--home", str(home), "init"])
    assert res.exit_code == 0, res.output
    assert (home / ".gitignore").is_file() and "wrote" in res.output
    cfg_text = (home / "routeledger.toml").read_text() + f'\n[delivery]\nwebhook_url = "{HOOK}"\n'
    (home / "routeledger.toml").write_text(cfg_text)
    (home / "reports").mkdir()
    (home / "reports" / "report.html").write_text("spend")
    status = git(repo, "status", "--porcelain", "--untracked-files=all").stdout
    assert ".routeledger" not in status
    for name in ("routeledger.toml", "warehouse.duckdb", "reports/report.html"):
        assert git(repo, "check-ignore", "-q", f".routeledger/{name}").returncode == 0, name


def test_init_leaves_an_existing_gitignore_and_a_repository_root_alone(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / ".gitignore").write_text("warehouse.duckdb\n")
    assert CliRunner().invoke(main, ["--home", str(own), "init"]).exit_code == 0
    assert (own / ".gitignore").read_text() == "warehouse.duckdb\n"
    root = tmp_path / "root"
    (root / ".git").mkdir(parents=True)  # `--home .` at the top of a work tree
    assert CliRunner().invoke(main, ["--home", str(root), "init"]).exit_code == 0
    assert not (root / ".gitignore").exists()  # "*" there would ignore the whole project
