"""The Datasets page's values: one side's parsed upload, the roles and names chosen, what
a save did, and the plain-text tables and messages drawn from them.

Parsing and validation are `monitor.ops.datasets.ingest`'s, storage
`monitor.ops.datasets.storage`'s. Everything a file brings (column names, values,
messages quoting them) stays plain text here: the page shows it in tables, or as markdown
with every special character escaped. The widgets are in `dataset_upload` (reading a
side), `dataset_save` (roles, names, Save) and `dataset_manage` (rename, delete).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd
import streamlit as st

from monitor.core.errors import MonitorError
from monitor.core.reconcile import Reconciled, type_word
from monitor.core.state import Actor, actor_label
from monitor.ops.datasets import analysis, ingest, storage
from monitor.ops.datasets import library as datasets
from monitor.ui import flash as ui_flash
from monitor.ui.context import PageContext

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
_FLASH_KEY: Final = "dataset_flash"


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
    ids: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    keep_ids: bool = False

    def for_columns(self, names: Sequence[str]) -> datasets.ColumnRoles:
        """The roles that exist among `names` (one side of the pair)."""
        present = set(names)
        return datasets.ColumnRoles(
            label=self.label if self.label in present else None,
            prediction=self.prediction if self.prediction in present else None,
            score=self.score if self.score in present else None,
            sensitive=tuple(s for s in self.sensitive if s in present),
            ids=tuple(s for s in self.ids if s in present),
            ignore=tuple(s for s in self.ignore if s in present),
            keep_ids=self.keep_ids,
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


def type_rows(read: SideRead) -> pd.DataFrame:
    """The type editor's table: each column, its detected type, missing count (0 while
    the upload cannot be read with the chosen types), and the type to use (the override,
    else the detected type)."""
    chosen = dict(read.overrides)
    columns = read.ingested.columns if read.ingested is not None else ()
    missing = {c.name: c.missing for c in columns}
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


def schema_rows(found: ingest.SchemaComparison) -> list[dict[str, str]]:
    """The columns that differ between reference and current, and how."""
    rows = [{"column": n, "difference": "missing in current"} for n in found.only_in_reference]
    rows += [{"column": n, "difference": "only in current"} for n in found.only_in_current]
    rows += [
        {"column": change[0], "difference": f"type {change[1]} -> {change[2]}"}
        for change in found.type_changes
    ]
    return rows


def reconciled_rows(notes: Sequence[Reconciled]) -> list[dict[str, str]]:
    """The columns read as different types on the two sides, and how each is compared."""
    return [
        {
            "column": n.column,
            "reference": type_word(n.reference_type),
            "current": type_word(n.current_type),
            "compared": n.detail if not n.incomparable else "incomparable: " + n.detail,
        }
        for n in notes
    ]


def pair_schema(reference: ingest.Ingested, current: ingest.Ingested) -> list[dict[str, str]]:
    """`reconciled_rows` of an uploaded pair not saved yet (cached on the files' sha256
    and the column types chosen)."""
    key = tuple((i.sha256, tuple(c.inferred_type for c in i.columns)) for i in (reference, current))
    return _pair_schema(key, reference, current)


@st.cache_data(ttl=600, show_spinner=False, max_entries=16)
def _pair_schema(
    key: tuple[object, ...], _reference: ingest.Ingested, _current: ingest.Ingested
) -> list[dict[str, str]]:
    del key
    return reconciled_rows(analysis.upload_schema(_reference, _current))


def role_columns(ready: Mapping[Role, ingest.Ingested]) -> list[str]:
    """The columns roles can be given to: those both sides share, else the one side's."""
    reference, current = ready.get("reference"), ready.get("current")
    if reference is not None and current is not None:
        names = {c.name for c in current.columns}
        return [c.name for c in reference.columns if c.name in names]
    only = reference if reference is not None else current
    return [] if only is None else [c.name for c in only.columns]


def model_choices(context: PageContext) -> list[str | None]:
    """Models a dataset can be attached to: configured or seen in the logs (None: none)."""
    ids = {m.id for m in context.settings.models} | {m.model_id for m in context.models}
    return [None, *sorted(ids)]


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
                storage.save_dataset(
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


# -- messages kept across the rerun after a save, rename or delete ------------------------


def flash() -> None:
    ui_flash.show(_FLASH_KEY, escape=True)


def keep(*messages: str) -> None:
    """Success messages for the next run's `flash` (they replace those kept before)."""
    for number, message in enumerate(messages):
        ui_flash.say(_FLASH_KEY, "success", message, replace=number == 0)
