"""Classification metrics from a confusion matrix (counts computed in SQL).

Definitions follow scikit-learn: accuracy, precision TP/(TP+FP), recall TP/(TP+FN),
F1 2TP/(2TP+FP+FN); multiclass macro F1 is the unweighted mean of the per-class F1 over
the classes present in the window (as label or prediction), weighted F1 weighs them by
support. Where sklearn would answer 0 for an undefined ratio (zero_division), we answer
None ("n/a"): a precision with no predicted positives is unknown, not zero. A class
missing from a window simply has no row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.metrics.intervals import CONFIDENCE, Metric, bootstrap_counts, wilson

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Confusion:
    """Counts of labeled predictions: counts[i][j] = true class i predicted as class j
    (sklearn's confusion_matrix layout), classes sorted."""

    classes: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts)

    def array(self) -> IntArray:
        return np.array(self.counts, dtype=np.int64).reshape(len(self.classes), len(self.classes))


@dataclass(frozen=True)
class ClassScores:
    label: str
    support: int
    """Labeled predictions whose true class this is."""
    predicted: int
    precision: Metric
    recall: Metric
    f1: float | None


def confusion_from_cells(cells: Mapping[tuple[str, str], int]) -> Confusion:
    """A confusion matrix from counts per (true label, prediction)."""
    classes = tuple(sorted({c for pair in cells for c in pair}))
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for (truth, predicted), n in cells.items():
        matrix[index[truth], index[predicted]] += n
    return Confusion(classes, tuple(tuple(int(v) for v in row) for row in matrix))


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _binary_f1(samples: IntArray) -> FloatArray:
    tp, fp, fn = samples[:, 0], samples[:, 1], samples[:, 2]
    denominator = 2 * tp + fp + fn
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where(denominator > 0, 2 * tp / denominator, np.nan)
    return result


def binary_metrics(
    confusion: Confusion, positive: str, *, confidence: float = CONFIDENCE
) -> dict[str, Metric]:
    """accuracy, precision, recall and F1 for the positive label; every other label is
    negative."""
    matrix = confusion.array()
    n = int(matrix.sum())
    if positive in confusion.classes:
        p = confusion.classes.index(positive)
        tp = int(matrix[p, p])
        fn = int(matrix[p].sum()) - tp
        fp = int(matrix[:, p].sum()) - tp
    else:
        tp = fn = fp = 0
    tn = n - tp - fn - fp
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    low, high = (None, None)
    if f1 is not None:
        low, high = bootstrap_counts(
            np.array([tp, fp, fn, tn], dtype=np.int64), _binary_f1, confidence=confidence
        )
    return {
        "accuracy": wilson(tp + tn, n, confidence=confidence),
        "precision": wilson(tp, tp + fp, confidence=confidence),
        "recall": wilson(tp, tp + fn, confidence=confidence),
        "f1": Metric(f1, low, high, n),
    }


def _per_class_f1(samples: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per-class F1 (draws x classes) and support of resampled confusion matrices."""
    diagonal = np.diagonal(samples, axis1=-2, axis2=-1).astype(np.float64)
    support = samples.sum(axis=-1).astype(np.float64)
    predicted = samples.sum(axis=-2).astype(np.float64)
    denominator = support + predicted
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(denominator > 0, 2 * diagonal / denominator, 0.0)
    return f1, support


def _macro_f1(samples: IntArray) -> FloatArray:
    f1, _ = _per_class_f1(samples)
    result: FloatArray = f1.mean(axis=-1)
    return result


def _weighted_f1(samples: IntArray) -> FloatArray:
    f1, support = _per_class_f1(samples)
    total = support.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where(total > 0, (f1 * support).sum(axis=-1) / total, np.nan)
    return result


def multiclass_metrics(
    confusion: Confusion, *, confidence: float = CONFIDENCE
) -> tuple[dict[str, Metric], tuple[ClassScores, ...]]:
    """accuracy, macro and weighted F1 (with bootstrap bands), and per-class scores."""
    matrix = confusion.array()
    n = int(matrix.sum())
    metrics = {"accuracy": wilson(int(np.trace(matrix)), n, confidence=confidence)}
    for name, statistic in (("f1_macro", _macro_f1), ("f1_weighted", _weighted_f1)):
        if n == 0:
            metrics[name] = Metric(None, None, None, 0)
            continue
        value = float(statistic(matrix[np.newaxis])[0])
        low, high = bootstrap_counts(matrix, statistic, confidence=confidence)
        metrics[name] = Metric(value, low, high, n)
    per_class = []
    for i, label in enumerate(confusion.classes):
        hits, support, predicted = int(matrix[i, i]), int(matrix[i].sum()), int(matrix[:, i].sum())
        per_class.append(
            ClassScores(
                label=label,
                support=support,
                predicted=predicted,
                precision=wilson(hits, predicted, confidence=confidence),
                recall=wilson(hits, support, confidence=confidence),
                f1=_ratio(2 * hits, support + predicted),
            )
        )
    return metrics, tuple(per_class)
