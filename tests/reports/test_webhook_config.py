"""Issue 15, item 8: a malformed ``delivery.webhook_url`` is refused when the configuration is
read, in one line naming the setting (and never repeating the URL, a secret), instead of
failing at send time after the report was built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collectors import config
from collectors.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = [
    "https://hooks.slack.com/services/T000/B000/secret-token",
    "http://127.0.0.1:8080/hook",
    "https://[::1]:8443/hook",
    "HTTPS://chat.example.com/hooks/abc?x=1",
    "",  # no webhook
]
BAD = [
    "hooks.slack.com/services/T000/B000/secret-token",  # no scheme
    "ftp://files.example.com/secret-token",
    "javascript:alert('secret-token')",
    "mailto:team@example.com?secret-token",
    "http://",  # no host
    "https:///secret-token",
    "http://[::1/secret-token",  # an IPv6 address without its closing bracket
    "http://example.com:99999/secret-token",  # not a port
    "http://example.com:http/secret-token",
    "https://hooks.slack.com/services/T000/B000/secret token",  # a space
    " https://hooks.slack.com/services/secret-token",
    "https://hooks.slack.com/\x00secret-token",  # a control character
]


def write(home: Path, url: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    escaped = url.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", "\\u0000")
    (home / "routeledger.toml").write_text(
        f'[delivery]\nwebhook_url = "{escaped}"\n', encoding="utf-8"
    )
    return home


@pytest.mark.parametrize("url", GOOD)
def test_an_http_url_with_a_host_is_accepted(tmp_path: Path, url: str) -> None:
    assert config.load(write(tmp_path / "home", url)).get("delivery.webhook_url") == url


@pytest.mark.parametrize("url", BAD)
def test_a_malformed_webhook_url_is_one_config_error_without_the_url(
    tmp_path: Path, url: str
) -> None:
    with pytest.raises(ConfigError) as e:
        config.load(write(tmp_path / "home", url))
    message = str(e.value)
    assert e.value.key == "delivery.webhook_url"
    assert "http" in e.value.expected and "host" in e.value.expected
    assert "\n" not in message and "secret-token" not in message and "secret token" not in message


def test_the_cli_refuses_it_before_building_anything(tmp_path: Path) -> None:
    home = write(tmp_path / "home", "http://[::1/services/T000/B000/secret-token")
    p = subprocess.run(
        [sys.executable, "-m", "app.cli", "--home", str(home), "report", "weekly", "--send",
         "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert p.returncode == 2 and p.stdout == "", p.stderr
    assert len(lines) == 1 and lines[0].startswith("routeledger: error: "), p.stderr
    assert "delivery.webhook_url" in lines[0] and "secret-token" not in p.stderr
    assert not (home / "reports").exists()
