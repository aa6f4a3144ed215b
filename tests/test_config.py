from __future__ import annotations

import re
from pathlib import Path

import pytest

from collectors import config
from collectors.errors import ConfigError

README = Path(__file__).parents[1] / "README.md"


def write(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "routeledger.toml").write_text(text, encoding="utf-8")


def test_defaults_without_a_file(tmp_path: Path) -> None:
    cfg = config.load(tmp_path)
    assert cfg.warehouse_path == tmp_path / "warehouse.duckdb"
    assert cfg.timezone == "UTC" and cfg.week_start == "monday"


def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTELEDGER_HOME", str(tmp_path / "h"))
    assert config.resolve_home(None) == tmp_path / "h"
    assert config.resolve_home(tmp_path / "x") == tmp_path / "x"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone", "IANA time zone"),
        ('[calendar]\nweek_start = "someday"\n', "calendar.week_start", "weekday"),
        ("[warehouse]\nlock_timeout_seconds = -1\n", "warehouse.lock_timeout_seconds", "seconds"),
        ('[warehouse]\nlock_timeout_seconds = "10"\n', "warehouse.lock_timeout_seconds", "seconds"),
        ("[prices]\nreview_factor = 0.5\n", "prices.review_factor", "greater than 1"),
        ("[nonsense]\nx = 1\n", "nonsense.x", "known setting"),
        ('[[sources]]\npath = "a.jsonl"\nformat = "xml"\n', "sources[0].format", "routeledger"),
        (
            '[[sources]]\npath = "a.jsonl"\nformat = "mapped"\n',
            "sources[0].mapping",
            "mapping file",
        ),
        (
            '[[tasks.rules]]\nfield = "colour"\npattern = "*"\ntask = "x"\n',
            "tasks.rules[0].field",
            "model_group",
        ),
        ("this is = = not toml", "(file)", "valid TOML"),
    ],
)
def test_a_bad_value_is_one_line_naming_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        config.load(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(str(tmp_path / "routeledger.toml"))
    assert f": {key}: " in msg and expected in msg


def test_sources_and_rules_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[[sources]]\npath = "logs/*.jsonl"\n\n[[sources]]\npath = "envoy.log"\nformat = "mapped"\n'
        'mapping = "envoy-ai-gateway"\n\n[[tasks.rules]]\nfield = "model_group"\npattern = "code-*"\n'
        'task = "debugging"\n\n[prices.aliases]\n"my-gpt" = "openai/gpt-4o"\n',
    )
    cfg = config.load(tmp_path)
    assert [s.format for s in cfg.sources] == ["auto", "mapped"]
    assert cfg.task_rules[0] == config.TaskRule("model_group", "code-*", "debugging")
    assert cfg.aliases == {"my-gpt": "openai/gpt-4o"}


def test_init_default_is_valid_and_carries_every_simple_setting(tmp_path: Path) -> None:
    write(tmp_path, config.default_toml())
    cfg = config.load(tmp_path)
    assert cfg.values == {s.key: s.default for s in config.SETTINGS}
    text = config.default_toml()
    for s in config.SETTINGS:
        if s.kind != "table":
            assert f"{s.key.rsplit('.', 1)[1]} = " in text


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", section, re.MULTILINE))
    missing = {s.key for s in config.SETTINGS} - documented
    assert not missing, f"settings missing from README 'Configuration': {sorted(missing)}"
