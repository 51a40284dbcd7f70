"""Saving an upload on the Datasets page: column roles, names, the model, Save."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from monitor.core.state import Actor, actor_label
from monitor.ops.datasets import ingest
from monitor.ui.context import PageContext, escape_markdown
from monitor.ui.datasets import (
    Role,
    RoleChoice,
    SaveOutcome,
    SaveRequest,
    SideRead,
    default_name,
    flash,
    guess_role,
    keep,
    model_choices,
    save,
)


def pick_roles(names: Sequence[str], digest: str) -> RoleChoice:
    """Label, prediction, score and sensitive columns, and the identifier and ignored
    columns drift and data quality leave out, chosen among `names` (widget keys follow
    the upload's `digest`, so a new upload starts from the guesses again)."""
    options: list[str | None] = [None, *names]

    def shown(name: str | None) -> str:
        return "(none)" if name is None else name

    chosen: dict[str, str | None] = {}
    cols = st.columns(4)
    for column, role in zip(cols[:3], ("label", "prediction", "score"), strict=True):
        guess = guess_role(role, names)
        chosen[role] = column.selectbox(
            f"{role.capitalize()} column",
            options,
            index=options.index(guess) if guess in options else 0,
            format_func=shown,
            key=f"dataset_role_{role}_{digest}",
        )
    taken = {v for v in chosen.values() if v is not None}
    sensitive = cols[3].multiselect(
        "Sensitive features",
        [n for n in names if n not in taken],
        key=f"dataset_role_sensitive_{digest}",
    )
    taken |= set(sensitive)
    left_out = st.columns(3)
    ids = left_out[0].multiselect(
        "Identifier columns",
        [n for n in names if n not in taken],
        key=f"dataset_role_ids_{digest}",
        help="Left out of drift and data quality; with one, data quality counts duplicates.",
    )
    taken |= set(ids)
    ignore = left_out[1].multiselect(
        "Ignored columns",
        [n for n in names if n not in taken],
        key=f"dataset_role_ignore_{digest}",
        help="Left out of drift and data quality.",
    )
    keep_ids = left_out[2].checkbox(
        "Analyse columns unique per row",
        key=f"dataset_role_keep_ids_{digest}",
        help="Text or integer columns with a different value in every row are left out of "
        "drift and data quality as identifiers, unless this is ticked.",
    )
    return RoleChoice(
        chosen["label"],
        chosen["prediction"],
        chosen["score"],
        tuple(sensitive),
        tuple(ids),
        tuple(ignore),
        keep_ids,
    )


def save_form(
    context: PageContext,
    reads: Mapping[Role, SideRead],
    ready: Mapping[Role, ingest.Ingested],
    choice: RoleChoice,
    actor: Actor,
) -> None:
    """A name for each side read, an optional model, and Save; then what the save did."""
    boxes = st.columns(len(ready) + 1)
    names: dict[Role, str] = {}
    for box, role in zip(boxes, ready, strict=False):
        read = reads[role]
        names[role] = box.text_input(
            f"Name of the {role} dataset",
            default_name(read.files, role),
            max_chars=200,
            key=f"dataset_name_{role}_{read.digest}",
        ).strip()
    model_id = boxes[-1].selectbox(
        "Model (optional)",
        model_choices(context),
        format_func=lambda m: "(none)" if m is None else m,
        key="dataset_model",
        help="Attach the datasets to a model: the reference becomes a reference for it, "
        "and its task, valid ranges and known categories apply to the analyses.",
    )
    title = "Save both datasets" if len(ready) == 2 else f"Save the {next(iter(ready))} dataset"
    if not st.button(title, type="primary", key="dataset_save"):
        return
    requests = []
    for role, ingested in ready.items():
        if not names[role]:
            st.error(f"Name the {role} dataset.")
            return
        roles = choice.for_columns([c.name for c in ingested.columns])
        requests.append(SaveRequest(role, ingested, names[role], roles, model_id))
    _show_outcome(save(context, requests, actor))


def _show_outcome(outcome: SaveOutcome) -> None:
    """Duplicates and errors here; what was saved after the rerun, unless there is more to
    read here (then at once)."""
    for role, existing in outcome.duplicates:
        by = actor_label(existing.created_by, existing.created_verified)
        st.info(
            f"The {role} file is already saved, as dataset "
            f"**{escape_markdown(existing.name)}** ({existing.role}, saved by "
            f"{escape_markdown(by)}): not saved again."
        )
    for message in outcome.errors:
        st.error(escape_markdown(message))
    if outcome.saved:
        keep(*(f"Saved {d.role} dataset {d.name} ({d.rows:,} rows)." for d in outcome.saved))
        if not outcome.duplicates and not outcome.errors:
            st.rerun()
        flash()
