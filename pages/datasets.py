"""Datasets: upload a reference and a current dataset, check and save them; rename, delete."""

import streamlit as st

from monitor.ui import actor as ui_actor
from monitor.ui import context as ui
from monitor.ui import datasets as ui_datasets

context = ui.current()
st.title("Datasets")
st.caption(
    "Upload a reference (e.g. training) and a current (e.g. production) dataset as CSV, "
    "Parquet or JSON Lines. They are validated, stored as Parquet and can then be analysed "
    "on the Drift, Data quality and Fairness pages: choose *Uploaded datasets* as the data "
    "source in the sidebar. See docs/datasets.md."
)
actor = ui_actor.actor(context.settings)
ui_datasets.render_upload(context, actor)
ui_datasets.render_list(context, actor)
