"""Only safe loading of untrusted text: YAML through ruamel's safe or round-trip loader, never a
Python-object tag; no pickle, no eval or exec, no shell.

Two halves. A scan of the source (``ast``, so comments and strings do not count) fails on any
unsafe use in app/, collectors/ and benchmarks/; it is checked against snippets of every rule,
so a rule that stopped matching fails too. Then every place that reads a user's YAML (routing
manifest, LiteLLM base config, mapping file, price overrides) is fed Python-object tags that
would run a command if constructed: each is refused, and the command never runs.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("app", "collectors", "benchmarks")

UNSAFE_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "jsonpickle",
}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}
# PyYAML / ruamel names that construct arbitrary Python objects
UNSAFE_YAML_NAMES = {
    "Loader",
    "UnsafeLoader",
    "FullLoader",
    "CLoader",
    "CUnsafeLoader",
    "CFullLoader",
    "Constructor",
    "UnsafeConstructor",
    "FullConstructor",
    "unsafe_load",
    "unsafe_load_all",
    "full_load",
    "full_load_all",
}
SAFE_YAML_TYPS = {"safe", "rt"}
SAFE_PYYAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _yaml_module(name: str) -> bool:
    return name in ("yaml", "ruamel.yaml") or name.startswith(("yaml.", "ruamel.yaml."))


def unsafe_uses(source: str, where: str = "<snippet>") -> list[str]:
    """Every unsafe use in ``source``, as "where:line: what"."""
    found: list[str] = []

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{where}:{getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in UNSAFE_MODULES:
                    hit(node, f"import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in UNSAFE_MODULES:
                hit(node, f"from {node.module} import ...")
            if _yaml_module(node.module):
                for a in node.names:
                    if a.name in UNSAFE_YAML_NAMES or a.name in ("load", "load_all"):
                        hit(node, f"from {node.module} import {a.name}")
        elif isinstance(node, ast.Attribute):
            base = _dotted(node.value)
            if _yaml_module(base) and node.attr in UNSAFE_YAML_NAMES:
                hit(node, f"{base}.{node.attr}")
            if node.attr == "read_pickle":
                hit(node, f"{base}.read_pickle")
            if base == "os" and node.attr in ("system", "popen"):
                hit(node, f"os.{node.attr}")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            if isinstance(node.func, ast.Name) and name in UNSAFE_BUILTINS:
                hit(node, f"{name}()")
            if name in ("yaml.load", "yaml.load_all", "ruamel.yaml.load", "ruamel.yaml.load_all"):
                loader = kw.get("Loader", node.args[1] if len(node.args) > 1 else None)
                if _dotted(loader).rpartition(".")[2] not in SAFE_PYYAML_LOADERS:
                    hit(node, f"{name}() without a safe Loader")
            if name.rpartition(".")[2] == "YAML" and ("typ" in kw or node.args):
                typ = kw.get("typ", node.args[0] if node.args else None)
                value = typ.value if isinstance(typ, ast.Constant) else None
                if value not in SAFE_YAML_TYPS:
                    hit(node, f"YAML(typ={ast.unparse(typ) if typ else None})")
            if isinstance(kw.get("shell"), ast.Constant) and kw["shell"].value is True:
                hit(node, f"{name}(shell=True)")
            if isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value:
                hit(node, f"{name}(allow_pickle=True)")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle",
        "import marshal as m",
        "from shelve import open",
        "import yaml\nyaml.load(text)",
        "import yaml\nyaml.load(text, Loader=yaml.Loader)",
        "import yaml\nyaml.load(text, yaml.FullLoader)",
        "import yaml\nyaml.unsafe_load(text)",
        "from yaml import Loader",
        "from ruamel.yaml import YAML\nYAML(typ='unsafe').load(text)",
        "from ruamel.yaml import YAML\nYAML(typ='base')",
        "from ruamel.yaml import YAML\nYAML(typ=kind)",
        "import ruamel.yaml\nruamel.yaml.YAML(typ='unsafe')",
        "from ruamel.yaml.constructor import Constructor",
        "eval(expr)",
        "exec(code)",
        "compile(src, 'f', 'exec')",
        "__import__(name)",
        "import pandas as pd\npd.read_pickle(path)",
        "import numpy as np\nnp.load(path, allow_pickle=True)",
        "import subprocess\nsubprocess.run(cmd, shell=True)",
        "import os\nos.system(cmd)",
    ],
)
def test_the_scan_catches_each_unsafe_use(snippet: str) -> None:
    assert unsafe_uses(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "from ruamel.yaml import YAML\nYAML(typ='safe', pure=True).load(text)",
        "from ruamel.yaml import YAML\nYAML(typ='rt').load(text)",
        "from ruamel.yaml import YAML\nYAML().load(text)",
        "import yaml\nyaml.safe_load(text)",
        "import yaml\nyaml.load(text, Loader=yaml.SafeLoader)",
        "import re\nre.compile('x')",
        "con.execute('SELECT 1')",
        "import subprocess\nsubprocess.run(['ls'], shell=False)",
        "# eval(x) in a comment\ns = 'pickle.loads(x)'",
    ],
)
def test_the_scan_passes_safe_code(snippet: str) -> None:
    assert unsafe_uses(snippet) == []


def test_no_unsafe_loading_anywhere_in_the_source() -> None:
    files = [p for d in SCANNED for p in sorted((ROOT / d).rglob("*.py"))]
    assert len(files) > 50  # the scan really reads the code
    found = [u for p in files for u in unsafe_uses(p.read_text("utf-8"), str(p.relative_to(ROOT)))]
    assert not found, "\n".join(found)


# -- behaviour: a YAML file cannot make RouteLedger run code ---------------------------------------


def evil(marker: Path) -> list[str]:
    """Documents that would run ``touch marker`` if a loader constructed Python objects."""
    return [
        f'!!python/object/apply:os.system ["touch {marker}"]',
        f'!!python/object/new:subprocess.Popen [["touch", "{marker}"]]',
        f'!!python/object/apply:subprocess.call [["touch", "{marker}"]]',
        "!!python/name:os.system",
    ]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def test_a_manifest_with_python_tags_is_refused(marker: Path) -> None:
    from app.tuner import manifest

    for payload in evil(marker):
        with pytest.raises(manifest.ManifestError, match="not allowed"):
            manifest.loads(f"routing: {{}}\nproviders: []\ntasks: {{}}\nextra: {payload}\n")
    assert not marker.exists()


def test_a_litellm_base_config_with_python_tags_runs_nothing(marker: Path) -> None:
    from app.tuner import exports, manifest

    m = manifest.loads("routing: {}\nproviders: []\ntasks: {}\n")
    for payload in evil(marker):
        try:
            out = exports.litellm(m, base=f"model_list: []\ngeneral_settings: {payload}\n")
        except manifest.ManifestError:
            continue
        assert "!!python" in out  # kept as inert tagged text, never constructed
    assert not marker.exists()


def test_a_mapping_file_with_python_tags_is_refused(marker: Path, tmp_path: Path) -> None:
    from collectors.errors import ConfigError
    from collectors.logs import mapped

    for i, payload in enumerate(evil(marker)):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(f"name: {payload}\nfields: {{started_at: t}}\n", encoding="utf-8")
        with pytest.raises(ConfigError):
            mapped.load_mapping(path)
    assert not marker.exists()


def test_price_overrides_with_python_tags_are_refused(marker: Path, tmp_path: Path) -> None:
    from collectors.errors import ConfigError
    from collectors.prices import overrides

    for i, payload in enumerate(evil(marker)):
        path = tmp_path / f"o{i}.yaml"
        path.write_text(f"prices:\n  - provider: {payload}\n    model: m\n", encoding="utf-8")
        with pytest.raises(ConfigError):
            overrides.load(path, datetime.now(UTC))
    assert not marker.exists()
