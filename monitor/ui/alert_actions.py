"""What people do on the Alerts page: check the rules, acknowledge and silence alerts.

Acknowledging and silencing run in widget callbacks, before the page is drawn again, so
the inbox is read after the change; their outcome is kept for `show_flash`, at the top
of the page or inside the popover whose form failed (it stays open). Every widget is keyed
by the alert's id, so the forms of many alerts never clash.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.core.state import Actor, StateStore, utc_now
from monitor.ops.alerts import actions as alerts
from monitor.ops.alerts.actions import Alert
from monitor.ops.alerts.format import SILENCE_PRESETS, format_utc, silence_until
from monitor.ui import flash as ui_flash
from monitor.ui.alerts import last_checked, never_evaluated
from monitor.ui.context import PageContext, escape_markdown

_FLASH_KEY: Final = "alerts_flash"
_EVALUATED_KEY: Final = "alerts_auto_evaluated"


def show_flash(where: str = "") -> None:
    """The outcome of the last action, once (`where`: the popover it belongs to)."""
    ui_flash.show(_FLASH_KEY, where=where)


# -- checking the rules ------------------------------------------------------------------------


def _evaluate(context: PageContext, spinner: str) -> None:
    try:
        with st.spinner(spinner):
            result = alerts.evaluate(context.store, context.settings, context.state)
    except MonitorError as exc:
        st.error(f"Could not check the rules: {escape_markdown(str(exc))}")
        return
    changes = len(result.transitions)
    unresolved = sum(a.state != "resolved" for a in result.alerts)
    st.success(
        f"Checked the rules at {format_utc(result.evaluated_at)}: {changes} "
        f"change{'s' if changes != 1 else ''} of state, {unresolved} unresolved "
        f"alert{'s' if unresolved != 1 else ''}."
    )
    for problem in result.errors:
        st.warning(problem)


def check_controls(context: PageContext) -> None:
    """ "Check rules now", one automatic check when the rules never ran on this state,
    and when they were last checked (here, by another session or by `monitor check`).

    Both checks write the state, so neither runs on a read-only dashboard."""
    if context.settings.read_only:
        st.caption(
            "Rules are checked by `monitor check` (this dashboard is read-only). "
            + last_checked(context.state)
        )
        return
    clicked = st.button(
        "Check rules now",
        icon=":material/refresh:",
        key="alerts_check_now",
        help="Evaluate every alert rule against the logs now, as `monitor check` does.",
    )
    if clicked:
        _evaluate(context, "Checking every alert rule against the logs...")
    elif not st.session_state.get(_EVALUATED_KEY) and never_evaluated(context.state):
        st.session_state[_EVALUATED_KEY] = True
        _evaluate(context, "First visit: checking every alert rule against the logs...")
    st.caption(last_checked(context.state))


# -- acknowledging and silencing (widget callbacks) --------------------------------------------


def _acknowledge(state: StateStore, alert_id: int, actor: Actor) -> None:
    note = str(st.session_state.get(f"ack_note_{alert_id}", "")).strip() or None
    try:
        alerts.acknowledge(state, alert_id, actor, note)
    except alerts.AlreadyAcknowledged as exc:
        ui_flash.say(_FLASH_KEY, "warning", str(exc))
    except MonitorError as exc:
        ui_flash.say(_FLASH_KEY, "error", str(exc))
    else:
        st.session_state[f"ack_note_{alert_id}"] = ""
        ui_flash.say(_FLASH_KEY, "success", f"Alert {alert_id} acknowledged.")


def unacknowledge(state: StateStore, alert_id: int, actor: Actor) -> None:
    try:
        alerts.unacknowledge(state, alert_id, actor)
    except MonitorError as exc:
        ui_flash.say(_FLASH_KEY, "error", str(exc))
    else:
        ui_flash.say(_FLASH_KEY, "success", f"Alert {alert_id} is no longer acknowledged.")


def _silence(state: StateStore, alert: Alert, actor: Actor) -> None:
    key = alert.alert_id
    reason = str(st.session_state.get(f"silence_reason_{key}", ""))
    now = utc_now()
    try:
        until = silence_until(
            str(st.session_state.get(f"silence_for_{key}", "")),
            st.session_state.get(f"silence_date_{key}"),
            st.session_state.get(f"silence_time_{key}"),
            now,
        )
        alerts.silence(state, alert.fingerprint, until=until, actor=actor, reason=reason, now=now)
    except MonitorError as exc:
        message = f"Alert {key} was not silenced: {exc}"
        ui_flash.say(_FLASH_KEY, "error", message, where=f"silence_open_{key}")
    else:
        st.session_state[f"silence_reason_{key}"] = ""
        message = f"Alert {key} ({alert.rule}) silenced until {format_utc(until)}."
        ui_flash.say(_FLASH_KEY, "success", message)


def unsilence(state: StateStore, alert: Alert, actor: Actor) -> None:
    try:
        alerts.unsilence(state, alert.fingerprint, actor)
    except MonitorError as exc:
        ui_flash.say(_FLASH_KEY, "error", str(exc))
    else:
        ui_flash.say(_FLASH_KEY, "success", f"Alert {alert.alert_id} is no longer silenced.")


def ack_form(state: StateStore, alert: Alert, actor: Actor) -> None:
    """An optional note and "Acknowledge"."""
    key = alert.alert_id
    with st.form(f"ack_form_{key}", border=False):
        st.text_area("Note (optional)", key=f"ack_note_{key}", max_chars=2000)
        st.form_submit_button(
            "Acknowledge",
            type="primary",
            key=f"ack_{key}",
            on_click=_acknowledge,
            args=(state, key, actor),
        )


def silence_form(state: StateStore, alert: Alert, actor: Actor, now: dt.datetime) -> None:
    """How long (a preset or an end time), a reason and "Silence"."""
    key = alert.alert_id
    # The date fields start where the default preset (the first) ends, so the form never
    # shows two different end times.
    first = next(iter(SILENCE_PRESETS.values())) or dt.timedelta(hours=1)
    end = (now + first).replace(second=0, microsecond=0)
    with st.form(f"silence_form_{key}", border=False):
        st.caption("Silencing mutes this rule and labels (every episode) until the end time.")
        st.radio("For", list(SILENCE_PRESETS), key=f"silence_for_{key}", horizontal=True)
        day, hour = st.columns(2)
        day.date_input("End date (UTC)", value=end.date(), key=f"silence_date_{key}")
        hour.time_input("End time (UTC)", value=end.time(), key=f"silence_time_{key}")
        st.caption('The end date and time apply with "Until the date below".')
        st.text_input("Reason (required)", key=f"silence_reason_{key}", max_chars=500)
        st.form_submit_button(
            "Silence",
            type="primary",
            key=f"silence_{key}",
            on_click=_silence,
            args=(state, alert, actor),
        )
