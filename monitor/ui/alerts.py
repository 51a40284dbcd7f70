"""Cached alert reads for the Alerts page, and the Overview's active-alert counts.

The alert state lives in SQLite (`monitor.ops.alerts` over `monitor.core.state`). Reads
are cached until the audit trail gains a row (every evaluation, transition,
acknowledgement and silence adds one, from this dashboard or from `monitor check`), at
most 30 s. The cards are drawn by `alert_cards`, the actions are `alert_actions`'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal, NoReturn

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.core.state import StateStore, utc_now
from monitor.findings.rules import SEVERITIES, Severity
from monitor.ops.alerts import actions as alerts
from monitor.ops.alerts.actions import Alert, StateFilter
from monitor.ops.alerts.format import AUDIT_ROWS, audit_rows, when
from monitor.ui.context import escape_markdown

View = Literal["firing", "pending", "nodata", "acknowledged", "silenced", "resolved"]
VIEWS: Final[tuple[View, ...]] = (
    "firing",
    "pending",
    "nodata",
    "acknowledged",
    "silenced",
    "resolved",
)
VIEW_LABELS: Final[dict[View, str]] = {
    "firing": "Firing",
    "pending": "Pending",
    "nodata": "No data",
    "acknowledged": "Acknowledged",
    "silenced": "Silenced",
    "resolved": "Resolved",
}
SEVERITY_ORDER: Final[tuple[Severity, ...]] = tuple(reversed(SEVERITIES))
"""Most severe first."""
AUDIT_ENTITIES: Final = ("alert", "fingerprint")
"""What monitor.ops.alerts.actions audits: alert episodes by id, silences by fingerprint."""
LIST_LIMIT: Final = 1000
"""Alerts read to name the rows of the audit history."""
MAX_CARDS: Final = 50
"""Alert cards drawn per view; the rest are counted (in SQL), not read."""


# -- reads -------------------------------------------------------------------------------------


def _stamp(state: StateStore) -> int:
    """The newest audit row's id: every evaluation, transition, acknowledgement and
    silence appends one, so a new stamp means the alerts may have changed (silences
    running out are picked up by the cache's ttl)."""
    newest = state.audit_log(limit=1)
    return newest[0].id if newest else 0


@st.cache_data(ttl=30, show_spinner=False, max_entries=128)
def _listed(
    _state: StateStore, path: str, stamp: int, view: StateFilter, model_id: str | None, limit: int
) -> tuple[Alert, ...]:
    return alerts.list_alerts(_state, state_filter=view, model_id=model_id, limit=limit)


@st.cache_data(ttl=30, show_spinner=False, max_entries=128)
def _counted(_state: StateStore, path: str, stamp: int, model_id: str | None) -> dict[View, int]:
    counts = alerts.count_alerts(_state, model_id=model_id)
    return {view: int(counts[view]) for view in VIEWS}


@st.cache_data(ttl=30, show_spinner=False, max_entries=128)
def _active_counts(
    _state: StateStore, path: str, stamp: int, model_id: str | None
) -> dict[Severity, int]:
    counts = alerts.active_counts(_state, model_id=model_id)
    return {severity: int(counts.get(severity, 0)) for severity in SEVERITY_ORDER}


def listed(
    state: StateStore, view: StateFilter, model_id: str | None = None, limit: int = LIST_LIMIT
) -> tuple[Alert, ...]:
    """list_alerts, cached until the next audited change."""
    return _listed(state, str(state.path), _stamp(state), view, model_id, limit)


def view_counts(state: StateStore, model_id: str | None) -> dict[View, int]:
    """How many alerts each view holds (alerts.count_alerts), cached until the next
    audited change; stops the page with the reason when they cannot be read."""
    try:
        return _counted(state, str(state.path), _stamp(state), model_id)
    except MonitorError as exc:
        _stop_unreadable(exc)


def inbox(state: StateStore, view: View, model_id: str | None) -> tuple[Alert, ...]:
    """The first MAX_CARDS alerts of one view, most severe first; stops the page with the
    reason when they cannot be read."""
    try:
        return listed(state, view, model_id, MAX_CARDS)
    except MonitorError as exc:
        _stop_unreadable(exc)


def _stop_unreadable(exc: MonitorError) -> NoReturn:
    st.error(f"Cannot read the alerts: {escape_markdown(str(exc))}")
    st.stop()
    raise exc  # unreachable; st.stop raises


def count_label(view: View, count: int) -> str:
    """`Firing (3)`, `Resolved (12,345)`."""
    return f"{VIEW_LABELS[view]} ({count:,})"


def never_evaluated(state: StateStore) -> bool:
    """The rules were never checked on this state (no evaluation in the audit trail)."""
    return alerts.last_evaluation(state) is None


def last_checked(state: StateStore, now: dt.datetime | None = None) -> str:
    """`Rules last checked 5 min ago (2024-05-01 09:00 UTC)`, by anyone."""
    moment = alerts.last_evaluation(state)
    if moment is None:
        return "Rules not checked yet."
    return f"Rules last checked {when(moment, now or utc_now())}."


def audit_history(state: StateStore) -> list[dict[str, Any]]:
    """The audit history table: the newest AUDIT_ROWS actions on alerts and silences."""
    entries = [
        e for entity in AUDIT_ENTITIES for e in state.audit_log(entity=entity, limit=AUDIT_ROWS)
    ]
    return [
        {
            "when (UTC)": r.when,
            "who": r.who,
            "action": r.action,
            "alert": r.alert,
            "rule": r.rule,
            "before -> after": r.change,
            "note": r.note,
        }
        for r in audit_rows(entries, listed(state, "all"))
    ]


# -- Overview ----------------------------------------------------------------------------------


def severity_counts(state: StateStore, model_id: str | None = None) -> dict[Severity, int]:
    """alerts.active_counts, cached until the next audited change."""
    return _active_counts(state, str(state.path), _stamp(state), model_id)


def overview_block(state: StateStore) -> bool:
    """Active alerts by severity with a link to the Alerts page; False (and a hint)
    when the rules were never checked: zero alerts would then look healthy."""
    st.subheader("Active alerts")
    if never_evaluated(state):
        st.info(
            "The alert rules have not been checked yet: open Alerts (it checks them on the "
            "first visit) or run `monitor check`.",
            icon=":material/notifications:",
        )
        st.page_link("pages/alerts.py", label="Open Alerts", icon=":material/arrow_forward:")
        return False
    counts = severity_counts(state)
    cells = st.columns(len(SEVERITY_ORDER) + 1)
    for cell, severity in zip(cells, SEVERITY_ORDER, strict=False):
        cell.metric(
            severity.capitalize(),
            counts[severity],
            help=f"{severity.capitalize()} alerts that need someone: firing, pending or "
            "without data, neither acknowledged nor silenced.",
        )
    cells[-1].page_link("pages/alerts.py", label="Open Alerts", icon=":material/arrow_forward:")
    return True


def model_alerts_caption(state: StateStore, model_id: str) -> None:
    """One line for a model card: its active alerts by severity."""
    counts = severity_counts(state, model_id)
    if not any(counts.values()):
        st.caption("No active alerts.")
        return
    parts = [f"{counts[s]} {s}" for s in SEVERITY_ORDER if counts[s]]
    st.caption(f":material/notifications: Active alerts: {', '.join(parts)}")
