"""A scope's realized (and, for binary models, estimated) performance: one aggregate
query over the window's predictions and labels, turned into a `PerformanceReport` by
monitor.metrics.performance.report."""

from __future__ import annotations

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.intervals import CONFIDENCE
from monitor.metrics.performance.binning import Binning
from monitor.metrics.performance.report import (
    BINNING,
    MIN_LABELS,
    Headline,
    PerformanceReport,
    ReferenceFit,
    headline_of,
    performance_report,
)
from monitor.queries import performance as sql
from monitor.queries.performance_reference import fit_reference


def performance(
    store: LogStore,
    model: ModelConfig,
    scope: Scope,
    *,
    bucket: Bucket | None = "day",
    binning: Binning = BINNING,
    confidence: float = CONFIDENCE,
    reference: ReferenceFit | None = None,
) -> PerformanceReport:
    """Performance of `model` (the scope's model) in the scope's window and versions, per
    `bucket` (None: the whole window only) and version. Pass `reference` to reuse a
    `fit_reference` result (the UI caches it)."""
    if scope.model_id != model.id:
        raise ValueError(f"a scope of model {scope.model_id!r} given for {model.id!r}")
    if reference is None:
        reference = fit_reference(store, model, binning=binning, confidence=confidence)
    params = sql.scope_params(scope, bucket)
    restrict = sql.restrict_feedback(store.version_slices(), scope.model_id, scope.window)
    if model.task == "regression":
        query = sql.regression_moments(bucket, restrict=restrict)
    else:
        params |= sql.binning_params(binning, model.task, model.positive_label)
        query = sql.classification_cells(model.task, bucket, restrict=restrict)
    return performance_report(
        model,
        scope,
        store.execute(query, params),
        bucket=bucket,
        reference=reference,
        binning=binning,
        confidence=confidence,
    )


def headline(
    store: LogStore,
    model: ModelConfig,
    scope: Scope,
    *,
    min_labels: int = MIN_LABELS,
    reference: ReferenceFit | None = None,
) -> Headline:
    """The headline metric of a model in a scope (see Headline)."""
    report = performance(store, model, scope, bucket=None, reference=reference)
    return headline_of(report, min_labels=min_labels)
