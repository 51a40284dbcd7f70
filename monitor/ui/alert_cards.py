"""One alert as a card: severity, rule, labels, since when, who acknowledged or silenced
it, and (for someone who may act) its buttons. Text from rules and labels is escaped."""

from __future__ import annotations

import datetime as dt
from typing import Final

import streamlit as st

from monitor.core.state import Actor, StateStore, actor_label
from monitor.findings.rules import Severity
from monitor.ops.alerts.actions import Alert
from monitor.ops.alerts.format import comparison, describe, episode_age, when
from monitor.ui import alert_actions
from monitor.ui.context import escape_markdown

SEVERITY_ICONS: Final[dict[Severity, str]] = {
    "critical": ":material/error:",
    "warning": ":material/warning:",
    "info": ":material/info:",
}
_SEVERITY_COLOURS: Final[dict[Severity, str]] = {
    "critical": "red",
    "warning": "orange",
    "info": "blue",
}
PAGE_TITLES: Final[dict[str, str]] = {
    "overview": "Overview",
    "performance": "Performance",
    "data_quality": "Data quality",
    "drift": "Drift",
    "fairness": "Fairness",
    "system_health": "System health",
    "models": "Models",
    "datasets": "Datasets",
}
"""Pages an alert may point at (those in app.py's navigation)."""


def alert_card(
    state: StateStore, alert: Alert, unit: str | None, actor: Actor | None, now: dt.datetime
) -> None:
    colour = _SEVERITY_COLOURS.get(alert.severity, "gray")
    icon = SEVERITY_ICONS.get(alert.severity, ":material/help:")
    with st.container(border=True, key=f"alert_card_{alert.alert_id}"):
        head, link = st.columns([4, 1])
        head.markdown(
            f":{colour}[{icon} **{alert.severity}**] · **{escape_markdown(alert.rule)}** · "
            f"{escape_markdown(describe(alert))} · alert {alert.alert_id}"
        )
        if alert.page in PAGE_TITLES:
            link.page_link(
                f"pages/{alert.page}.py",
                label=f"Open {PAGE_TITLES[alert.page]}",
                icon=":material/arrow_forward:",
            )
        facts = [comparison(alert, unit)]
        age = episode_age(alert)
        if age is not None:
            facts.append(age)
        st.markdown(" · ".join(escape_markdown(f) for f in facts))
        if alert.summary:
            st.caption(escape_markdown(alert.summary))
        _human_state(alert, now)
        if actor is not None:
            _actions(state, alert, actor, now)


def _human_state(alert: Alert, now: dt.datetime) -> None:
    """Who acknowledged it (and their note), and until when it is silenced."""
    if alert.acknowledged and alert.acknowledged_by is not None:
        by = actor_label(alert.acknowledged_by, alert.acknowledged_verified)
        at = "" if alert.acknowledged_at is None else f" {when(alert.acknowledged_at, now)}"
        said = ", with this note:" if alert.note else ""
        st.markdown(f":material/check_circle: Acknowledged by {escape_markdown(by + at + said)}")
        if alert.note:
            st.text(alert.note)
    if alert.silenced(now) and alert.silenced_until is not None:
        st.markdown(
            f":material/notifications_off: Silenced until "
            f"{escape_markdown(when(alert.silenced_until, now))}"
            + (f": {escape_markdown(alert.silence_reason)}" if alert.silence_reason else "")
        )


def _actions(state: StateStore, alert: Alert, actor: Actor, now: dt.datetime) -> None:
    """The buttons of one alert; a form is drawn only while its popover is open (a page
    of alerts would otherwise draw hundreds of hidden widgets on every rerun)."""
    key = alert.alert_id
    row = st.container(horizontal=True)
    if alert.acknowledged:
        row.button(
            "Unacknowledge",
            key=f"unack_{key}",
            on_click=alert_actions.unacknowledge,
            args=(state, key, actor),
        )
    elif alert.state != "resolved":
        drawer = row.popover(
            "Acknowledge", icon=":material/check:", key=f"ack_open_{key}", on_change="rerun"
        )
        if drawer.open:
            with drawer:
                alert_actions.ack_form(state, alert, actor)
    if alert.silenced(now):
        row.button(
            "Unsilence",
            key=f"unsilence_{key}",
            on_click=alert_actions.unsilence,
            args=(state, alert, actor),
        )
    elif alert.state != "resolved":
        drawer = row.popover(
            "Silence",
            icon=":material/notifications_off:",
            key=f"silence_open_{key}",
            on_change="rerun",
        )
        if drawer.open:
            with drawer:
                alert_actions.show_flash(f"silence_open_{key}")
                alert_actions.silence_form(state, alert, actor, now)
