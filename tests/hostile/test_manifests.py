"""Hostile routing manifests (and the other YAML RouteLedger reads): a clear one-line error, no
code run, bounded time and memory; markup in names is kept as the text it is."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.tuner import exports
from app.tuner import manifest as m
from collectors import yamlguard
from collectors.errors import ConfigError
from tests.hostile.conftest import run, run_json
from tests.hostile.corpus import generated_files
from tests.hostile.corpus_inputs import MANIFEST_OK, billion_laughs, manifest_files
from tests.hostile.payloads import CORPUS, MD_LINK, RICH, SCRIPT, TITLE

PWNED = Path("/tmp/routeledger-hostile-pwned")  # what the python tags would create
# what the one-line error must say, by the kind of attack (corpus_inputs.manifest_files)
SAYS = {
    "tag": ("not allowed", "mapping at the top"),
    "alias": ("alias",),
    "nest": ("nested",),
    "bytes": ("bytes, over the limit",),
    "providers": ("providers",),
    "chain": ("chain",),
    "success_target": ("success_target",),
    "cost_per_output_token": ("cost_per_output_token",),
    "max_output_tokens": ("max_output_tokens",),
    "read": ("cannot read",),
}
HOSTILE = {f.name: f for f in manifest_files() if f.meta.get("error")}


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = next(g for g in generated_files() if g.name == "manifests/huge.yaml")
    path = tmp_path_factory.mktemp("manifests") / "huge.yaml"
    path.write_bytes(f.data)
    return path


def manifest_path(name: str, huge: Path) -> Path:
    return huge if name == "huge.yaml" else CORPUS / "manifests" / name


@pytest.mark.parametrize("name", sorted([*HOSTILE, "huge.yaml"]))
def test_a_hostile_manifest_is_refused_fast_in_one_line(name: str, huge: Path) -> None:
    PWNED.unlink(missing_ok=True)
    path = manifest_path(name, huge)
    kind = "bytes" if name == "huge.yaml" else HOSTILE[name].meta["error"]
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(m.ManifestError) as err:
            m.load(path)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    msg = str(err.value)
    assert msg.startswith(str(path)), msg
    assert "\n" not in msg and len(msg) < 400, msg
    assert any(s in msg for s in SAYS[kind]), msg
    assert elapsed < 10, f"{elapsed:.1f}s"
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB"
    assert not PWNED.exists()


@pytest.mark.parametrize("name", ["billion_laughs.yaml", "python_tag.yaml", "deep_nesting.yaml"])
def test_the_cli_says_it_in_one_line_and_exits_2(name: str, home: Path) -> None:
    PWNED.unlink(missing_ok=True)
    path = CORPUS / "manifests" / name
    p = run(home, "tune", "--manifest", str(path), "--json", timeout=60)
    assert p.returncode == 2, p.stderr[-2000:]
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"routeledger: error: {path}:"), p.stderr
    assert not PWNED.exists()


def test_markup_names_are_kept_as_written(home: Path) -> None:
    """A valid manifest whose task and provider names are markup: read, tuned and printed as
    the text they are (the Routing page shows them: test_browser.py)."""
    path = CORPUS / "manifests" / "script_names.yaml"
    man = m.load(path)
    assert set(man.tasks) == {TITLE, RICH}
    assert man.tasks[TITLE].chain == (SCRIPT, MD_LINK)
    out = run_json(home, "tune", "--manifest", str(path))
    assert {t["task"] for t in out["tasks"]} == {TITLE, RICH}
    p = run(home, "tune", "--manifest", str(path))
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr[-2000:]
    assert RICH in p.stdout and SCRIPT in p.stdout


def test_anchors_and_aliases_within_the_limits_still_work() -> None:
    """The guard refuses bombs, not YAML: a manifest sharing a list through an alias loads and
    renders unchanged."""
    text = MANIFEST_OK.replace(
        "supported_tasks: [summarize]}", "supported_tasks: &tasks [summarize]}", 1
    ).replace("supported_tasks: [summarize]}", "supported_tasks: *tasks}", 1)
    assert "*tasks" in text
    man = m.loads(text)
    assert man.providers["haiku"].supported_tasks == ("summarize",)
    assert m.render(man, m.Changes()) == text


def test_the_guard_limits_are_exact() -> None:
    def nested(levels: int) -> str:
        return "x: " + "[" * (levels - 1) + "1" + "]" * (levels - 1) + "\n"

    yamlguard.check(nested(yamlguard.MAX_DEPTH))  # the top mapping is one level
    with pytest.raises(yamlguard.YamlLimitError, match="nested more than 64"):
        yamlguard.check(nested(yamlguard.MAX_DEPTH + 1))
    laughs = billion_laughs()
    with pytest.raises(yamlguard.YamlLimitError, match="aliases are expanded") as err:
        yamlguard.check(laughs)
    assert err.value.line is not None
    yamlguard.check(laughs, max_nodes=10**12)  # the count is of the expansion, not the text
    with pytest.raises(yamlguard.YamlLimitError, match="over the limit"):
        yamlguard.check("a: 1\n" * 10, max_bytes=20)


def test_other_yaml_inputs_refuse_an_alias_bomb(tmp_path: Path) -> None:
    """The same guard sits before every YAML RouteLedger reads: a LiteLLM base config for the
    export, a mapping file, the price overrides."""
    bomb = billion_laughs()
    man = m.loads(MANIFEST_OK)
    with pytest.raises(m.ManifestError, match="aliases are expanded"):
        exports.litellm(man, base=bomb)
    mapping = tmp_path / "bomb.yaml"
    mapping.write_text("fields: {started_at: t}\n" + bomb.split("routing:", 1)[0])
    from collectors.logs import mapped
    from collectors.prices import overrides

    with pytest.raises(ConfigError, match="aliases are expanded"):
        mapped.load_mapping(mapping)
    with pytest.raises(ConfigError, match="aliases are expanded"):
        overrides.parse(bomb, datetime.now(UTC))
