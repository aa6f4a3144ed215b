"""Limits a YAML document must meet before it is loaded: size, nesting and alias expansion.

ruamel.yaml's safe and round-trip loaders never build Python objects, but they bound nothing:

* **alias expansion**: ten anchors that each alias the one before nine times ("billion laughs")
  load in a few kB as shared references, and the first code that walks the result (a tag check,
  ``json.dumps``, a deep copy, a YAML dump) visits 9^10 nodes;
* **cycles**: an alias inside its own anchor (``a: &a [*a]``) loads as a list that contains
  itself;
* **nesting**: the composer recurses once per level, so 100,000 ``[`` take minutes of CPU and
  end in a ``RecursionError``;
* **size**: the pure-Python parser reads a few hundred kB a second.

:func:`check` reads the document's event stream (ruamel's parser is iterative: no recursion,
nothing built), counts every node as it would be after expanding the aliases, and stops at the
first limit crossed with a :class:`YamlLimitError` naming the line. Callers turn that into their
own one-line error. Malformed YAML raises ruamel's own ``YAMLError``, as loading would.

:func:`read_bytes` / :func:`read_text` are how a YAML file given as a path is read: the size
limit would mean nothing if ``/dev/zero`` (endless, size 0) could be read until memory runs out,
or a FIFO could block the command for ever. Only a regular file is read (checked before it is
opened and again on the open descriptor, so it cannot be swapped in between; opened
non-blocking, so a FIFO is refused at once), and at most ``max_bytes + 1`` bytes of it.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    ScalarEvent,
)

MAX_BYTES = 1 << 20  # a routing manifest, mapping or price list of a few kB; 1 MiB is plenty
MAX_DEPTH = 64  # levels of nested mappings and sequences
MAX_NODES = 1_000_000  # scalars and collections, every alias expanded


class YamlLimitError(ValueError):
    """A document over a limit; ``line`` and ``col`` are 1-based, None when not known."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.line, self.col = line, col


class NotRegularFileError(OSError):
    """A path that is not a regular file (a directory, a device such as ``/dev/zero``, a FIFO, a
    socket); ``str(e)`` says which, e.g. ``not a regular file (a FIFO)``."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", str(path))

    def __str__(self) -> str:
        return str(self.strerror)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, refused when over ``max_bytes``.

    Raises :class:`NotRegularFileError` (an ``OSError``) for anything but a regular file,
    :class:`YamlLimitError` for a file over the limit, and ``OSError`` when it cannot be read.
    Never blocks on a FIFO and never reads more than ``max_bytes + 1`` bytes."""
    p = Path(path)
    before = os.stat(p)  # follows a symbolic link, as open() does
    if not stat.S_ISREG(before.st_mode):
        raise NotRegularFileError(p, _kind(before.st_mode))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(p, flags | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        now = os.fstat(fd)  # what was opened, should the path have been swapped since
        if not stat.S_ISREG(now.st_mode):
            raise NotRegularFileError(p, _kind(now.st_mode))
        if now.st_size > max_bytes:  # refused before it is read into memory
            raise YamlLimitError(f"{now.st_size:,} bytes, over the limit of {max_bytes:,}")
        data = f.read(max_bytes + 1)  # the file may have grown since fstat
    if len(data) > max_bytes:
        raise YamlLimitError(f"more than {max_bytes:,} bytes, over the limit")
    return data


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> str:
    """:func:`read_bytes` decoded as UTF-8 with universal newlines, as ``Path.read_text``
    (``UnicodeDecodeError`` when it is not UTF-8)."""
    data = read_bytes(path, max_bytes=max_bytes)
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()


def check(
    text: str | bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> None:
    """Raise :class:`YamlLimitError` when ``text`` is over a limit (see the module docstring)."""
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise YamlLimitError(f"{size:,} bytes, over the limit of {max_bytes:,}")
    depth = nodes = 0
    expanded: dict[str, int] = {}  # anchor -> nodes it stands for
    open_: list[tuple[str | None, int]] = []  # (anchor, nodes before it) per open collection
    for event in YAML(typ="safe", pure=True).parse(text):
        mark = event.start_mark
        where = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        if isinstance(event, ScalarEvent):
            nodes += 1
            if event.anchor:
                expanded[event.anchor] = 1
        elif isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > max_depth:
                raise YamlLimitError(f"nested more than {max_depth} levels deep", *where)
            open_.append((event.anchor, nodes))
            nodes += 1
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
            anchor, before = open_.pop()
            if anchor:
                expanded[anchor] = nodes - before
        elif isinstance(event, AliasEvent):
            if event.anchor in expanded:
                nodes += expanded[event.anchor]
            elif any(anchor == event.anchor for anchor, _ in open_):
                raise YamlLimitError(
                    f"alias *{event.anchor} inside its own anchor &{event.anchor} (a cycle)",
                    *where,
                )
            # else an undefined alias: loading reports it as the YAML error it is
        if nodes > max_nodes:
            raise YamlLimitError(
                f"more than {max_nodes:,} values once its aliases are expanded (an alias bomb?)",
                *where,
            )
