"""Who is acting in the dashboard, and whether actions are allowed at all.

With Streamlit authentication configured (`[auth]` in secrets.toml, `st.login`), the
signed-in user acts and is recorded as verified. Otherwise the operator types a name
once per session in the sidebar; it is stored with each action labelled "unverified".
`[dashboard] read_only = true` in monitor.toml hides every action.
"""

from __future__ import annotations

import streamlit as st

from monitor.core.config import Settings
from monitor.core.state import Actor

_NAME_KEY = "actor_name"


def signed_in_actor() -> Actor | None:
    """The signed-in user, when Streamlit authentication is configured and used."""
    user = st.user.to_dict()
    if not user.get("is_logged_in"):
        return None
    name = user.get("email") or user.get("name") or user.get("sub")
    return Actor(str(name), verified=True) if name else None


def actor(settings: Settings) -> Actor | None:
    """Who acts now, or None when nobody may act (read-only) or no name was given yet.

    Renders the sidebar name field when nobody is signed in."""
    if settings.read_only:
        st.sidebar.caption("Read-only dashboard: actions are turned off in monitor.toml.")
        return None
    signed_in = signed_in_actor()
    if signed_in is not None:
        st.sidebar.caption(f"Acting as {signed_in.name} (signed in)")
        return signed_in
    name = st.sidebar.text_input(
        "Your name (for the audit trail)",
        key=_NAME_KEY,
        max_chars=80,
        help="Nobody is signed in, so actions are recorded under this name, marked unverified.",
    ).strip()
    if not name:
        return None
    return Actor(name, verified=False)
