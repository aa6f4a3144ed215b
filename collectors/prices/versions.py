"""Validity periods from observations: the pure part of the price history (no I/O).

The store hands over, per (source, provider, model), the *islands* of that model's history: runs of
consecutive successful refreshes of the source in which the model's whole price list (its
*snapshot*: every variant / tier / time-window series with its prices) stayed the same.
:func:`derive` walks them in order:

* the first snapshot is in force since before it was first seen (:data:`SINCE_EVER`);
* the same snapshot again extends the open versions;
* a different snapshot starts new versions at the ``observed_at`` of its first refresh, closing
  the previous ones there; series whose prices did not change keep their version;
* a move beyond ``factor`` in any price dimension (or from/to zero) is held for review: nothing
  changes until the review (one per distinct new snapshot) is confirmed; rejected changes are
  ignored for good;
* a model missing from a later refresh has *vanished*: held for review too; confirming ends its
  versions at the first refresh that lacked it;
* a *first reading* (the source lists a model it has no price in force for: its first island,
  or its return after a confirmed vanish) is checked against the price in force from a
  lower-precedence source (``below``: the versions of the previous rebuild): beyond ``factor``,
  or zero against nonzero, it is held for review (kind ``first_reading``) and the lower
  source's price stays in force until it is confirmed (:func:`first_reading_jump`). A reading
  already applied by an earlier rebuild (``before``) stays applied; nothing in force below, or
  an override (``factor`` None), is applied at once.

A series may carry a schedule: prices a source says start on a date (``valid_from``, used by
overrides and the catalog); :func:`materialize` cuts versions at those dates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from decimal import Decimal

from collectors.prices.common import PRICE_FIELDS

SINCE_EVER = datetime(1970, 1, 1)  # naive UTC: "in force since before it was first observed"
SOURCE_RANK = {
    "override": 1,
    "openai": 2,
    "anthropic": 2,
    "deepseek": 2,
    "openrouter": 3,
    "litellm": 4,
    "catalog": 5,
}
VALUE_FIELDS = (*PRICE_FIELDS, "discount_pct")

SeriesKey = tuple[str, int, time | None, time | None, bool]  # variant, tier, window, weekdays
Prices = tuple[Decimal | None, ...]  # VALUE_FIELDS order
Schedule = tuple[tuple[datetime | None, Prices], ...]  # (valid_from or None, prices), sorted
Snapshot = Mapping[SeriesKey, Schedule]


def fingerprint(snapshot: Snapshot) -> str:
    """A deterministic text of a snapshot (equal snapshots, equal text)."""
    parts = []
    for key in sorted(snapshot, key=repr):
        entries = ",".join(
            f"@{vf.isoformat() if vf else '-'}="
            + "/".join("" if p is None else str(p) for p in prices)
            for vf, prices in snapshot[key]
        )
        parts.append(f"{key!r}{entries}")
    return ";".join(parts)


def review_id(source: str, provider: str, model_id: str, kind: str, print_: str) -> str:
    text = "\x1f".join((source, provider, model_id, kind, print_))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def jump(old: Snapshot, new: Snapshot, factor: float) -> str | None:
    """One line describing the first move beyond ``factor`` between two snapshots, else None."""
    limit = Decimal(str(factor))
    for key in sorted(old.keys() & new.keys(), key=repr):
        before, after = dict(old[key]), dict(new[key])
        for vf in sorted(before.keys() & after.keys(), key=repr):
            for name, a, b in zip(VALUE_FIELDS, before[vf], after[vf], strict=True):
                if a is None or b is None or a == b:
                    continue
                label = f"{name} {a.normalize():f} -> {b.normalize():f}"
                if key[0] != "standard" or key[1]:
                    label = f"{key[0]} tier {key[1]}: {label}"
                if a == 0 or b == 0:
                    return f"{label} (to/from zero)"
                ratio = b / a
                if ratio > limit or ratio < 1 / limit:
                    return f"{label} (x{ratio:.3g})"
    return None


def rank(source: str) -> int:
    """Precedence of a source: the lower, the stronger (unknown sources rank last)."""
    return SOURCE_RANK.get(source, 9)


@dataclass(frozen=True)
class Island:
    snapshot: Snapshot
    first_n: int  # position of its first refresh among the source's successful refreshes
    last_n: int
    first_at: datetime
    last_at: datetime
    refresh_id: str  # its first refresh

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.snapshot)


@dataclass(frozen=True)
class Version:
    source: str
    provider: str
    model_id: str
    series: SeriesKey
    prices: Prices
    valid_from: datetime
    valid_to: datetime | None
    first_observed_at: datetime | None
    last_observed_at: datetime | None

    @property
    def version_id(self) -> str:
        text = "\x1f".join(
            map(str, (self.source, self.provider, self.model_id, self.series, self.valid_from))
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def is_discount_only(self) -> bool:
        return all(p is None for p in self.prices[: len(PRICE_FIELDS)])


@dataclass(frozen=True)
class Review:
    review_id: str
    source: str
    provider: str
    model_id: str
    kind: str  # price_jump | vanished | first_reading
    detected_at: datetime
    refresh_id: str
    detail: str


@dataclass
class History:
    versions: list[Version] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)  # pending, and still the latest state
    changed_at: set[int] = field(default_factory=set)  # refresh positions with an applied change


@dataclass
class _Open:
    schedule: Schedule
    start: datetime
    first_observed: datetime
    last_observed: datetime


@dataclass(frozen=True)
class _Segment:
    series: SeriesKey
    schedule: Schedule
    start: datetime
    end: datetime | None
    first_observed: datetime
    last_observed: datetime


def derive(
    source: str,
    provider: str,
    model_id: str,
    islands: Sequence[Island],
    refreshes: Mapping[int, tuple[datetime, str]],  # position -> (observed_at, refresh_id)
    last_n: int,
    decisions: Mapping[str, str],  # review_id -> confirmed | rejected (others: undecided)
    factor: float | None,  # None: apply every change (overrides)
    *,
    below: Sequence[Version] = (),  # this model's versions, other sources, previous rebuild
    before: Sequence[Version] = (),  # this model's versions, this source, previous rebuild
) -> History:
    history = History()
    opened: dict[SeriesKey, _Open] = {}
    segments: list[_Segment] = []
    accepted: Snapshot = {}
    accepted_print: str | None = None
    ever = False

    def close(key: SeriesKey, at: datetime | None) -> None:
        o = opened.pop(key)
        segments.append(_Segment(key, o.schedule, o.start, at, o.first_observed, o.last_observed))

    def accept(island: Island) -> None:
        nonlocal accepted, accepted_print, ever
        start = island.first_at if ever else SINCE_EVER
        for key in [k for k in opened if k not in island.snapshot]:
            close(key, island.first_at)
        for key, schedule in island.snapshot.items():
            current = opened.get(key)
            if current is not None and current.schedule == schedule:
                current.last_observed = island.last_at
                continue
            if current is not None:
                close(key, island.first_at)
            opened[key] = _Open(schedule, start, island.first_at, island.last_at)
        accepted, accepted_print, ever = island.snapshot, island.fingerprint, True

    def decide(kind: str, print_: str, at_n: int, detail: str) -> str:
        rid = review_id(source, provider, model_id, kind, print_)
        status = decisions.get(rid, "pending")
        if status == "pending":
            at, refresh = refreshes[at_n]
            history.reviews.append(
                Review(rid, source, provider, model_id, kind, at, refresh, detail)
            )
        return status

    def first_reading(island: Island) -> bool:
        """Whether a reading of a model with nothing in force from this source is applied."""
        if factor is None:
            return True
        rid = review_id(source, provider, model_id, "first_reading", island.fingerprint)
        status = decisions.get(rid)
        if status in ("confirmed", "rejected"):
            return status == "confirmed"
        detail = first_reading_jump(source, island, below, before, factor)
        if detail is None:
            return True
        decide("first_reading", island.fingerprint, island.first_n, detail)
        return False

    def vanish(at_n: int) -> None:
        nonlocal accepted_print
        if not opened:
            history.reviews.clear()  # a held first reading of a model no longer listed is moot
            return
        at = refreshes[at_n][0]
        detail = f"no longer listed by {source}; the last known price stays in force"
        if (
            factor is None
            or decide("vanished", f"vanished:{accepted_print}", at_n, detail) == "confirmed"
        ):
            for key in list(opened):
                close(key, at)
            accepted_print = None

    previous_last: int | None = None
    for island in islands:
        if previous_last is not None and island.first_n > previous_last + 1:
            vanish(previous_last + 1)
        history.reviews.clear()  # a newer observation makes earlier held changes moot
        if not opened:
            if first_reading(island):
                accept(island)
                if previous_last is not None:
                    history.changed_at.add(island.first_n)
        elif island.fingerprint == accepted_print:
            for o in opened.values():
                o.last_observed = island.last_at
        else:
            detail = jump(accepted, island.snapshot, factor) if factor is not None else None
            if (
                detail is None
                or decide("price_jump", island.fingerprint, island.first_n, detail) == "confirmed"
            ):
                accept(island)
                history.changed_at.add(island.first_n)
        previous_last = island.last_n
    if previous_last is not None and previous_last < last_n:
        vanish(previous_last + 1)
    for key in list(opened):
        close(key, None)
    history.versions = materialize(source, provider, model_id, segments)
    return history


def in_force(versions: Sequence[Version], at: datetime) -> dict[SeriesKey, Version]:
    """Per series, the version with the best precedence in force at ``at``."""
    out: dict[SeriesKey, Version] = {}
    for v in versions:
        if v.is_discount_only or v.valid_from > at or (v.valid_to is not None and v.valid_to <= at):
            continue
        best = out.get(v.series)
        if best is None or (rank(v.source), v.source) < (rank(best.source), best.source):
            out[v.series] = v
    return out


def applied_before(island: Island, before: Sequence[Version]) -> bool:
    """Whether an earlier rebuild applied ``island``: one of its versions was first observed at
    the island's first refresh or earlier and still observed then (held readings have none)."""
    return any(
        v.first_observed_at is not None
        and v.first_observed_at <= island.first_at <= (v.last_observed_at or v.first_observed_at)
        for v in before
    )


def first_reading_jump(
    source: str,
    island: Island,
    below: Sequence[Version],
    before: Sequence[Version],
    factor: float,
) -> str | None:
    """Why a first reading of ``source`` is held, or None when it is applied.

    It is compared, series by series, with the price in force at its first refresh from the
    best-ranked *lower-precedence* source (``below``); a move beyond ``factor`` in any
    dimension, or zero against nonzero, holds it. A reading an earlier rebuild already applied
    (``before``) stays applied: judged once, against what was in force when it was read.
    """
    if applied_before(island, before):
        return None
    lower = [v for v in below if rank(v.source) > rank(source)]
    reference = in_force(lower, island.first_at)
    if not reference:
        return None
    new: dict[SeriesKey, Schedule] = {}
    for key, schedule in island.snapshot.items():
        now = [p for vf, p in schedule if vf is None or vf <= island.first_at]
        if now:
            new[key] = ((None, now[-1]),)
    for ref_source in sorted({v.source for v in reference.values()}, key=lambda s: (rank(s), s)):
        old = {k: ((None, v.prices),) for k, v in reference.items() if v.source == ref_source}
        moved = jump(old, new, factor)
        if moved is not None:
            return (
                f"first reading by {source} against {ref_source}'s price in force: {moved}; "
                f"{ref_source}'s price stays in force until confirmed"
            )
    return None


def materialize(
    source: str, provider: str, model_id: str, segments: Sequence[_Segment]
) -> list[Version]:
    """Versions from accepted segments: cut at scheduled start dates, equal neighbours merged."""
    out: list[Version] = []
    for seg in sorted(segments, key=lambda s: (repr(s.series), s.start)):
        points = [seg.start] + sorted(
            vf
            for vf, _ in seg.schedule
            if vf is not None and vf > seg.start and (seg.end is None or vf < seg.end)
        )
        for i, point in enumerate(points):
            end = points[i + 1] if i + 1 < len(points) else seg.end
            in_force = [p for vf, p in seg.schedule if vf is None or vf <= point]
            if not in_force:
                continue
            version = Version(
                source,
                provider,
                model_id,
                seg.series,
                in_force[-1],
                point,
                end,
                seg.first_observed,
                seg.last_observed,
            )
            last = out[-1] if out else None
            if (
                last is not None
                and last.series == version.series
                and last.prices == version.prices
                and last.valid_to == version.valid_from
            ):
                out[-1] = replace(
                    last,
                    valid_to=version.valid_to,
                    first_observed_at=min(_dates(last.first_observed_at, seg.first_observed)),
                    last_observed_at=max(_dates(last.last_observed_at, seg.last_observed)),
                )
            else:
                out.append(version)
    return out


def _dates(*values: datetime | None) -> list[datetime]:
    return [v for v in values if v is not None]


def apply_discounts(versions: Sequence[Version], discounts: Sequence[Version]) -> list[Version]:
    """Set ``discount_pct`` on price versions from discount-only override versions.

    A model-specific discount wins over a provider-wide one (model id ``*``); a version is cut
    where a discount starts or ends inside it. Override prices are the user's own and are left
    as they are.
    """
    by_provider: dict[str, list[Version]] = {}
    for d in discounts:
        by_provider.setdefault(d.provider, []).append(d)
    out: list[Version] = []
    for v in versions:
        applicable = [
            d
            for d in by_provider.get(v.provider, [])
            if d.model_id in (v.model_id, "*") and _overlaps(d, v.valid_from, v.valid_to)
        ]
        if v.source == "override" or not applicable:
            out.append(v)
            continue
        cuts = sorted(
            {v.valid_from}
            | {
                t
                for d in applicable
                for t in (d.valid_from, d.valid_to)
                if t is not None and v.valid_from < t and (v.valid_to is None or t < v.valid_to)
            }
        )
        for i, start in enumerate(cuts):
            end = cuts[i + 1] if i + 1 < len(cuts) else v.valid_to
            active = [d for d in applicable if _overlaps(d, start, end)]
            active.sort(key=lambda d: d.model_id == "*")  # model-specific first
            pct = active[0].prices[-1] if active else None
            out.append(replace(v, prices=(*v.prices[:-1], pct), valid_from=start, valid_to=end))
    return out


def _overlaps(d: Version, start: datetime, end: datetime | None) -> bool:
    return (end is None or d.valid_from < end) and (d.valid_to is None or start < d.valid_to)
