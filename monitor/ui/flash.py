"""Messages that outlive the rerun after an action.

An action (a widget callback, or a click handled just before `st.rerun`) keeps its
outcome in the session under its page's key; the next run shows it once, where the page
calls `show`: at the top of the page, or (`where`) inside the popover or dialog that
stays open to fix what was refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Literal

import streamlit as st

from monitor.ui.context import escape_markdown

Kind = Literal["success", "warning", "error"]
_SHOW: Final[dict[Kind, Callable[..., Any]]] = {
    "success": st.success,
    "warning": st.warning,
    "error": st.error,
}


def say(key: str, kind: Kind, text: str, *, where: str = "", replace: bool = False) -> None:
    """Keep a message for `show(key, where=where)`; `replace` forgets those kept before."""
    kept = [] if replace else list(st.session_state.get(key, []))
    st.session_state[key] = [*kept, (where, kind, text)]


def show(key: str, *, where: str = "", escape: bool = False) -> None:
    """The messages kept for `where`, once; `escape` shows text from files or users
    literally (markdown escaped)."""
    messages = st.session_state.get(key, [])
    st.session_state[key] = [m for m in messages if m[0] != where]
    for place, kind, text in messages:
        if place == where:
            _SHOW[kind](escape_markdown(text) if escape else text)
