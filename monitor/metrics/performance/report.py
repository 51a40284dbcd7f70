"""Model performance per time bucket and per version, from the logged labels.

One aggregate query per call: for classifiers, counts and score sums per (bucket,
version, prediction, label, score bin); for regression, residual moments. Labels follow
the `labeled` view: the latest feedback record by its timestamp wins, whether it came
after the prediction, before it (clock skew) or as a correction; an inline label counts
only when no feedback names the prediction. Labels count for the bucket of their
prediction, whenever they arrived, so old buckets fill in as labels come. A prediction
counts when its status is `ok` and it has a prediction value; coverage is the share of
those with a label.

See monitor.metrics.intervals for the bands, monitor.metrics.scores for the binned ROC
AUC and reliability curve, monitor.metrics.estimation for estimated (label-free) metrics
and monitor.metrics.baseline for the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Settings, Task
from monitor.core.store import LogStore
from monitor.metrics.intervals import CONFIDENCE
from monitor.metrics.performance.baseline import HIGHER_IS_BETTER, Baseline, model_baseline
from monitor.metrics.performance.estimation import Calibrator, reference_calibrator
from monitor.metrics.performance.groups import (
    ClassifierSettings,
    GroupPerformance,
    classifier_group,
    pool_cells,
    regression_group,
)
from monitor.queries import performance as sql

BINNING: Final = sql.Binning()
MIN_LABELS: Final = 100
"""Below this many labels the headline shows the estimate, where there is one."""
METRICS: Final[dict[Task, tuple[str, ...]]] = {
    "binary": ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
    "multiclass": ("accuracy", "f1_macro", "f1_weighted"),
    "regression": ("mae", "rmse", "r2", "residual_mean", "residual_std"),
}
HEADLINE_METRIC: Final[dict[Task, str]] = {
    "binary": "accuracy",
    "multiclass": "accuracy",
    "regression": "mae",
}


@dataclass(frozen=True)
class ReferenceFit:
    """What the reference dataset gives: the baseline and the calibrator for estimates."""

    baseline: Baseline
    calibrator: Calibrator | None
    estimation_note: str | None
    """Why there are no estimated metrics, when there are none."""


@dataclass(frozen=True)
class PerformanceReport:
    model_id: str
    task: Task
    window: Window
    bucket: Bucket | None
    versions: tuple[str, ...]
    """The version filter; empty = all versions."""
    positive_label: str | None
    groups: tuple[GroupPerformance, ...]
    baseline: Baseline
    estimation_note: str | None
    binning: sql.Binning

    @property
    def metric_names(self) -> tuple[str, ...]:
        return METRICS[self.task]

    @property
    def versions_seen(self) -> tuple[str, ...]:
        return tuple(sorted({g.version for g in self.groups if g.version is not None}))

    def buckets(self, version: str | None = None) -> tuple[GroupPerformance, ...]:
        """Time buckets, oldest first, of one version (None: all versions together)."""
        found = [g for g in self.groups if g.start is not None and g.version == version]
        return tuple(sorted(found, key=lambda g: g.start or self.window.start))

    def overall(self, version: str | None = None) -> GroupPerformance | None:
        """The whole window, of one version (None: all versions together)."""
        for group in self.groups:
            if group.start is None and group.version == version:
                return group
        return None


def fit_reference(
    store: LogStore,
    model: ModelConfig,
    *,
    binning: sql.Binning = BINNING,
    confidence: float = CONFIDENCE,
) -> ReferenceFit:
    """The baseline and, for binary models, the score calibrator, from the reference."""
    baseline = model_baseline(store, model, binning=binning, confidence=confidence)
    calibrator = reference_calibrator(store, model)
    note = None
    if model.task != "binary":
        note = "estimated metrics exist for binary classifiers only"
    elif calibrator is None:
        note = (
            "no estimated metrics: they need a reference dataset with scores "
            f"({model.score_column!r}) and both labels"
            + (f" ({baseline.note})" if baseline.note else "")
        )
    return ReferenceFit(baseline, calibrator, note)


def performance(
    store: LogStore,
    model: ModelConfig,
    window: Window,
    *,
    bucket: Bucket | None = "day",
    versions: Sequence[str] | None = None,
    binning: sql.Binning = BINNING,
    confidence: float = CONFIDENCE,
    reference: ReferenceFit | None = None,
) -> PerformanceReport:
    """Realized (and, for binary models, estimated) performance of a model in a window,
    per `bucket` (None: the whole window only) and version. Pass `reference` to reuse a
    `fit_reference` result (the UI caches it)."""
    if reference is None:
        reference = fit_reference(store, model, binning=binning, confidence=confidence)
    params = sql.window_params(window, model.id, versions, bucket)
    restrict = sql.restrict_feedback(store.version_slices(), model.id, window)
    groups: list[GroupPerformance]
    if model.task == "regression":
        rows = store.execute(sql.regression_moments(bucket, restrict=restrict), params)
        if bucket is None:
            rows = [r for r in rows if r[2] in (2, 3)]
        groups = [regression_group(r, confidence=confidence) for r in rows]
    else:
        task = model.task
        params |= binning.params(task, model.positive_label)
        rows = store.execute(sql.classification_cells(task, bucket, restrict=restrict), params)
        settings = ClassifierSettings(
            task, model.positive_label, binning, confidence, reference.calibrator
        )
        pooled = pool_cells(rows, binning, bucketed=bucket is not None)
        groups = [classifier_group(key, cells, settings) for key, cells in pooled.items()]
    return PerformanceReport(
        model_id=model.id,
        task=model.task,
        window=window,
        bucket=bucket,
        versions=tuple(versions or ()),
        positive_label=model.positive_label if model.task == "binary" else None,
        groups=tuple(groups),
        baseline=reference.baseline,
        estimation_note=reference.estimation_note,
        binning=binning,
    )


@dataclass(frozen=True)
class Headline:
    """One number for the Overview: accuracy (classifiers) or MAE (regression) in a window,
    realized from labels or, with too few labels, estimated; with the baseline."""

    model_id: str
    metric: str
    value: float | None
    low: float | None
    high: float | None
    estimated: bool
    labeled: int
    predictions: int
    coverage: float | None
    baseline: float | None
    baseline_source: str | None
    higher_is_better: bool

    @property
    def delta(self) -> float | None:
        """value - baseline."""
        if self.value is None or self.baseline is None:
            return None
        return self.value - self.baseline

    @property
    def label(self) -> str:
        return {"accuracy": "Accuracy", "mae": "MAE"}.get(self.metric, self.metric)


def headline(
    store: LogStore,
    settings: Settings,
    model_id: str,
    window: Window,
    versions: Sequence[str] | None = None,
    *,
    min_labels: int = MIN_LABELS,
    reference: ReferenceFit | None = None,
) -> Headline:
    """The headline metric of a model in a window (see Headline)."""
    model = settings.model(model_id)
    report = performance(store, model, window, bucket=None, versions=versions, reference=reference)
    name = HEADLINE_METRIC[model.task]
    overall = report.overall()
    predictions = overall.predictions if overall else 0
    labeled = overall.labeled if overall else 0
    realized = overall.metrics.get(name) if overall else None
    estimate = overall.estimated.metrics.get(name) if overall and overall.estimated else None
    use_estimate = estimate is not None and estimate.value is not None and labeled < min_labels
    chosen = estimate if use_estimate else realized
    base = report.baseline.metrics.get(name)
    return Headline(
        model_id=model_id,
        metric=name,
        value=chosen.value if chosen else None,
        low=chosen.low if chosen else None,
        high=chosen.high if chosen else None,
        estimated=use_estimate,
        labeled=labeled,
        predictions=predictions,
        coverage=overall.coverage if overall else None,
        baseline=base.value if base else None,
        baseline_source=report.baseline.source,
        higher_is_better=HIGHER_IS_BETTER.get(name, True),
    )
