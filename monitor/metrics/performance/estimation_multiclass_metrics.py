"""Macro metrics of a multiclass confusion matrix whose labels are probabilities, and their
label-noise variances (the arithmetic behind `estimation_multiclass`).

Row r has a predicted class and a probability vector p_r over the k classes (calibrated
probabilities for an estimate; the one-hot true label for a realized value). The
expected confusion matrix (rows true, columns predicted, as scikit-learn) is

    C[i, j] = sum of p_r[i] over the rows predicted j.

Column sums are the counts predicted per class (fixed); row sums are the expected
counts per true class. Per class k: precision = C[k, k] / column k, recall = C[k, k] /
row k, F1 = 2 C[k, k] / (column k + row k); accuracy = trace / rows. Macro values are
plain means over the classes where the metric is defined: precision over the classes
predicted at least once, recall over the classes with an expected (or true) row, F1
over either (scikit-learn would count an undefined one as 0; we leave it out).

Label noise: each row's label is one draw from p_r, independent between rows, so a
metric f(C) has the delta-method variance

    sum over rows of  sum_i g_i^2 p_r[i] - (sum_i g_i p_r[i])^2,   g = d f / d C[:, pred_r]

(the variance of one multinomial draw projected on the gradient of the row's column).
Macro one-vs-rest ROC AUC: per class, `estimation_auc.expected_auc` over the class's own
raw scores with the class's probability as the chance of a positive; the variance of
the mean is bounded by (mean of the per-class standard deviations)^2, which holds
whatever the correlation between the classes' AUCs.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

from monitor.metrics.performance.estimation_auc import expected_auc

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MULTICLASS_METRICS: Final = ("accuracy", "precision", "recall", "f1", "roc_auc")

ValueAndVariance = tuple[float, float]


def confusion(probabilities: FloatArray, predicted: IntArray) -> FloatArray:
    """Expected confusion matrix (k x k, rows true, columns predicted) of rows with
    `probabilities` (n x k) and predicted class indices `predicted` (n)."""
    k = probabilities.shape[1]
    matrix = np.zeros((k, k))
    for j in range(k):
        matrix[:, j] = probabilities[predicted == j].sum(axis=0)
    return matrix


def _row_variance(gradient: FloatArray, probabilities: FloatArray, predicted: IntArray) -> float:
    """Delta-method label-noise variance of a metric with `gradient` (k x k, d metric /
    d C[i, j]) over rows drawn from `probabilities`."""
    per_row = gradient[:, predicted].T  # (n, k): the gradient of each row's column
    first = (per_row * probabilities).sum(axis=1)
    second = (per_row**2 * probabilities).sum(axis=1)
    return float(np.maximum(second - first**2, 0.0).sum())


def _macro(
    values: FloatArray, gradients: FloatArray, defined: npt.NDArray[np.bool_]
) -> tuple[float, FloatArray]:
    """Mean over the defined classes of per-class values, with the mean gradient."""
    count = int(defined.sum())
    if count == 0:
        return math.nan, np.zeros(gradients.shape[1:])
    return float(values[defined].mean()), gradients[defined].sum(axis=0) / count


def confusion_metrics(
    probabilities: FloatArray, predicted: IntArray
) -> dict[str, ValueAndVariance]:
    """Accuracy and macro precision, recall and F1 with their label-noise variances (NaN
    where undefined)."""
    n, k = probabilities.shape
    if n == 0:
        return {name: (math.nan, math.nan) for name in ("accuracy", "precision", "recall", "f1")}
    matrix = confusion(probabilities, predicted)
    diagonal = np.diag(matrix)
    column = matrix.sum(axis=0)
    row = matrix.sum(axis=1)
    # gradients[c] = d metric_c / d C (k x k) for each class c
    precision_grad = np.zeros((k, k, k))
    recall_grad = np.zeros((k, k, k))
    f1_grad = np.zeros((k, k, k))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = diagonal / column
        recall = diagonal / row
        f1 = 2 * diagonal / (column + row)
        for c in range(k):
            if column[c] > 0:
                precision_grad[c, c, c] = 1 / column[c]
            if row[c] > 0:
                recall_grad[c, c, :] = -diagonal[c] / row[c] ** 2
                recall_grad[c, c, c] += 1 / row[c]
            both = column[c] + row[c]
            if both > 0:
                f1_grad[c, c, :] = -2 * diagonal[c] / both**2
                f1_grad[c, c, c] += 2 / both
    accuracy_variance = _row_variance(np.eye(k) / n, probabilities, predicted)
    result = {"accuracy": (float(diagonal.sum() / n), accuracy_variance)}
    for name, values, gradients, defined in (
        ("precision", precision, precision_grad, column > 0),
        ("recall", recall, recall_grad, row > 0),
        ("f1", f1, f1_grad, column + row > 0),
    ):
        value, gradient = _macro(values, gradients, defined)
        variance = (
            _row_variance(gradient, probabilities, predicted) if math.isfinite(value) else math.nan
        )
        result[name] = (value, variance)
    return result


def macro_auc(scores: FloatArray, probabilities: FloatArray) -> ValueAndVariance:
    """Macro one-vs-rest ROC AUC of rows ranked by their raw class `scores` (n x k),
    positives of class c weighted by `probabilities[:, c]`, with the variance bound of the
    module docstring; over the classes with expected positives and negatives."""
    ones = np.ones(len(scores))
    values, deviations = [], []
    for c in range(scores.shape[1]):
        value, variance = expected_auc(scores[:, c], ones, probabilities[:, c])
        if math.isfinite(value):
            values.append(value)
            deviations.append(math.sqrt(variance) if math.isfinite(variance) else math.nan)
    if not values:
        return math.nan, math.nan
    return float(np.mean(values)), float(np.mean(deviations)) ** 2


def multiclass_metrics(
    scores: FloatArray, probabilities: FloatArray, predicted: IntArray
) -> dict[str, ValueAndVariance]:
    """Every metric of MULTICLASS_METRICS with its label-noise variance."""
    return {
        **confusion_metrics(probabilities, predicted),
        "roc_auc": macro_auc(scores, probabilities),
    }
