"""The baseline a window's performance is compared with: the model's metrics on its
reference dataset (computed with the same SQL and definitions as the logs), or values
configured under `[models.baseline]` in monitor.toml, which take precedence per metric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from monitor.core.config import ModelConfig
from monitor.metrics.intervals import Metric

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


def baseline_of(
    model: ModelConfig,
    reference: Mapping[str, Metric],
    reference_rows: int,
    note: str | None = None,
) -> Baseline:
    """The model's baseline: its reference metrics (from `reference_rows` labeled rows;
    `note` says why there are none), overridden per metric by its configured values."""
    configured = {name: Metric(value) for name, value in model.baseline.items()}
    source: Source | None
    if configured and reference:
        source = "reference and config"
    elif configured:
        source = "config"
    else:
        source = "reference" if reference else None
    return Baseline(source, dict(reference) | configured, reference_rows, note)


def deviation(name: str, value: float | None, baseline: Baseline | None) -> float | None:
    """value - baseline for the metric, or None when either is unknown."""
    if baseline is None or value is None:
        return None
    reference = baseline.metrics.get(name)
    if reference is None or reference.value is None:
        return None
    return value - reference.value
