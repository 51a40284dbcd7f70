"""Datasets: upload a reference and a current dataset, check and save them; rename, delete."""

import streamlit as st

from monitor.core.state import Actor
from monitor.ops.datasets import ingest
from monitor.ops.datasets import library as datasets
from monitor.ui import actor as ui_actor
from monitor.ui import context as ui
from monitor.ui import dataset_manage, dataset_save
from monitor.ui import datasets as ui_datasets
from monitor.ui.dataset_upload import upload_limits, upload_side
from monitor.ui.datasets import ROLES, Role, RoleChoice, SideRead


def upload() -> dict[Role, SideRead]:
    """Both sides next to each other; returns the sides that have files."""
    limit_mb, max_bytes = upload_limits(context.settings)
    columns = st.columns(2)
    reads = {
        role: upload_side(role, column, limit_mb, max_bytes)
        for role, column in zip(ROLES, columns, strict=True)
    }
    return {role: read for role, read in reads.items() if read is not None}


def schema_check(reference: ingest.Ingested, current: ingest.Ingested) -> None:
    found = ingest.compare_schemas(reference.columns, current.columns)
    st.subheader("Schema: reference against current")
    tiles = st.columns(4)
    tiles[0].metric("Shared columns", len(found.shared))
    tiles[1].metric("Missing in current", len(found.only_in_reference))
    tiles[2].metric("Extra in current", len(found.only_in_current))
    tiles[3].metric("Type changes", len(found.type_changes))
    rows = ui_datasets.schema_rows(found)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption("Same columns and types on both sides.")
    compared = ui_datasets.pair_schema(reference, current)
    if compared:
        st.caption(
            "Columns read as different types on the two sides, and how Drift will compare "
            "them (see docs/drift.md, Types read two ways):"
        )
        st.dataframe(compared, hide_index=True)


def column_roles(names: list[str], digest: str) -> RoleChoice:
    st.subheader("Column roles")
    st.caption(
        "Which columns hold the true label, the model's prediction or score, and the "
        "sensitive features (Drift compares the label and outputs separately from the "
        "features; Fairness needs a label, a prediction or score and a sensitive feature)."
    )
    return dataset_save.pick_roles(names, digest)


def save_section(
    reads: dict[Role, SideRead],
    ready: dict[Role, ingest.Ingested],
    choice: RoleChoice,
    actor: Actor | None,
) -> None:
    st.subheader("Save")
    if actor is None:
        st.info(
            "Type your name in the sidebar (it is recorded in the audit trail) to save "
            "these datasets."
        )
        return
    dataset_save.save_form(context, reads, ready, choice, actor)


def new_datasets(actor: Actor | None) -> None:
    """Upload, check, give roles and names, save."""
    if context.settings.read_only:
        st.info(
            "Read-only dashboard: uploading, renaming and deleting datasets are turned off "
            "(`[dashboard] read_only` in monitor.toml)."
        )
        return
    reads = upload()
    ready = {role: r.ingested for role, r in reads.items() if r.ingested is not None}
    if not ready:
        return
    if "reference" in ready and "current" in ready:
        schema_check(ready["reference"], ready["current"])
    digest = "_".join(r.digest for r in reads.values())
    choice = column_roles(ui_datasets.role_columns(ready), digest)
    save_section(reads, ready, choice, actor)


def saved_datasets(actor: Actor | None) -> None:
    """The registered datasets, with Rename and Delete for someone who may act."""
    st.subheader("Saved datasets")
    found = datasets.list_datasets(context.state)
    if not found:
        st.caption("No datasets saved yet.")
        return
    st.dataframe(
        ui_datasets.listing(found),
        hide_index=True,
        column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    if actor is not None:
        dataset_manage.rename_or_delete(context, found, actor)


context = ui.current()
st.title("Datasets")
st.caption(
    "Upload a reference (e.g. training) and a current (e.g. production) dataset as CSV, "
    "Parquet or JSON Lines. They are validated, stored as Parquet and can then be analysed "
    "on the Performance (label-free estimates), Drift, Data quality and Fairness pages: "
    "choose *Uploaded datasets* as the data source in the sidebar. See docs/datasets.md."
)
page_actor = ui_actor.actor(context.settings)
ui_datasets.flash()
new_datasets(page_actor)
saved_datasets(page_actor)
