"""The weekly report as files and messages: HTML, plain text, the model x task CSV, JSON, the
chat payloads and the e-mail.

Every one of them opens with the report's three-line summary (``report["summary"]``, built by
:func:`app.reports.summary.summary`: spend and its change, why it moved, the action to take
first); the routing proposal's why is one line per changed task (three at most), its full
reasons in ``report.json``, which the e-mail attaches beside ``models_by_task.csv``.

Money is told as :mod:`app.money` says, in every one of them: a spend with no priced
attempt is "unpriced (N attempts)", never $0.00 (an empty ``spend_usd`` cell beside
``unpriced_attempts`` in the CSV, ``null`` beside the count in the JSON); a partly priced one
is "$31.29 + 15,908 unpriced attempts"; cost per successful request is the marts' with its price
coverage, or "unknown (only 76% of requests priced)"; spend on failed attempts names the billing
policy in force.

The HTML (``templates/weekly.html.j2``) is built to survive mail clients: tables for layout,
inline CSS, bars drawn as table cells, no JavaScript and no external resources. Jinja2's
autoescape is on for it, so every string that came from logs or price pages (model, task, team,
provider names, reasons) is text, never markup. Every value of the HTML, the plain text and
the CSV has its unsafe display characters (:mod:`app.text_safety`: NUL, which SMTP refuses;
terminal escapes; bidi overrides and marks that reorder what a reader sees) replaced by a space.
CSV cells that a spreadsheet would read as a formula get a quote.

The Slack payload carries logged strings through :func:`app.reports.deliver.slack_escape` (one
line, ``&<>`` as entities, the markers ``*``, ``_``, ``~`` and the backtick inert) in ``mrkdwn``
text objects marked ``verbatim``, so Slack neither links a bare URL nor parses a mention or
channel name in them.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from app import text_safety
from app.money import at_least, cost_text, count, coverage_text, spend_text, usd
from app.reports.deliver import Attachment, Message, jsonable, slack_escape

TEMPLATES = Path(__file__).parent / "templates"
TOP = 10  # rows per spend table in the HTML and text, then the unpriced ones (all in report.json)
FILES = {
    "html": "report.html",
    "text": "report.txt",
    "csv": "models_by_task.csv",
    "json": "report.json",
}
CSV_FIELDS = (
    "provider",
    "model",
    "task",
    "attempts",
    "successes",
    "success_rate",
    "success_rate_low",
    "spend_usd",
    "cost_per_success_usd",
    "latency_n",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "retry_share",
    "unpriced_attempts",
    "price_coverage",  # share of the attempts priced; cost_per_success_usd is over those
    "cost_unknown_reason",  # why cost_per_success_usd is empty
    "logged_models",  # the names the logs used for the (canonical) model, "; "-separated
)
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


# -- formatting -----------------------------------------------------------------------------------


def _missing(v: Any) -> bool:
    return v is None or isinstance(v, jinja2.Undefined)


def pct(v: Any, digits: int = 1) -> str:
    return "-" if _missing(v) else f"{float(v) * 100:.{digits}f}%"


def signed_pct(v: Any) -> str:
    return "new" if _missing(v) else f"{float(v) * 100:+.1f}%"


def change_text(v: Any, prev_attempts: Any) -> str:
    """A change against last week: ``new`` when last week had no attempt, ``-`` when one side
    is unknown (unpriced), else the signed percentage."""
    if not count(prev_attempts):
        return "new"
    return "-" if _missing(v) else signed_pct(v)


def ms(v: Any) -> str:
    return "-" if _missing(v) else f"{float(v):,.0f} ms"


def num(v: Any) -> str:
    return "-" if _missing(v) else f"{int(v):,}"


def ratio(v: Any) -> str:
    return "-" if _missing(v) else f"{float(v):.2f}x"


def price(v: Any) -> str:
    return "-" if _missing(v) else f"${float(v):,.4g}"


def signed_usd(v: Any) -> str:
    """``+$1.23`` / ``-$0.0450`` / ``$0.00``."""
    if _missing(v):
        return "-"
    x = Decimal(str(v)) if isinstance(v, float) else Decimal(v)
    return "$0.00" if not x else ("-" if x < 0 else "+") + usd(abs(x))


def part_detail(p: dict[str, Any]) -> str:
    """What stands behind one part of why spend moved, in words (the two weeks' figures)."""
    kind = p.get("part")
    if kind == "volume":
        return f"{num(p['requests'])} requests, {num(p['prev_requests'])} last week"
    if kind == "retries_failures":
        now, before = p.get("attempts_per_request"), p.get("prev_attempts_per_request")
        if now is None or before is None:
            return f"{num(p['attempts'])} attempts, {num(p['prev_attempts'])} last week"
        return f"{now:.2f} attempts per request, {before:.2f} last week"
    if kind == "model_mix":
        shifts = p.get("shifts") or []
        return (
            "; ".join(
                f"{x['model']}: {pct(x['share'])} of attempts, {pct(x['prev_share'])} last week"
                for x in shifts
            )
            or "the same share of attempts per model"
        )
    if kind == "prices":
        n = int(p.get("repriced_attempts") or 0)
        if not n:
            return "no price in force changed from a week before"
        return (
            f"{num(n)} attempts at prices other than a week before: "
            f"{', '.join(p.get('models') or [])}"
        )
    if kind == "cache":
        return (
            f"caching saved {usd(p['saved_usd'])}, {usd(p['prev_saved_usd'])} last week "
            "(gateway cache hits and prompt-cache reads)"
        )
    if kind == "request_size":
        return (
            f"{usd(p['cost_per_priced_attempt_usd'])} per priced attempt before any cache at "
            f"last week's prices, {usd(p['prev_cost_per_priced_attempt_usd'])} last week "
            "(tokens per attempt, and attempts that cost nothing)"
        )
    if kind == "unpriced":
        return (
            f"{pct(p['priced_share'])} of attempts priced, {pct(p['prev_priced_share'])} last week"
        )
    return ""


def short_why(task: dict[str, Any]) -> str:
    """A changed task's why in one line, from its ``tune --json`` figures (its full reasons are
    in report.json)."""
    parts = []
    if task.get("estimated_success") is not None:
        low = task.get("estimated_success_low")
        parts.append(
            f"succeeds on {pct(task['estimated_success'])}"
            + (f" (at least {pct(low)} with 95% confidence)" if low is not None else "")
        )
    cps = task.get("cost_per_successful_request_usd")
    now = (task.get("current_estimate") or {}).get("cost_per_successful_request_usd")
    if cps is not None:
        text = f"{usd(cps)} per successful request"
        if now:
            change = float(cps) / float(now) - 1
            text += f", {abs(change):.0%} {'less' if change < 0 else 'more'} than now"
        parts.append(text)
    sv = task.get("savings") or {}
    saved, spend = sv.get("savings_usd"), (sv.get("current") or {}).get("spend_usd")
    if saved is not None:
        parts.append(
            f"saves {usd(saved)}" + (f" ({pct(saved / spend)} of its spend)" if spend else "")
        )
    return "; ".join(parts) or "see report.json"


def utc(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M UTC") if isinstance(v, datetime) else str(v or "-")


def _col(v: Any, width: int) -> str:
    return str(v)[:width].ljust(width)


def _rcol(v: Any, width: int) -> str:
    return str(v).rjust(width)


def _clean(v: Any) -> Any:
    """A value with its unsafe display characters replaced; markup the template built is kept."""
    if isinstance(v, markupsafe.Markup) or not isinstance(v, str):
        return v
    return text_safety.clean(v, " ")


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
        finalize=_clean,
    )
    env.filters.update(
        usd=usd,
        spend=spend_text,
        at_least=at_least,
        cost=cost_text,
        coverage=coverage_text,
        pct=pct,
        signed_pct=signed_pct,
        change=change_text,
        ms=ms,
        num=num,
        ratio=ratio,
        price=price,
        utc=utc,
        signed_usd=signed_usd,
        part_detail=part_detail,
        short_why=short_why,
        col=_col,
        rcol=_rcol,
    )
    return env


_HTML = _env(autoescape=True)
_TEXT = _env(autoescape=False)


def _context(report: dict[str, Any]) -> dict[str, Any]:
    return {"r": report, "t": report["totals"], "b": report["budget"], "top": TOP}


# -- the four files -------------------------------------------------------------------------------


def html(report: dict[str, Any]) -> str:
    return _HTML.get_template("weekly.html.j2").render(_context(report))


def text(report: dict[str, Any]) -> str:
    return _TEXT.get_template("weekly.txt.j2").render(_context(report))


def _cell(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return _cell("; ".join(str(x) for x in v))
    if isinstance(v, Decimal):
        return format(v.normalize(), "f")
    if isinstance(v, float):
        return "" if v != v else repr(v)
    if isinstance(v, str):
        v = _clean(v)
        return "'" + v if v.startswith(_CSV_FORMULA) else v
    return "" if v is None else v


def models_csv(report: dict[str, Any]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_FIELDS)
    for row in report["models_by_task"]:
        w.writerow([_cell(row.get(f)) for f in CSV_FIELDS])
    return out.getvalue().encode("utf-8")


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(jsonable(report), indent=2, sort_keys=False) + "\n"


def save(report: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Write the four files into ``folder`` (each atomically); their paths by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes] = {
        "html": html(report).encode("utf-8"),
        "text": text(report).encode("utf-8"),
        "csv": models_csv(report),
        "json": as_json(report).encode("utf-8"),
    }
    paths = {}
    for kind, name in FILES.items():
        path = folder / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(contents[kind])
        os.replace(tmp, path)
        paths[kind] = path
    return paths


# -- messages -------------------------------------------------------------------------------------


def subject(report: dict[str, Any]) -> str:
    t = report["totals"]
    return (
        f"RouteLedger weekly cost report {report['week']}: "
        f"{spend_text(t['spend_usd'], t['unpriced_attempts'])} "
        f"({change_text(t['change_pct'], t['prev']['attempts'])} vs {report['previous_week']})"
    )


def failures_line(report: dict[str, Any]) -> str:
    """Spend on failed attempts, with the billing policy that priced them."""
    t = report["totals"]
    figure = spend_text(
        t["spend_on_failures_usd"], t["unpriced_failed_attempts"], "failed attempts"
    )
    not_billed = f", {num(t['not_billed_attempts'])} not billed" if t["not_billed_attempts"] else ""
    policy = (report.get("billing") or {}).get("text") or "unknown"
    return (
        f"{figure}; {num(t['failed_attempts'])} failed attempts{not_billed}. "
        f"Billing policy: {policy}."
    )


def email(report: dict[str, Any]) -> Message:
    """The e-mail: text/plain and text/html alternatives; the CSV and report.json (every figure,
    the proposal's full reasons) attached."""
    return Message(
        subject=subject(report),
        text=text(report),
        html=html(report),
        attachments=(
            Attachment(FILES["csv"], models_csv(report), "text/csv"),
            Attachment(FILES["json"], as_json(report).encode("utf-8"), "application/json"),
        ),
    )


def _top_lines(report: dict[str, Any], dim: str, n: int = 5, unpriced: int = 3) -> str:
    """The ``n`` rows that cost most, then up to ``unpriced`` rows with no price at all (they
    sort last by spend, and are said to be unpriced rather than left out)."""
    rows = report["spend_by"][dim]
    shown = rows[:n] + [r for r in rows[n:] if r.get("spend_status") == "unpriced"][:unpriced]
    lines = []
    for row in shown:
        name = slack_escape(row[dim])
        if dim == "model":
            name += f" ({slack_escape(row['provider'])})"
        figure = spend_text(row["spend_usd"], row["unpriced_attempts"], attempts=row["attempts"])
        lines.append(f"• {name}: {figure} ({change_text(row['change_pct'], row['prev_attempts'])})")
    return "\n".join(lines) or "_none_"


def _mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; ``verbatim``: Slack links no bare URL and parses no mention or
    channel name in it (its own ``<url|label>`` links still work)."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def slack_payload(report: dict[str, Any]) -> dict[str, Any]:
    """Slack-compatible: ``text`` (the notification line) and ``blocks``. Every logged string
    goes through :func:`slack_escape`, in verbatim text objects."""
    t, b = report["totals"], report["budget"]
    heads = [
        f"*Spend*\n{spend_text(t['spend_usd'], t['unpriced_attempts'])} "
        f"({change_text(t['change_pct'], t['prev']['attempts'])})",
        f"*Requests*\n{num(t['logical_requests'])}, {pct(t['success_rate'])} succeeded",
        f"*Month to date*\n{spend_text(b['month_to_date_usd'], b.get('month_unpriced_attempts'))}"
        f" (day {b['elapsed_days']} of {b['days_in_month']})",
        f"*Spent on failed attempts*\n{slack_escape(failures_line(report))}",
    ]
    for s in b["rows"][:3]:
        least = "at least " if count(s.get("unpriced_attempts")) else ""
        used = f"{least}{pct(s['share'], 0)} used" if s["share"] is not None else "unpriced"
        heads.append(
            f"*Budget: {slack_escape(s['label'])}*\n{used}, projected "
            f"{least}{pct(s['projected_share'], 0)}"
        )
    notes = [
        f"{len(report['regressions'])} P95 regressions",
        f"{len(report['spikes'])} spikes",
        f"{len(report['price_changes'])} price changes",
        f"{num(t['unpriced_attempts'])} unpriced attempts",
    ]
    proposal = report["proposal"]
    if proposal and proposal.get("rejected"):
        r = proposal["rejected"]
        notes.append(
            f"routing proposal rejected by {slack_escape(str(r['decided_by']))} on "
            f"{utc(r['decided_at'])}"
        )
    elif proposal:
        s = proposal.get("savings") or {}
        notes.append(
            f"routing proposal: estimated savings {usd(s.get('savings_usd'))}, "
            f"<{report['links']['routing']}|review and approve it>"
        )
    else:
        notes.append(slack_escape(report["proposal_note"] or "no proposal"))
    title = f"RouteLedger weekly cost report {report['week']}"
    lines = [slack_escape(line) for line in report["summary"]["lines"]]
    actions = report["summary"]["actions"]
    if actions:
        lines[2] += f" <{actions[0]['link']}|Open>"
    return {
        "text": subject(report),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {
                "type": "context",
                "elements": [
                    _mrkdwn(
                        f"{report['since']} to {report['until']} "
                        f"({slack_escape(report['timezone'])})"
                    )
                ],
            },
            {"type": "section", "text": _mrkdwn("\n".join(lines))},
            {"type": "section", "fields": [_mrkdwn(h) for h in heads[:10]]},
            {"type": "section", "text": _mrkdwn("*Top models*\n" + _top_lines(report, "model"))},
            {"type": "section", "text": _mrkdwn("*Top tasks*\n" + _top_lines(report, "task"))},
            {"type": "context", "elements": [_mrkdwn(" · ".join(notes))]},
        ],
    }


def json_payload(report: dict[str, Any]) -> dict[str, Any]:
    """Generic JSON: the report's figures as report.json holds them."""
    return {"event": "weekly_report", "week": report["week"], "report": jsonable(report)}


def webhook_payload(report: dict[str, Any], kind: str) -> dict[str, Any]:
    return json_payload(report) if kind == "json" else slack_payload(report)
