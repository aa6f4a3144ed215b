"""Data health: loads per source, the bucket and PostgreSQL sources' reads, the OTLP/HTTP
receiver, quarantined rows by reason with samples, freshness of the logs and of every price
source, and the scheduler's job runs."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from app import queries, ui
from collectors.remote import receiver_spool


def age(then: datetime | None) -> str:
    if then is None:
        return "never"
    seconds = (datetime.now(UTC).replace(tzinfo=None) - then).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def receiver_panel(ctx: ui.Ctx) -> None:
    """The OTLP/HTTP receiver: where it listens, what it accepted and rejected, how far the
    ingest is behind it (:func:`collectors.remote.receiver_spool.status`)."""
    assert ctx.cfg is not None
    state = receiver_spool.status(ctx.cfg)
    if state is None:
        return
    st.subheader("OTLP/HTTP receiver")
    if not state["running"]:
        st.warning(
            "The receiver is not running: `routeledger serve` listens on "
            f"`{state['configured'] or '[receiver] otlp_http'}` while it runs."
        )
    lag = state["lag_seconds"]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Listening on", state["listening"] or "not running", border=True)
    c2.metric("Last received", age(state["last_received_at"]), border=True)
    c3.metric(
        "Spans received",
        ui.count(state["spans"]),
        f"{ui.count(state['requests'])} exports",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    c4.metric(
        "Ingest lag",
        "up to date" if not lag else age(state["pending_since"]).replace(" ago", ""),
        f"{state['backlog_bytes'] / 2**20:,.1f} MiB waiting in the spool",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    rejected = state["rejected"]
    if rejected:
        st.caption(
            f"{ui.count(sum(rejected.values()))} requests rejected (the sender was told why): "
            + ", ".join(f"{reason} {ui.count(n)}" for reason, n in sorted(rejected.items()))
        )


def remote_panel(ctx: ui.Ctx) -> None:
    """The bucket and PostgreSQL sources: each one's last read, how far behind its newest record
    is, what it read and its last error (table ``source_reads``)."""
    remote = ui.query(ctx, queries.remote_sources)
    if remote.empty:
        return
    st.subheader("Buckets and databases")
    now = datetime.now(UTC).replace(tzinfo=None)
    for r in remote.itertuples():
        if r.error:
            st.warning(
                f"Source {ui.md_text(r.source)}: the last read failed: {ui.md_text(r.error)}"
            )
    lag = (now - remote["newest_at"]).dt.total_seconds() / 60
    ui.table(
        remote.assign(lag_minutes=lag.round(1)).rename(columns={"rows_last": "rows_last_read"}),
        "remote-sources",
    )


def body(ctx: ui.Ctx) -> None:
    fresh = ui.query(ctx, queries.freshness)
    loads = ui.query(ctx, queries.loads_by_source)
    quarantine = ui.query(ctx, queries.quarantine_by_reason)
    prices = ui.query(ctx, queries.price_sources)

    c1, c2, c3, c4 = st.columns(4)
    last = fresh["last_attempt_at"]
    c1.metric(
        "Newest attempt",
        age(last),
        f"{last:%Y-%m-%d %H:%M} UTC" if last else None,
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    c2.metric("Last successful load", age(fresh["last_load_at"]), border=True)
    c3.metric("Quarantined rows", ui.count(quarantine["rows"].sum()), border=True)
    failing = int((prices["status"] == "failed").sum()) if not prices.empty else 0
    c4.metric(
        "Price sources failing",
        f"{failing} of {len(prices)}" if len(prices) else "n/a (none refreshed yet)",
        border=True,
    )

    st.subheader("Loads per source")
    if loads.empty:
        st.info(f"Nothing has been loaded yet. {ui.EMPTY_HELP}")
    else:
        bad = loads[(loads["failed"] > 0) | (loads["interrupted"] > 0)]
        for r in bad.itertuples():
            st.warning(
                f"Source {r.source}: {r.failed} failed and {r.interrupted} interrupted "
                "load(s). Interrupted loads keep the batches they committed; the next "
                "`routeledger ingest` carries on where they stopped."
            )
        ui.table(loads, "loads-per-source")
        with st.expander("Recent loads"):
            ui.table(ui.query(ctx, queries.recent_loads), "recent-loads")

    remote_panel(ctx)
    receiver_panel(ctx)

    st.subheader("Quarantined rows")
    if quarantine.empty:
        st.success("No input row was quarantined.")
    else:
        st.caption("Rows that could not become attempts, kept with their position and reason.")
        ui.table(quarantine, "quarantine-by-reason")
        st.markdown("**Samples** (the newest rows of each reason)")
        ui.table(ui.query(ctx, queries.quarantine_samples), "quarantine-samples")

    st.subheader("Price sources")
    if prices.empty:
        st.info("No price refresh has run yet: `routeledger prices refresh`.")
    else:
        st.caption("A failing source keeps its last known prices; its error is shown here.")
        now = datetime.now(UTC).replace(tzinfo=None)
        since = (now - prices["last_success_at"]).dt.total_seconds() / 86400
        ui.table(prices.assign(days_since_success=since.round(1)), "price-sources")

    st.subheader("Job runs")
    jobs = ui.query(ctx, queries.job_runs)
    if jobs.empty:
        st.info("No scheduled job has run yet (`routeledger serve` runs them).")
    else:
        ui.table(jobs, "job-runs")


ui.page(
    "Data health",
    body,
    needs_attempts=False,
    note="What was loaded, what was rejected and how fresh it is. The sidebar filters do not "
    "apply here.",
)
