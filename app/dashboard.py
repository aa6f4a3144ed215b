"""The dashboard's entry point (`routeledger dashboard`, or `streamlit run app/dashboard.py`):
page config, the navigation and the shared sidebar filters. The home directory comes from
ROUTELEDGER_HOME.

Pages live in app/views/, one file each. Not app/pages/: Streamlit treats a pages/ folder beside
the entry script as a legacy multipage app, and the first request a fresh server gets for a page
URL then runs that page without this script (no navigation, no filters).

Adding a page is one st.Page line below; a feature's page joins when the feature exists (no
placeholder pages).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app import ui

# the favicon is a file of ours, sent inline (a data: URI): a ":material/...:" icon would have the
# browser fetch it from fonts.gstatic.com
st.set_page_config(
    page_title="RouteLedger", page_icon=str(Path(__file__).with_name("favicon.svg")), layout="wide"
)

PAGES = {
    "Spend": [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("views/cost.py", title="Cost per success", icon=":material/paid:"),
        st.Page("views/explorer.py", title="Request explorer", icon=":material/manage_search:"),
        st.Page("views/tokens.py", title="Tokens and cache", icon=":material/token:"),
        st.Page("views/reports.py", title="Reports", icon=":material/summarize:"),
        st.Page("views/reconciliation.py", title="Reconciliation", icon=":material/receipt_long:"),
        st.Page("views/routing.py", title="Routing", icon=":material/alt_route:"),
    ],
    "Quality": [
        st.Page("views/latency.py", title="Latency", icon=":material/timer:"),
        st.Page("views/reliability.py", title="Reliability", icon=":material/sync_problem:"),
    ],
    "Inputs": [
        st.Page("views/prices.py", title="Prices", icon=":material/sell:"),
        st.Page("views/data_health.py", title="Data health", icon=":material/monitor_heart:"),
    ],
}

current = st.navigation(PAGES)
ui.sidebar()
current.run()
