"""What a model's reference dataset gives performance: where the file is and which of its
columns can be used, the metrics on it (the baseline), and a sample of its scores and
labels (the calibrator of the label-free estimates).

The reference file is read with the same SQL and definitions as the logs
(monitor.queries.performance); the pure metrics turn the aggregates into results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow.parquet as pq

from monitor.core.config import ModelConfig, missing_reference
from monitor.core.store import LogStore
from monitor.metrics.intervals import CONFIDENCE, Metric
from monitor.metrics.performance.baseline import Baseline, baseline_of
from monitor.metrics.performance.binning import Binning
from monitor.metrics.performance.estimation import REPLICATES, Calibrator, Method, sample_calibrator
from monitor.metrics.performance.groups import overall_group
from monitor.metrics.performance.report import BINNING, ReferenceFit
from monitor.queries import performance as sql

REFERENCE_SAMPLE_ROWS: Final = 200_000
"""(score, label) pairs of the reference a calibrator is fitted on, at most."""


@dataclass(frozen=True)
class ReferenceLayout:
    path: Path
    columns: sql.ReferenceColumns
    rows: int


def inspect_reference(model: ModelConfig) -> tuple[ReferenceLayout | None, str | None]:
    """The reference file's layout, or None and the reason it cannot be used."""
    path = model.reference
    if path is None:
        return None, "no reference dataset configured (models.reference in monitor.toml)"
    missing = missing_reference(model)
    if missing is not None:
        return None, missing
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
    columns = sql.reference_columns(label, find(model.prediction_column), find(model.score_column))
    return ReferenceLayout(path, columns, metadata.num_rows), None


def reference_layout(model: ModelConfig) -> ReferenceLayout | None:
    return inspect_reference(model)[0]


def reference_metrics(
    store: LogStore,
    model: ModelConfig,
    *,
    binning: Binning = BINNING,
    confidence: float = CONFIDENCE,
) -> tuple[dict[str, Metric], int, str | None]:
    """The model's metrics on its reference dataset, the labeled rows behind them, and why
    there are none when there are none."""
    layout, problem = inspect_reference(model)
    if layout is None:
        return {}, 0, problem
    if layout.columns.prediction is None:
        return {}, 0, f"reference file {layout.path.name} has no column {model.prediction_column!r}"
    params: dict[str, object] = {"reference": str(layout.path)}
    if model.task == "regression":
        query = sql.regression_moments(None, reference=layout.columns)
    else:
        params |= sql.binning_params(binning, model.task, model.positive_label)
        query = sql.classification_cells(model.task, None, reference=layout.columns)
    group = overall_group(
        model, store.execute(query, params), binning=binning, confidence=confidence
    )
    if group is None or not group.labeled:
        return {}, 0, f"reference file {layout.path.name} has no labeled predictions"
    return dict(group.metrics), group.labeled, None


def model_baseline(
    store: LogStore,
    model: ModelConfig,
    *,
    binning: Binning = BINNING,
    confidence: float = CONFIDENCE,
) -> Baseline:
    """The reference metrics, overridden by the configured baseline (`baseline_of`)."""
    metrics, rows, note = reference_metrics(store, model, binning=binning, confidence=confidence)
    return baseline_of(model, metrics, rows, note)


def reference_calibrator(
    store: LogStore,
    model: ModelConfig,
    *,
    method: Method = "isotonic",
    rows: int = REFERENCE_SAMPLE_ROWS,
    replicates: int = REPLICATES,
) -> Calibrator | None:
    """A calibrator fitted on (a deterministic sample of) the model's reference data, or
    None when there is none: not a binary model, no reference file, or no scores or
    labels in it."""
    if model.task != "binary" or model.positive_label is None:
        return None
    layout = reference_layout(model)
    if layout is None or layout.columns.score is None:
        return None
    found = store.execute(
        sql.reference_sample(layout.columns), {"reference": str(layout.path), "rows": int(rows)}
    )
    return sample_calibrator(found, model.positive_label, method=method, replicates=replicates)


def fit_reference(
    store: LogStore,
    model: ModelConfig,
    *,
    binning: Binning = BINNING,
    confidence: float = CONFIDENCE,
) -> ReferenceFit:
    """The baseline and, for binary models, the score calibrator, from the reference."""
    baseline = model_baseline(store, model, binning=binning, confidence=confidence)
    return ReferenceFit.of(model, baseline, reference_calibrator(store, model))
