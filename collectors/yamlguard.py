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
"""

from __future__ import annotations

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
