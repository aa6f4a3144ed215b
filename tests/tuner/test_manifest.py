"""The native manifest: round trips that keep comments, order, quoting and unknown keys, a
minimal diff when one chain changes, and one-line errors naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.tuner import manifest as m
from tests.tuner.logs import MANIFEST

DEMO = Path(__file__).resolve().parents[2] / "app" / "demo" / "manifest.yaml"
BLOCK = """\
# A block-style manifest: dashes at column 0, quoted strings, an unknown top-level key.
routing:
  default_budget_limit: 0.25
providers:
- name: "gpt-4o"                      # quoted on purpose
  model: 'openai/gpt-4o'
  cost_per_output_token: 1.0e-05
  supported_tasks:
  - review
- name: haiku
  model: anthropic/claude-haiku-4-5
  cost_per_output_token: 0.000005
tasks:
  review:
    chain:
    - haiku      # primary
    - gpt-4o     # fallback
    success_target: 0.99
owner: platform-team   # unknown, kept
"""


@pytest.mark.parametrize(
    "text", [MANIFEST, DEMO.read_text(encoding="utf-8"), BLOCK], ids=["tests", "demo", "block"]
)
def test_unchanged_manifest_comes_back_byte_identical(text: str) -> None:
    man = m.loads(text)
    assert m.render(man, m.Changes()) == text
    # and through the dumper too: a no-op edit must not reformat anything
    first_task = next(iter(man.tasks.values()))
    same = m.render(man, m.Changes(chains={first_task.name: first_task.chain}))
    assert same == text


def test_one_changed_chain_is_a_minimal_diff() -> None:
    man = m.loads(MANIFEST)
    new = m.render(man, m.Changes(chains={"chat": ("fast-model",)}))
    diff = m.unified_diff(MANIFEST, new)
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert changed == ["-    chain: [slow-cheap, fast-model]", "+    chain: [fast-model]"]
    assert m.loads(new).tasks["chat"].chain == ("fast-model",)


def test_block_style_chain_and_unknown_keys_survive_a_change() -> None:
    new = m.render(m.loads(BLOCK), m.Changes(chains={"review": ("gpt-4o", "haiku")}))
    assert "owner: platform-team   # unknown, kept" in new
    assert '- name: "gpt-4o"                      # quoted on purpose' in new
    assert "model: 'openai/gpt-4o'" in new
    assert m.loads(new).tasks["review"].chain == ("gpt-4o", "haiku")
    old_lines, new_lines = BLOCK.splitlines(), new.splitlines()
    assert len(old_lines) == len(new_lines)
    assert sum(a != b for a, b in zip(old_lines, new_lines, strict=True)) == 2


def test_prices_are_written_as_plain_decimals() -> None:
    new = m.render(m.loads(MANIFEST), m.Changes(costs={"cheap-mini": 0.00000075}))
    assert "    cost_per_output_token: 0.00000075\n" in new
    assert m.loads(new).providers["cheap-mini"].cost_per_output_token == pytest.approx(7.5e-7)


def test_the_shape_is_read() -> None:
    man = m.loads(MANIFEST)
    assert man.providers["strong-large"].model == "anthropic/strong-large"
    assert man.providers["strong-large"].vendor == "anthropic"
    assert man.providers["strong-large"].extra["deployment_note"] == "kept as written"
    legal = man.tasks["legal"]
    assert legal.allowed_providers == ("strong-large", "mid-model")
    assert legal.success_target == 0.95 and legal.latency_target_ms == 20000
    assert man.timeout_s == 30


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("routing:\n  a: 1\n b: 2\n", ":3:", "not valid YAML"),
        ("tasks:\n  x:\n    chain: [a, b\n", ":4:", "not valid YAML"),
        (
            "providers:\n  - name: a\ntasks:\n  t:\n    chain: [a, nope]\n",
            ":5:",
            "'nope' is not a name",
        ),
        (
            "providers:\n  - name: a\ntasks:\n  t:\n    chain: [a]\n    success_target: 2\n",
            ":6:",
            "success_target",
        ),
        ("providers: !!python/object/apply:os.system ['true']\n", ":1:", "not allowed"),
        ("providers:\n  - name: a\n  - name: a\n", ":3:", "appears twice"),
        ("- just\n- a list\n", ":1", "mapping at the top"),
    ],
)
def test_a_malformed_manifest_is_one_line_naming_the_line(text: str, where: str, what: str) -> None:
    with pytest.raises(m.ManifestError) as err:
        m.loads(text, "manifest.yaml")
    msg = str(err.value)
    assert msg.startswith("manifest.yaml" + where), msg
    assert what in msg and "\n" not in msg
