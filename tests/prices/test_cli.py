"""``routeledger prices ...``: exactly one JSON object with --json, in the DESIGN.md shapes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli import main
from tests.prices.conftest import FIXTURES, PAGES

SOURCE_KEYS = {"source", "status", "models", "changed", "pending_review", "error"}
ENTRY_KEYS = {
    "source",
    "provider",
    "input_per_mtok",
    "cached_input_per_mtok",
    "cache_write_per_mtok",
    "output_per_mtok",
    "valid_from",
}


def run(home, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--home", str(home), "prices", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("clihome")
    code, out, err = run(
        home,
        "refresh",
        "--from-file",
        f"anthropic={PAGES / 'anthropic_docs_pricing_2025-11-25.md'}",
        "--from-file",
        f"openrouter={FIXTURES / 'openrouter_models.json'}",
        "--source",
        "overrides",
        "--json",
    )
    assert code == 0, err
    home.joinpath("first.json").write_text(out, encoding="utf-8")
    return home


def test_refresh_json_shape(home):
    doc = json.loads(home.joinpath("first.json").read_text(encoding="utf-8"))
    assert [s["source"] for s in doc["sources"]] == ["overrides", "anthropic", "openrouter"]
    for s in doc["sources"]:
        assert SOURCE_KEYS <= set(s) and s["status"] == "ok" and s["error"] is None
    assert next(s for s in doc["sources"] if s["source"] == "anthropic")["models"] == 10


def test_show_json_shape_and_in_force_first(home):
    code, out, _ = run(home, "show", "claude-sonnet-4-5", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["model"] == "claude-sonnet-4-5" and doc["provider"] == "anthropic"
    assert doc["current"] and doc["history"]
    assert all(ENTRY_KEYS <= set(e) for e in doc["current"])
    assert all(ENTRY_KEYS | {"valid_to"} <= set(e) for e in doc["history"])
    first = doc["current"][0]
    # the provider page (rank 2) is in force before OpenRouter (rank 3)
    assert (first["source"], first["input_per_mtok"], first["output_per_mtok"]) == (
        "anthropic",
        3.0,
        15.0,
    )
    assert first["cache_write_per_mtok"] == 3.75 and first["cached_input_per_mtok"] == 0.3


def test_openrouter_spelling_resolves_to_the_same_model(home):
    code, out, _ = run(home, "show", "openrouter/anthropic/claude-sonnet-4.5", "--json")
    assert code == 0 and json.loads(out)["model_id"] == "claude-sonnet-4-5"


def test_unmatched_json_with_no_logs(home):
    code, out, _ = run(home, "unmatched", "--json")
    assert code == 0
    assert json.loads(out) == {"unmatched": [], "models_matched": 0, "models_unmatched": 0}


def test_confirm_without_pending_review_is_one_error_line(home):
    code, out, err = run(home, "confirm", "claude-sonnet-4-5")
    assert code != 0 and out == ""
    assert err.strip().startswith("routeledger: error:") and "no pending price review" in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_model_is_one_error_line(home):
    code, _, err = run(home, "show", "no-such-model-anywhere")
    assert code != 0 and "no price known" in err


def test_bad_from_file_is_a_usage_error(home):
    code, _, err = run(home, "refresh", "--from-file", "nowhere")
    assert code == 2 and "NAME=PATH" in err


def test_failed_source_still_exits_zero(home, tmp_path):
    missing = tmp_path / "missing.json"
    code, out, _ = run(home, "refresh", "--from-file", f"litellm={missing}", "--json")
    assert code == 0
    (only,) = json.loads(out)["sources"]
    assert only["status"] == "failed" and "cannot read" in only["error"]


def test_refresh_json_counts_the_models_it_refused_by_reason(tmp_path):
    """A listed model whose price is negative, not finite or absurd is a skip row with a named
    reason (issue 15, item 5); the refresh summary counts them per source and reason."""
    from tests.prices.test_robustness import BAD, WANT, _or_model, _per_token

    models = [_or_model(f"acme/bad-{k}", _per_token(v)) for k, (v, _) in BAD.items()]
    feed = tmp_path / "models.json"
    feed.write_text(json.dumps({"data": [*models, _or_model("acme/good", "0.000001")]}))
    code, out, err = run(tmp_path, "refresh", "--from-file", f"openrouter={feed}", "--json")
    assert code == 0, err
    (source,) = json.loads(out)["sources"]
    assert source["status"] == "ok" and source["models"] == 1
    assert {k: source["skipped_by_reason"].get(k) for k in WANT} == WANT


def test_refresh_refuses_files_that_are_not_regular(tmp_path):
    """``--from-file`` and the overrides file are read like every YAML input: a device or a FIFO
    is refused before a byte is read (it would read without end, or block)."""
    import os

    fifo = tmp_path / "overrides.fifo"
    os.mkfifo(fifo)
    (tmp_path / "routeledger.toml").write_text(f'[prices]\noverrides = "{fifo}"\n')
    code, out, err = run(
        tmp_path,
        "refresh",
        "--from-file",
        "openrouter=/dev/zero",
        "--source",
        "overrides",
        "--json",
    )
    assert code in (0, 1), err
    by_source = {s["source"]: s for s in json.loads(out)["sources"]}
    assert by_source["openrouter"]["status"] == "failed"
    assert "not a regular file (a character device)" in by_source["openrouter"]["error"]
    assert by_source["overrides"]["status"] == "failed"
    assert "not a regular file (a FIFO)" in by_source["overrides"]["error"]
