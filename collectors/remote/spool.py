"""The spool: ``<home>/spool/<source>/``, files a remote source or the OTLP/HTTP receiver wrote
and the ingest engine reads like any log, exactly once (its cursor per file).

A spool file is written whole and durably before anything says it exists: to a temporary name,
flushed and fsynced, renamed, and the folder fsynced. A reader never sees half a file, and a
crash leaves either the whole file or none (a ``.tmp`` left behind is ignored and removed)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from collectors.config import Config, Source

SPOOL = "spool"
RECEIVER = "otlp-http"  # the receiver's folder; its files are read with the otel format
SUFFIX = ".jsonl"


def folder(cfg: Config, label: str) -> Path:
    """The spool folder of the source called ``label`` (readable, unique, safe as a path)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.")[:60] or "source"
    digest = hashlib.sha256(label.encode()).hexdigest()[:8]
    return cfg.home / SPOOL / f"{slug}-{digest}"


def receiver_folder(cfg: Config) -> Path:
    return cfg.home / SPOOL / RECEIVER


def holds(cfg: Config, path: Path) -> bool:
    """``path`` is a spool file (written by a remote source or the receiver, not a user's log)."""
    return path.resolve().is_relative_to((cfg.home / SPOOL).resolve())


def write(where: Path, name: str, data: bytes) -> Path:
    """``data`` as ``where/name``, durably and all at once; returns the path."""
    where.mkdir(parents=True, exist_ok=True)
    final = where / name
    tmp = where / f".{name}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    fd = os.open(where, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return final


def size_bytes(where: Path) -> int:
    if not where.is_dir():
        return 0
    return sum(p.stat().st_size for p in where.glob("*" + SUFFIX))


def files(where: Path) -> list[Path]:
    """The folder's spool files in the order they were written (names sort by time)."""
    if not where.is_dir():
        return []
    for stale in where.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    return sorted(where.glob("*" + SUFFIX))


def to_ingest(cfg: Config) -> list[tuple[Path, str, str | None]]:
    """(file, format, mapping) of every spool file: each remote source's with the source's
    format, the receiver's with the otel format."""
    out: list[tuple[Path, str, str | None]] = []
    for s in cfg.sources:
        if s.kind != "files":
            out += [(p, spool_format(s), s.mapping) for p in files(folder(cfg, s.label))]
    out += [(p, "otel", None) for p in files(receiver_folder(cfg))]
    return out


def spool_format(s: Source) -> str:
    return s.format
