"""Publishing a week's report: :func:`weekly` builds it (:mod:`.build`), saves ``report.html``,
``report.txt``, ``models_by_task.csv`` and ``report.json`` to ``<home>/reports/<YYYY-Www>/``
(:mod:`.render`) and, when asked, delivers it (:mod:`.deliver`); :func:`past_reports` lists the
saved ones. ``routeledger report weekly`` and the scheduler's report job call :func:`weekly`
(re-exported by :mod:`app.reports`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from app.reports import build, deliver, render
from collectors.config import Config
from collectors.http import RetryPolicy


@dataclass
class WeeklyResult:
    week: build.Week
    folder: Path
    files: dict[str, Path]
    report: dict[str, Any]
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        t = self.report["totals"]
        return {
            "week": self.week.label,
            "since": self.week.since.isoformat(),
            "until": self.week.until.isoformat(),
            "timezone": self.report["timezone"],
            "summary": deliver.jsonable(self.report.get("summary")),
            "folder": str(self.folder),
            "files": {k: str(v) for k, v in self.files.items()},
            "totals": deliver.jsonable(
                {
                    # the known part (null when no attempt is priced: never 0) beside the count
                    "spend_usd": t["spend_usd"],
                    "previous_spend_usd": t["prev"]["spend_usd"],
                    "change_pct": t["change_pct"],
                    "logical_requests": t["logical_requests"],
                    "succeeded": t["succeeded"],
                    "attempts": t["attempts"],
                    "unpriced_attempts": t["unpriced_attempts"],
                    "spend_status": t["spend_status"],
                    "previous_unpriced_attempts": t["prev"]["unpriced_attempts"],
                    "spend_on_failures_usd": t["spend_on_failures_usd"],
                    "unpriced_failed_attempts": t["unpriced_failed_attempts"],
                    "billing_policy": self.report["billing"]["text"],
                }
            ),
            "regressions": len(self.report["regressions"]),
            "spikes": len(self.report["spikes"]),
            "deliveries": [
                deliver.jsonable(
                    {k: d[k] for k in ("channel", "target", "status", "attempts", "detail")}
                )
                for d in self.deliveries
            ],
        }


def report_dir(cfg: Config, week: str) -> Path:
    return cfg.home / "reports" / week


def weekly(
    cfg: Config,
    week: str | None = None,
    *,
    send: bool = False,
    scheduled: bool = False,
    recipients: list[str] | None = None,
    out: str | Path | None = None,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
) -> WeeklyResult:
    """Build, save and (``send``: on every channel; ``scheduled``: on the channels this week has
    not reached yet) deliver the report of ``week`` (default: the last complete week)."""
    wk = build.parse_week(week, cfg.week_start) if week else build.last_complete_week(cfg, now)
    report = build.build(cfg, wk, now)
    folder = Path(out) if out else report_dir(cfg, wk.label)
    files = render.save(report, folder)
    result = WeeklyResult(wk, folder, files, report)
    if send or scheduled:
        result.deliveries = deliver.deliver(
            cfg,
            wk.label,
            render.email(report),
            render.webhook_payload(report, str(cfg.get("delivery.webhook_kind"))),
            trigger="schedule" if scheduled and not send else "manual",
            only_missing=scheduled and not send,
            recipients=recipients,
            transport=transport,
            policy=policy,
        )
    return result


def past_reports(cfg: Config) -> list[dict[str, Any]]:
    """Saved reports under ``<home>/reports``, newest week first: week, folder, key figures."""
    root = cfg.home / "reports"
    out = []
    for folder in sorted(root.glob("*-W*"), reverse=True) if root.is_dir() else []:
        meta = folder / render.FILES["json"]
        if not meta.is_file():
            continue
        try:
            doc = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        totals = doc.get("totals") or {}
        out.append(
            {
                "week": folder.name,
                "since": doc.get("since"),
                "until": doc.get("until"),
                "spend_usd": totals.get("spend_usd"),  # None: unpriced, never $0
                "unpriced_attempts": totals.get("unpriced_attempts"),
                "change_pct": totals.get("change_pct"),
                "logical_requests": totals.get("logical_requests"),
                "generated_at": doc.get("generated_at"),
                "folder": str(folder),
            }
        )
    return out
