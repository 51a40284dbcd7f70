"""Alerts: the inbox of rule alerts, acknowledge and silence them, and the audit trail."""

import streamlit as st

from monitor.ops.alerts import format as alert_format
from monitor.ui import actor as ui_actor
from monitor.ui import alerts as ui_alerts
from monitor.ui import context as ui

context = ui.current()
st.title("Alerts")
actor = ui_actor.actor(context.settings)
ui_alerts.check_controls(context)
ui_alerts.show_flash()

model_id = ui_alerts.scope(context)
counts = ui_alerts.view_counts(context.state, model_id)
view = ui_alerts.pick_view(counts)
ui_alerts.action_hint(context, actor)
shown = ui_alerts.inbox(context.state, view, model_id)
ui_alerts.alert_cards(context, shown, view, counts[view], actor)

st.subheader("Audit history")
st.caption(
    f"The newest {alert_format.AUDIT_ROWS} actions on alerts and silences, by people and by "
    "rule checks; unverified names were typed, not signed in."
)
ui_alerts.audit_history(context.state)
