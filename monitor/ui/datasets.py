"""The Datasets page: upload a reference and a current dataset, check them, save them.

Parsing and validation are `monitor.ingest`'s, storage `monitor.datasets`'s; this module
only draws them. A parsed upload is kept in `st.session_state` (one per side, keyed by
the uploaded files' ids and the type overrides) so that reruns do not parse it again;
it is never put in `st.cache_data` (that would pickle the whole table). Everything a
file brings (column names, values, messages quoting them) is shown as plain text:
tables, or markdown with every special character escaped.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from monitor.core.errors import MonitorError
from monitor.core.state import Actor, actor_label
from monitor.ops.datasets import ingest
from monitor.ops.datasets import library as datasets
from monitor.ui.context import PageContext, escape_markdown

Role = Literal["reference", "current"]
ROLES: Final[tuple[Role, ...]] = ("reference", "current")
TYPES: Final = ("numeric", "categorical", "boolean", "datetime", "text")
UPLOAD_TYPES: Final = ("csv", "tsv", "txt", "parquet", "pq", "jsonl", "ndjson", "json")
"""Extensions offered by the browser's file dialog; the content decides the format."""
PREVIEW_ROWS: Final = 20
DELIMITERS: Final = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}
ROLE_GUESSES: Final[Mapping[str, tuple[str, ...]]] = {
    "label": ("label", "label_value", "target", "y", "y_true", "class", "outcome"),
    "prediction": ("prediction", "predicted", "pred", "y_pred", "predicted_label"),
    "score": ("score", "probability", "proba", "y_score", "predicted_probability"),
}
_READ_KEY: Final = "dataset_read_{role}"
_FLASH_KEY: Final = "dataset_flash"
_PENDING_DELETE: Final = "dataset_delete_pending"


@dataclass(frozen=True)
class SideRead:
    """One side's parsed upload, as kept in the session."""

    files: tuple[tuple[str, str, int], ...]
    """(file id, name, size) of the uploaded files: a new upload has new ids."""
    overrides: tuple[tuple[str, str], ...]
    base_types: tuple[tuple[str, str], ...]
    """(column, type) as detected without overrides: the type editor's starting point."""
    ingested: ingest.Ingested | None
    error: str | None
    seconds: float = 0.0

    @property
    def digest(self) -> str:
        """A short, stable id of the uploaded files (widget keys that follow a new upload)."""
        return hashlib.sha1(repr(self.files).encode(), usedforsecurity=False).hexdigest()[:10]


@dataclass(frozen=True)
class RoleChoice:
    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    sensitive: tuple[str, ...] = ()

    def for_columns(self, names: Sequence[str]) -> datasets.ColumnRoles:
        """The roles that exist among `names` (one side of the pair)."""
        present = set(names)
        return datasets.ColumnRoles(
            label=self.label if self.label in present else None,
            prediction=self.prediction if self.prediction in present else None,
            score=self.score if self.score in present else None,
            sensitive=tuple(s for s in self.sensitive if s in present),
        )


@dataclass(frozen=True)
class SaveRequest:
    role: Role
    ingested: ingest.Ingested
    name: str
    roles: datasets.ColumnRoles
    model_id: str | None = None


@dataclass(frozen=True)
class SaveOutcome:
    saved: tuple[datasets.Dataset, ...] = ()
    duplicates: tuple[tuple[Role, datasets.Dataset], ...] = ()
    errors: tuple[str, ...] = field(default_factory=tuple)


# -- pure helpers (tested without Streamlit) ---------------------------------------------


def upload_limit_mb(max_upload_mb: int, server_max_mb: int | None) -> int:
    """The per-file limit the uploader enforces: the smaller of monitor.toml's
    `[uploads] max_mb` and Streamlit's `server.maxUploadSize`."""
    if server_max_mb is None or server_max_mb <= 0:
        return max_upload_mb
    return min(max_upload_mb, server_max_mb)


def detected_text(ingested: ingest.Ingested) -> str:
    """What was detected, in words (plain text: callers escape it for markdown)."""
    parts = [f"Format {ingested.format.upper()}"]
    if ingested.encoding:
        parts.append(f"encoding {ingested.encoding}")
    if ingested.delimiter is not None:
        parts.append(f"delimiter {DELIMITERS.get(ingested.delimiter, repr(ingested.delimiter))}")
    parts.append(f"{ingested.size_bytes / 1e6:,.2f} MB")
    parts.append(f"sha256 {ingested.sha256[:12]}")
    return ", ".join(parts)


def column_list(ingested: ingest.Ingested, limit: int = 30) -> str:
    """The column names and types, in file order (plain text)."""
    shown = [f"{c.name} ({c.inferred_type})" for c in ingested.columns[:limit]]
    more = len(ingested.columns) - limit
    return "Columns: " + ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")


def notes(ingested: ingest.Ingested) -> list[dict[str, str]]:
    """Repairs (whole file) and problems (per column), one plain-text message a row."""
    rows = [{"column": "(file)", "message": repair} for repair in ingested.repairs]
    for column in ingested.columns:
        rows.extend({"column": column.name, "message": p} for p in column.problems)
    return rows


def type_rows(read: SideRead, ingested: ingest.Ingested) -> pd.DataFrame:
    """The type editor's table: each column, its detected type, missing count, and the
    type to use (the override, else the detected type)."""
    chosen = dict(read.overrides)
    missing = {c.name: c.missing for c in ingested.columns}
    return pd.DataFrame(
        [
            {
                "column": name,
                "detected": detected,
                "missing": missing.get(name, 0),
                "type": chosen.get(name, detected),
            }
            for name, detected in read.base_types
        ],
        columns=["column", "detected", "missing", "type"],
    )


def overrides_from(edited: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """(column, type) where the editor's type differs from the detected one."""
    found = []
    for row in edited.to_dict("records"):
        chosen, detected = row.get("type"), row.get("detected")
        if isinstance(chosen, str) and chosen in TYPES and chosen != detected:
            found.append((str(row["column"]), chosen))
    return tuple(found)


def guess_role(role: str, names: Sequence[str]) -> str | None:
    """A column whose name is a usual one for the role (case-insensitive), if any."""
    by_lower = {n.lower(): n for n in names}
    for candidate in ROLE_GUESSES.get(role, ()):
        if candidate in by_lower:
            return by_lower[candidate]
    return None


def default_name(files: Sequence[tuple[str, str, int]], role: Role) -> str:
    stem = Path(files[0][1]).stem.strip() if files else ""
    return (stem or role)[:80]


def listing(found: Sequence[datasets.Dataset]) -> list[dict[str, Any]]:
    """The table of registered datasets."""
    return [
        {
            "name": d.name,
            "role": d.role,
            "rows": d.rows,
            "columns": len(d.columns),
            "source file": d.source_name,
            "sha256": d.sha256[:12],
            "model": d.model_id or "",
            "by": actor_label(d.created_by, d.created_verified),
            "when": d.created_at,
        }
        for d in found
    ]


def save(context: PageContext, requests: Sequence[SaveRequest], actor: Actor) -> SaveOutcome:
    """Register each side: the same content already stored is reported, not saved twice."""
    saved: list[datasets.Dataset] = []
    duplicates: list[tuple[Role, datasets.Dataset]] = []
    errors: list[str] = []
    for request in requests:
        existing = datasets.find_duplicate(context.state, request.ingested.sha256, request.role)
        if existing is not None:
            duplicates.append((request.role, existing))
            continue
        try:
            saved.append(
                datasets.save_dataset(
                    context.state,
                    context.settings.data_dir,
                    request.ingested,
                    name=request.name,
                    role=request.role,
                    actor=actor,
                    column_roles=request.roles,
                    model_id=request.model_id,
                )
            )
        except datasets.DuplicateDataset as exc:
            duplicates.append((request.role, exc.existing))
        except MonitorError as exc:
            errors.append(f"{request.role}: {exc}")
    return SaveOutcome(tuple(saved), tuple(duplicates), tuple(errors))


# -- reading ------------------------------------------------------------------------------


def _file_key(files: Sequence[UploadedFile]) -> tuple[tuple[str, str, int], ...]:
    return tuple((f.file_id, f.name, f.size) for f in files)


def read_side(
    role: Role,
    files: Sequence[UploadedFile],
    overrides: tuple[tuple[str, str], ...],
    max_bytes: int,
) -> SideRead:
    """The parsed upload of one side, from the session when the files and overrides are
    the ones parsed last; else parsed now, under a status box (large files take a while)."""
    key = _file_key(files)
    state_key = _READ_KEY.format(role=role)
    cached: SideRead | None = st.session_state.get(state_key)
    if cached is not None and cached.files == key and cached.overrides == overrides:
        return cached
    base_types = cached.base_types if cached is not None and cached.files == key else ()
    size = sum(f.size for f in files)
    plural = "s" if len(files) > 1 else ""
    started = time.perf_counter()
    label = f"Reading {len(files)} file{plural} ({size / 1e6:,.1f} MB)..."
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=escape_markdown(message))

        try:
            ingested = ingest.read_uploads(
                [(f.name, f.getvalue()) for f in files],
                max_bytes=max_bytes,
                type_overrides=dict(overrides) or None,
                progress=progress,
            )
        except MonitorError as exc:
            status.update(label="Could not read the upload", state="error", expanded=False)
            result = SideRead(key, overrides, base_types, None, str(exc))
        else:
            seconds = time.perf_counter() - started
            status.update(
                label=f"Read {ingested.rows:,} rows in {seconds:.1f} s",
                state="complete",
                expanded=False,
            )
            if not base_types:
                base_types = tuple((c.name, c.inferred_type) for c in ingested.columns)
            result = SideRead(key, overrides, base_types, ingested, None, seconds)
    st.session_state[state_key] = result
    return result


# -- drawing ------------------------------------------------------------------------------


def _flash() -> None:
    for message in st.session_state.pop(_FLASH_KEY, ()):
        st.success(escape_markdown(message))


def _side(role: Role, column: Any, limit_mb: int, max_bytes: int) -> SideRead | None:
    """One side: uploader, what was detected, counts, notes, preview and type editor."""
    title = role.capitalize()
    with column:
        files = st.file_uploader(
            f"{title} dataset",
            type=list(UPLOAD_TYPES),
            accept_multiple_files=True,
            key=f"upload_{role}",
            max_upload_size=limit_mb,
            help="CSV (any delimiter, UTF-8 or Latin-1), Parquet or JSON Lines; several "
            "files with the same columns are read as one dataset. The content decides "
            f"the format, not the extension. Up to {limit_mb} MB per file.",
        )
        if not files:
            st.session_state.pop(_READ_KEY.format(role=role), None)
            return None
        cached: SideRead | None = st.session_state.get(_READ_KEY.format(role=role))
        same_files = cached is not None and cached.files == _file_key(files)
        read = read_side(role, files, cached.overrides if same_files and cached else (), max_bytes)
        if read.ingested is None and not read.base_types:
            st.error(escape_markdown(read.error or "could not read the upload"))
            return read
        summary, preview, editor = st.container(), st.container(), st.container()
        with editor:
            overrides = _type_editor(role, read)
        if overrides != read.overrides:
            read = read_side(role, files, overrides, max_bytes)
        ingested = read.ingested
        with summary:
            if ingested is None:
                st.error(escape_markdown(read.error or "could not read the upload"))
                return read
            st.caption(escape_markdown(detected_text(ingested)))
            counts = st.columns(2)
            counts[0].metric("Rows", f"{ingested.rows:,}")
            counts[1].metric("Columns", f"{len(ingested.columns):,}")
            st.caption(escape_markdown(column_list(ingested)))
            found = notes(ingested)
            if found:
                st.markdown(f"**Repairs and problems** ({len(found)})")
                st.dataframe(found, hide_index=True)
            else:
                st.caption("No repairs were needed and no column has problems.")
        with preview:
            st.markdown(f"**Preview** (first {min(PREVIEW_ROWS, ingested.rows)} rows)")
            st.dataframe(ingested.table.slice(0, PREVIEW_ROWS))
        return read


def _type_editor(role: Role, read: SideRead) -> tuple[tuple[str, str], ...]:
    """The column types, editable; returns the overrides chosen."""
    st.markdown("**Column types** (change a type to read the column again as that type)")
    edited = st.data_editor(
        type_rows(read, read.ingested) if read.ingested is not None else _base_rows(read),
        key=f"dataset_types_{role}_{read.digest}",
        hide_index=True,
        disabled=["column", "detected", "missing"],
        column_config={
            "type": st.column_config.SelectboxColumn(options=list(TYPES), required=True)
        },
    )
    return overrides_from(edited)


def _base_rows(read: SideRead) -> pd.DataFrame:
    chosen = dict(read.overrides)
    return pd.DataFrame(
        [
            {"column": n, "detected": t, "missing": 0, "type": chosen.get(n, t)}
            for n, t in read.base_types
        ],
        columns=["column", "detected", "missing", "type"],
    )


def _comparison(reference: ingest.Ingested, current: ingest.Ingested) -> None:
    found = ingest.compare_schemas(reference.columns, current.columns)
    st.subheader("Schema: reference against current")
    tiles = st.columns(4)
    tiles[0].metric("Shared columns", len(found.shared))
    tiles[1].metric("Missing in current", len(found.only_in_reference))
    tiles[2].metric("Extra in current", len(found.only_in_current))
    tiles[3].metric("Type changes", len(found.type_changes))
    rows = [{"column": n, "difference": "missing in current"} for n in found.only_in_reference]
    rows += [{"column": n, "difference": "only in current"} for n in found.only_in_current]
    rows += [
        {"column": change[0], "difference": f"type {change[1]} -> {change[2]}"}
        for change in found.type_changes
    ]
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.caption("Same columns and types on both sides.")


def _roles(names: Sequence[str], digest: str) -> RoleChoice:
    """Label, prediction, score and sensitive columns, chosen among `names`."""
    st.subheader("Column roles")
    st.caption(
        "Which columns hold the true label, the model's prediction or score, and the "
        "sensitive features (Drift compares the label and outputs separately from the "
        "features; Fairness needs a label, a prediction or score and a sensitive feature)."
    )
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
    return RoleChoice(chosen["label"], chosen["prediction"], chosen["score"], tuple(sensitive))


def _model_choices(context: PageContext) -> list[str | None]:
    ids = {m.id for m in context.settings.models} | {m.model_id for m in context.models}
    return [None, *sorted(ids)]


def render_upload(context: PageContext, actor: Actor | None) -> None:
    """The upload section: both sides, the comparison, roles, names and Save."""
    _flash()
    settings = context.settings
    if settings.read_only:
        st.info(
            "Read-only dashboard: uploading, renaming and deleting datasets are turned off "
            "(`[dashboard] read_only` in monitor.toml)."
        )
        return
    server_max = st.get_option("server.maxUploadSize")
    limit_mb = upload_limit_mb(settings.max_upload_mb, server_max)
    max_bytes = settings.max_upload_mb * 1024 * 1024
    left, right = st.columns(2)
    reads: dict[Role, SideRead | None] = {
        "reference": _side("reference", left, limit_mb, max_bytes),
        "current": _side("current", right, limit_mb, max_bytes),
    }
    ready = {role: r.ingested for role, r in reads.items() if r is not None and r.ingested}
    if not ready:
        return
    reference, current = ready.get("reference"), ready.get("current")
    if reference is not None and current is not None:
        _comparison(reference, current)
        shared = [c.name for c in reference.columns if c.name in {d.name for d in current.columns}]
        names = shared
    else:
        only = reference if reference is not None else current
        assert only is not None
        names = [c.name for c in only.columns]
    digest = "_".join(r.digest for r in reads.values() if r is not None)
    choice = _roles(names, digest)
    st.subheader("Save")
    if actor is None:
        st.info(
            "Type your name in the sidebar (it is recorded in the audit trail) to save "
            "these datasets."
        )
        return
    boxes = st.columns(len(ready) + 1)
    names_chosen: dict[Role, str] = {}
    for box, role in zip(boxes, ready, strict=False):
        read = reads[role]
        assert read is not None
        names_chosen[role] = box.text_input(
            f"Name of the {role} dataset",
            default_name(read.files, role),
            max_chars=200,
            key=f"dataset_name_{role}_{read.digest}",
        ).strip()
    model_options = _model_choices(context)
    model_id = boxes[-1].selectbox(
        "Model (optional)",
        model_options,
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
        if not names_chosen[role]:
            st.error(f"Name the {role} dataset.")
            return
        roles = choice.for_columns([c.name for c in ingested.columns])
        requests.append(SaveRequest(role, ingested, names_chosen[role], roles, model_id))
    outcome = save(context, requests, actor)
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
        st.session_state[_FLASH_KEY] = [
            f"Saved {d.role} dataset {d.name} ({d.rows:,} rows)." for d in outcome.saved
        ]
        if not outcome.duplicates and not outcome.errors:
            st.rerun()
        _flash()


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
            datasets.delete_dataset(context.state, context.settings.data_dir, name, actor)
        except MonitorError as exc:
            st.error(escape_markdown(str(exc)))
            return
        _cancel_delete()
        st.session_state[_FLASH_KEY] = [f"Deleted dataset {name}."]
        st.rerun()
    if right.button("Cancel", key="dataset_delete_cancel"):
        _cancel_delete()
        st.rerun()


def render_list(context: PageContext, actor: Actor | None) -> None:
    """The registered datasets, with Rename and Delete for someone who may act."""
    st.subheader("Saved datasets")
    found = datasets.list_datasets(context.state)
    if not found:
        st.caption("No datasets saved yet.")
        return
    st.dataframe(
        listing(found),
        hide_index=True,
        column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    if actor is None:
        return
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
            st.session_state[_FLASH_KEY] = [f"Renamed dataset {name} to {new_name}."]
            st.rerun()
    if delete.button("Delete", key="dataset_delete"):
        st.session_state[_PENDING_DELETE] = name
    pending = st.session_state.get(_PENDING_DELETE)
    if pending is not None:
        if pending in names:
            _confirm_delete(context, pending, actor)
        else:
            _cancel_delete()
