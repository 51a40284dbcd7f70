"""One side of the Datasets page's upload: the uploader, what was read, the type editor.

A parsed upload is kept in `st.session_state` (one per side, keyed by the uploaded files'
ids and the type overrides) so that reruns do not parse it again; it is never put in
`st.cache_data` (that would pickle the whole table).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Final

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from monitor.core.config import Settings
from monitor.core.errors import MonitorError
from monitor.ops.datasets import ingest
from monitor.ui.context import escape_markdown
from monitor.ui.datasets import (
    PREVIEW_ROWS,
    TYPES,
    UPLOAD_TYPES,
    Role,
    SideRead,
    column_list,
    detected_text,
    notes,
    overrides_from,
    type_rows,
    upload_limit_mb,
)

_READ_KEY: Final = "dataset_read_{role}"


def upload_limits(settings: Settings) -> tuple[int, int]:
    """(MB per file the uploader enforces, bytes the reader accepts)."""
    server_max = st.get_option("server.maxUploadSize")
    return upload_limit_mb(settings.max_upload_mb, server_max), settings.max_upload_mb * 1024**2


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


def upload_side(role: Role, column: Any, limit_mb: int, max_bytes: int) -> SideRead | None:
    """One side: uploader, what was detected, counts, notes, preview and type editor
    (drawn in `column`); None while nothing is uploaded."""
    with column:
        files = st.file_uploader(
            f"{role.capitalize()} dataset",
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
        if ingested is None:
            summary.error(escape_markdown(read.error or "could not read the upload"))
            return read
        with summary:
            _summary(ingested)
        with preview:
            st.markdown(f"**Preview** (first {min(PREVIEW_ROWS, ingested.rows)} rows)")
            st.dataframe(ingested.table.slice(0, PREVIEW_ROWS))
        return read


def _summary(ingested: ingest.Ingested) -> None:
    """What was detected, the counts, the columns, and the repairs and problems."""
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


def _type_editor(role: Role, read: SideRead) -> tuple[tuple[str, str], ...]:
    """The column types, editable; returns the overrides chosen."""
    st.markdown("**Column types** (change a type to read the column again as that type)")
    edited = st.data_editor(
        type_rows(read),
        key=f"dataset_types_{role}_{read.digest}",
        hide_index=True,
        disabled=["column", "detected", "missing"],
        column_config={
            "type": st.column_config.SelectboxColumn(options=list(TYPES), required=True)
        },
    )
    return overrides_from(edited)
