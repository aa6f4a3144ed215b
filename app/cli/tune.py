"""``routeledger tune``, ``routeledger manifest approve|reject|history|rollback|hash-password``
and ``routeledger evals import``: the routing-table tuner on the command line."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from app.cli import Ctx, emit_json, main
from app.cli.text import inline as escape  # markup-escaped, control characters replaced
from app.tuner import approvals, auth, exports
from app.tuner import manifest as manifest_mod
from app.tuner.proposal import Proposal, manifest_path, propose
from collectors import pipeline, yamlguard
from collectors.errors import InputError

_DAY = click.DateTime(["%Y-%m-%d"])
_BASE_NAME = "litellm config"  # how app.tuner.exports names the --base text in its errors


def _d(v: datetime | None) -> date | None:
    return v.date() if v else None


def _run(
    obj: Ctx, manifest: str | None, since: datetime | None, until: datetime | None
) -> tuple[Any, Proposal]:
    cfg = obj.config()
    pipeline.marts_for_reading(cfg)
    return cfg, propose(cfg, manifest, _d(since), _d(until))


def _window_options(f: Any) -> Any:
    f = click.option(
        "--until", type=_DAY, help="Last local day of evidence (default: the last day with data)."
    )(f)
    f = click.option(
        "--since",
        type=_DAY,
        help="First local day (default: calendar.window_days days ending on --until).",
    )(f)
    f = click.option(
        "--manifest",
        "manifest",
        type=click.Path(),  # the reader refuses anything but a regular file, in one line
        help="The routing manifest (default: tuner.manifest in the home).",
    )(f)
    return f


@main.command("tune")
@_window_options
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Write the proposal (or an export) to FILE."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(exports.FORMATS),
    default="native",
    show_default=True,
    help="Format written by --out.",
)
@click.option(
    "--base",
    type=click.Path(),  # read by _read_base: a regular file only, one line otherwise
    help="An existing LiteLLM config.yaml to update (--format litellm): the rest of it is kept.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def tune_cmd(
    obj: Ctx,
    manifest: str | None,
    since: datetime | None,
    until: datetime | None,
    out: str | None,
    fmt: str,
    base: str | None,
    as_json: bool,
) -> None:
    """Propose a routing manifest from the evidence: chains, reasons, savings. Writes nothing
    but --out; `routeledger manifest approve` installs it."""
    if fmt != "native" and not out:
        raise click.BadParameter("--format writes a file: give --out FILE", param_hint="--format")
    base_text = _read_base(base) if base else None  # before the evidence: a bad file fails fast
    _, p = _run(obj, manifest, since, until)
    if out:
        proposed = manifest_mod.loads(p.text, p.manifest.file)
        try:
            exported = exports.export(proposed, fmt, base_text)
        except manifest_mod.ManifestError as e:
            if base and e.file.startswith(_BASE_NAME):  # name the file, not "litellm config"
                raise InputError(f"{base}{str(e)[len(_BASE_NAME) :]}") from None
            raise
        approvals.atomic_write(Path(out), exported)
    if as_json:
        emit_json(p.as_json())
        return
    _print(p, out, fmt)


def _read_base(base: str) -> str:
    """The --base LiteLLM config: a regular file within the YAML size limit (never
    ``/dev/zero`` read until memory runs out, nor a FIFO waited on for ever)."""
    try:
        return yamlguard.read_text(base)
    except yamlguard.YamlLimitError as e:
        raise InputError(f"{base}: --base refused: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{base}: cannot read the --base config: {e}") from None


def _print(p: Proposal, out: str | None, fmt: str) -> None:
    c = Console(highlight=False)
    c = Console(highlight=False, width=max(c.width, 110))  # chains need the room
    c.print(f"[bold]{escape(p.manifest.file)}[/bold]: evidence {p.since} .. {p.until}")
    t = Table(title="Tasks", title_justify="left")
    t.add_column("task", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("proposed chain", overflow="fold", min_width=20)
    for col in ("success (low)", "$ / success", "P95"):
        t.add_column(col, justify="right", no_wrap=True)
    for r in p.tasks:
        e = r.proposed
        same = r.proposed_chain == r.current_chain
        t.add_row(
            escape(r.task),
            r.status,
            ("= " if same else "") + escape(" → ".join(r.proposed_chain)),
            f"{e.success:.1%} ({e.success_low:.1%})" if e else "-",
            f"{e.cost_per_success:.6f}" if e and e.cost_per_success < float("inf") else "-",
            f"{e.p95_ms:,.0f} ms" if e and e.p95_ms is not None else "-",
        )
    c.print(t)
    for r in p.tasks:
        c.print(f"[bold]{escape(r.task)}[/bold]")
        for reason in r.reasons:
            c.print(f"  - {escape(reason)}")
    if p.prices:
        c.print("[bold]providers[/bold] (prices in force)")
    for pc in p.prices:
        c.print(f"  - {escape(pc.reason)}")
    s = p.savings_total
    if s.get("current_spend_usd") is not None:
        c.print(
            f"Savings over the window: ${s['savings_usd']:,.2f} (95% interval "
            f"${s['low_usd']:,.2f} .. ${s['high_usd']:,.2f}); spend ${s['current_spend_usd']:,.2f}"
            f" now, ${s['proposed_spend_usd']:,.2f} proposed"
        )
    if p.changed:
        c.print("\n[bold]Proposed changes[/bold]")
        c.print(escape(p.diff), end="")
        c.print(
            f"\nApprove with: routeledger manifest approve --manifest {escape(p.manifest.file)}"
            f" --since {p.since} --until {p.until} --expect {p.sha256[:16]}"
        )
    else:
        c.print("No change proposed.")
    if out:
        c.print(f"Written {escape(out)} ({fmt}).")


# -- manifest -------------------------------------------------------------------------------------


@main.group("manifest")
def manifest_group() -> None:
    """Approve, reject, list and roll back routing manifest versions."""


def _decision(by: str | None, comment: str) -> approvals.Decision:
    return approvals.Decision(by or approvals.current_user(), "cli", comment)


@manifest_group.command("approve")
@_window_options
@click.option("--comment", default="", help="Why; kept in the audit trail.")
@click.option("--by", help="Approver recorded (default: the OS user).")
@click.option(
    "--expect", help="The proposal_sha256 (or a prefix) you reviewed; refuse if it differs."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def approve_cmd(
    obj: Ctx,
    manifest: str | None,
    since: datetime | None,
    until: datetime | None,
    comment: str,
    by: str | None,
    expect: str | None,
    as_json: bool,
) -> None:
    """Regenerate the proposal and write it to the manifest's path (atomically, keeping the
    previous version)."""
    cfg, p = _run(obj, manifest, since, until)
    if expect and not p.sha256.startswith(expect.lower()):
        raise InputError(
            f"the proposal is now {p.sha256[:16]}, not {expect}: the evidence or the "
            "manifest changed; run `routeledger tune` and review it again"
        )
    if not p.changed:
        out = {
            "decision": "approved",
            "decision_id": None,
            "manifest": p.manifest.file,
            "version": None,
            "sha256": p.sha256,
            "previous_sha256": p.manifest.sha256,
            "note": "nothing to change",
        }
    else:
        out = approvals.approve(
            cfg,
            Path(p.manifest.file),
            p.text,
            _decision(by, comment),
            window=(p.since, p.until),
            proposal=p.as_json(),
            expect_sha256=p.manifest.sha256,
        )
    _emit(out, as_json)


@manifest_group.command("reject")
@_window_options
@click.option("--comment", required=True, help="Why (required); kept in the audit trail.")
@click.option("--by", help="Who rejects (default: the OS user).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def reject_cmd(
    obj: Ctx,
    manifest: str | None,
    since: datetime | None,
    until: datetime | None,
    comment: str,
    by: str | None,
    as_json: bool,
) -> None:
    """Record that the current proposal was rejected (nothing is written)."""
    if not comment.strip():
        raise click.BadParameter("say why the proposal is rejected", param_hint="--comment")
    cfg, p = _run(obj, manifest, since, until)
    out = approvals.reject(
        cfg,
        Path(p.manifest.file),
        p.text,
        _decision(by, comment),
        window=(p.since, p.until),
        proposal=p.as_json(),
    )
    _emit(out, as_json)


@manifest_group.command("history")
@click.option("--manifest", type=click.Path(dir_okay=False), help="Default: tuner.manifest.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def history_cmd(obj: Ctx, manifest: str | None, as_json: bool) -> None:
    """Every stored version of the manifest and every decision on it."""
    cfg = obj.config()
    h = approvals.history(cfg, manifest_path(cfg, manifest).resolve())
    if as_json:
        emit_json(h)
        return
    c = Console(highlight=False)
    t = Table(title=f"Versions of {escape(h['manifest'])}", title_justify="left")
    for col in ("version", "kind", "created (UTC)", "by", "sha256", "comment", ""):
        t.add_column(col)
    for v in h["versions"]:
        t.add_row(
            str(v["version"]),
            v["kind"],
            f"{v['created_at']:%Y-%m-%d %H:%M:%S}",
            escape(v["created_by"]),
            v["sha256"][:12],
            escape(v["comment"] or ""),
            "current" if v["current"] else "",
        )
    c.print(t)
    for dcs in h["decisions"]:
        c.print(
            f"{dcs['decided_at']:%Y-%m-%d %H:%M} {dcs['decision']} by {escape(dcs['decided_by'])}"
            f" ({dcs['auth']}): {escape(dcs['comment'] or '')}"
        )


@manifest_group.command("rollback")
@click.argument("version", type=int)
@click.option("--manifest", type=click.Path(dir_okay=False), help="Default: tuner.manifest.")
@click.option("--comment", default="", help="Why; kept in the audit trail.")
@click.option("--by", help="Who rolls back (default: the OS user).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def rollback_cmd(
    obj: Ctx, version: int, manifest: str | None, comment: str, by: str | None, as_json: bool
) -> None:
    """Restore stored VERSION of the manifest (see `routeledger manifest history`)."""
    cfg = obj.config()
    out = approvals.rollback(
        cfg, manifest_path(cfg, manifest).resolve(), version, _decision(by, comment)
    )
    _emit(out, as_json)


@manifest_group.command("verify")
@click.option("--manifest", type=click.Path(dir_okay=False), help="Default: tuner.manifest.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def verify_cmd(obj: Ctx, manifest: str | None, as_json: bool) -> None:
    """The latest approval's forecast against what happened since, task by task; proposes a
    rollback when a change does worse than forecast (never rolls back by itself)."""
    from app.tuner import verify

    cfg = obj.config()
    path = manifest_path(cfg, manifest).resolve()
    checks = verify.check(cfg, path)
    if as_json:
        emit_json({"manifest": str(path), "checks": [c.as_json() for c in checks]})
        return
    c = Console(highlight=False)
    if not checks:
        c.print(f"{escape(str(path))}: no approved change to verify")
        return
    t = Table(title=f"Forecast against actual since {checks[0].approved_at:%Y-%m-%d %H:%M} UTC",
              title_justify="left")  # fmt: skip
    for col in ("task", "chain", "verdict", "requests", "success (forecast)", "$ / success",
                "P95"):  # fmt: skip
        t.add_column(col)
    for ch in checks:
        f, a = ch.forecast, ch.actual
        succ = "-" if a["success"] is None else f"{a['success']:.1%}"
        cps = a["cost_per_success_usd"]
        t.add_row(
            escape(ch.task),
            escape(" → ".join(ch.chain)),
            ch.verdict.replace("_", " "),
            f"{a['requests']:,}",
            f"{succ} ({f['success_low']:.1%} to {f['success_high']:.1%})",
            "-" if cps is None else f"{cps:,.6f}",
            "-" if a["p95_ms"] is None else f"{a['p95_ms']:,.0f} ms",
        )
    c.print(t)
    for ch in checks:
        for line in ch.findings:
            c.print(f"{escape(ch.task)}: {escape(line)}")


@manifest_group.command("hash-password")
@click.argument("user")
@click.password_option(help="The password (prompted, twice, when not given).")
def hash_password_cmd(user: str, password: str) -> None:
    """Print a dashboard.approvers entry for USER (PBKDF2-SHA256)."""
    try:
        click.echo(auth.hash_password(user, password))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="USER") from None


def _emit(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(out)
        return
    v = f" as version {out['version']}" if out.get("version") else ""
    click.echo(
        f"{out['decision']}: {out['manifest']}{v} (sha256 {out['sha256'][:12]})"
        + (f"; {out['note']}" if out.get("note") else "")
    )


# -- evals ----------------------------------------------------------------------------------------


@main.group("evals")
def evals_group() -> None:
    """Offline evaluation scores the tuner uses as quality."""


@evals_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def evals_import_cmd(obj: Ctx, file: str, as_json: bool) -> None:
    """Import FILE.csv with columns task, model, score (0..1; one row per example or per model).
    The latest import per (task, model) is the quality the tuner checks min_quality against."""
    out = pipeline.import_evals(obj.config(), Path(file))
    if as_json:
        emit_json(out)
    else:
        click.echo(
            f"imported {out['rows']} scores for {out['tasks']} tasks and {out['models']} models"
        )
