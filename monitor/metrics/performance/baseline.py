"""The baseline a window's performance is compared with: the model's metrics on its
reference dataset (computed with the same SQL and definitions as the logs), or values
configured under `[models.baseline]` in monitor.toml, which take precedence per metric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from monitor.core.config import ModelConfig
from monitor.core.store import LogStore
from monitor.metrics.intervals import CONFIDENCE, Metric
from monitor.metrics.performance.groups import (
    ClassifierSettings,
    classifier_group,
    pool_cells,
    regression_group,
)
from monitor.metrics.performance.reference import inspect_reference
from monitor.queries import performance as sql

Source = Literal["reference", "config", "reference and config"]
HIGHER_IS_BETTER: Final = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "log_loss": False,
    "f1_macro": True,
    "f1_weighted": True,
    "mae": False,
    "rmse": False,
    "r2": True,
}
"""Metrics that have a direction; deviations of the others (residuals) are shown as is."""


@dataclass(frozen=True)
class Baseline:
    source: Source | None
    """None: no baseline (see `note`)."""
    metrics: Mapping[str, Metric]
    reference_rows: int
    """Labeled reference rows the reference metrics come from (0 without a reference)."""
    note: str | None = None
    """Why the reference could not be used, when it could not."""


def reference_metrics(
    store: LogStore,
    model: ModelConfig,
    *,
    binning: sql.Binning,
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
        rows = store.execute(sql.regression_moments(None, reference=layout.columns), params)
        overall = [r for r in rows if r[2] == 3]
        group = regression_group(overall[0], confidence=confidence) if overall else None
    else:
        params |= binning.params(model.task, model.positive_label)
        rows = store.execute(
            sql.classification_cells(model.task, None, reference=layout.columns), params
        )
        cells = pool_cells(rows, binning, bucketed=False).get((None, None))
        settings = ClassifierSettings(model.task, model.positive_label, binning, confidence)
        group = classifier_group((None, None), cells, settings) if cells is not None else None
    if group is None or not group.labeled:
        return {}, 0, f"reference file {layout.path.name} has no labeled predictions"
    return dict(group.metrics), group.labeled, None


def model_baseline(
    store: LogStore,
    model: ModelConfig,
    *,
    binning: sql.Binning,
    confidence: float = CONFIDENCE,
) -> Baseline:
    metrics, rows, note = reference_metrics(store, model, binning=binning, confidence=confidence)
    configured = {name: Metric(value) for name, value in model.baseline.items()}
    source: Source | None
    if configured and metrics:
        source = "reference and config"
    elif configured:
        source = "config"
    else:
        source = "reference" if metrics else None
    return Baseline(source, metrics | configured, rows, note)


def deviation(name: str, value: float | None, baseline: Baseline | None) -> float | None:
    """value - baseline for the metric, or None when either is unknown."""
    if baseline is None or value is None:
        return None
    reference = baseline.metrics.get(name)
    if reference is None or reference.value is None:
        return None
    return value - reference.value
