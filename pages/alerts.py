"""Alerts: the inbox of rule alerts, acknowledge and silence them, and the audit trail."""

import streamlit as st

from monitor.core.state import Actor, utc_now
from monitor.ops.alerts.format import AUDIT_ROWS, rule_units
from monitor.ui import actor as ui_actor
from monitor.ui import alert_actions
from monitor.ui import alerts as ui_alerts
from monitor.ui import context as ui
from monitor.ui.alert_cards import alert_card
from monitor.ui.alerts import MAX_CARDS, VIEW_LABELS, VIEWS, View


def model_filter() -> str | None:
    """The sidebar's model, or all models (None)."""
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


def view_picker(counts: dict[View, int]) -> View:
    choice = st.segmented_control(
        "Show",
        list(VIEWS),
        default="firing",
        required=True,
        format_func=lambda v: ui_alerts.count_label(v, counts[v]),
        key="alerts_view",
    )
    return choice if choice in VIEWS else "firing"


def action_hint(actor: Actor | None) -> None:
    if context.settings.read_only:
        st.caption("Read-only dashboard: acknowledging and silencing are turned off.")
    elif actor is None:
        st.info(
            "To acknowledge or silence alerts, type your name in the sidebar field "
            '"Your name (for the audit trail)".',
            icon=":material/person:",
        )


def alert_list(actor: Actor | None) -> None:
    """One view of the inbox (firing, pending, ...): a card per alert, most severe first."""
    model_id = model_filter()
    counts = ui_alerts.view_counts(context.state, model_id)
    view = view_picker(counts)
    action_hint(actor)
    shown = ui_alerts.inbox(context.state, view, model_id)
    if not shown:
        st.caption(f"No {VIEW_LABELS[view].lower()} alerts.")
        return
    if counts[view] > MAX_CARDS:
        st.caption(f"The first {MAX_CARDS} of {counts[view]:,} alerts (most severe first).")
    now = utc_now()
    units = rule_units(context.settings)
    for alert in shown[:MAX_CARDS]:
        alert_card(context.state, alert, units.get(alert.rule), actor, now)


def audit_trail() -> None:
    st.subheader("Audit history")
    st.caption(
        f"The newest {AUDIT_ROWS} actions on alerts and silences, by people and by "
        "rule checks; unverified names were typed, not signed in."
    )
    rows = ui_alerts.audit_history(context.state)
    if not rows:
        st.caption("No actions recorded yet.")
        return
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "when (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        },
    )


context = ui.current()
st.title("Alerts")
page_actor = ui_actor.actor(context.settings)
alert_actions.check_controls(context)
alert_actions.show_flash()
alert_list(page_actor)
audit_trail()
