"""Who is deciding on the Routing page: anyone on a dashboard kept to localhost (the name they
give), else a person signed in through OIDC (``st.login``) or as one of ``dashboard.approvers``
with a password; nobody when the dashboard is exposed and no authentication is configured."""

from __future__ import annotations

import streamlit as st

from app import ui
from app.tuner import approvals, auth
from collectors.config import Config

AUTH_KEY = ui.SIGNED_IN_KEY


def _oidc() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001  (no secrets file at all)
        return False


def identity(cfg: Config) -> tuple[str, str] | None:
    """(who, how authenticated) of the person deciding, or None when they may not decide."""
    address = st.get_option("server.address")
    if not ui.exposed():
        name = st.text_input(
            "Your name (recorded with the decision)",
            value=approvals.current_user(),
            key="rl_routing_name",
        )
        return (name.strip() or approvals.current_user(), "local")
    if _oidc():
        if not st.user.get("is_logged_in", False):
            st.button("Log in to approve", on_click=st.login, key="rl_routing_login")
            return None
        who = st.user.get("email") or st.user.get("name") or "oidc user"
        return (str(who), "oidc")
    entries = list(cfg.get("dashboard.approvers") or [])
    if not entries:
        where = (
            f"listens on {address or 'every interface'}"
            if not auth.is_local(address)
            else "is reached through a proxy or under another host name"
        )
        st.error(
            f"Approving is disabled: this dashboard {where}"
            ", beyond localhost, and no authentication is configured. Set "
            "dashboard.approvers (see `routeledger manifest hash-password`) or configure "
            "OIDC for st.login, or approve with `routeledger manifest approve`."
        )
        return None
    if st.session_state.get(AUTH_KEY):
        return (st.session_state[AUTH_KEY], "password")
    with st.form("rl_routing_auth"):
        user = st.text_input("Approver", key="rl_routing_user_in")
        password = st.text_input("Password", type="password", key="rl_routing_password")
        if st.form_submit_button("Sign in"):
            answer = auth.Throttle.for_home(cfg.home).sign_in(entries, user, password)
            if answer.ok:
                st.session_state[AUTH_KEY] = user
                st.rerun()
            st.error(answer.message)
    return None
