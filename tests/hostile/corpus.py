"""The hostile corpus, written once: every file under ``tests/hostile/corpus/`` is built here,
together with what RouteLedger must do with each line of it.

``python -m tests.hostile.corpus`` rewrites the files; ``test_corpus.py`` fails when a committed
file differs from what this module builds (so a file and its expectations never drift apart)
or when a file has no line in ``SOURCES.md``.

What each file is made of: :mod:`tests.hostile.payloads` (the payloads and file shapes),
:mod:`tests.hostile.corpus_logs` (log files with per-line expectations, credential shapes in
every field of every format included) and
:mod:`tests.hostile.corpus_inputs` (price sources, manifests, configuration).
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile.corpus_inputs import (
    MANIFEST_OK,
    config_files,
    manifest_files,
    price_files,
)
from tests.hostile.corpus_logs import CREDENTIAL_FILES, LOG_FILES, REGRESSIONS
from tests.hostile.payloads import CORPUS, File


def generated_files() -> list[File]:
    """Files too big to keep in the repository: tests build them in a temporary folder."""
    huge = (
        MANIFEST_OK + "extra:\n" + "".join(f"  key{i}: 'value number {i}'\n" for i in range(60_000))
    )
    return [
        File(
            "manifests/huge.yaml",
            huge.encode(),
            "a 2 MB manifest (60,000 extra keys)",
            {"error": "bytes"},
        ),
        File(
            "prices/deepseek_deep.html",
            b"<html><body>" + b"<div>" * 100_000 + b"</body></html>",
            "DeepSeek page that is 100,000 nested <div> and no price table",
            {"source": "deepseek"},
        ),
    ]


def all_files() -> dict[str, tuple[bytes, str]]:
    """Every corpus file: path under corpus/ -> (bytes, what it is and attacks)."""
    out: dict[str, tuple[bytes, str]] = {}
    for lf in (*LOG_FILES, *REGRESSIONS, *CREDENTIAL_FILES):
        out[f"logs/{lf.name}"] = (lf.content(), lf.what)
    for group, files in (
        ("prices", price_files()),
        ("manifests", manifest_files()),
        ("config", config_files()),
    ):
        for f in files:
            out[f"{group}/{f.name}"] = (f.data, f.what)
    return out


def write(root: Path = CORPUS) -> list[Path]:
    written = []
    for rel, (data, _) in sorted(all_files().items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write():
        print(p.relative_to(CORPUS.parent), p.stat().st_size)
