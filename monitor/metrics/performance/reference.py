"""Where a model's reference data is and which of its columns performance can use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from monitor.core.config import ModelConfig
from monitor.queries.performance import ReferenceColumns, reference_columns


@dataclass(frozen=True)
class ReferenceLayout:
    path: Path
    columns: ReferenceColumns
    rows: int


def inspect_reference(model: ModelConfig) -> tuple[ReferenceLayout | None, str | None]:
    """The reference file's layout, or None and the reason it cannot be used."""
    path = model.reference
    if path is None:
        return None, "no reference dataset configured (models.reference in monitor.toml)"
    if not path.is_file():
        return None, f"reference file {path} does not exist"
    try:
        metadata = pq.read_metadata(path)
    except (OSError, ValueError) as exc:
        return None, f"reference file {path.name} cannot be read: {exc}"
    names = {name.lower(): name for name in metadata.schema.names}

    def find(column: str | None) -> str | None:
        return names.get(column.lower()) if column else None

    label = find(model.label_column)
    if label is None:
        return None, f"reference file {path.name} has no label column {model.label_column!r}"
    columns = reference_columns(label, find(model.prediction_column), find(model.score_column))
    return ReferenceLayout(path, columns, metadata.num_rows), None


def reference_layout(model: ModelConfig) -> ReferenceLayout | None:
    return inspect_reference(model)[0]
