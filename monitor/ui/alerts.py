"""Streamlit helpers for the Alerts page and the Overview's active-alert counts.

The alert state lives in SQLite (`monitor.alerts` over `monitor.state`). Reads are
cached until the audit trail gains a row (every evaluation, transition, acknowledgement
and silence adds one, from this dashboard or from `monitor check`), at most 30 s.
Actions run in widget callbacks, before the page is drawn again, so the inbox is read
after the change; their outcome is shown once at the top of the page. Every widget is
keyed by the alert's id, so the buttons of many alerts never clash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Final, Literal, NoReturn

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.core.state import Actor, StateStore, actor_label, utc_now
from monitor.ops.alerts import actions as alerts
from monitor.ops.alerts.actions import Alert, StateFilter
from monitor.ops.alerts.format import (
    AUDIT_ROWS,
    SILENCE_PRESETS,
    audit_rows,
    comparison,
    describe,
    format_utc,
    rule_units,
    silence_until,
    since,
    when,
)
from monitor.ops.alerts.rules import SEVERITIES, Severity
from monitor.ui.context import PageContext, escape_markdown

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
AUDIT_ENTITIES: Final = ("alert", "fingerprint")
"""What monitor.alerts audits: alert episodes by id, silences by fingerprint."""
LIST_LIMIT: Final = 1000
"""Alerts read to name the rows of the audit history."""
MAX_CARDS: Final = 50
"""Alert cards drawn per view; the rest are counted (in SQL), not read."""
_FLASH_KEY: Final = "alerts_flash"
_EVALUATED_KEY: Final = "alerts_auto_evaluated"


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


# -- messages that survive the rerun after an action ------------------------------------------


def _flash(kind: Literal["success", "warning", "error"], text: str, where: str = "") -> None:
    """Keep a message for the next run: at the top of the page, or (`where`) inside the
    popover whose form failed, which stays open."""
    st.session_state.setdefault(_FLASH_KEY, []).append((where, kind, text))


def show_flash(where: str = "") -> None:
    """The outcome of the last action, once."""
    messages = st.session_state.get(_FLASH_KEY, [])
    st.session_state[_FLASH_KEY] = [m for m in messages if m[0] != where]
    for place, kind, text in messages:
        if place == where:
            {"success": st.success, "warning": st.warning, "error": st.error}[kind](text)


# -- evaluation --------------------------------------------------------------------------------


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


def last_checked(state: StateStore, now: dt.datetime | None = None) -> str:
    """`Rules last checked 5 min ago (2024-05-01 09:00 UTC)`, by anyone."""
    moment = alerts.last_evaluation(state)
    if moment is None:
        return "Rules not checked yet."
    return f"Rules last checked {when(moment, now or utc_now())}."


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


# -- actions (widget callbacks) ----------------------------------------------------------------


def _acknowledge(state: StateStore, alert_id: int, actor: Actor) -> None:
    note = str(st.session_state.get(f"ack_note_{alert_id}", "")).strip() or None
    try:
        alerts.acknowledge(state, alert_id, actor, note)
    except alerts.AlreadyAcknowledged as exc:
        _flash("warning", str(exc))
    except MonitorError as exc:
        _flash("error", str(exc))
    else:
        st.session_state[f"ack_note_{alert_id}"] = ""
        _flash("success", f"Alert {alert_id} acknowledged.")


def _unacknowledge(state: StateStore, alert_id: int, actor: Actor) -> None:
    try:
        alerts.unacknowledge(state, alert_id, actor)
    except MonitorError as exc:
        _flash("error", str(exc))
    else:
        _flash("success", f"Alert {alert_id} is no longer acknowledged.")


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
        _flash("error", f"Alert {key} was not silenced: {exc}", where=f"silence_open_{key}")
    else:
        st.session_state[f"silence_reason_{key}"] = ""
        _flash("success", f"Alert {key} ({alert.rule}) silenced until {format_utc(until)}.")


def _unsilence(state: StateStore, alert: Alert, actor: Actor) -> None:
    try:
        alerts.unsilence(state, alert.fingerprint, actor)
    except MonitorError as exc:
        _flash("error", str(exc))
    else:
        _flash("success", f"Alert {alert.alert_id} is no longer silenced.")


# -- drawing -----------------------------------------------------------------------------------


def scope(context: PageContext) -> str | None:
    """The sidebar's model or all models (None)."""
    if context.filters is None:
        return None
    model_id = context.filters.model.model_id
    choice = st.segmented_control(
        "Models",
        ["all", "model"],
        default="all",
        required=True,
        format_func=lambda o: "All models" if o == "all" else f"{model_id} only",
        key="alerts_scope",
    )
    return model_id if choice == "model" else None


def pick_view(counts: Mapping[View, int]) -> View:
    choice = st.segmented_control(
        "Show",
        list(VIEWS),
        default="firing",
        required=True,
        format_func=lambda v: count_label(v, counts[v]),
        key="alerts_view",
    )
    return choice if choice in VIEWS else "firing"


def action_hint(context: PageContext, actor: Actor | None) -> None:
    if context.settings.read_only:
        st.caption("Read-only dashboard: acknowledging and silencing are turned off.")
    elif actor is None:
        st.info(
            "To acknowledge or silence alerts, type your name in the sidebar field "
            '"Your name (for the audit trail)".',
            icon=":material/person:",
        )


def alert_cards(
    context: PageContext, shown: Sequence[Alert], view: View, total: int, actor: Actor | None
) -> None:
    """The cards of `shown` (at most MAX_CARDS), the first of the view's `total` alerts."""
    if not shown:
        st.caption(f"No {VIEW_LABELS[view].lower()} alerts.")
        return
    if total > MAX_CARDS:
        st.caption(f"The first {MAX_CARDS} of {total:,} alerts (most severe first).")
    now = utc_now()
    units = rule_units(context.settings)
    for alert in shown[:MAX_CARDS]:
        alert_card(context.state, alert, units.get(alert.rule), actor, now)


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
        label, moment = since(alert)
        facts = [comparison(alert, unit)]
        if moment is not None:
            facts.append(f"{label} {when(moment, now)}")
        st.markdown(" · ".join(escape_markdown(f) for f in facts))
        if alert.summary:
            st.caption(escape_markdown(alert.summary))
        if alert.acknowledged and alert.acknowledged_by is not None:
            by = actor_label(alert.acknowledged_by, alert.acknowledged_verified)
            at = "" if alert.acknowledged_at is None else f" {when(alert.acknowledged_at, now)}"
            said = ", with this note:" if alert.note else ""
            st.markdown(
                f":material/check_circle: Acknowledged by {escape_markdown(by + at + said)}"
            )
            if alert.note:
                st.text(alert.note)
        if alert.silenced(now) and alert.silenced_until is not None:
            st.markdown(
                f":material/notifications_off: Silenced until "
                f"{escape_markdown(when(alert.silenced_until, now))}"
                + (f": {escape_markdown(alert.silence_reason)}" if alert.silence_reason else "")
            )
        if actor is not None:
            _actions(state, alert, actor, now)


def _actions(state: StateStore, alert: Alert, actor: Actor, now: dt.datetime) -> None:
    """The buttons of one alert; a form is drawn only while its popover is open (a page
    of alerts would otherwise draw hundreds of hidden widgets on every rerun)."""
    key = alert.alert_id
    row = st.container(horizontal=True)
    if alert.acknowledged:
        row.button(
            "Unacknowledge", key=f"unack_{key}", on_click=_unacknowledge, args=(state, key, actor)
        )
    elif alert.state != "resolved":
        drawer = row.popover(
            "Acknowledge", icon=":material/check:", key=f"ack_open_{key}", on_change="rerun"
        )
        if drawer.open:
            with drawer:
                _ack_form(state, alert, actor)
    if alert.silenced(now):
        row.button(
            "Unsilence", key=f"unsilence_{key}", on_click=_unsilence, args=(state, alert, actor)
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
                show_flash(f"silence_open_{key}")
                _silence_form(state, alert, actor, now)


def _ack_form(state: StateStore, alert: Alert, actor: Actor) -> None:
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


def _silence_form(state: StateStore, alert: Alert, actor: Actor, now: dt.datetime) -> None:
    key = alert.alert_id
    tomorrow = (now + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    with st.form(f"silence_form_{key}", border=False):
        st.caption("Silencing mutes this rule and labels (every episode) until the end time.")
        st.radio("For", list(SILENCE_PRESETS), key=f"silence_for_{key}", horizontal=True)
        day, hour = st.columns(2)
        day.date_input("End date (UTC)", value=tomorrow.date(), key=f"silence_date_{key}")
        hour.time_input("End time (UTC)", value=tomorrow.time(), key=f"silence_time_{key}")
        st.text_input("Reason (required)", key=f"silence_reason_{key}", max_chars=500)
        st.form_submit_button(
            "Silence",
            type="primary",
            key=f"silence_{key}",
            on_click=_silence,
            args=(state, alert, actor),
        )


def audit_history(state: StateStore) -> None:
    entries = [
        e for entity in AUDIT_ENTITIES for e in state.audit_log(entity=entity, limit=AUDIT_ROWS)
    ]
    rows = audit_rows(entries, listed(state, "all"))
    if not rows:
        st.caption("No actions recorded yet.")
        return
    st.dataframe(
        [
            {
                "when (UTC)": r.when,
                "who": r.who,
                "action": r.action,
                "alert": r.alert,
                "rule": r.rule,
                "before -> after": r.change,
                "note": r.note,
            }
            for r in rows
        ],
        hide_index=True,
        column_config={
            "when (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        },
    )


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
