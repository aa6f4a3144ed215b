"""SIGKILL during a price refresh of every source, fetched from a loopback HTTP server serving
the recorded responses, at seeded random points; then a run to the end.

A point is "the ``k``-th source stored (the log line ``prices SOURCE: STATUS``), then a random
delay": kills land in a fetch, a parse, a source's transaction, or the final one that rebuilds
the versions and the marts. After every kill the price history must hold only whole snapshots
(each ``ok`` refresh has every observation its recorded response parses to, and no observation
is without its refresh); after the final run every source is up to date, each price is one
version (nothing changed between the snapshots: no duplicate version, none held for review,
none ended but where the source dates a change) and the versions are exactly the latest
snapshots.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.prices import catalog, litellm_map, openrouter
from collectors.prices.pages import anthropic, deepseek, openai
from tests.faults.helpers import ROOT, price_routes, price_server, query, run_killed, seed

KILLS = 3
SOURCES = ("openrouter", "litellm", "openai", "anthropic", "deepseek", "catalog", "overrides")
MODULES = {
    "openrouter": openrouter,
    "litellm": litellm_map,
    "openai": openai,
    "anthropic": anthropic,
    "deepseek": deepseek,
}
IDENTITY = (
    "source, provider, model_id, variant, tier_min_prompt_tokens, window_start_utc, "
    "window_end_utc, weekdays_only"
)


def expected_observations() -> dict[str, int]:
    """How many observations each source's recorded response parses to (the public parsers)."""
    now = datetime.now(UTC)
    by_url = {f"/{m.URL.split('://', 1)[1]}": name for name, m in MODULES.items()}
    out = {
        by_url[route]: len(MODULES[by_url[route]].parse(path.read_bytes(), now))
        for route, path in price_routes().items()
    }
    out["catalog"] = len(catalog.parse(now))
    out["overrides"] = 0  # no price_overrides.yaml in the home
    return out


def whole_snapshots(home: Path, expected: dict[str, int], why: str) -> int:
    """Every 'ok' refresh has all its observations and every observation its refresh."""
    record = {"overrides": "override"}
    ok = query(
        home, "SELECT refresh_id, source, observations FROM price_refreshes WHERE status = 'ok'"
    )
    stored = dict(
        ((r, s), n)
        for r, s, n in query(
            home, "SELECT refresh_id, source, count(*) FROM price_observations GROUP BY ALL"
        )
    )
    names = {record.get(n, n): n for n in SOURCES}
    for refresh_id, source, n in ok:
        want = expected[names[source]]
        assert n == want and stored.get((refresh_id, source), 0) == want, (
            f"{why}: refresh {refresh_id} of {source}: {stored.get((refresh_id, source), 0)} "
            f"observations stored, {n} recorded, {want} in the response"
        )
    orphans = set(stored) - {(r, s) for r, s, _ in ok}
    assert not orphans, f"{why}: observations without an ok refresh: {sorted(orphans)[:5]}"
    return len(ok)


def versions_sound(home: Path, why: str) -> None:
    """No duplicate version, and per price identity at most one in force and no overlap."""
    dup = query(
        home,
        f"SELECT {IDENTITY}, valid_from, count(*) FROM price_versions "
        "GROUP BY ALL HAVING count(*) > 1 LIMIT 5",
    )
    assert dup == [], f"{why}: duplicate versions {dup}"
    overlap = query(
        home,
        f"""
        SELECT {IDENTITY}, count(*) FILTER (WHERE valid_to IS NULL) AS current,
            count(*) FILTER (WHERE next_from < coalesce(valid_to, TIMESTAMP '9999-01-01')) AS bad
        FROM (SELECT *, lead(valid_from) OVER (PARTITION BY {IDENTITY} ORDER BY valid_from)
              AS next_from FROM price_versions)
        GROUP BY ALL HAVING current > 1 OR bad > 0 LIMIT 5""",
    )
    assert overlap == [], f"{why}: overlapping or doubly current versions {overlap}"


@pytest.mark.slow
def test_sigkill_at_random_points_of_a_price_refresh(tmp_path: Path) -> None:
    rng = random.Random(seed("prices"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "routeledger.toml").write_text(
        "[warehouse]\nlock_timeout_seconds = 60\n\n[prices]\nauto_catalog = false\n",
        encoding="utf-8",
    )
    expected = expected_observations()
    assert all(expected[s] > 0 for s in SOURCES if s != "overrides"), expected
    with price_server() as (port, requests):
        cmd = [sys.executable, "-m", "tests.faults.driver", "prices", str(home), str(port)]
        for i in range(KILLS):
            stored = rng.randint(0, len(SOURCES))
            delay = rng.uniform(0.0, 1.5)
            why = f"kill {i + 1}: {stored} sources stored + {delay:.2f}s (FAULT_SEED above)"
            marker = "driver prices starting" if stored == 0 else "prices.refresh: prices "
            code, err = run_killed(cmd, marker, max(stored, 1), delay)
            assert code in (-signal.SIGKILL, 0), f"{why}: exit {code}\n{err[-3000:]}"
            assert "Traceback" not in err, f"{why}\n{err[-3000:]}"
            migrated = (home / "warehouse.duckdb").exists() and query(
                home, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'price_versions'"
            ) == [(1,)]  # (or killed before the warehouse had its tables)
            n = whole_snapshots(home, expected, why) if migrated else 0
            if n:
                versions_sound(home, why)
            print(f"{why}: exit {code}, {n} whole snapshots stored")
        final = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr[-3000:]
    summary = json.loads(final.stdout)
    statuses = {s["source"]: s["status"] for s in summary["sources"]}
    assert set(statuses) == set(SOURCES) and set(statuses.values()) <= {"ok", "unchanged"}, summary
    assert all(s["pending_review"] == 0 for s in summary["sources"]), summary
    assert any(r.startswith("200 ") for r in requests)  # really fetched over HTTP

    why = "after the final run"
    whole_snapshots(home, expected, why)
    versions_sound(home, why)
    state = dict(query(home, "SELECT source, status FROM price_source_status"))
    assert set(state.values()) <= {"ok", "unchanged"} and len(state) == len(SOURCES), state
    # the same prices were seen every time: a version ends only where the source itself says
    # the next price starts (the catalog's dated price changes), never at a refresh
    closed = query(
        home,
        f"""
        SELECT {IDENTITY}, valid_to FROM price_versions WHERE valid_to IS NOT NULL
        EXCEPT SELECT {IDENTITY}, valid_from FROM price_observations
        WHERE valid_from IS NOT NULL""",
    )
    assert closed == [], f"{why}: a price that never changed has a closed version {closed[:3]}"
    assert query(home, "SELECT count(*) FROM price_reviews") == [(0,)], why
    # and the versions are the latest whole snapshot of each source, no more, no less
    latest = query(
        home,
        f"""
        WITH last AS (SELECT source, arg_max(refresh_id, observed_at) AS refresh_id
                      FROM price_refreshes WHERE status = 'ok' GROUP BY source)
        SELECT {IDENTITY} FROM price_observations JOIN last USING (source, refresh_id)
        WHERE NOT skipped EXCEPT SELECT {IDENTITY} FROM price_versions""",
    )
    extra = query(
        home,
        f"""
        WITH last AS (SELECT source, arg_max(refresh_id, observed_at) AS refresh_id
                      FROM price_refreshes WHERE status = 'ok' GROUP BY source)
        SELECT {IDENTITY} FROM price_versions EXCEPT
        SELECT {IDENTITY} FROM price_observations JOIN last USING (source, refresh_id)
        WHERE NOT skipped""",
    )
    assert latest == [] and extra == [], f"{why}: missing {latest[:3]}, extra {extra[:3]}"
    per_source = Counter(s for (s,) in query(home, "SELECT source FROM price_versions"))
    assert per_source["openrouter"] > 100 and per_source["anthropic"] > 5, per_source
