"""Offline evaluation scores (``routeledger evals import FILE.csv``): a CSV with columns task,
model and score (0..1; a row per example or per model) landed in ``eval_scores``. The latest
import per (task, model) is the quality the tuner checks ``min_quality`` against."""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.errors import InputError
from collectors.warehouse import Warehouse, transaction
from collectors.warehouse.migrate import ensure_tables

REQUIRED = ("task", "model", "score")


@dataclass(frozen=True)
class Score:
    line: int
    task: str
    model: str
    score: float


def read_scores(path: Path) -> list[Score]:
    """Every score of ``path``; InputError naming the file and line of the first bad row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = set(REQUIRED) - set(reader.fieldnames or [])
            if missing:
                raise InputError(
                    f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                    "expected a header with task, model, score"
                )
            out = []
            for i, row in enumerate(reader, start=2):
                task, model = (row.get("task") or "").strip(), (row.get("model") or "").strip()
                try:
                    score = float(row.get("score") or "")
                except ValueError:
                    score = float("nan")
                if not task or not model or not 0 <= score <= 1:
                    raise InputError(
                        f"{path}:{i}: expected a task, a model and a score between 0 and 1, "
                        f"got {row.get('task')!r}, {row.get('model')!r}, {row.get('score')!r}"
                    )
                out.append(Score(i, task, model, score))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: cannot read the CSV: {e}") from None
    if not out:
        raise InputError(f"{path}: no scores")
    return out


def load(wh: Warehouse, path: Path) -> dict[str, Any]:
    """Land the scores of ``path`` as one import, in one transaction."""
    scores = read_scores(path)
    import_id, at = uuid.uuid4().hex[:12], datetime.now(UTC).replace(tzinfo=None)
    with wh.connect() as con:
        ensure_tables(con, ("eval_scores",))
        with transaction(con):
            con.executemany(
                "INSERT INTO eval_scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    [import_id, at, str(path.resolve()), s.line, s.task, s.model, s.score]
                    for s in scores
                ],
            )
    return {
        "file": str(path),
        "import_id": import_id,
        "rows": len(scores),
        "tasks": len({s.task for s in scores}),
        "models": len({s.model for s in scores}),
    }
