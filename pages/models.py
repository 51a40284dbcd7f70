"""Models: versions, canary comparison, champion alias, rollback marks and their history."""

import streamlit as st

from monitor.core.scope import Scope
from monitor.core.state import Actor
from monitor.ops.registry import rollback as registry_rollback
from monitor.ops.registry import versions as registry
from monitor.ops.registry.versions import ModelVersions
from monitor.ui import actor as ui_actor
from monitor.ui import context as ui
from monitor.ui import model_actions, rollback_dialog
from monitor.ui import models as ui_models
from monitor.ui import models_tables as tables
from monitor.ui.context import escape_markdown
from monitor.ui.models_compare import pick_pair, show_comparison

MINUTES = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
SECONDS = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")


def actions_note(actor: Actor | None) -> None:
    """Why there are no buttons, when there are none."""
    if actor is not None:
        return
    if context.settings.read_only:
        st.caption("Read-only dashboard: marking rollbacks and setting aliases are turned off.")
    else:
        st.caption(
            'Type your name in the sidebar ("Your name (for the audit trail)") to set '
            "aliases and mark rollbacks."
        )


def versions_table(found: ModelVersions, actor: Actor | None) -> None:
    window = found.usage.window
    source = (
        "holds the champion alias"
        if found.current_source == "alias"
        else "no champion alias: most predictions in the last 24 hours of traffic"
    )
    st.subheader("Versions")
    st.caption(
        f"Current version: {escape_markdown(tables.version_name(found.current_version))} "
        f"({source}). Traffic share, error rate, p95 and {found.usage.metric} in the window "
        f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC; all versions, "
        "whatever the sidebar's version filter."
    )
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        tables.versions_rows(found),
        hide_index=True,
        column_config={
            "first seen (UTC)": MINUTES,
            "last seen (UTC)": MINUTES,
            "traffic share": percent,
            "error rate": percent,
            "p95 (ms)": st.column_config.NumberColumn(format="%.0f"),
            found.usage.metric: st.column_config.NumberColumn(format="%.3f"),
        },
    )
    if actor is not None:
        model_actions.champion_picker(context, found, actor)


def compare_versions(scope: Scope, found: ModelVersions) -> None:
    st.subheader("Compare two versions")
    pair = pick_pair(found)
    if pair is None:
        return
    result = ui_models.comparison(context, scope, *pair)
    st.caption(
        "Both measured over the part of the window in which both served (same traffic, same days)."
        if result.same_period
        else "They did not serve at the same time."
    )
    show_comparison(result)


def rollback_marks(scope: Scope, found: ModelVersions, actor: Actor | None) -> None:
    st.subheader("Rollback")
    marks = registry_rollback.marks(context.state, status="all", model_id=found.model_id)
    opened = next((m for m in marks if m.is_open), None)  # at most one per model
    if opened is not None:
        model_actions.open_mark(context, opened, actor)
    elif actor is not None:
        rollback_dialog.request_button(context, scope, found, actor)
    if not marks:
        st.caption("No rollback marks for this model yet.")
        return
    st.dataframe(
        tables.marks_rows(marks),
        hide_index=True,
        column_config={"requested at (UTC)": MINUTES, "closed at (UTC)": MINUTES},
    )


def version_notes(found: ModelVersions, actor: Actor | None) -> None:
    st.subheader("Notes")
    found_notes = registry.notes(context.state, found.model_id)
    if found_notes:
        st.dataframe(tables.notes_rows(found_notes), hide_index=True)
    else:
        st.caption("No notes yet.")
    if actor is not None:
        model_actions.note_form(context, found, actor)


def history(model_id: str) -> None:
    st.subheader("History")
    entries = registry.history(context.state, model_id)
    if not entries:
        st.caption("Nothing recorded for this model yet.")
        return
    st.dataframe(tables.history_rows(entries), hide_index=True, column_config={"at (UTC)": SECONDS})


context = ui.current()
st.title("Models")
page_scope = context.scope
if page_scope is None:
    st.warning(f"No predictions found under {context.settings.data_dir}.")
    st.stop()

page_actor = ui_actor.actor(context.settings)
model_actions.flash()
versions = ui_models.versions(context, page_scope)
actions_note(page_actor)
versions_table(versions, page_actor)
compare_versions(page_scope, versions)
rollback_marks(page_scope, versions, page_actor)
version_notes(versions, page_actor)
history(versions.model_id)
