"""Hostile logs through ``routeledger ingest``: every line of every corpus file is loaded, counted
as a duplicate or a skip, or quarantined with its reason; nothing is lost or counted twice
(complete lines = loaded + duplicates + quarantined + skipped + lines that hold no call), the run
never crashes, a cut last line waits for the next run, and markup is stored as data, never
dropped or rewritten (escaping is the display's job: test_browser.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.conftest import copy_corpus, make_home, run, run_json, warehouse
from tests.hostile.corpus_logs import (
    BOM_CSV,
    BOM_JSONL,
    DUPKEYS_JSONL,
    LITERALS_JSONL,
    LOG_FILES,
    WRONG_TYPES_JSONL,
)
from tests.hostile.payloads import DUP, MARKUP, NONE, OK, QUARANTINED, SCRIPT, SKIP, LogFile, j

BY_NAME = {lf.name: lf for lf in LOG_FILES}


@dataclass
class Outcome:
    log: Path
    summary: dict[str, Any]
    loaded: dict[int, dict[str, Any]]  # source line -> attempt columns
    quarantined: dict[int, str]  # source line -> reason
    excerpts: list[str]


def ingest(home: Path, lf: LogFile, log: Path) -> Outcome:
    args = ["ingest", str(log), "--format", lf.format]
    if lf.mapping:
        args += ["--mapping", lf.mapping]
    summary = run_json(home, *args)
    key = str(log.resolve())  # ingest names a file by its resolved path
    with warehouse(home) as con:
        cur = con.execute(
            "SELECT * FROM raw_attempts WHERE source_file = ? ORDER BY source_line", [key]
        )
        names = [d[0] for d in cur.description]
        loaded: dict[int, dict[str, Any]] = {}
        for row in cur.fetchall():
            r = dict(zip(names, row, strict=True))
            assert r["source_line"] not in loaded, f"line {r['source_line']} loaded twice"
            loaded[r["source_line"]] = r
        quarantined: dict[int, str] = {}
        excerpts = []
        for line, reason, excerpt in con.execute(
            "SELECT source_line, reason, raw_excerpt FROM raw_quarantine WHERE source_file = ?",
            [key],
        ).fetchall():
            assert line not in quarantined, f"line {line} quarantined twice"
            quarantined[line] = reason
            excerpts.append(excerpt or "")
    return Outcome(log, summary, loaded, quarantined, excerpts)


def _matches(expect: str, got: str | None) -> bool:
    if expect == OK:
        return got == "loaded"
    if expect in (DUP, NONE, SKIP):
        return got is None
    if expect == QUARANTINED:
        return got not in (None, "loaded")
    return got == expect


def check_accounting(lf: LogFile, out: Outcome) -> None:
    """Every line has the outcome the corpus names, and the summary agrees with the tables."""
    expected = lf.expected()
    got: dict[int, str] = {n: "loaded" for n in out.loaded} | out.quarantined
    wrong = {
        n: (expected.get(n), got.get(n))
        for n in sorted(set(expected) | set(got))
        if n not in expected or not _matches(expected[n], got.get(n))
    }
    assert not wrong, f"{lf.name}: line: (expected, got): {wrong}"
    count = Counter(expected.values())
    s = out.summary
    assert s["failed_files"] == []
    assert s["attempts_loaded"] == count[OK] == len(out.loaded)
    assert s["duplicates_skipped"] == count[DUP]
    assert s["skipped_non_llm"] == count[SKIP]
    assert s["quarantined"] == len(out.quarantined)
    assert s["quarantined_by_reason"] == dict(Counter(out.quarantined.values()))
    assert s["waiting_bytes"] == len(lf.tail)
    accounted = (
        s["attempts_loaded"] + s["duplicates_skipped"] + s["quarantined"] + s["skipped_non_llm"]
    )
    assert accounted + count[NONE] == len(lf.lines)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Each corpus log ingested once, into a home of its own."""
    root = tmp_path_factory.mktemp("hostile-logs")
    out = {}
    for lf in LOG_FILES:
        home = make_home(root / lf.name / "home")
        out[lf.name] = ingest(home, lf, copy_corpus(f"logs/{lf.name}", root / lf.name / "logs"))
    return out


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_line_is_loaded_duplicate_skipped_or_quarantined(
    outcomes: dict[str, Outcome], name: str
) -> None:
    check_accounting(BY_NAME[name], outcomes[name])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_markup_is_stored_verbatim_and_strings_are_bounded(
    outcomes: dict[str, Outcome], name: str
) -> None:
    """Markup reaches the warehouse as the text it was (the display escapes it), every stored
    string is cut to a sane length, and no prompt text is kept."""
    out = outcomes[name]
    stored = [
        v
        for row in out.loaded.values()
        for k, v in row.items()
        if isinstance(v, str) and k not in ("source_file", "load_id")
    ]
    names = {
        v
        for row in out.loaded.values()
        for k, v in row.items()
        if k in ("served_model", "task", "team", "user_id", "key_alias", "provider", "route")
        and isinstance(v, str)  # a NULL name is no name (a set's order is random: a None
    }  # met first raised TypeError in some runs, not others)
    assert any(p in v for v in names for p in MARKUP), f"{name}: no markup name survived"
    assert all(len(v) <= 300 for v in stored), max(stored, key=len)[:80]
    assert all(len(e) <= 300 for e in out.excerpts)
    assert not any("HOSTILE-CORPUS-PROMPT" in v for v in stored + out.excerpts)


def test_script_name_is_kept_exactly(outcomes: dict[str, Outcome]) -> None:
    out = outcomes["routeledger.jsonl"]
    assert out.loaded[2]["served_model"] == SCRIPT
    assert out.loaded[6]["served_model"] == "m" * 200  # the 60 kB name, cut to the limit


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_second_run_adds_nothing_and_the_completed_tail_loads_once(
    tmp_path: Path, name: str
) -> None:
    """Exactly once: a second run over the same bytes changes nothing; when the writer finishes
    the cut last line, the next run loads that line and only it."""
    lf = BY_NAME[name]
    home = make_home(tmp_path / "home")
    log = copy_corpus(f"logs/{lf.name}", tmp_path / "logs")
    first = ingest(home, lf, log)
    again = ingest(home, lf, log)
    assert (again.summary["attempts_loaded"], again.summary["quarantined"]) == (0, 0)
    assert again.loaded.keys() == first.loaded.keys()
    assert again.quarantined == first.quarantined
    whole = _completed_tail(lf)
    with log.open("ab") as f:
        f.write(whole[len(lf.tail) :] + b"\n")
    last = ingest(home, lf, log)
    assert last.summary["attempts_loaded"] == 1 and last.summary["quarantined"] == 0
    assert last.summary["waiting_bytes"] == 0
    assert set(last.loaded) == set(first.loaded) | {len(lf.lines) + 1}
    assert last.quarantined == first.quarantined


def _completed_tail(lf: LogFile) -> bytes:
    """The whole line the corpus cut: rebuilt by the builder that cut it (same prefix)."""
    from tests.hostile import corpus_logs as c

    builders = {
        "routeledger.jsonl": lambda: j(c.rl(29, day=3)),
        "routeledger.csv": lambda: c._csv(16, day=3),
        "litellm_slp.jsonl": lambda: j(c.slp(18, day=3)),
        "otel_spans.jsonl": lambda: j(c.span_doc(16, day=3)),
        "kong_mapped.jsonl": lambda: j(c.kong(12, day=3)),
    }
    whole = builders[lf.name]()
    assert whole.startswith(lf.tail)
    return whole


def test_markup_in_the_first_record_keys_is_a_clear_failure(tmp_path: Path, home: Path) -> None:
    """Format detection quotes the first record's keys in its error: rich markup and escapes
    in them must not break the human-readable output."""
    log = tmp_path / "keys.jsonl"
    log.write_bytes(j({"[/]": 1, "[bold red]x[/bold red]": 2, "\x1b[2J": 3, SCRIPT: 4}) + b"\n")
    p = run(home, "ingest", str(log))
    assert p.returncode == 1, p.stderr[-2000:]  # the run completed; the file failed
    assert "Traceback" not in p.stderr and "MarkupError" not in p.stderr
    assert "cannot tell the format" in p.stdout
    assert "[bold red]x[/bold red]" in p.stdout  # printed as the text it is
    assert "\x1b" not in p.stdout


# -- found by this corpus in the ingest engine at e04d274 (today collectors/ingest/read_jsonl.py
# -- and read_csv.py) and fixed by the ingest rewrite; each test names what used to go wrong. One
# -- more: the CSV reader named bad UTF-8 in a CSV row csv_unreadable (DuckDB 2.0 says INVALID
# -- ENCODING, not INVALID UNICODE); routeledger.csv's line 13 now expects invalid_utf8.


def _ingest_and_check(tmp_path: Path, lf: LogFile) -> None:
    home = make_home(tmp_path / "home")
    check_accounting(lf, ingest(home, lf, copy_corpus(f"logs/{lf.name}", tmp_path / "logs")))


def test_a_bom_before_the_first_jsonl_record_is_ignored(tmp_path: Path) -> None:
    """Was: when a batch took the careful path (any bad line in it), the record after a UTF-8
    BOM was quarantined as invalid_json ("Unexpected UTF-8 BOM"): _check_line decoded with
    utf-8, not utf-8-sig, while the fast path and format detection skipped the BOM."""
    _ingest_and_check(tmp_path, BOM_JSONL)


def test_a_bom_before_the_csv_header_is_ignored(tmp_path: Path) -> None:
    """Was: the whole file failed with "CSV header lacks required column(s) attempt_id": the
    BOM stuck to the first header name."""
    _ingest_and_check(tmp_path, BOM_CSV)


def test_nan_and_infinity_literals_never_become_names(tmp_path: Path) -> None:
    """Was: the fast path's read_json accepts NaN/Infinity literals, so "model": NaN loaded an
    attempt on a model named 'NaN' (and "task": Infinity a task 'Infinity'), while the careful
    path quarantined the same line as invalid_json."""
    _ingest_and_check(tmp_path, LITERALS_JSONL)


def test_a_repeated_key_does_not_stop_the_run(tmp_path: Path) -> None:
    """Was: an object repeating a key made read_json raise on the careful path ("JSON transform
    error ... has duplicate key") and the whole ingest run died with exit 1 (a traceback)."""
    _ingest_and_check(tmp_path, DUPKEYS_JSONL)


def test_a_field_of_the_wrong_type_is_quarantined_not_fatal(tmp_path: Path) -> None:
    """Was: valid JSON with a field of the wrong type (LiteLLM request_tags or metadata a
    string) passed _bisect, whose SELECT count(*) never cast the columns, then read_json raised
    "JSON transform error ... Expected ARRAY, but got VARCHAR" in _read_lines_careful and the
    whole ingest run died with exit 1."""
    _ingest_and_check(tmp_path, WRONG_TYPES_JSONL)
