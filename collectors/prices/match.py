"""Logged model names -> the priced canonical model, with the rule that matched and why.

For every distinct (provider, served_model, requested_model, base_model) in ``raw_attempts`` the
:class:`Matcher` tries, in order, and keeps the first candidate that has a price:

1. ``alias``: ``prices.aliases`` in the config (logged name -> ``provider/model``); an alias to an
   unpriced model is reported as unmatched rather than second-guessed;
2. ``exact``: the logged provider and name, spelled canonically (:mod:`naming`);
3. ``prefix``: a gateway prefix removed (``openrouter/``, ``bedrock/``, ``azure/``, ...), OpenRouter
   ids mapped onto the author's id space; ``openrouter_id`` for a bare ``author/slug``;
4. ``base_model``: LiteLLM's logged base model, through rules 2-3;
5. ``version_suffix``: date/version suffixes removed (``-2024-07-18``, ``-20250929``, ``@001``,
   ``-v1:0``);
6. ``catalog_matcher``: genai-prices' model matcher (:func:`catalog.match`);
7. ``model_only``: the name priced under exactly one provider, when the logged provider is unknown
   or has no price list at all;
8. ``provider_model``: a Bedrock id priced at the model maker's list price
   (``us.anthropic.claude-...-v1:0`` -> ``anthropic``), when Bedrock itself has no price;
9. ``requested_model``: the requested name (model group), through rules 2-6.

Nothing matched: ``priced_model_id`` stays NULL and ``reason`` says what was tried.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from collectors.prices import catalog, naming

FIRST_PARTY = ("openai", "anthropic", "google", "deepseek", "xai", "mistral", "cohere", "meta")


@dataclass(frozen=True)
class Logged:
    provider: str | None
    served_model: str
    requested_model: str | None = None
    base_model: str | None = None


@dataclass(frozen=True)
class Match:
    logged: Logged
    priced_provider: str | None
    priced_model_id: str | None
    match_rule: str
    reason: str


class Matcher:
    def __init__(self, priced: Iterable[tuple[str, str]], aliases: Mapping[str, str]) -> None:
        self.priced = set(priced)
        self.by_model: dict[str, set[str]] = defaultdict(set)
        for provider, model_id in self.priced:
            self.by_model[model_id].add(provider)
        self.providers = {p for p, _ in self.priced}
        self.aliases = {k.strip().lower(): v for k, v in aliases.items()}

    def resolve(self, logged: Logged) -> Match:
        hint = naming.canonical_provider(logged.provider)
        for name in (logged.served_model, logged.requested_model):
            if name and name.strip().lower() in self.aliases:
                return self._alias(logged, name, self.aliases[name.strip().lower()])
        found = self._name(hint, logged.served_model, "")
        if found is None and logged.base_model:
            found = self._name(hint, logged.base_model, "base_model")
        if found is None:
            found = self._loose(hint, logged.served_model)
        if (
            found is None
            and logged.requested_model
            and logged.requested_model != logged.served_model
        ):
            found = self._name(hint, logged.requested_model, "requested_model")
            if found is not None and hint and found[0] != hint:
                found = None  # a fallback to another provider's model is not the model asked for
        if found is None:
            tried = f"{logged.served_model!r}" + (
                f", base model {logged.base_model!r}" if logged.base_model else ""
            )
            reason = (
                f"no price for {tried} (provider {hint or 'not logged'}) in any price source; "
                "add an alias in prices.aliases or a price override"
            )
            return Match(logged, None, None, "unmatched", reason)
        provider, model_id, rule, why = found
        return Match(logged, provider, model_id, rule, why)

    # -- rules ---------------------------------------------------------------------------------

    def _alias(self, logged: Logged, name: str, target: str) -> Match:
        head, slash, rest = target.strip().partition("/")
        if slash and rest:
            provider = naming.canonical_provider(head) or head
            candidates = [(provider, naming.canonical_model(provider, rest))]
            if provider == "openrouter":
                ident = naming.from_openrouter(rest)
                candidates.insert(0, (ident.provider, ident.model_id))
        else:
            candidates = [
                (p, target.strip().lower())
                for p in sorted(self.by_model.get(target.strip().lower(), ()))
            ]
        for provider, model_id in candidates:
            if (provider, model_id) in self.priced:
                return Match(
                    logged, provider, model_id, "alias", f"prices.aliases: {name!r} = {target!r}"
                )
        reason = f"prices.aliases maps {name!r} to {target!r}, which no price source prices"
        return Match(logged, None, None, "unmatched", reason)

    def _direct(self, hint: str | None, name: str) -> Iterator[tuple[str, str, str]]:
        """(provider, model_id, rule) spellings of one logged name, most literal first."""
        name = name.strip()
        if hint:
            yield hint, naming.canonical_model(hint, name), "exact"
        prefix, rest = naming.split_prefix(name)
        if prefix == "openrouter":
            ident = naming.from_openrouter(rest)
            yield ident.provider, ident.model_id, "prefix"
            yield "openrouter", rest.lower(), "prefix"
        elif prefix is not None:
            yield prefix, naming.canonical_model(prefix, rest), "prefix"
            inner, inner_rest = naming.split_prefix(rest)
            if inner is not None:
                yield inner, naming.canonical_model(inner, inner_rest), "prefix"
        elif "/" in name:
            ident = naming.from_openrouter(name)
            yield ident.provider, ident.model_id, "openrouter_id"
        elif hint is None and (owner := self._owner(name.lower())) is not None:
            yield owner, naming.canonical_model(owner, name), "model_only"

    def _owner(self, model_id: str) -> str | None:
        """The one provider pricing ``model_id`` (a first-party one when several do)."""
        owners = self.by_model.get(model_id, set())
        first = [p for p in FIRST_PARTY if p in owners]
        if len(first) == 1:
            return first[0]
        return next(iter(owners)) if len(owners) == 1 else None

    def _name(self, hint: str | None, name: str, rule: str) -> tuple[str, str, str, str] | None:
        spellings = list(self._direct(hint, name))
        for provider, model_id, how in spellings:
            if (provider, model_id) in self.priced:
                return provider, model_id, rule or how, _why(name, provider, model_id, rule or how)
        for provider, model_id, _ in spellings:
            for shorter in naming.version_variants(model_id):
                if (provider, shorter) in self.priced:
                    return (
                        provider,
                        shorter,
                        rule or "version_suffix",
                        f"{name!r} without its version suffix is {provider}/{shorter}",
                    )
        found = catalog.match(name, hint)
        if found is not None and (found.provider, found.model_id) in self.priced:
            how = rule or "catalog_matcher"
            why = (
                f"genai-prices matches {name!r} to {found.catalog_provider}/{found.catalog_model}"
                f" = {found.provider}/{found.model_id}"
            )
            return found.provider, found.model_id, how, why
        return None

    def _loose(self, hint: str | None, name: str) -> tuple[str, str, str, str] | None:
        bare = naming.split_prefix(name)[1].strip().lower()
        if hint is None or hint not in self.providers:
            provider = self._owner(bare)
            if provider is not None:
                why = f"provider {hint or 'not logged'} has no price list; {bare!r} is {provider}/{bare}"
                return provider, bare, "model_only", why
        native = naming.bedrock_native(bare)
        if native is not None and hint in (None, "bedrock"):
            provider, model_id = native
            for candidate in (model_id, *naming.version_variants(model_id)):
                if (provider, candidate) in self.priced:
                    why = f"no Bedrock price for {name!r}; priced at {provider}'s list price ({candidate})"
                    return provider, candidate, "provider_model", why
        return None


def _why(name: str, provider: str, model_id: str, rule: str) -> str:
    if rule == "exact":
        return f"priced as {provider}/{model_id}"
    if rule == "base_model":
        return f"LiteLLM base model {name!r} is {provider}/{model_id}"
    if rule == "requested_model":
        return f"requested model {name!r} is {provider}/{model_id}"
    if rule == "model_only":
        return f"provider not logged; {name!r} is priced as {provider}/{model_id}"
    return f"{name!r} is {provider}/{model_id}"


# --- warehouse ----------------------------------------------------------------------------


def rebuild_matches(
    con: duckdb.DuckDBPyConnection, aliases: Mapping[str, str], now: datetime
) -> tuple[int, int]:
    """Re-resolve every distinct logged model into ``model_matches``; (matched, unmatched)."""
    priced = con.execute("SELECT DISTINCT provider, model_id FROM price_versions").fetchall()
    matcher = Matcher(((str(p), str(m)) for p, m in priced), aliases)
    logged = con.execute(
        "SELECT DISTINCT provider, served_model, requested_model, base_model FROM raw_attempts"
    ).fetchall()
    rows = []
    for provider, served, requested, base in logged:
        m = matcher.resolve(Logged(provider, served, requested, base))
        ident = naming.identity(provider, served, m.priced_provider)
        rows.append(
            [
                provider,
                served,
                requested,
                base,
                m.priced_provider,
                m.priced_model_id,
                m.match_rule,
                m.reason,
                now,
                ident.provider,
                ident.model,
                ident.snapshot,
            ]
        )
    con.execute("DELETE FROM model_matches")
    if rows:
        con.executemany(
            "INSERT INTO model_matches (provider, logged_model, requested_model, base_model, "
            "priced_provider, priced_model_id, match_rule, reason, matched_at, model_provider, "
            "model, model_snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    unmatched = sum(1 for r in rows if r[5] is None)
    return len(rows) - unmatched, unmatched


UNMATCHED_SQL = """
SELECT m.provider, m.logged_model, m.requested_model, m.base_model, m.reason,
    count(*) AS attempts,
    count(DISTINCT a.logical_request_id) AS requests,
    coalesce(sum(a.input_tokens), 0) AS input_tokens,
    coalesce(sum(a.output_tokens), 0) AS output_tokens,
    min(a.started_at) AS first_seen,
    max(a.started_at) AS last_seen
FROM model_matches m
JOIN raw_attempts a
    ON a.provider IS NOT DISTINCT FROM m.provider
    AND a.served_model = m.logged_model
    AND a.requested_model IS NOT DISTINCT FROM m.requested_model
    AND a.base_model IS NOT DISTINCT FROM m.base_model
WHERE m.priced_model_id IS NULL
GROUP BY ALL
ORDER BY attempts DESC, m.logged_model
"""


def unmatched(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Unmatched logged models with how much traffic they carry."""
    cursor = con.execute(UNMATCHED_SQL)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
