"""The mapped format: any gateway's JSONL or CSV log, described by a small mapping file.

A mapping (YAML, loaded with ruamel's safe loader) names where each attempt field is::

    name: envoy-ai-gateway           # shown as the source of the attempts
    container: jsonl                 # jsonl (default) | json | csv
    skip_unless: gen_ai.request.model  # rows without this field are not LLM calls: skipped
    fields:                          # candidate column: where to find it
      attempt_key: x-request-id      #   a string: one top-level key (dots are part of the key)
      started_at: start_time
      input_tokens: [ai, proxy, usage, prompt_tokens]   # a list: a nested path
      served_model: {first: [gen_ai.response.model, gen_ai.request.model]}  # first non-empty
      provider: {const: openai}      # a constant
    units: {latency_ms: ms, ttft_ms: ms}   # ms | s | us | ns: converted to milliseconds
    flags: {input_includes_cached: true, output_includes_reasoning: true}

Candidate columns are those of :data:`collectors.logs.base.CANDIDATE_COLUMNS`. Times may be
epoch seconds/ms/us/ns or ISO 8601 (detected per value). Every key and literal from the mapping
is escaped before it reaches SQL. The heavy lifting stays in DuckDB: only the top-level keys
the mapping uses are read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from collectors import yamlguard
from collectors.errors import ConfigError
from collectors.logs.base import CANDIDATE_COLUMNS, SqlFormat, sql_ident, sql_literal

UNITS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "ns": 0.000001}
MAPPINGS_DIR = Path(__file__).with_name("mappings")


def _json_path(keys: list[str]) -> str:
    return "$" + "".join(
        "." + '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys
    )


@dataclass(frozen=True)
class MappedFormat(SqlFormat):
    name = "mapped"
    family = "mapped"
    csv_ok = True
    source_name: str = "mapped"
    fields: dict[str, Any] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    skip_unless: Any = None
    digest: str = ""

    def _expr(self, spec: Any, where: str) -> str:
        if isinstance(spec, str):
            return f"{sql_ident(spec)}::VARCHAR"
        if isinstance(spec, list) and spec and all(isinstance(k, str) for k in spec):
            if len(spec) == 1:
                return f"{sql_ident(spec[0])}::VARCHAR"
            return f"json_extract_string({sql_ident(spec[0])}, {sql_literal(_json_path(spec[1:]))})"
        if isinstance(spec, dict) and set(spec) == {"first"} and isinstance(spec["first"], list):
            parts = [f"nullif({self._expr(s, where)}, '')" for s in spec["first"]]
            return f"coalesce({', '.join(parts)})"
        if isinstance(spec, dict) and set(spec) == {"const"}:
            value = spec["const"]
            return (
                "NULL"
                if value is None
                else sql_literal(str(value).lower() if isinstance(value, bool) else str(value))
            )
        raise ConfigError(
            self.source_name, where, "a key, a list of keys, {first: [...]} or {const: v}", spec
        )

    def _top_keys(self, spec: Any) -> list[str]:
        if isinstance(spec, str):
            return [spec]
        if isinstance(spec, list) and spec:
            return [spec[0]]
        if isinstance(spec, dict) and "first" in spec:
            return [k for s in spec["first"] for k in self._top_keys(s)]
        return []

    def read_columns(self) -> dict[str, str]:
        keys: list[str] = []
        for spec in [*self.fields.values(), self.skip_unless]:
            for k in self._top_keys(spec):
                if k not in keys:
                    keys.append(k)
        return {k: "VARCHAR" for k in keys}

    def select(self) -> str:
        cols = []
        for c in CANDIDATE_COLUMNS:
            if c in self.fields:
                expr = self._expr(self.fields[c], f"fields.{c}")
                if c in self.units:
                    factor = UNITS[self.units[c]]
                    expr = f"(TRY_CAST({expr} AS DOUBLE) * {factor!r})::VARCHAR"
            elif c in self.flags:
                expr = sql_literal("true" if self.flags[c] else "false")
            elif c == "format_reject" and self.skip_unless is not None:
                test = self._expr(self.skip_unless, "skip_unless")
                expr = f"CASE WHEN nullif(trim({test}), '') IS NULL THEN 'skip' END"
            else:
                expr = "NULL"
            cols.append(f"{expr} AS {c}")
        return "SELECT source_line, " + ",\n".join(cols) + "\nFROM src"


def load_mapping(path: str | Path) -> MappedFormat:
    """Read and check a mapping file; a mistake is one ConfigError naming file and key."""
    p = Path(path)
    if not p.exists() and (MAPPINGS_DIR / f"{p.name}").exists():
        p = MAPPINGS_DIR / p.name
    if not p.exists() and (MAPPINGS_DIR / f"{p.name}.yaml").exists():
        p = MAPPINGS_DIR / f"{p.name}.yaml"
    where = str(p)
    try:
        raw = yamlguard.read_bytes(p)  # a regular file only, never more than the limit
        yamlguard.check(raw)
        doc = YAML(typ="safe", pure=True).load(raw)
    except yamlguard.YamlLimitError as e:
        line = f"line {e.line}: " if e.line else ""
        raise ConfigError(where, "(file)", "a YAML document within limits", f"{line}{e}") from None
    except OSError as e:
        raise ConfigError(where, "(file)", "a readable mapping file", e.strerror) from None
    except YAMLError as e:
        raise ConfigError(where, "(file)", "valid YAML", str(e).splitlines()[0]) from None
    if not isinstance(doc, dict):
        raise ConfigError(where, "(file)", "a mapping with name, fields")
    unknown = set(doc) - {"name", "container", "fields", "units", "flags", "skip_unless"}
    if unknown:
        raise ConfigError(
            where, sorted(unknown)[0], "one of name, container, fields, units, flags, skip_unless"
        )
    fields = doc.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise ConfigError(where, "fields", "a table of candidate column: source key")
    for k in fields:
        if k not in CANDIDATE_COLUMNS or k == "format_reject":
            raise ConfigError(
                where, f"fields.{k}", "a known field: " + ", ".join(CANDIDATE_COLUMNS[:-1])
            )
    for need in ("started_at",):
        if need not in fields:
            raise ConfigError(where, f"fields.{need}", "a source key for the start time")
    units = doc.get("units") or {}
    if not isinstance(units, dict) or any(u not in UNITS for u in units.values()):
        raise ConfigError(where, "units", "field: ms|s|us|ns", units)
    flags = doc.get("flags") or {}
    if not isinstance(flags, dict) or any(not isinstance(v, bool) for v in flags.values()):
        raise ConfigError(where, "flags", "field: true|false", flags)
    container = doc.get("container", "jsonl")
    if container not in ("jsonl", "json", "csv"):
        raise ConfigError(where, "container", "jsonl|json|csv", container)
    name = doc.get("name", p.stem)
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(where, "name", "letters, digits, - and _", name)
    fmt = MappedFormat(
        container=container,
        source_name=name,
        fields=fields,
        units=units,
        flags=flags,
        skip_unless=doc.get("skip_unless"),
        digest=hashlib.sha256(raw).hexdigest()[:12],
    )
    fmt.select()  # raises ConfigError on a field spec it cannot use
    return fmt
