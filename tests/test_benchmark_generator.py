"""The benchmarks' LiteLLM generator (``benchmarks/generate.py``): its ``minimal`` payload keeps
every value RouteLedger reads, so a benchmark on small lines measures the same attempts as one
on the full lines."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import generate  # noqa: E402

from collectors.ingest.batch import parse_bytes  # noqa: E402


def _lines(mode: str, rows: int = 400) -> bytes:
    out = io.BytesIO()
    generate.generate(out, rows, seed=7, model_map=mode)
    return out.getvalue()


@pytest.mark.parametrize("other", ["full", "compact"])
def test_minimal_lines_load_as_the_same_attempts(other: str) -> None:
    small, big = _lines("minimal"), _lines(other)
    a, b = parse_bytes("litellm", small), parse_bytes("litellm", big)
    assert not a.quarantined and not b.quarantined
    assert len(a.attempts) == 400
    assert [dataclasses.asdict(x) for x in a.attempts] == [
        dataclasses.asdict(x) for x in b.attempts
    ]
    assert len(small) < len(big) / 3


def test_minimal_lines_keep_only_what_the_normaliser_reads() -> None:
    import slp

    for line in _lines("minimal", 50).splitlines():
        doc = json.loads(line)
        assert list(doc) == slp.MINIMAL_KEYS
        assert set(doc["metadata"]) <= set(slp.MINIMAL_METADATA)
        assert len(line) < 2000
