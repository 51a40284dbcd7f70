"""Label-free performance estimation for multiclass classifiers (confidence-based, as
NannyML's multiclass CBPE).

1. Calibrate: per class, an isotonic map from the class's score to P(label = class),
   fitted one-vs-rest on the labeled reference (`estimation.fit_calibrator`). A row's
   calibrated probabilities are divided by their sum, so that they sum to 1 (uniform
   where every class calibrates to 0).
2. Estimate: the calibrated probabilities are the chance of each true class, so the
   expected confusion matrix, accuracy and macro precision, recall, F1 and one-vs-rest
   ROC AUC follow (`estimation_multiclass_metrics`).
3. Band: value +/- z * sqrt(label noise + the estimator's own error). Label noise: the
   delta method over one multinomial draw per row (computed for the window's own rows,
   so it shrinks with its size). Own error: the calibration is refitted on all folds
   but one of the reference, and the held-out chunks' (estimate - realized) measure
   what label noise does not explain (`estimation_bands.held_out_errors`).

It assumes P(label | scores) is the same as in the reference. A change of that relation
(concept drift) cannot be seen without labels: on NannyML's multiclass data the second
half of the analysis period is such a change, and the estimates stay about 7 points
above the realized values there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monitor.core.errors import InputError
from monitor.metrics.intervals import CONFIDENCE, Metric, z_value
from monitor.metrics.performance.estimation import Calibrator, fit_calibrator
from monitor.metrics.performance.estimation_bands import (
    FOLDS,
    REPEATS,
    ChunkOutcome,
    FoldEstimator,
    HeldOutErrors,
    band,
    biased_metrics,
    estimator_variance,
    held_out_errors,
)
from monitor.metrics.performance.estimation_checks import score_shift, shift_warning
from monitor.metrics.performance.estimation_multiclass_metrics import (
    MULTICLASS_METRICS,
    confusion,
    multiclass_metrics,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ClassValues = npt.ArrayLike | Sequence[object]
"""Class names, one per row (compared with the classes as text)."""

MIN_CLASS_ROWS: Final = 100
"""A class with fewer reference labels than this calibrates roughly: a warning."""
BIAS_TOLERANCE: Final = 0.01
"""A held-out bias larger than this (and significant) is reported."""


@dataclass(frozen=True)
class MulticlassCalibrator:
    """Per class, a one-vs-rest isotonic map score -> P(label = class), fitted on the
    reference, and the estimator's error measured on held-out reference folds."""

    classes: tuple[str, ...]
    calibrators: tuple[Calibrator | None, ...]
    """One per class; None for a class absent from the reference labels (probability 0)."""
    reference_rows: int
    class_rows: tuple[int, ...]
    """Reference labels per class."""
    held_out: HeldOutErrors | None
    """None when the reference is too small for held-out folds."""
    warnings: tuple[str, ...]
    """Where the fit is poor: a class missing or rare in the reference labels, a bias on
    held-out folds, no held-out measurement."""

    def probabilities(self, scores: FloatArray) -> FloatArray:
        """Calibrated probabilities (n x k, rows summing to 1) of raw scores (n x k)."""
        return _probabilities(self.calibrators, scores)


@dataclass(frozen=True)
class MulticlassEstimate:
    """Estimated metrics of a set of predictions, from their scores only."""

    predictions: int
    classes: tuple[str, ...]
    metrics: Mapping[str, Metric]
    """MULTICLASS_METRICS: accuracy, precision, recall, f1 (macro), roc_auc (macro OvR)."""
    confusion: tuple[tuple[float, ...], ...]
    """Expected confusion matrix: rows true class, columns predicted class (`classes`)."""
    warnings: tuple[str, ...]
    """About this window (scores that moved away from the reference's, a class never
    predicted in it); the fit's own warnings are on the calibrator."""
    score_shift: float | None = None
    """The largest PSI of a class's scores over the reference's score deciles."""


def _classes(classes: Sequence[str]) -> tuple[str, ...]:
    names = tuple(str(c) for c in classes)
    if len(names) < 2:
        raise InputError(
            f"multiclass estimation needs at least two classes, got {len(names)}: "
            "pass one score column per class (for a binary model use the binary estimate)"
        )
    if len(set(names)) != len(names):
        raise InputError(f"the classes {list(names)} repeat a name: give each class once")
    return names


def _scores(scores: npt.ArrayLike, classes: tuple[str, ...]) -> FloatArray:
    try:
        matrix = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"scores must be numbers ({error}): pass one numeric column per class"
        ) from None
    if matrix.ndim != 2 or matrix.shape[1] != len(classes):
        raise InputError(
            f"scores have shape {matrix.shape}, expected (rows, {len(classes)}): "
            f"one score column per class, in the order {list(classes)}"
        )
    bad = int((~np.isfinite(matrix)).sum())
    if bad:
        raise InputError(
            f"scores hold {bad} values that are not finite numbers (NaN or infinite): "
            "drop or fill those rows first"
        )
    if matrix.size and (matrix.min() < 0 or matrix.max() > 1):
        raise InputError(
            f"scores range from {matrix.min():g} to {matrix.max():g}: they must be class "
            "probabilities in [0, 1] (apply softmax to raw model outputs first)"
        )
    return matrix


def _class_index(values: ClassValues, classes: tuple[str, ...], what: str, rows: int) -> IntArray:
    """Index into `classes` of each value (compared as text)."""
    text = np.asarray(values, dtype=object).astype(str)
    if text.ndim != 1 or len(text) != rows:
        raise InputError(
            f"{what} values have shape {text.shape} but the scores have {rows} rows: "
            f"give one {what} per row of scores"
        )
    found, inverse = np.unique(text, return_inverse=True)
    lookup = {name: i for i, name in enumerate(classes)}
    unknown = [v for v in found.tolist() if v not in lookup]
    if unknown:
        raise InputError(
            f"{what} values {unknown[:5]} are not among the classes {list(classes)}: "
            f"drop rows without a {what}, or name every class the model can output"
        )
    codes = np.array([lookup[v] for v in found.tolist()], dtype=np.int64)
    result: IntArray = codes[inverse.reshape(-1)]
    return result


def _predicted_index(
    predicted: ClassValues | None, scores: FloatArray, classes: tuple[str, ...]
) -> IntArray:
    """Index of each row's predicted class; None: the class with the highest score."""
    if predicted is None:
        result: IntArray = scores.argmax(axis=1).astype(np.int64)
        return result
    return _class_index(predicted, classes, "predicted class", len(scores))


def _fit_curves(scores: FloatArray, labels: IntArray) -> tuple[Calibrator | None, ...]:
    curves: list[Calibrator | None] = []
    for c in range(scores.shape[1]):
        outcomes = (labels == c).astype(np.float64)
        if 0 < outcomes.sum() < len(outcomes):
            curves.append(fit_calibrator(scores[:, c], outcomes, replicates=0, folds=0))
        else:
            curves.append(None)
    return tuple(curves)


def _probabilities(curves: Sequence[Calibrator | None], scores: FloatArray) -> FloatArray:
    k = scores.shape[1]
    calibrated = np.column_stack(
        [
            curve.apply(scores[:, c]) if curve else np.zeros(len(scores))
            for c, curve in enumerate(curves)
        ]
    )
    total = calibrated.sum(axis=1, keepdims=True)
    uniform = np.full_like(calibrated, 1.0 / k)
    result: FloatArray = np.divide(calibrated, total, out=uniform, where=total > 0)
    return result


def _one_hot(labels: IntArray, k: int) -> FloatArray:
    result: FloatArray = np.eye(k)[labels]
    return result


def _fold_estimator(scores: FloatArray, labels: IntArray, predicted: IntArray) -> FoldEstimator:
    """A FoldEstimator (estimation_bands): calibrate on the training rows, estimate and
    realize each held-out chunk."""
    k = scores.shape[1]

    def estimate(train: IntArray, chunks: Sequence[IntArray]) -> list[ChunkOutcome]:
        if len(np.unique(labels[train])) < 2:
            return []
        curves = _fit_curves(scores[train], labels[train])
        outcomes: list[ChunkOutcome] = []
        for rows in chunks:
            found = multiclass_metrics(
                scores[rows], _probabilities(curves, scores[rows]), predicted[rows]
            )
            real = multiclass_metrics(scores[rows], _one_hot(labels[rows], k), predicted[rows])
            outcomes.append({m: (found[m][0], real[m][0], found[m][1]) for m in MULTICLASS_METRICS})
        return outcomes

    return estimate


def fit_multiclass_calibrator(
    scores: npt.ArrayLike,
    labels: ClassValues,
    classes: Sequence[str],
    *,
    predicted: ClassValues | None = None,
    folds: int = FOLDS,
    repeats: int = REPEATS,
    seed: int = 0,
) -> MulticlassCalibrator:
    """Calibrate the reference's `scores` (rows x classes, columns in the order of
    `classes`) against its `labels` (class names), and measure the estimator's error on
    `folds` held-out folds (`repeats` times). `predicted`: the model's predicted classes
    of the reference (default: the class with the highest score). Raises InputError on
    unusable input (see `estimate_multiclass`) or reference labels of one class."""
    names = _classes(classes)
    matrix = _scores(scores, names)
    rows = len(matrix)
    label_index = _class_index(labels, names, "label", rows)
    predicted_index = _predicted_index(predicted, matrix, names)
    class_rows = np.bincount(label_index, minlength=len(names))
    present = [names[c] for c in range(len(names)) if class_rows[c] > 0]
    if len(present) < 2:
        raise InputError(
            f"the reference labels hold {len(present)} class{'es' if len(present) != 1 else ''} "
            f"({present}): calibration needs labels of at least two classes"
        )
    curves = _fit_curves(matrix, label_index)
    held_out = held_out_errors(
        rows,
        _fold_estimator(matrix, label_index, predicted_index),
        folds=folds,
        repeats=repeats,
        seed=seed,
    )
    warnings = _fit_warnings(names, class_rows, held_out, rows)
    return MulticlassCalibrator(
        names, curves, rows, tuple(int(v) for v in class_rows), held_out, warnings
    )


def _fit_warnings(
    classes: tuple[str, ...], class_rows: IntArray, held_out: HeldOutErrors | None, rows: int
) -> tuple[str, ...]:
    found: list[str] = []
    for name, count in zip(classes, class_rows.tolist(), strict=True):
        if count == 0:
            found.append(
                f"class {name!r} never occurs in the reference labels: its calibrated "
                "probability is 0, so its recall, F1 and ROC AUC cannot be estimated; "
                "use a reference that holds every class"
            )
        elif count < MIN_CLASS_ROWS:
            found.append(
                f"class {name!r} has {count} reference labels (fewer than {MIN_CLASS_ROWS}): "
                "its calibration is rough and the bands may be too narrow"
            )
    if held_out is None:
        found.append(
            f"the reference ({rows} rows) is too small to measure the estimator's own error "
            "on held-out folds: the bands cover label noise only"
        )
    for error in biased_metrics(held_out, BIAS_TOLERANCE):
        found.append(
            f"estimated {error.metric} is off by {error.bias:+.3f} on average on held-out "
            "reference chunks: the calibration fits badly"
        )
    return tuple(found)


def estimate_multiclass(
    scores: npt.ArrayLike,
    predicted: ClassValues | None,
    calibrator: MulticlassCalibrator,
    *,
    confidence: float = CONFIDENCE,
) -> MulticlassEstimate:
    """Expected accuracy and macro precision, recall, F1 and ROC AUC of the rows of
    `scores` (columns in the order of `calibrator.classes`), predicted `predicted` (class
    names; None: the class with the highest score), with `confidence` bands.

    Raises InputError for scores that are not finite probabilities of the calibrator's
    classes, or predicted classes that are not among them."""
    names = calibrator.classes
    matrix = _scores(scores, names)
    rows = len(matrix)
    predicted_index = _predicted_index(predicted, matrix, names)
    if rows == 0:
        empty = {name: Metric(None, None, None, 0) for name in MULTICLASS_METRICS}
        zeros = tuple(tuple(0.0 for _ in names) for _ in names)
        return MulticlassEstimate(0, names, empty, zeros, ("no rows to estimate",))
    probabilities = calibrator.probabilities(matrix)
    found = multiclass_metrics(matrix, probabilities, predicted_index)
    z = z_value(confidence)
    metrics: dict[str, Metric] = {}
    for name in MULTICLASS_METRICS:
        value, noise = found[name]
        variance = noise + estimator_variance(0.0, calibrator.held_out, name)
        metrics[name] = band(value, variance if math.isfinite(noise) else math.nan, rows, z)
    shift = _score_shift(calibrator.calibrators, matrix)
    moved = shift_warning(shift)
    never = [names[c] for c in range(len(names)) if not (predicted_index == c).any()]
    warnings = (
        *([moved] if moved else []),
        *(
            f"class {name!r} is never predicted here: macro precision averages the other classes"
            for name in never
        ),
    )
    matrix_counts = confusion(probabilities, predicted_index)
    return MulticlassEstimate(
        rows,
        names,
        metrics,
        tuple(tuple(float(v) for v in line) for line in matrix_counts),
        warnings,
        shift,
    )


def _score_shift(curves: Sequence[Calibrator | None], scores: FloatArray) -> float | None:
    """The largest PSI over the classes of their scores against the reference's deciles."""
    ones = np.ones(len(scores))
    shifts = [
        score_shift(np.array(curve.score_edges), np.array(curve.score_counts), scores[:, c], ones)
        for c, curve in enumerate(curves)
        if curve is not None
    ]
    found = [v for v in shifts if v is not None]
    return max(found) if found else None


def realized_multiclass(
    scores: npt.ArrayLike,
    predicted: ClassValues | None,
    labels: ClassValues,
    classes: Sequence[str],
) -> dict[str, float | None]:
    """The realized values of MULTICLASS_METRICS on labeled rows, with the estimate's
    definitions (scikit-learn's macro averages over the classes where each is defined;
    None where none is). Same input rules as `estimate_multiclass`."""
    names = _classes(classes)
    matrix = _scores(scores, names)
    rows = len(matrix)
    label_index = _class_index(labels, names, "label", rows)
    predicted_index = _predicted_index(predicted, matrix, names)
    found = multiclass_metrics(matrix, _one_hot(label_index, len(names)), predicted_index)
    return {m: (v if math.isfinite(v) else None) for m, (v, _) in found.items()}
