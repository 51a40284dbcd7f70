"""Managing saved datasets on the Datasets page: rename, and delete after a confirmation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.core.state import Actor
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets import storage
from monitor.ui.context import PageContext, escape_markdown
from monitor.ui.datasets import keep

_PENDING_DELETE: Final = "dataset_delete_pending"


def rename_or_delete(context: PageContext, found: Sequence[datasets.Dataset], actor: Actor) -> None:
    """Pick a dataset, then rename it or delete it (the deletion asks first)."""
    names = [d.name for d in found]
    left, middle, right = st.columns([3, 3, 2], vertical_alignment="bottom")
    name = left.selectbox("Dataset", names, key="dataset_pick")
    new_name = middle.text_input("New name", max_chars=200, key="dataset_new_name").strip()
    rename, delete = right.columns(2)
    if rename.button("Rename", key="dataset_rename", disabled=not new_name):
        try:
            datasets.rename_dataset(context.state, name, new_name, actor)
        except MonitorError as exc:
            st.error(escape_markdown(str(exc)))
        else:
            keep(f"Renamed dataset {name} to {new_name}.")
            st.rerun()
    if delete.button("Delete", key="dataset_delete"):
        st.session_state[_PENDING_DELETE] = name
    pending = st.session_state.get(_PENDING_DELETE)
    if pending is not None:
        if pending in names:
            _confirm_delete(context, pending, actor)
        else:
            _cancel_delete()


def _cancel_delete() -> None:
    st.session_state.pop(_PENDING_DELETE, None)


@st.dialog("Delete dataset", on_dismiss=_cancel_delete)
def _confirm_delete(context: PageContext, name: str, actor: Actor) -> None:
    st.markdown(
        f"Delete dataset **{escape_markdown(name)}**? Its stored Parquet file is removed and "
        "it is no longer offered as a data source. The audit trail keeps a record."
    )
    left, right = st.columns(2)
    if left.button("Delete", type="primary", key="dataset_delete_confirm"):
        try:
            storage.delete_dataset(context.state, context.settings.data_dir, name, actor)
        except MonitorError as exc:
            st.error(escape_markdown(str(exc)))
            return
        _cancel_delete()
        keep(f"Deleted dataset {name}.")
        st.rerun()
    if right.button("Cancel", key="dataset_delete_cancel"):
        _cancel_delete()
        st.rerun()
