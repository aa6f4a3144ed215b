"""LiteLLM's retry and fallback counters: what makes an ``attempt_index``, and the shapes of
``hidden_params`` / ``model_parameters`` that must never cost a record (docs/log-formats.md,
"LiteLLM")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.config import Config
from collectors.ingest import parse_bytes
from collectors.pipeline import ingest
from tests.conftest import LOG_FIXTURES
from tests.logs.helpers import slp, warehouse_rows

REAL = LOG_FIXTURES / "litellm_proxy_real" / "litellm_slp.jsonl"


def headers(**counters: Any) -> dict[str, Any]:
    return {
        "additional_headers": {f"x-litellm-{k.replace('_', '-')}": v for k, v in counters.items()}
    }


def parse(*docs: dict[str, Any] | bytes) -> Any:
    lines = b"".join((d if isinstance(d, bytes) else json.dumps(d).encode()) + b"\n" for d in docs)
    return parse_bytes("litellm", lines)


def indexes(field: str, values: list[Any]) -> list[int | None]:
    """The attempt index of one record per value of ``field``, all parsed in one payload."""
    res = parse(*(slp(i, **{field: v}) for i, v in enumerate(values)))
    assert not res.quarantined and len(res.attempts) == len(values)
    by_line = {a.source_line: a.attempt_index for a in res.attempts}
    return [by_line[i + 1] for i in range(len(values))]


COUNTED = [
    (headers(attempted_retries=0, attempted_fallbacks=0), 1),
    (headers(attempted_retries=2, attempted_fallbacks=0, max_retries=2), 3),
    (headers(attempted_retries=0, attempted_fallbacks=1), 2),
    (headers(attempted_retries=2, attempted_fallbacks=1, max_retries=2), 4),
    (headers(attempted_retries="2"), 3),  # a header value as text
    (headers(attempted_fallbacks=3), 4),  # one counter alone
    ({"additional_headers": {}}, None),  # a streamed success: no counters
    ({}, None),
    (None, None),
]


def test_a_records_counters_make_it_attempt_retries_plus_fallbacks_plus_one() -> None:
    assert indexes("hidden_params", [h for h, _ in COUNTED]) == [i for _, i in COUNTED]


BAD_COUNTERS = [-1, 1.5, "two", True, 10**9, 100, "1e3", " ", [1], {"n": 1}, None, "0x2"]


def test_a_counter_that_is_not_a_small_whole_number_is_no_counter() -> None:
    alone = [headers(attempted_retries=b) for b in BAD_COUNTERS]
    with_other = [headers(attempted_retries=b, attempted_fallbacks=1) for b in BAD_COUNTERS]
    assert indexes("hidden_params", alone) == [None] * len(BAD_COUNTERS)
    assert indexes("hidden_params", with_other) == [2] * len(BAD_COUNTERS)  # the other counts


ODD_SHAPES = [
    "a string",
    7,
    [headers(attempted_retries=2)],
    {"additional_headers": "x"},
    {"additional_headers": [1, 2]},
    {"additional_headers": {"x-litellm-attempted-retries": {}}},
]


def test_hidden_params_of_any_shape_never_costs_the_record() -> None:
    assert indexes("hidden_params", ODD_SHAPES) == [None] * len(ODD_SHAPES)


def test_spendlogs_style_counters_in_the_payloads_metadata_count_too() -> None:
    docs = []
    for i, (meta, hidden) in enumerate(
        [
            ({"attempted_retries": 1, "attempted_fallbacks": 1}, None),  # -> 3
            ({"attempted_retries": 1}, headers(attempted_retries=2)),  # metadata first -> 2
            ({"attempted_retries": "x"}, headers(attempted_retries=2)),  # not a counter -> 3
            ({"attempted_retries": {"n": 1}, "attempted_fallbacks": [1]}, None),  # -> None
            ({"attempted_retries": 1.5}, None),  # -> None
        ]
    ):
        doc = slp(i, hidden_params=hidden)
        doc["metadata"] |= meta
        docs.append(doc)
    res = parse(*docs)
    assert not res.quarantined
    got = [a.attempt_index for a in sorted(res.attempts, key=lambda a: a.source_line)]
    assert got == [3, 2, 3, None, None]


STREAM_CASES = [
    (None, {"stream": False}, False),
    (None, {"stream": True}, True),
    (True, {"stream": False}, True),  # the record's own flag wins
    (None, "not an object", None),
    (None, None, None),
]


def test_streamed_falls_back_to_the_requests_stream_parameter() -> None:
    res = parse(*(slp(i, stream=s, model_parameters=p) for i, (s, p, _) in enumerate(STREAM_CASES)))
    assert not res.quarantined
    got = [a.streamed for a in sorted(res.attempts, key=lambda a: a.source_line)]
    assert got == [want for _, _, want in STREAM_CASES]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=30), kids, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(JSON, min_size=1, max_size=12), st.sampled_from(["hidden_params", "model_parameters"])
)
def test_any_json_in_the_counter_fields_loads_the_record(values: list[Any], field: str) -> None:
    nested = [{"additional_headers": {"x-litellm-attempted-retries": v}} for v in values]
    for index in indexes(field, values + nested):
        assert index is None or 1 <= index <= 199


def test_the_real_recordings_indexes_come_from_non_streamed_successes_only() -> None:
    res = parse_bytes("litellm", REAL.read_bytes())
    assert not res.quarantined and len(res.attempts) == 317
    with_index = [a for a in res.attempts if a.attempt_index is not None]
    assert {(a.status, a.streamed) for a in with_index} == {("success", False)}
    assert all(a.attempt_index is None for a in res.attempts if a.streamed)
    assert sorted({a.attempt_index for a in with_index}) == [1, 2, 3, 4]


def test_malformed_truncated_and_repeated_lines_around_counted_records(
    cfg: Config, tmp_path: Path
) -> None:
    """The records with counters load once; a broken line is quarantined, a repeated one is
    skipped, a cut last line waits for the rest."""
    lines = REAL.read_text(encoding="utf-8").splitlines()
    counted = [ln for ln in lines if '"x-litellm-attempted-retries":2' in ln][:2]
    assert len(counted) == 2
    log = tmp_path / "slp.jsonl"
    log.write_text(
        counted[0] + "\n" + counted[0][:-40] + "\n" + counted[0] + "\n" + counted[1][:200],
        encoding="utf-8",
    )
    s = ingest(cfg, [str(log)])
    assert s.attempts_loaded == 1 and s.duplicates_skipped == 1 and s.quarantined == 1
    assert s.waiting_bytes == 200
    with log.open("a", encoding="utf-8") as f:
        f.write(counted[1][200:] + "\n")
    s = ingest(cfg, [str(log)])
    assert s.attempts_loaded == 1 and s.quarantined == 0
    want = [
        (sum(json.loads(ln)["hidden_params"]["additional_headers"][f"x-litellm-attempted-{c}"]
             for c in ("retries", "fallbacks")) + 1,)
        for ln in counted
    ]  # fmt: skip
    got = warehouse_rows(cfg, "SELECT attempt_index FROM raw_attempts ORDER BY source_line")
    assert got == want and want[0] == (3,)
