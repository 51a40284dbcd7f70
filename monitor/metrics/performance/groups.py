"""From the SQL aggregates to the metrics of each group (a time bucket and a version).

Classifier aggregates are additive (counts and sums per score bin), so the SQL returns
them per (bucket, version) and the pooled groups (all versions of a bucket, a version
over the whole window, everything) are sums here. Regression moments are not additive
that simply; their SQL returns every grouping level itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from monitor.core.config import ModelConfig
from monitor.metrics.intervals import CONFIDENCE, Metric, mean_interval
from monitor.metrics.performance.binning import Binning
from monitor.metrics.performance.classification import (
    ClassScores,
    Confusion,
    binary_metrics,
    confusion_from_cells,
    multiclass_metrics,
)
from monitor.metrics.performance.estimation import Calibrator, Estimate, ScoreCells, estimate_binary
from monitor.metrics.performance.scores import (
    CalibrationBin,
    binned_auc,
    calibration_curve,
    histogram_quantiles,
    mirror,
)

FloatArray = npt.NDArray[np.float64]
GroupKey = tuple[dt.datetime | None, str | None]
CellKey = tuple[str, str | None]
"""(prediction, label or None when unlabeled)."""

QUANTILES: Final = (0.1, 0.25, 0.5, 0.75, 0.9)
MIN_CHECK_LABELS: Final = 100
"""Labeled rows needed before an estimate is checked against the realized accuracy."""

_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@functools.lru_cache(maxsize=4096)
def bucket_start(epoch_us: int | None) -> dt.datetime | None:
    """The datetime (UTC) of a bucket start in epoch microseconds, as the SQL hands it
    over (monitor.queries.performance.bucket_expression)."""
    return None if epoch_us is None else _EPOCH + dt.timedelta(microseconds=epoch_us)


@dataclass(frozen=True)
class EstimateCheck:
    """The estimate on the labeled rows of a group against their realized accuracy."""

    labeled: int
    estimated: Metric
    realized: float
    agrees: bool
    """False: the realized accuracy lies outside the estimate's band. The estimate's
    assumption (P(label | score) as in the reference) does not hold here."""


@dataclass(frozen=True)
class GroupPerformance:
    """Performance of one group: a time bucket (start None = the whole window) and a
    version (None = all selected versions together)."""

    start: dt.datetime | None
    version: str | None
    predictions: int
    labeled: int
    metrics: Mapping[str, Metric]
    """Realized metrics; empty when nothing is labeled."""
    confusion: Confusion | None = None
    per_class: tuple[ClassScores, ...] = ()
    calibration: tuple[CalibrationBin, ...] = ()
    """Reliability curve; whole-window groups only (start None)."""
    auc_bound: float | None = None
    """Largest possible error of the binned ROC AUC (see monitor.metrics.performance.scores)."""
    confidence: tuple[float, ...] | None = None
    """Quantiles QUANTILES of the predicted class's probability (all predictions)."""
    entropy_mean: float | None = None
    """Mean entropy of the predicted distribution, in bits (all predictions)."""
    estimated: Estimate | None = None
    estimate_check: EstimateCheck | None = None

    @property
    def coverage(self) -> float | None:
        """Share of the predictions that have a label."""
        return self.labeled / self.predictions if self.predictions else None


@dataclass
class _Cells:
    """Mutable accumulator of one group's classifier aggregates, per (prediction, label):
    counts and score sums per score rank (index `binning.ranks` = unscored) and per
    uniform score bin."""

    binning: Binning
    ranked: dict[CellKey, FloatArray] = field(default_factory=dict)
    ranked_sums: dict[CellKey, FloatArray] = field(default_factory=dict)
    uniform: dict[CellKey, FloatArray] = field(default_factory=dict)
    uniform_sums: dict[CellKey, FloatArray] = field(default_factory=dict)
    loss_sum: float = 0.0
    loss_sq_sum: float = 0.0
    entropy_sum: float = 0.0
    entropy_n: int = 0

    def _cell(self, key: CellKey) -> None:
        if key not in self.ranked:
            self.ranked[key] = np.zeros(self.binning.ranks + 1)
            self.ranked_sums[key] = np.zeros(self.binning.ranks + 1)
            self.uniform[key] = np.zeros(self.binning.uniform)
            self.uniform_sums[key] = np.zeros(self.binning.uniform)

    def add_row(
        self, key: CellKey, uniform: int | None, logit: int | None, row: Sequence[Any]
    ) -> None:
        n, score_sum, loss_sum, loss_sq_sum, entropy_sum, entropy_n = row
        self._cell(key)
        if uniform is None or logit is None:
            self.ranked[key][self.binning.ranks] += n
        else:
            self.ranked[key][uniform + logit] += n
            self.ranked_sums[key][uniform + logit] += score_sum
            self.uniform[key][uniform] += n
            self.uniform_sums[key][uniform] += score_sum
        self.loss_sum += loss_sum
        self.loss_sq_sum += loss_sq_sum
        self.entropy_sum += entropy_sum
        self.entropy_n += int(entropy_n)

    def add(self, other: _Cells) -> None:
        for key in other.ranked:
            self._cell(key)
            self.ranked[key] += other.ranked[key]
            self.ranked_sums[key] += other.ranked_sums[key]
            self.uniform[key] += other.uniform[key]
            self.uniform_sums[key] += other.uniform_sums[key]
        self.loss_sum += other.loss_sum
        self.loss_sq_sum += other.loss_sq_sum
        self.entropy_sum += other.entropy_sum
        self.entropy_n += other.entropy_n

    def count(self, key: CellKey) -> int:
        return int(self.ranked[key].sum())


@dataclass(frozen=True)
class ClassifierSettings:
    task: Literal["binary", "multiclass"]
    positive: str | None
    binning: Binning
    confidence: float = CONFIDENCE
    calibrator: Calibrator | None = None


def pool_cells(
    rows: Iterable[Sequence[Any]], binning: Binning, *, bucketed: bool
) -> dict[GroupKey, _Cells]:
    """Accumulate `classification_cells` rows per (bucket, version) and add the pooled
    groups: per bucket (version None), per version (start None) and overall."""
    groups: dict[GroupKey, _Cells] = {}
    for bucket, version, pred, truth, uniform, logit, *sums in rows:
        key = (bucket_start(bucket), version)
        groups.setdefault(key, _Cells(binning)).add_row((pred, truth), uniform, logit, sums)
    pooled: dict[GroupKey, _Cells] = {}
    for (bucket, version), cells in groups.items():
        targets: list[GroupKey] = [(None, version), (None, None)]
        if bucketed:
            targets.append((bucket, None))
        for target in targets:
            pooled.setdefault(target, _Cells(binning)).add(cells)
    if not bucketed:
        return pooled
    return groups | pooled


Event = Callable[[str, str], bool]


def _labeled_scored(
    cells: _Cells, event: Event, *, ranked: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(event counts, total counts, score sums) over labeled scored rows, per score rank
    (ranked) or per uniform bin."""
    size = cells.binning.ranks if ranked else cells.binning.uniform
    events, totals, sums = np.zeros(size), np.zeros(size), np.zeros(size)
    counts_of = cells.ranked if ranked else cells.uniform
    sums_of = cells.ranked_sums if ranked else cells.uniform_sums
    for (pred, truth), counts in counts_of.items():
        if truth is None:
            continue
        totals += counts[:size]
        sums += sums_of[(pred, truth)][:size]
        if event(pred, truth):
            events += counts[:size]
    return events, totals, sums


def _score_cells(cells: _Cells, positive: str, *, labeled_only: bool) -> ScoreCells:
    """Scored predictions per (rank, predicted class), for the estimate."""
    size = cells.binning.ranks
    count = np.zeros(2 * size)
    sums = np.zeros(2 * size)
    for (pred, truth), counts in cells.ranked.items():
        if labeled_only and truth is None:
            continue
        offset = 0 if pred == positive else size
        count[offset : offset + size] += counts[:size]
        sums[offset : offset + size] += cells.ranked_sums[(pred, truth)][:size]
    return ScoreCells(count, sums, np.arange(2 * size) < size)


def classifier_group(
    key: GroupKey, cells: _Cells, settings: ClassifierSettings
) -> GroupPerformance:
    predictions = sum(cells.count(k) for k in cells.ranked)
    labeled_cells = {(t, p): cells.count((p, t)) for p, t in cells.ranked if t is not None}
    labeled = sum(labeled_cells.values())
    positive = settings.positive
    binary = settings.task == "binary" and positive is not None
    confusion = confusion_from_cells(labeled_cells) if labeled else None
    metrics: dict[str, Metric] = {}
    per_class: tuple[ClassScores, ...] = ()
    auc_bound: float | None = None

    def event(pred: str, truth: str) -> bool:
        return truth == positive if binary else pred == truth

    if confusion is not None and binary:
        assert positive is not None
        metrics = binary_metrics(confusion, positive, confidence=settings.confidence)
        events, totals, _ = _labeled_scored(cells, event, ranked=True)
        auc, auc_bound = binned_auc(events, totals - events, confidence=settings.confidence)
        metrics["roc_auc"] = auc
        scored = int(totals.sum())
        metrics["log_loss"] = mean_interval(
            cells.loss_sum / scored if scored else None,
            cells.loss_sq_sum / scored if scored else None,
            scored,
            confidence=settings.confidence,
        )
    elif confusion is not None:
        metrics, per_class = multiclass_metrics(confusion, confidence=settings.confidence)
    calibration: tuple[CalibrationBin, ...] = ()
    if key[0] is None and labeled:  # whole-window groups only: too few labels per bucket
        events, totals, sums = _labeled_scored(cells, event, ranked=False)
        if totals.sum() > 0:
            calibration = calibration_curve(
                events,
                totals,
                sums,
                coarse_bins=settings.binning.coarse,
                confidence=settings.confidence,
            )
    confidence_counts = np.zeros(settings.binning.uniform)
    for (pred, _), counts in cells.uniform.items():
        flip = binary and pred != positive
        confidence_counts += mirror(counts) if flip else counts
    estimated: Estimate | None = None
    check: EstimateCheck | None = None
    if binary and settings.calibrator is not None:
        assert positive is not None
        estimated = estimate_binary(
            _score_cells(cells, positive, labeled_only=False),
            settings.calibrator,
            confidence=settings.confidence,
        )
        check = _check(cells, positive, settings)
    return GroupPerformance(
        start=key[0],
        version=key[1],
        predictions=predictions,
        labeled=labeled,
        metrics=metrics,
        confusion=confusion,
        per_class=per_class,
        calibration=calibration,
        auc_bound=auc_bound,
        confidence=histogram_quantiles(confidence_counts, QUANTILES),
        entropy_mean=cells.entropy_sum / cells.entropy_n if cells.entropy_n else None,
        estimated=estimated,
        estimate_check=check,
    )


def _check(cells: _Cells, positive: str, settings: ClassifierSettings) -> EstimateCheck | None:
    """Estimated vs realized accuracy on the same (labeled, scored) rows; None below
    MIN_CHECK_LABELS such rows."""
    assert settings.calibrator is not None
    size = cells.binning.ranks
    correct = total = 0
    for (pred, truth), counts in cells.ranked.items():
        if truth is None:
            continue
        n = int(counts[:size].sum())
        total += n
        correct += n if (pred == positive) == (truth == positive) else 0
    if total < MIN_CHECK_LABELS:
        return None
    on_labeled = estimate_binary(
        _score_cells(cells, positive, labeled_only=True),
        settings.calibrator,
        confidence=settings.confidence,
    )
    realized = correct / total
    estimated = on_labeled.metrics["accuracy"]
    agrees = (
        estimated.low is not None
        and estimated.high is not None
        and estimated.low <= realized <= estimated.high
    )
    return EstimateCheck(total, estimated, realized, agrees)


def regression_group(row: Sequence[Any], *, confidence: float = CONFIDENCE) -> GroupPerformance:
    """Metrics of one `regression_moments` row (residual e = label - prediction)."""
    bucket, version, level, predictions, labeled, mae, residual_mean, mse, e4, std, label_var = row
    start = bucket_start(bucket) if level in (0, 1) else None
    version = version if level in (0, 2) else None
    metrics: dict[str, Metric] = {}
    n = int(labeled)
    if n:
        mse_band = mean_interval(mse, e4, n, confidence=confidence)
        metrics["mae"] = mean_interval(mae, mse, n, confidence=confidence)
        metrics["rmse"] = Metric(
            math.sqrt(mse),
            math.sqrt(max(mse_band.low, 0.0)) if mse_band.low is not None else None,
            math.sqrt(mse_band.high) if mse_band.high is not None else None,
            n,
        )
        if n >= 2:
            r2 = 1 - mse / label_var if label_var > 0 else (1.0 if mse == 0 else 0.0)
            metrics["r2"] = Metric(r2, None, None, n)
        metrics["residual_mean"] = mean_interval(residual_mean, mse, n, confidence=confidence)
        metrics["residual_std"] = Metric(std, None, None, n)
    return GroupPerformance(start, version, int(predictions), n, metrics)


def task_groups(
    model: ModelConfig,
    rows: Sequence[Sequence[Any]],
    *,
    bucketed: bool,
    binning: Binning,
    confidence: float = CONFIDENCE,
    calibrator: Calibrator | None = None,
) -> tuple[GroupPerformance, ...]:
    """Every group of a model's `classification_cells` or `regression_moments` rows:
    per (bucket, version) and pooled when `bucketed`, else per version and overall."""
    if model.task == "regression":
        if not bucketed:
            rows = [r for r in rows if r[2] in (2, 3)]
        return tuple(regression_group(r, confidence=confidence) for r in rows)
    settings = ClassifierSettings(model.task, model.positive_label, binning, confidence, calibrator)
    pooled = pool_cells(rows, binning, bucketed=bucketed)
    return tuple(classifier_group(key, cells, settings) for key, cells in pooled.items())


def overall_group(
    model: ModelConfig,
    rows: Sequence[Sequence[Any]],
    *,
    binning: Binning,
    confidence: float = CONFIDENCE,
) -> GroupPerformance | None:
    """Only the overall group (all rows together) of unbucketed rows; None without rows."""
    if model.task == "regression":
        overall = [r for r in rows if r[2] == 3]
        return regression_group(overall[0], confidence=confidence) if overall else None
    cells = pool_cells(rows, binning, bucketed=False).get((None, None))
    if cells is None:
        return None
    settings = ClassifierSettings(model.task, model.positive_label, binning, confidence)
    return classifier_group((None, None), cells, settings)
