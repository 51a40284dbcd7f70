"""Models: versions, canary comparison, champion alias, rollback marks and their history."""

import streamlit as st

from monitor.ui import actor as ui_actor
from monitor.ui import context as ui
from monitor.ui import models as ui_models

context = ui.current()
st.title("Models")
filters = context.filters
if filters is None:
    st.warning(f"No predictions found under {context.settings.data_dir}.")
    st.stop()

actor = ui_actor.actor(context.settings)
ui_models.flash()
model_id, window = filters.model.model_id, filters.window
found = ui_models.versions(context, model_id, window)
ui_models.actions_note(context.settings, actor)
ui_models.render_versions(context, found, actor)
ui_models.render_comparison(context, found, window)
ui_models.render_rollbacks(context, found, window, actor)
ui_models.render_notes(context, found, actor)
ui_models.render_history(context, model_id)
