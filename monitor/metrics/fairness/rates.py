"""Group metrics as ratios of (weighted) confusion counts, vectorised over any array shape.

One definition serves the audit (counts from fairlearn's MetricFrame), the bootstrap
(counts of resampled tables) and the trend (counts from SQL). A rate whose denominator
is zero is undefined: NaN here, None (JSON null) in results. Every rate is a group's own
ratio except `ppr` (Aequitas' predicted positive ratio): the group's share of the
table's predicted positives, so its caller passes that total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

Task = Literal["binary", "regression"]
FloatArray = npt.NDArray[np.float64]

BINARY_METRICS: Final[tuple[str, ...]] = (
    "selection_rate",
    "ppr",
    "accuracy",
    "tpr",
    "fpr",
    "fnr",
    "tnr",
    "precision",
    "npv",
    "fdr",
    "for",
    "prevalence",
)
REGRESSION_METRICS: Final[tuple[str, ...]] = ("mae", "rmse")

LOWER_IS_BETTER: Final = frozenset({"fpr", "fnr", "fdr", "for", "mae", "rmse"})
"""For the `best` reference group: these are better when lower; the rest when higher
(selection rate and prevalence by the four-fifths convention: the highest rate)."""

DEFAULT_METRIC: Final[dict[Task, str]] = {"binary": "selection_rate", "regression": "mae"}

TITLES: Final[dict[str, str]] = {
    "selection_rate": "Selection rate P(ŷ=1)",
    "ppr": "Share of all predicted positives (PPR)",
    "accuracy": "Accuracy",
    "tpr": "True positive rate (recall)",
    "fpr": "False positive rate",
    "fnr": "False negative rate",
    "tnr": "True negative rate",
    "precision": "Precision (PPV)",
    "npv": "Negative predictive value",
    "fdr": "False discovery rate",
    "for": "False omission rate",
    "prevalence": "Label prevalence P(y=1)",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error",
}


def metrics_for(task: Task) -> tuple[str, ...]:
    return BINARY_METRICS if task == "binary" else REGRESSION_METRICS


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.where(denominator > 0, numerator / denominator, np.nan)
    return result


def binary_rates(
    tp: npt.ArrayLike,
    fp: npt.ArrayLike,
    fn: npt.ArrayLike,
    tn: npt.ArrayLike,
    *,
    predicted_total: npt.ArrayLike,
) -> dict[str, FloatArray]:
    """Every binary metric from confusion counts (arrays of one shape), as fairlearn and
    scikit-learn define them: selection rate = (TP+FP)/N, TPR = TP/(TP+FN), and so on;
    `ppr` = (TP+FP) / `predicted_total`, the predicted positives (TP+FP) summed over all
    groups of the table (broadcast against the counts), as Aequitas defines it."""
    tp_, fp_, fn_, tn_ = (np.asarray(a, dtype=np.float64) for a in (tp, fp, fn, tn))
    total = tp_ + fp_ + fn_ + tn_
    positives, negatives = tp_ + fn_, fp_ + tn_
    predicted_pos, predicted_neg = tp_ + fp_, tn_ + fn_
    return {
        "selection_rate": _ratio(predicted_pos, total),
        "ppr": _ratio(
            predicted_pos,
            np.broadcast_to(np.asarray(predicted_total, dtype=np.float64), predicted_pos.shape),
        ),
        "accuracy": _ratio(tp_ + tn_, total),
        "tpr": _ratio(tp_, positives),
        "fpr": _ratio(fp_, negatives),
        "fnr": _ratio(fn_, positives),
        "tnr": _ratio(tn_, negatives),
        "precision": _ratio(tp_, predicted_pos),
        "npv": _ratio(tn_, predicted_neg),
        "fdr": _ratio(fp_, predicted_pos),
        "for": _ratio(fn_, predicted_neg),
        "prevalence": _ratio(positives, total),
    }


def regression_errors(
    weight: npt.ArrayLike, abs_error: npt.ArrayLike, squared_error: npt.ArrayLike
) -> dict[str, FloatArray]:
    """MAE and RMSE from sums of weights, weighted absolute and squared errors."""
    w = np.asarray(weight, dtype=np.float64)
    mse = _ratio(np.asarray(squared_error, dtype=np.float64), w)
    return {
        "mae": _ratio(np.asarray(abs_error, dtype=np.float64), w),
        "rmse": np.sqrt(mse),
    }


def scalar(value: Any) -> float | None:
    """A finite float (from a number or a 0-d array), or None for NaN or infinity."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def scalars(
    values: Mapping[str, FloatArray], index: int | tuple[int, ...]
) -> dict[str, float | None]:
    """One element of each metric array, as optional floats."""
    return {name: scalar(array[index]) for name, array in values.items()}


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference; None when either is undefined or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def outside_tolerance(disparity: float | None, tau: float) -> bool:
    """The four-fifths screen (two-sided, as Aequitas): fail when the ratio to the
    reference is below tau or above 1/tau."""
    return disparity is not None and (disparity < tau or disparity > 1.0 / tau)
