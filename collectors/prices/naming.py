"""Canonical model identity, written once: every price source and the matcher use it.

A price point is identified by ``(provider, model_id)``:

* ``provider`` is a slug from :data:`PROVIDER_ALIASES` (``openai``, ``anthropic``, ``google``,
  ``deepseek``, ``xai``, ``bedrock``, ``azure``, ``vertex_ai``, ...). Hosting clouds keep their own
  slug because they have their own ids and prices (``bedrock`` / ``anthropic.claude-...-v1:0``).
* ``model_id`` is that provider's API id, spelled the way the provider spells it: Anthropic uses
  dashes between version digits (``claude-sonnet-4-5``), OpenAI and Google keep dots
  (``gpt-4.1``, ``gemini-2.5-pro``).

OpenRouter ids (``author/slug[:suffix]``) map onto the author's id space when the author runs
its own API and OpenRouter's slug is that API id after :func:`canonical_model` (the authors in
:data:`OPENROUTER_FIRST_PARTY`). Everything else (open-weight models served by many hosts,
``:free``/``:beta``/``:extended`` endpoints, ``~`` aliases, ``openrouter/auto``) stays in
OpenRouter's own space: provider ``openrouter``, model id = the full OpenRouter id. ``:batch``
on a first-party model is the batch variant of that model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVIDER_ALIASES: dict[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "chatgpt": "openai",
    "azure": "azure",
    "azure_ai": "azure_ai",  # Azure AI Foundry: own ids and prices, not Azure OpenAI
    "azure_openai": "azure",
    "anthropic": "anthropic",
    "claude": "anthropic",
    "google": "google",
    "gemini": "google",
    "google_ai_studio": "google",
    "google-ai-studio": "google",
    "vertex_ai": "vertex_ai",
    "vertex": "vertex_ai",
    "google-vertex": "vertex_ai",
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "aws": "bedrock",
    "amazon-bedrock": "bedrock",
    "amazon_bedrock": "bedrock",
    "aws_bedrock": "bedrock",
    "aws.bedrock": "bedrock",
    "gcp.vertex_ai": "vertex_ai",
    "gcp.gemini": "google",
    "az.ai.openai": "azure",
    "deepseek": "deepseek",
    "xai": "xai",
    "x-ai": "xai",
    "mistral": "mistral",
    "mistralai": "mistral",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "groq": "groq",
    "together": "together_ai",
    "together_ai": "together_ai",
    "fireworks": "fireworks_ai",
    "fireworks_ai": "fireworks_ai",
    "fireworks-ai": "fireworks_ai",
    "perplexity": "perplexity",
    "moonshot": "moonshot",
    "moonshotai": "moonshot",
    "openrouter": "openrouter",
    "deepinfra": "deepinfra",
    "cerebras": "cerebras",
    "meta": "meta",
    "meta-llama": "meta",
    "zai": "zai",
    "z-ai": "zai",
}
"""Spellings of a provider in logs, LiteLLM, genai-prices and OpenRouter -> canonical slug."""

OPENROUTER_FIRST_PARTY: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "deepseek": "deepseek",
    "x-ai": "xai",
}
"""OpenRouter authors whose slugs are their own API ids (after :func:`canonical_model`)."""

_DIGIT_DOT = re.compile(r"(?<=\d)\.(?=\d)")
_ANTHROPIC_DOT_ZERO = re.compile(r"^(claude-(?:opus|sonnet|haiku)-\d+)-0$")


@dataclass(frozen=True, slots=True)
class Canonical:
    provider: str
    model_id: str
    variant: str = "standard"


def canonical_provider(name: str | None) -> str | None:
    """The canonical slug of a provider name (``"Anthropic"`` -> ``anthropic``), None if empty."""
    if name is None:
        return None
    slug = name.strip().lower().replace(" ", "_")
    if not slug:
        return None
    if slug.startswith(
        "vertex_ai"
    ):  # LiteLLM: vertex_ai-language-models, vertex_ai-anthropic_models
        return "vertex_ai"
    return PROVIDER_ALIASES.get(slug, slug)


def canonical_model(provider: str, model: str) -> str:
    """``model`` spelled the way ``provider``'s API spells it (lower case, provider's separators)."""
    model = model.strip().lower()
    if provider == "anthropic":
        model = _DIGIT_DOT.sub("-", model)  # claude-sonnet-4.5 -> claude-sonnet-4-5
        model = _ANTHROPIC_DOT_ZERO.sub(r"\1", model)  # claude-opus-4-0 is claude-opus-4
    return model


def from_openrouter(openrouter_id: str) -> Canonical:
    """Canonical identity of an OpenRouter model id (see the module docstring)."""
    full = openrouter_id.strip().lower()
    if full.startswith("openrouter/") and full.count("/") >= 2:
        full = full[len("openrouter/") :]  # LiteLLM spelling: openrouter/anthropic/claude-...
    base, _, suffix = full.partition(":")
    author, slash, slug = base.partition("/")
    provider = OPENROUTER_FIRST_PARTY.get(author)
    if full.startswith("~") or not slash or not slug or provider is None:
        return Canonical("openrouter", full)
    if suffix == "batch":
        return Canonical(provider, canonical_model(provider, slug), "batch")
    if suffix:
        return Canonical("openrouter", full)
    return Canonical(provider, canonical_model(provider, slug))


# --- Anthropic marketing names ------------------------------------------------------------

_MARKETING = re.compile(
    r"^claude\s+(?P<family>opus|sonnet|haiku|instant)\s+(?P<version>\d+(?:\.\d+)?)$", re.I
)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_PARENS = re.compile(r"\s*\([^)]*\)\s*")


def clean_cell(text: str) -> str:
    """Cell text without markdown links' targets, parenthesised remarks and extra spaces."""
    text = _LINK.sub(r"\1", text)
    text = _PARENS.sub(" ", text)
    return " ".join(text.replace("*", "").split())


def anthropic_model_id(marketing_name: str) -> str | None:
    """``"Claude Sonnet 4.5"`` -> ``claude-sonnet-4-5``; ``"Claude Haiku 3.5"`` -> ``claude-3-5-haiku``.

    Claude 4 and later put the family first in the API id; Claude 3.x put the version first.
    Remarks such as ``([deprecated](...))`` are dropped. None when it is not a Claude model name.
    """
    name = clean_cell(marketing_name)
    match = _MARKETING.match(name)
    if not match:
        return None
    family = match["family"].lower()
    version = match["version"].replace(".", "-")
    major = int(version.split("-")[0])
    if major >= 4:
        return f"claude-{family}-{version}"
    return f"claude-{version}-{family}"


# --- matching helpers -------------------------------------------------------------------

PREFIX_PROVIDERS = (
    "openrouter",
    "bedrock_converse",
    "bedrock",
    "azure_ai",
    "azure",
    "vertex_ai",
    "anthropic",
    "openai",
    "gemini",
    "google",
    "deepseek",
    "xai",
    "x-ai",
    "groq",
    "together_ai",
    "fireworks_ai",
    "mistral",
    "cohere",
    "perplexity",
    "deepinfra",
    "text-completion-openai",
)
"""Prefixes a gateway puts before a model name (``openrouter/``, ``bedrock/``, ...)."""

_SUFFIXES = (
    re.compile(r"-\d{4}-\d{2}-\d{2}$"),  # gpt-4o-mini-2024-07-18
    re.compile(r"-20\d{6}$"),  # claude-sonnet-4-5-20250929
    re.compile(r"@(?:\d{3,8}|latest)$"),  # vertex: claude-3-5-sonnet@20240620, gemini-pro@001
    re.compile(r"-v\d+(?::\d+)?$"),  # bedrock: ...-v1:0, ...-v2
    re.compile(r"-\d{3,4}$"),  # gemini-1.5-pro-002, deepseek-v4-pro-0813, mistral-large-2411
    re.compile(r"-latest$"),
)
_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|ap|global|us-gov|au|jp|ca)\.")


def split_prefix(logged: str) -> tuple[str | None, str]:
    """``"openrouter/anthropic/claude-x"`` -> ``("openrouter", "anthropic/claude-x")``."""
    head, slash, rest = logged.strip().partition("/")
    if slash and head.lower() in PREFIX_PROVIDERS and rest:
        return canonical_provider(head), rest
    return None, logged.strip()


def version_variants(model: str) -> list[str]:
    """Progressively shorter spellings of ``model`` without date/version suffixes, in order."""
    out: list[str] = []
    current = model.strip().lower()
    for _ in range(4):
        shorter = current
        for pattern in _SUFFIXES:
            shorter = pattern.sub("", shorter)
            if shorter != current:
                break
        if shorter == current or not shorter:
            break
        out.append(shorter)
        current = shorter
    return out


def bedrock_native(model: str) -> tuple[str, str] | None:
    """``"us.anthropic.claude-3-5-sonnet-20240620-v1:0"`` -> ``("anthropic", "claude-3-5-sonnet-...")``."""
    bare = _BEDROCK_REGION.sub("", model.strip().lower())
    vendor, dot, rest = bare.partition(".")
    if not dot or not rest:
        return None
    provider = canonical_provider(vendor)
    if provider not in {"anthropic", "openai", "deepseek", "mistral", "cohere", "meta"}:
        return None
    return provider, canonical_model(provider, rest)


# --- model identity: how the pages, the marts and the tuner name a logged model -----------

_SNAPSHOT = re.compile(
    r"^(?P<base>.+?)(?:-(?P<iso>\d{4}-\d{2}-\d{2})|-(?P<compact>20\d{6})|@(?P<at>\d{8}|latest)"
    r"|-(?P<latest>latest))$"
)


@dataclass(frozen=True, slots=True)
class Identity:
    """A logged model as every surface names it: ``provider`` the canonical slug (None when
    neither the log nor the name says), ``model`` the model without its dated snapshot,
    ``snapshot`` the snapshot the log named (``2024-07-18``), kept as detail."""

    provider: str | None
    model: str
    snapshot: str | None = None


def fold_snapshot(model: str) -> tuple[str, str | None]:
    """``gpt-4o-mini-2024-07-18`` -> ``("gpt-4o-mini", "2024-07-18")``; dated snapshots only
    (``-YYYY-MM-DD``, ``-YYYYMMDD``, ``@YYYYMMDD``, ``-latest``): a numbered version such as
    ``gemini-1.5-pro-002`` or ``mistral-large-2411`` is a model of its own."""
    m = _SNAPSHOT.match(model)
    if m is None:
        return model, None
    snap = m["iso"] or m["compact"] or m["at"] or m["latest"]
    return m["base"], snap


_SLUGS = frozenset(PROVIDER_ALIASES.values())


def _known_slug(name: str | None) -> str | None:
    """The canonical slug of a provider spelling this module knows (``gemini`` -> ``google``);
    any other name as logged (lower case, trimmed), never rewritten further."""
    if name is None or not name.strip():
        return None
    slug = canonical_provider(name)
    return slug if slug in _SLUGS else name.strip().lower()


def identity(
    provider: str | None, logged_model: str, priced_provider: str | None = None
) -> Identity:
    """The canonical identity of a logged (provider, model): the provider slug from the log, else
    from a gateway prefix of the name (``openai/gpt-4o-mini``), else the provider whose price
    matched; the name lower case, spelled the provider's way, without prefix or dated snapshot.
    ``gpt-4o-mini``, ``openai/gpt-4o-mini`` and ``gpt-4o-mini-2024-07-18`` logged by an OpenAI
    deployment are all ``openai`` / ``gpt-4o-mini``."""
    prefix, rest = split_prefix(logged_model)
    slug = _known_slug(provider) or prefix or _known_slug(priced_provider)
    name = rest.strip().lower()
    if prefix == "openrouter" or slug == "openrouter":
        return Identity(slug, name)  # OpenRouter's own id space: author/slug, kept whole
    if slug is not None:
        name = canonical_model(slug, name)
    base, snap = fold_snapshot(name)
    return Identity(slug, base or name, snap)
