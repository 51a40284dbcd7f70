"""What people do on the Models page: set the champion, close a rollback mark, add notes.

Each action changes the state store and keeps its outcome for `flash`. A change someone
else made first (a second click, another session) comes back as `registry.Conflict` and
is shown as a warning; any other refusal as an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import streamlit as st

from monitor.core.errors import MonitorError
from monitor.core.state import Actor
from monitor.ops.registry import rollback as registry_rollback
from monitor.ops.registry import versions as registry
from monitor.ops.registry.rollback_marks import RollbackMark
from monitor.ops.registry.versions import Conflict, ModelVersions
from monitor.ui import flash as ui_flash
from monitor.ui.context import PageContext, escape_markdown
from monitor.ui.models_tables import version_name

_FLASH: Final = "models_flash"
_NOTE_TEXT: Final = "models_note_text"


def flash() -> None:
    """The outcome of the last action (kept across the rerun that follows it)."""
    ui_flash.show(_FLASH, escape=True)


def outcome(action: Callable[[], object], message: str) -> bool:
    """Run a state change and keep what happened for `flash`."""
    try:
        action()
    except Conflict as exc:
        ui_flash.say(_FLASH, "warning", str(exc), replace=True)
        return False
    except MonitorError as exc:
        ui_flash.say(_FLASH, "error", str(exc), replace=True)
        return False
    ui_flash.say(_FLASH, "success", message, replace=True)
    return True


def _act(action: Callable[[], object], message: str) -> None:
    """A button callback: it runs before the next run draws the page, so its outcome
    shows even when the button is gone by then (someone else closed the mark)."""
    outcome(action, message)


def champion_picker(context: PageContext, found: ModelVersions, actor: Actor) -> None:
    """Choose the version that holds the champion alias."""
    names = [v.version for v in found.usage.versions]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Champion (the version that should serve)",
        names,
        index=names.index(found.current_version) if found.current_version in names else 0,
        format_func=version_name,
        key=f"models_champion_{found.model_id}",
    )
    right.button(
        "Set champion",
        key="models_set_champion",
        on_click=_act,
        args=(
            lambda: registry.set_alias(
                context.state, context.store, found.model_id, chosen, actor=actor
            ),
            f"{version_name(chosen)} is now the champion of {found.model_id}.",
        ),
    )


def open_mark(context: PageContext, mark: RollbackMark, actor: Actor | None) -> None:
    """The model's open rollback mark, and (for someone who may act) its two outcomes."""
    st.warning(
        f"Rollback #{mark.id} is open: from {escape_markdown(version_name(mark.from_version))} "
        f"to {escape_markdown(version_name(mark.to_version))}, waiting for the deploy pipeline.",
        icon=":material/history:",
    )
    if actor is None:
        return
    applied, cancelled, _ = st.columns([1, 1, 4])
    applied.button(
        "Mark applied",
        key=f"models_apply_{mark.id}",
        on_click=_act,
        args=(
            lambda: registry_rollback.apply(context.state, mark.id, actor=actor),
            f"Rollback #{mark.id} applied: {version_name(mark.to_version)} is the champion of "
            f"{mark.model_id}.",
        ),
    )
    cancelled.button(
        "Cancel rollback",
        key=f"models_cancel_{mark.id}",
        on_click=_act,
        args=(
            lambda: registry_rollback.cancel(context.state, mark.id, actor=actor),
            f"Rollback #{mark.id} cancelled.",
        ),
    )


def note_form(context: PageContext, found: ModelVersions, actor: Actor) -> None:
    """The "Add a note" expander: a version, a text, a button."""
    names = [v.version for v in found.usage.versions]
    with st.expander("Add a note"):
        version = st.selectbox(
            "Version",
            names,
            index=len(names) - 1,
            format_func=version_name,
            key="models_note_version",
        )
        st.text_area("Note", max_chars=registry.MAX_NOTE_CHARS, key=_NOTE_TEXT)
        st.button(
            "Add note",
            key="models_add_note",
            on_click=_add_note,
            args=(context, found.model_id, version, actor),
        )


def _add_note(context: PageContext, model_id: str, version: str, actor: Actor) -> None:
    """Callback: the note's text is read from the session (the value typed just before the
    click), then the field is cleared."""
    text = str(st.session_state.get(_NOTE_TEXT, ""))
    added = outcome(
        lambda: registry.add_note(
            context.state, context.store, model_id, version, text, actor=actor
        ),
        f"Note added to {version_name(version)}.",
    )
    if added:
        st.session_state[_NOTE_TEXT] = ""
