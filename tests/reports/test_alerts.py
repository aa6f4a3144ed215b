"""Budget alerts: a threshold alerts once a month, not on every run; projected spend counts;
a failed delivery is retried by the next run; per-team and per-task budgets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import duckdb
import pytest

from app.reports import alerts
from app.reports import queries as q
from collectors import config
from tests.reports.conftest import FAST, Hook, Mailbox, smtp_toml, webhook_toml
from tests.reports.data import billed_cost, rows

CfgFactory = Callable[[str], config.Config]
# Sunday 2026-03-08 20:00 in Berlin: 8 days and 20 hours of March elapsed
NOW = datetime(2026, 3, 8, 19, 0, tzinfo=UTC)
ELAPSED = 7 + 20 / 24


def _march(**match: object) -> list[Decimal | None]:
    """The billed cost of each generated attempt of March (None: unpriced)."""
    out = []
    for r in rows():
        day = datetime.fromisoformat(r["started_at"].replace("Z", "+00:00"))
        local = day.astimezone(config.zoneinfo.ZoneInfo("Europe/Berlin")).date()
        if date(2026, 3, 1) <= local and all(r.get(k) == v for k, v in match.items()):
            out.append(billed_cost(r))
    return out


def _march_spend(**match: object) -> Decimal:
    """March's known spend: unpriced attempts left out, never summed as 0."""
    return sum((c for c in _march(**match) if c is not None), Decimal(0))


def _march_unpriced(**match: object) -> int:
    return sum(c is None for c in _march(**match))


def _alerts(cfg: config.Config) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(cfg.warehouse_path), read_only=True)
    try:
        return con.execute(
            "SELECT scope, scope_value, threshold, basis, status, attempts FROM budget_alerts "
            "ORDER BY scope, scope_value, threshold"
        ).fetchall()
    finally:
        con.close()


def test_a_threshold_alerts_once_not_on_every_run(
    make_cfg: CfgFactory, webhook: Callable[..., Hook]
) -> None:
    hook = webhook(200)
    spend = _march_spend()
    # month to date is 85% of the budget (the 80% threshold, actually); projected far above 100%
    budget = (spend / Decimal("0.85")).quantize(Decimal("0.01"))
    cfg = make_cfg(f"\n[budget]\nmonthly_usd = {budget}\n" + webhook_toml(hook))
    first = alerts.check(cfg, NOW, policy=FAST)
    assert (first["new"], first["sent"], first["failed"]) == (2, 2, 0)
    assert len(hook.bodies) == 1  # one message for what crossed in this run
    text = hook.bodies[0]["text"]
    assert "threshold 80%" in text and "threshold 100%" in text and "all spend" in text
    # umb-free has no price: the month's spend is a lower bound, and said to be one
    unpriced = _march_unpriced()
    assert unpriced > 0
    assert f"spent at least ${float(spend):,.2f} so far ({unpriced:,} attempts unpriced" in text
    assert hook.bodies[0]["blocks"][0]["type"] == "header"
    for _ in range(3):
        again = alerts.check(cfg, NOW, policy=FAST)
        assert (again["new"], again["sent"]) == (0, 0)
    assert len(hook.bodies) == 1
    assert _alerts(cfg) == [
        ("total", "", 0.8, "actual", "sent", 1),
        ("total", "", 1.0, "projected", "sent", 1),
    ]
    # a new month starts over
    alerts.check(cfg, datetime(2026, 4, 1, 12, 0, tzinfo=UTC), policy=FAST)
    assert len(hook.bodies) == 1  # nothing spent in April yet: nothing to say


def test_projection_is_linear_in_the_elapsed_days(make_cfg: CfgFactory) -> None:
    cfg = make_cfg("\n[budget]\nmonthly_usd = 100.0\n")
    spend = _march_spend()
    (s,) = alerts.statuses(cfg, q.Spent(spend), {}, {}, ELAPSED, 31)
    assert s.spend_usd == spend
    assert s.projected_usd == (spend / Decimal(str(ELAPSED)) * 31).quantize(Decimal("0.000001"))
    assert s.pace_usd == (Decimal(100) * Decimal(str(ELAPSED)) / 31).quantize(Decimal("0.000001"))
    assert alerts.crossed(s, 0.8) is None  # nowhere near: no alert
    # a day into the month the projection is not extrapolated from a few minutes
    (early,) = alerts.statuses(cfg, q.Spent(Decimal(1)), {}, {}, 0.01, 31)
    assert early.projected_usd == Decimal(31)


def test_team_and_task_budgets_and_email(
    make_cfg: CfgFactory, smtp_server: Callable[[str], Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RL_TEST_SMTP_USER", "reporter")
    monkeypatch.setenv("RL_TEST_SMTP_PASSWORD", "s3cret-pass")
    box = smtp_server("none")
    team = _march_spend(team="search")
    cfg = make_cfg(
        f"\n[budget]\nalert_thresholds = [0.5, 1]\n\n[budget.teams]\nsearch = {team * 5}\n"
        f'support = 1000\n\n[budget.tasks]\n"debugging" = {team / 2}\n' + smtp_toml(box)
    )
    res = alerts.check(cfg, NOW, policy=FAST)
    assert res["new"] == 3 and res["sent"] == 3
    assert _alerts(cfg) == [
        ("task", "debugging", 0.5, "actual", "sent", 1),
        ("task", "debugging", 1.0, "actual", "sent", 1),
        ("team", "search", 0.5, "projected", "sent", 1),  # 20% spent, on course for ~79%
    ]
    assert len(box.envelopes) == 1
    assert box.envelopes[0].rcpt_tos == ["lead@example.com", "cfo@example.com"]
    body = box.envelopes[0].original_content.decode()
    assert "Subject: RouteLedger budget alert:" in body and "team search" in body
    alerts.check(cfg, NOW, policy=FAST)
    assert len(box.envelopes) == 1


def test_a_failed_alert_is_retried_by_the_next_run_then_never_again(
    make_cfg: CfgFactory, webhook: Callable[..., Hook]
) -> None:
    hook = webhook(500, 500, 500, 200)
    cfg = make_cfg(
        "\n[budget]\nmonthly_usd = 0.01\nalert_thresholds = [1.0]\n" + webhook_toml(hook)
    )
    first = alerts.check(cfg, NOW, policy=FAST)
    assert (first["new"], first["sent"], first["failed"]) == (1, 0, 1)
    assert _alerts(cfg) == [("total", "", 1.0, "actual", "failed", 1)]
    second = alerts.check(cfg, NOW, policy=FAST)
    assert (second["new"], second["sent"]) == (0, 1)
    assert _alerts(cfg) == [("total", "", 1.0, "actual", "sent", 2)]
    alerts.check(cfg, NOW, policy=FAST)
    assert len(hook.bodies) == 4  # 3 tries in the first run, 1 in the second, none after


def test_without_a_channel_the_alert_is_recorded_once(make_cfg: CfgFactory) -> None:
    cfg = make_cfg("\n[budget]\nmonthly_usd = 0.01\n")
    assert alerts.check(cfg, NOW)["new"] == 2
    assert alerts.check(cfg, NOW)["new"] == 0
    assert [r[4] for r in _alerts(cfg)] == ["recorded", "recorded"]


def test_no_budget_no_work(make_cfg: CfgFactory) -> None:
    cfg = make_cfg("")
    assert alerts.check(cfg, NOW) == {"budgets": 0, "new": 0, "sent": 0, "failed": 0, "alerts": []}


def test_unpriced_spend_is_a_lower_bound_never_zero(make_cfg: CfgFactory) -> None:
    """A partly priced month crosses on its known part, said to be "at least"; a month with
    nothing priced has no figure at all: no share, no projection, no alert."""
    cfg = make_cfg("\n[budget]\nmonthly_usd = 10.0\n\n[budget.teams]\nsearch = 1.0\n")
    total = q.Spent(Decimal("9"), 40)
    nothing = q.Spent(None, 25)
    s_total, s_team = alerts.statuses(cfg, total, {"search": nothing}, {}, 10, 30)
    assert (s_total.spend_usd, s_total.unpriced_attempts) == (Decimal(9), 40)
    assert s_total.as_dict()["spend_is_lower_bound"] is True
    assert alerts.crossed(s_total, 0.8) == "actual"  # at least $9 of $10 is at least 90%
    assert (s_team.spend_usd, s_team.projected_usd, s_team.unpriced_attempts) == (None, None, 25)
    d = s_team.as_dict()
    assert d["share"] is None and d["projected_share"] is None and d["over_pace"] is False
    assert alerts.crossed(s_team, 0.0001) is None  # unknown is not $0, and not over either
    # a known $0 beside unpriced attempts (only not-billed failures priced) is no figure either
    (zero,) = alerts.statuses(
        make_cfg("\n[budget]\nmonthly_usd = 10.0\n"), q.Spent(Decimal(0), 3), {}, {}, 10, 30
    )
    assert zero.spend_usd is None
    line = alerts.describe(
        {
            "scope": "total",
            "scope_value": "",
            "month": date(2026, 3, 1),
            "threshold": 0.8,
            "basis": "actual",
            "budget_usd": Decimal(10),
            "spend_usd": Decimal(9),
            "projected_usd": Decimal(27),
            "unpriced_attempts": 40,
        }
    )
    assert line == (
        "2026-03, all spend: spent at least $9.00 so far (40 attempts unpriced, not counted), "
        "at least 90% of its $10.00 monthly budget (threshold 80%); projected at least $27.00 "
        "by the month's end."
    )
    assert "$0.00" not in line
