"""The native routing manifest (``ai-router.config.yaml`` shape): read, check, change, diff.

Reading and writing round-trip through ruamel.yaml, so comments, key order, quoting, flow or
block style and unknown keys survive. :func:`render` applies a proposal's changes to the loaded
document and dumps it; when nothing changed it returns the original text untouched, so an
unchanged manifest comes back byte-identical. Loading is safe: the round-trip loader never
builds Python objects, any explicit tag (``!!python/...``, ``!custom``) is refused, and a document
over the limits of :mod:`collectors.yamlguard` (1 MiB, 64 levels of nesting, a million values
with every alias expanded, no alias cycle) is refused before it is loaded, so a "billion laughs"
or 100,000 nested ``[`` cost a fraction of a second, not minutes or gigabytes.

A malformed file raises :class:`ManifestError`, one line naming the file, line and column.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from collectors import yamlguard
from collectors.errors import ConfigError

_STANDARD_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_STANDARD_TAG}{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null")}


class ManifestError(ConfigError):
    """A manifest that cannot be read or used; ``str(e)`` is ``file:line:col: what``."""

    def __init__(self, file: str, line: int | None, col: int | None, message: str) -> None:
        where = file if line is None else f"{file}:{line}" + (f":{col}" if col else "")
        self.file, self.key, self.expected, self.got = where, "", message, None
        Exception.__init__(self, f"{where}: {message}")


@dataclass(frozen=True)
class Provider:
    name: str
    model: str  # the gateway's model string; defaults to name
    cost_per_output_token: float | None
    supported_tasks: tuple[str, ...]
    latency_target_ms: float | None
    routing_mode: str | None
    extra: Mapping[str, Any] = field(default_factory=dict)  # every key, as written

    @property
    def vendor(self) -> str | None:
        """``openai`` for ``openai/gpt-4o``; None for a bare model string."""
        return self.model.split("/", 1)[0] if "/" in self.model else None


@dataclass(frozen=True)
class Experiment:
    """An exploration plan under way (``tasks.<name>.experiment``): ``share`` of the task's
    traffic down ``chain`` for ``requests`` requests from ``started``; ``baseline`` is the
    requests the chain's estimate rested on when it started."""

    id: str
    chain: tuple[str, ...]
    share: float
    requests: int
    started: str
    baseline: float = 0.0


@dataclass(frozen=True)
class Task:
    name: str
    chain: tuple[str, ...]
    success_target: float
    latency_target_ms: float | None
    max_output_tokens: int | None
    allowed_providers: tuple[str, ...]
    min_quality: float | None
    experiment: Experiment | None = None


@dataclass
class Manifest:
    file: str
    text: str
    doc: CommentedMap
    providers: dict[str, Provider]
    tasks: dict[str, Task]
    indent: tuple[int, int] = (2, 0)  # (sequence indent, block sequence dash offset)

    @property
    def sha256(self) -> str:
        return sha256(self.text)

    @property
    def timeout_s(self) -> float | None:
        routing = self.doc.get("routing")
        value = routing.get("timeout_s") if isinstance(routing, Mapping) else None
        return float(value) if _number(value) else None


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _yaml(indent: tuple[int, int] = (2, 0)) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap a long line the author wrote on one
    y.indent(mapping=2, sequence=indent[0], offset=indent[1])
    return y


def _line(node: Any, key: Any = None) -> tuple[int | None, int | None]:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None, None
    try:
        if key is not None and isinstance(node, CommentedMap):
            line, col = lc.key(key)
        elif key is not None and isinstance(node, CommentedSeq):
            line, col = lc.item(key)
        else:
            line, col = lc.line, lc.col
    except (KeyError, IndexError, TypeError):
        line, col = lc.line, lc.col
    return line + 1, col + 1


def _walk(node: Any) -> Iterator[tuple[Any, Any, Any]]:
    """(node, parent, key) for every node, in document order; a mapping or list that aliases
    repeat is walked once."""
    seen: set[int] = set()
    stack: list[tuple[Any, Any, Any]] = [(node, None, None)]
    while stack:
        item = stack.pop()
        current = item[0]
        if isinstance(current, Mapping | list):
            if id(current) in seen:
                continue
            seen.add(id(current))
        yield item
        if isinstance(current, Mapping):
            stack.extend((v, current, k) for k, v in reversed(list(current.items())))
        elif isinstance(current, list):
            stack.extend((v, current, i) for i, v in reversed(list(enumerate(current))))


def _number(v: Any) -> TypeGuard[int | float]:
    """A finite number (YAML's .inf and .nan are not amounts, shares or targets)."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def loads(text: str, file: str = "<manifest>") -> Manifest:
    """Parse and check a manifest; :class:`ManifestError` naming the line when it is wrong."""
    try:
        yamlguard.check(text)
    except yamlguard.YamlLimitError as e:
        raise ManifestError(file, e.line, e.col, f"refused: {e}") from None
    except YAMLError:
        pass  # malformed: loading below names the line
    try:
        _, seq_indent, offset = load_yaml_guess_indent(text)
    except (YAMLError, RecursionError):
        seq_indent, offset = None, None
    indent = (seq_indent or 2, offset or 0)
    try:
        doc = _yaml(indent).load(text)
    except RecursionError:
        raise ManifestError(file, None, None, "refused: nested too deeply") from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "not valid YAML"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ManifestError(file, line, col, f"not valid YAML: {problem}") from None
    except YAMLError as e:
        raise ManifestError(file, None, None, f"not valid YAML: {e}") from None
    if not isinstance(doc, CommentedMap):
        raise ManifestError(
            file, 1, None, "expected a mapping at the top (routing, providers, tasks)"
        )
    for node, parent, key in _walk(doc):
        tag = getattr(getattr(node, "tag", None), "value", None)
        if tag and tag not in _PLAIN_TAGS:
            line, col = _line(parent, key) if parent is not None else (1, 1)
            raise ManifestError(file, line, col, f"tag {tag!r} is not allowed (plain YAML only)")
    return Manifest(file, text, doc, _providers(file, doc), _tasks(file, doc), indent)


def load(path: str | Path) -> Manifest:
    """Read and check the manifest at ``path``: a regular file (not ``/dev/zero``, a FIFO or a
    directory), within the size limit, read before it is parsed (:func:`yamlguard.read_text`)."""
    p = Path(path)
    try:
        text = yamlguard.read_text(p)
    except yamlguard.YamlLimitError as e:
        raise ManifestError(str(p), None, None, f"refused: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(str(p), None, None, f"cannot read the manifest: {e}") from None
    return loads(text, str(p))


def _fail(file: str, node: Any, key: Any, message: str) -> ManifestError:
    line, col = _line(node, key)
    return ManifestError(file, line, col, message)


def _providers(file: str, doc: CommentedMap) -> dict[str, Provider]:
    raw = doc.get("providers")
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _fail(file, doc, "providers", "providers: expected a list of {name, model, ...}")
    out: dict[str, Provider] = {}
    for i, item in enumerate(raw):
        where = f"providers[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise _fail(file, raw, i, f"{where}: expected a mapping with a name")
        name = str(item["name"])
        if name in out:
            raise _fail(file, raw, i, f"{where}: provider name {name!r} appears twice")
        cost = item.get("cost_per_output_token")
        if cost is not None and not (_number(cost) and cost >= 0):
            raise _fail(
                file,
                item,
                "cost_per_output_token",
                f"{where}.cost_per_output_token: "
                f"expected a number (USD per output token), got {cost!r}",
            )
        target = item.get("latency_target_ms")
        if target is not None and not (_number(target) and target > 0):
            raise _fail(
                file,
                item,
                "latency_target_ms",
                f"{where}.latency_target_ms: expected a positive number, got {target!r}",
            )
        tasks = item.get("supported_tasks") or []
        if not isinstance(tasks, list):
            raise _fail(file, item, "supported_tasks", f"{where}.supported_tasks: expected a list")
        out[name] = Provider(
            name=name,
            model=str(item.get("model") or name),
            cost_per_output_token=None if cost is None else float(cost),
            supported_tasks=tuple(str(t) for t in tasks),
            latency_target_ms=None if target is None else float(target),
            routing_mode=None if item.get("routing_mode") is None else str(item["routing_mode"]),
            extra=dict(item),
        )
    return out


def _tasks(file: str, doc: CommentedMap) -> dict[str, Task]:
    providers = {p.get("name") for p in doc.get("providers") or [] if isinstance(p, Mapping)}
    raw = doc.get("tasks")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(file, doc, "tasks", "tasks: expected a mapping of task name to settings")
    out: dict[str, Task] = {}
    for name, spec in raw.items():
        where = f"tasks.{name}"
        if not isinstance(spec, Mapping):
            raise _fail(
                file, raw, name, f"{where}: expected a mapping (chain, success_target, ...)"
            )
        chain = spec.get("chain")
        if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
            raise _fail(file, spec, "chain", f"{where}.chain: expected a list of provider names")
        for i, c in enumerate(chain):
            if c not in providers:
                raise _fail(file, chain, i, f"{where}.chain: {c!r} is not a name under providers")
        target = spec.get("success_target", 0.99)
        if not (_number(target) and 0 < target <= 1):
            raise _fail(
                file,
                spec,
                "success_target",
                f"{where}.success_target: expected a share between 0 and 1, got {target!r}",
            )
        latency = spec.get("latency_target_ms")
        if latency is not None and not (_number(latency) and latency > 0):
            raise _fail(
                file,
                spec,
                "latency_target_ms",
                f"{where}.latency_target_ms: expected a positive number, got {latency!r}",
            )
        allowed = spec.get("allowed_providers") or []
        if not isinstance(allowed, list):
            raise _fail(
                file, spec, "allowed_providers", f"{where}.allowed_providers: expected a list"
            )
        quality = spec.get("min_quality")
        if quality is not None and not (_number(quality) and 0 <= quality <= 1):
            raise _fail(
                file,
                spec,
                "min_quality",
                f"{where}.min_quality: expected a share between 0 and 1, got {quality!r}",
            )
        cap = spec.get("max_output_tokens")
        if cap is not None and not (_number(cap) and cap >= 1):
            raise _fail(
                file,
                spec,
                "max_output_tokens",
                f"{where}.max_output_tokens: expected a positive number, got {cap!r}",
            )
        out[str(name)] = Task(
            experiment=_experiment(file, spec, where, providers),
            name=str(name),
            chain=tuple(chain),
            success_target=float(target),
            latency_target_ms=None if latency is None else float(latency),
            max_output_tokens=None if cap is None else int(cap),
            allowed_providers=tuple(str(a) for a in allowed),
            min_quality=None if quality is None else float(quality),
        )
    return out


def _experiment(
    file: str, spec: Mapping[str, Any], where: str, providers: set[Any]
) -> Experiment | None:
    raw = spec.get("experiment")
    if raw is None:
        return None
    where = f"{where}.experiment"
    if not isinstance(raw, Mapping):
        raise _fail(
            file, spec, "experiment", f"{where}: expected a mapping (id, chain, share, ...)"
        )
    eid, chain, share = raw.get("id"), raw.get("chain"), raw.get("share")
    if not isinstance(eid, str) or not eid:
        raise _fail(file, raw, "id", f"{where}.id: expected the experiment's id")
    if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
        raise _fail(file, raw, "chain", f"{where}.chain: expected a list of provider names")
    for i, c in enumerate(chain):
        if c not in providers:
            raise _fail(file, chain, i, f"{where}.chain: {c!r} is not a name under providers")
    if not (_number(share) and 0 < share <= 0.5):
        raise _fail(file, raw, "share", f"{where}.share: expected a share above 0, at most 0.5")
    requests = raw.get("requests", 0)
    if not (_number(requests) and requests >= 0):
        raise _fail(file, raw, "requests", f"{where}.requests: expected a number of requests")
    baseline = raw.get("baseline", 0)
    if not (_number(baseline) and baseline >= 0):
        raise _fail(file, raw, "baseline", f"{where}.baseline: expected a number of requests")
    return Experiment(
        eid, tuple(chain), float(share), int(requests), str(raw.get("started", "")), float(baseline)
    )


# -- writing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """What a proposal changes: chains per task, prices per provider, tasks added to a
    provider's supported_tasks."""

    chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    costs: Mapping[str, float] = field(default_factory=dict)
    supported: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # task -> the experiment to write (None: remove the task's experiment)
    experiments: Mapping[str, Experiment | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.chains or self.costs or self.supported or self.experiments)


def _plain_float(value: float) -> Any:
    """A float written the way a person would (0.0000025, never 2.5e-06), as ruamel keeps it."""
    text = f"{value:.12f}".rstrip("0")
    text = text + "0" if text.endswith(".") else text
    return YAML(typ="rt").load(f"v: {text}\n")["v"]


def _replace_seq(seq: Any, values: tuple[str, ...]) -> None:
    if isinstance(seq, CommentedSeq):
        del seq[len(values) :]
        for i, v in enumerate(values):
            if i < len(seq):
                seq[i] = v
            else:
                seq.append(v)


def render(m: Manifest, changes: Changes) -> str:
    """The manifest text with ``changes`` applied; the original text when there are none."""
    if not changes:
        return m.text
    doc = _yaml(m.indent).load(m.text)  # a fresh copy: the loaded manifest stays as read
    tasks = doc.get("tasks") or {}
    for task, chain in changes.chains.items():
        spec = tasks[task]
        if isinstance(spec.get("chain"), CommentedSeq):
            _replace_seq(spec["chain"], chain)
        else:
            spec["chain"] = list(chain)
    for task, exp in changes.experiments.items():
        spec = tasks[task]
        if exp is None:
            spec.pop("experiment", None)
            continue
        entry = CommentedMap()
        entry["id"] = exp.id
        entry["chain"] = CommentedSeq(exp.chain)
        entry["chain"].fa.set_flow_style()
        entry["share"] = exp.share
        entry["requests"] = exp.requests
        entry["started"] = exp.started
        entry["baseline"] = round(exp.baseline, 1)
        spec["experiment"] = entry
    by_name: dict[Any, Any] = {
        p.get("name"): p for p in doc.get("providers") or [] if isinstance(p, Mapping)
    }
    for name, cost in changes.costs.items():
        by_name[name]["cost_per_output_token"] = _plain_float(cost)
    for name, added in changes.supported.items():
        entry = by_name[name]
        current = entry.get("supported_tasks")
        if isinstance(current, CommentedSeq):
            current.extend(t for t in added if t not in current)
        else:
            entry["supported_tasks"] = list(added)
    buf = io.StringIO()
    _yaml(m.indent).dump(doc, buf)
    return buf.getvalue()


def unified_diff(old: str, new: str, name: str = "manifest.yaml") -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
