"""Model performance per time bucket and per version, from the logged labels.

Built from one aggregate query (monitor.queries.performance_report): for classifiers,
counts and score sums per (bucket, version, prediction, label, score bin); for
regression, residual moments. Labels follow the `labeled` view: the latest feedback
record by its timestamp wins, whether it came after the prediction, before it (clock
skew) or as a correction; an inline label counts only when no feedback names the
prediction. Labels count for the bucket of their prediction, whenever they arrived, so
old buckets fill in as labels come. A prediction counts when its status is `ok` and it
has a prediction value; coverage is the share of those with a label.

See monitor.metrics.intervals for the bands, and in this package scores for the binned
ROC AUC and reliability curve, estimation for estimated (label-free) metrics and
baseline for the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Task
from monitor.core.scope import Scope
from monitor.metrics.intervals import CONFIDENCE
from monitor.metrics.performance.baseline import HIGHER_IS_BETTER, Baseline
from monitor.metrics.performance.binning import Binning
from monitor.metrics.performance.estimation import Calibrator
from monitor.metrics.performance.groups import GroupPerformance, task_groups

BINNING: Final = Binning()
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

    @classmethod
    def of(
        cls, model: ModelConfig, baseline: Baseline, calibrator: Calibrator | None
    ) -> ReferenceFit:
        note = None
        if model.task != "binary":
            note = "estimated metrics exist for binary classifiers only"
        elif calibrator is None:
            note = (
                "no estimated metrics: they need a reference dataset with scores "
                f"({model.score_column!r}) and both labels"
                + (f" ({baseline.note})" if baseline.note else "")
            )
        return cls(baseline, calibrator, note)


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
    binning: Binning

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


def performance_report(
    model: ModelConfig,
    scope: Scope,
    rows: Sequence[Sequence[Any]],
    *,
    bucket: Bucket | None,
    reference: ReferenceFit,
    binning: Binning = BINNING,
    confidence: float = CONFIDENCE,
) -> PerformanceReport:
    """The report from a scope's `classification_cells` or `regression_moments` rows
    (bucketed by `bucket`; None: the whole window only)."""
    groups = task_groups(
        model,
        rows,
        bucketed=bucket is not None,
        binning=binning,
        confidence=confidence,
        calibrator=reference.calibrator,
    )
    return PerformanceReport(
        model_id=model.id,
        task=model.task,
        window=scope.window,
        bucket=bucket,
        versions=scope.versions,
        positive_label=model.positive_label if model.task == "binary" else None,
        groups=groups,
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


def headline_of(report: PerformanceReport, *, min_labels: int = MIN_LABELS) -> Headline:
    """The headline metric of an unbucketed report (see Headline)."""
    name = HEADLINE_METRIC[report.task]
    overall = report.overall()
    predictions = overall.predictions if overall else 0
    labeled = overall.labeled if overall else 0
    realized = overall.metrics.get(name) if overall else None
    estimate = overall.estimated.metrics.get(name) if overall and overall.estimated else None
    use_estimate = estimate is not None and estimate.value is not None and labeled < min_labels
    chosen = estimate if use_estimate else realized
    base = report.baseline.metrics.get(name)
    return Headline(
        model_id=report.model_id,
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
