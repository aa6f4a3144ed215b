"""Rebuild the price history: versions and reviews from every observation and decision.

:func:`rebuild` finds, per source and model, the *islands* of its history in SQL (runs of
consecutive successful refreshes with the same price list), derives validity periods and reviews
from them in Python (:mod:`collectors.prices.versions`), applies negotiated discounts, rewrites
``price_versions``, files new pending reviews and marks pending ones that no longer apply
``superseded``. Deterministic: the same observations and decisions give the same tables.

One input besides those: a source's *first reading* of a model is judged against the price in
force from a lower-precedence source in the ``price_versions`` this rebuild replaces (what was
in force when it was read). The judgement then persists: an applied reading has versions that
say so, a held one has its review. So on a warehouse with no price in force yet, the sources
read together are all applied; once the catalog (or any source) is in force, a higher source's
new price that differs beyond ``prices.review_factor`` waits for ``prices confirm``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import duckdb
import pyarrow as pa

from collectors.prices.common import PRICE_FIELDS
from collectors.prices.versions import (
    SOURCE_RANK,
    History,
    Island,
    Review,
    SeriesKey,
    Version,
    apply_discounts,
    derive,
)

_PREVIOUS = """
SELECT source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc,
    window_end_utc, weekdays_only, input_per_mtok, cached_input_per_mtok,
    cache_write_5m_per_mtok, cache_write_1h_per_mtok, output_per_mtok, reasoning_per_mtok,
    per_request, per_image, discount_pct, valid_from, valid_to, first_observed_at,
    last_observed_at
FROM price_versions
"""  # the columns of PRICE_FIELDS, in its order

_REFRESHES = """
SELECT refresh_id, observed_at, row_number() OVER (ORDER BY observed_at, refresh_id) AS n
FROM price_refreshes WHERE source = ? AND status = 'ok'
"""

_ISLANDS = """
CREATE OR REPLACE TEMP TABLE _price_islands AS
WITH refs AS (
    SELECT refresh_id, observed_at, row_number() OVER (ORDER BY observed_at, refresh_id) AS n
    FROM price_refreshes WHERE source = $source AND status = 'ok'
),
per_model AS (
    SELECT refresh_id, provider, model_id,
        md5(string_agg(
            coalesce(variant, '~') || '|' || coalesce(CAST(tier_min_prompt_tokens AS VARCHAR), '~')
            || '|' || coalesce(CAST(window_start_utc AS VARCHAR), '~')
            || '|' || coalesce(CAST(window_end_utc AS VARCHAR), '~')
            || '|' || CAST(weekdays_only AS VARCHAR)
            || '|' || coalesce(CAST(valid_from AS VARCHAR), '~')
            || '|' || coalesce(CAST(input_per_mtok AS VARCHAR), '~')
            || '|' || coalesce(CAST(cached_input_per_mtok AS VARCHAR), '~')
            || '|' || coalesce(CAST(cache_write_5m_per_mtok AS VARCHAR), '~')
            || '|' || coalesce(CAST(cache_write_1h_per_mtok AS VARCHAR), '~')
            || '|' || coalesce(CAST(output_per_mtok AS VARCHAR), '~')
            || '|' || coalesce(CAST(reasoning_per_mtok AS VARCHAR), '~')
            || '|' || coalesce(CAST(per_request AS VARCHAR), '~')
            || '|' || coalesce(CAST(per_image AS VARCHAR), '~')
            || '|' || coalesce(CAST(discount_pct AS VARCHAR), '~'),
            ';' ORDER BY variant, tier_min_prompt_tokens, window_start_utc NULLS FIRST,
                window_end_utc NULLS FIRST, weekdays_only, valid_from NULLS FIRST,
                input_per_mtok NULLS FIRST, output_per_mtok NULLS FIRST
        )) AS print
    FROM price_observations
    WHERE source = $source AND NOT skipped
    GROUP BY refresh_id, provider, model_id
),
numbered AS (
    SELECT p.*, r.n, r.observed_at,
        r.n - row_number() OVER (PARTITION BY p.provider, p.model_id, p.print ORDER BY r.n) AS grp
    FROM per_model p JOIN refs r USING (refresh_id)
)
SELECT provider, model_id, print, min(n) AS first_n, max(n) AS last_n,
    arg_min(refresh_id, n) AS refresh_id, min(observed_at) AS first_at, max(observed_at) AS last_at
FROM numbered GROUP BY provider, model_id, print, grp
"""

_ISLAND_PRICES = """
SELECT i.provider, i.model_id, i.first_n, i.last_n, i.refresh_id, i.first_at, i.last_at,
    o.variant, o.tier_min_prompt_tokens, o.window_start_utc, o.window_end_utc, o.weekdays_only,
    o.valid_from, o.input_per_mtok, o.cached_input_per_mtok, o.cache_write_5m_per_mtok,
    o.cache_write_1h_per_mtok, o.output_per_mtok, o.reasoning_per_mtok, o.per_request,
    o.per_image, o.discount_pct
FROM _price_islands i
JOIN price_observations o
    ON o.source = ? AND o.refresh_id = i.refresh_id AND o.provider = i.provider
    AND o.model_id = i.model_id AND NOT o.skipped
ORDER BY i.provider, i.model_id, i.first_n
"""


@dataclass
class SourceRebuild:
    history: dict[tuple[str, str], History]
    latest_n: int

    @property
    def changed_in_latest(self) -> int:
        return sum(1 for h in self.history.values() if self.latest_n in h.changed_at)


def _islands(con: duckdb.DuckDBPyConnection, source: str) -> dict[tuple[str, str], list[Island]]:
    con.execute(_ISLANDS, {"source": source})
    snapshots: dict[tuple[str, str, int], dict[SeriesKey, list[tuple[datetime | None, Any]]]] = (
        defaultdict(lambda: defaultdict(list))
    )
    meta: dict[tuple[str, str, int], tuple[int, str, datetime, datetime]] = {}
    for row in con.execute(_ISLAND_PRICES, [source]).fetchall():
        provider, model_id, first_n, last_n, refresh_id, first_at, last_at = row[:7]
        variant, tier, start, end, weekdays, valid_from = row[7:13]
        series: SeriesKey = (variant, int(tier), _time(start), _time(end), bool(weekdays))
        snapshots[(provider, model_id, first_n)][series].append((valid_from, tuple(row[13:])))
        meta[(provider, model_id, first_n)] = (last_n, refresh_id, first_at, last_at)
    out: dict[tuple[str, str], list[Island]] = defaultdict(list)
    for key in sorted(meta, key=lambda k: (k[0], k[1], k[2])):
        last_n, refresh_id, first_at, last_at = meta[key]
        snapshot = {
            series: tuple(sorted(entries, key=lambda e: (e[0] is not None, e[0] or first_at)))
            for series, entries in snapshots[key].items()
        }
        out[(key[0], key[1])].append(
            Island(snapshot, key[2], last_n, first_at, last_at, refresh_id)
        )
    return out


def _time(value: Any) -> time | None:
    return value if isinstance(value, time) or value is None else None


def _previous(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[Version]]:
    """The versions in force until this rebuild, per (provider, model_id)."""
    out: dict[tuple[str, str], list[Version]] = defaultdict(list)
    n = len(PRICE_FIELDS) + 1
    for row in con.execute(_PREVIOUS).fetchall():
        source, provider, model_id, variant, tier, start, end, weekdays = row[:8]
        series: SeriesKey = (variant, int(tier), _time(start), _time(end), bool(weekdays))
        prices = tuple(row[8 : 8 + n])
        valid_from, valid_to, first_at, last_at = row[8 + n :]
        out[(provider, model_id)].append(
            Version(
                source, provider, model_id, series, prices, valid_from, valid_to, first_at, last_at
            )
        )
    return out


def rebuild(con: duckdb.DuckDBPyConnection, factor: float) -> dict[str, SourceRebuild]:
    """Re-derive ``price_versions`` for every source; file and retire reviews."""
    decisions = {  # a superseded review whose change comes back is pending again
        str(rid): str(status)
        for rid, status in con.execute(
            "SELECT review_id, status FROM price_reviews WHERE status IN ('confirmed', 'rejected')"
        ).fetchall()
    }
    previous = _previous(con)
    sources = [r[0] for r in con.execute("SELECT DISTINCT source FROM price_refreshes").fetchall()]
    results: dict[str, SourceRebuild] = {}
    versions: list[Version] = []
    reviews: list[Review] = []
    for source in sorted(sources, key=lambda s: SOURCE_RANK.get(s, 9)):
        refreshes = {
            int(n): (observed_at, refresh_id)
            for refresh_id, observed_at, n in con.execute(_REFRESHES, [source]).fetchall()
        }
        latest = max(refreshes, default=0)
        histories: dict[tuple[str, str], History] = {}
        for (provider, model_id), islands in _islands(con, source).items():
            known = previous.get((provider, model_id), [])
            history = derive(
                source,
                provider,
                model_id,
                islands,
                refreshes,
                latest,
                decisions,
                None if source == "override" else factor,
                below=[v for v in known if v.source != source],
                before=[v for v in known if v.source == source],
            )
            histories[(provider, model_id)] = history
            versions.extend(history.versions)
            reviews.extend(history.reviews)
        results[source] = SourceRebuild(histories, latest)
    discounts = [v for v in versions if v.source == "override" and v.is_discount_only]
    priced = [v for v in versions if not v.is_discount_only]
    _write_versions(con, apply_discounts(priced, discounts))
    _write_reviews(con, reviews)
    return results


_VERSION_SCHEMA = pa.schema(
    [
        ("version_id", pa.string()),
        ("source", pa.string()),
        ("source_rank", pa.int32()),
        ("provider", pa.string()),
        ("model_id", pa.string()),
        ("variant", pa.string()),
        ("tier_min_prompt_tokens", pa.int64()),
        ("window_start_utc", pa.time64("us")),
        ("window_end_utc", pa.time64("us")),
        ("weekdays_only", pa.bool_()),
        *[(f, pa.decimal128(18, 6)) for f in PRICE_FIELDS],
        ("discount_pct", pa.decimal128(9, 4)),
        ("valid_from", pa.timestamp("us")),
        ("valid_to", pa.timestamp("us")),
        ("first_observed_at", pa.timestamp("us")),
        ("last_observed_at", pa.timestamp("us")),
    ]
)


def _write_versions(con: duckdb.DuckDBPyConnection, versions: Sequence[Version]) -> None:
    rows = [
        dict(
            zip(
                _VERSION_SCHEMA.names,
                (
                    v.version_id,
                    v.source,
                    SOURCE_RANK.get(v.source, 9),
                    v.provider,
                    v.model_id,
                    *v.series,
                    *v.prices,
                    v.valid_from,
                    v.valid_to,
                    v.first_observed_at,
                    v.last_observed_at,
                ),
                strict=True,
            )
        )
        for v in versions
    ]
    con.execute("DELETE FROM price_versions")
    if not rows:
        return
    con.register("_new_price_versions", pa.Table.from_pylist(rows, schema=_VERSION_SCHEMA))
    try:
        con.execute("INSERT INTO price_versions BY NAME SELECT * FROM _new_price_versions")
    finally:
        con.unregister("_new_price_versions")


def _write_reviews(con: duckdb.DuckDBPyConnection, reviews: Sequence[Review]) -> None:
    current = {r.review_id: r for r in reviews}
    for r in current.values():
        con.execute(
            "INSERT INTO price_reviews (review_id, source, provider, model_id, kind, status, "
            "detected_at, refresh_id, detail) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
            "ON CONFLICT (review_id) DO UPDATE SET status = 'pending' "
            "WHERE price_reviews.status = 'superseded'",
            [
                r.review_id,
                r.source,
                r.provider,
                r.model_id,
                r.kind,
                r.detected_at,
                r.refresh_id,
                r.detail,
            ],
        )
    stale = [
        rid
        for (rid,) in con.execute(
            "SELECT review_id FROM price_reviews WHERE status = 'pending'"
        ).fetchall()
        if rid not in current
    ]
    for rid in stale:
        con.execute("UPDATE price_reviews SET status = 'superseded' WHERE review_id = ?", [rid])
