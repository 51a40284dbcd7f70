"""Label-free performance estimation for binary classifiers (confidence-based, as
NannyML's CBPE).

1. Calibrate: fit a monotone map from the model's score to P(label = positive) on the
   labeled reference data (isotonic regression by default, or Platt scaling), plus
   `replicates` refits on bootstrap resamples of the reference, and measure the
   calibrated estimates' own error on held-out reference folds
   (monitor.metrics.performance.estimation_bands).
2. Estimate: for a window, the calibrated probability c of each prediction is the chance
   that its label is positive, so the expected confusion matrix is
   TP = sum of c over predicted positives, FP = sum of 1 - c over them,
   FN = sum of c over predicted negatives, TN = sum of 1 - c over them; accuracy,
   precision, recall and F1 follow from it, and ROC AUC from the score-ordered cells
   (monitor.metrics.performance.estimation_auc). Scores come binned (about 0.001 wide),
   and each bin's calibrated probability is taken at the bin's mean score.
3. Band: value +/- z * sqrt(label noise + the estimator's own error). Labels drawn from
   the calibrated probabilities are Bernoulli, so TP and FN are Poisson-binomial with
   variances sum c(1 - c); the delta method carries them to each metric. The
   estimator's own error is the larger of the spread over the bootstrap calibrators and
   the excess error measured on held-out reference folds (calibrators fitted on 4/5 of
   the reference, estimating chunks of the other fifth, 4 times over; counted where
   significant): it does not shrink with the window, and it catches a calibrator that
   fits badly (Platt scaling on scores that are often exactly 0 or 1), which the
   bootstrap cannot see. Such a fit also gets a warning (`Calibrator.warnings`, passed
   on in `Estimate.warnings`). Measured coverage: docs/performance.md.

The estimate is only as good as its assumption: P(label | score) is the same as in the
reference. Covariate shift that leaves it alone (the inputs move, P(label | inputs)
stays, and the score carries all the inputs say about the label) keeps it, and the
estimate follows the realized metric within its band. A change in P(label | score)
breaks it: concept drift, label shift that the scores do not follow (the demo's
`label_shift`), a new model version, or covariate shift into inputs where the score
means something else (the second half of NannyML's car-loan analysis data: there
P(label | score) differs from the reference's, chi-square p = 5e-6, and the estimates of
precision and recall miss by up to 2 points). No band computed from the reference can
see that. Without labels, a window whose scores moved away from the reference's (PSI
>= 0.1 over its score deciles; the car-loan chunks that miss have 0.25 to 0.31) gets a
warning (monitor.metrics.performance.estimation_checks); where some labels exist,
`performance` compares the estimate on the labeled rows with the realized value and
flags a disagreement.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from monitor.metrics.drift.bins import bin_counts, decile_edges
from monitor.metrics.intervals import CONFIDENCE, Metric, z_value
from monitor.metrics.performance.estimation_auc import auc, expected_auc, grouped, tie_groups
from monitor.metrics.performance.estimation_bands import (
    FOLDS,
    ChunkOutcome,
    FoldEstimator,
    HeldOutErrors,
    band,
    estimator_variance,
    held_out_errors,
)
from monitor.metrics.performance.estimation_checks import fit_warnings, score_shift, shift_warning

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Method = Literal["isotonic", "platt"]

REPLICATES: Final = 30
ESTIMATED_METRICS: Final = ("accuracy", "precision", "recall", "f1")
"""The estimated metrics the Performance page shows; `Estimate.metrics` also holds
roc_auc (BINARY_METRICS)."""
BINARY_METRICS: Final = (*ESTIMATED_METRICS, "roc_auc")
_PLATT_GRID: Final = np.linspace(0.0, 1.0, 2001)
_LOGIT_CLIP: Final = 1e-6


@dataclass(frozen=True)
class Calibrator:
    """A monotone piecewise-linear map score -> P(positive), with bootstrap refits, the
    estimates' error measured on held-out reference folds, and what is wrong with the fit."""

    method: Method
    x: tuple[float, ...]
    y: tuple[float, ...]
    replicates: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]
    reference_rows: int
    held_out: HeldOutErrors | None = None
    """None: not measured (folds=0, or a reference too small for folds)."""
    warnings: tuple[str, ...] = ()
    """Sentences saying what is wrong with the fit and what to do."""
    score_edges: tuple[float, ...] = ()
    score_counts: tuple[float, ...] = ()
    """The reference's scores per bin (-inf, e1], ..., (ek, inf) of its score deciles
    `score_edges`: a window's score shift is measured against them."""

    @functools.cached_property
    def _arrays(self) -> list[tuple[FloatArray, FloatArray]]:
        """The fit and its replicates as arrays (converted once, not per call)."""
        pairs = [(self.x, self.y), *self.replicates]
        return [(np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)) for x, y in pairs]

    def apply(self, scores: FloatArray) -> FloatArray:
        x, y = self._arrays[0]
        result: FloatArray = np.interp(scores, x, y)
        return result

    def apply_replicates(self, scores: FloatArray) -> FloatArray:
        """Shape (replicates, len(scores))."""
        return np.array([np.interp(scores, x, y) for x, y in self._arrays[1:]])


@dataclass(frozen=True)
class ScoreCells:
    """Scored predictions grouped into cells (a score bin and a predicted class)."""

    count: FloatArray
    score_sum: FloatArray
    predicted_positive: BoolArray


@dataclass(frozen=True)
class Estimate:
    """Estimated metrics of a set of predictions, from their scores only."""

    predictions: int
    metrics: Mapping[str, Metric]
    confusion: tuple[float, float, float, float]
    """Expected (TP, FP, FN, TN)."""
    warnings: tuple[str, ...] = ()
    """The calibrator's warnings (a bad fit), then the window's (scores that moved away
    from the reference's): show them with the estimates."""
    score_shift: float | None = None
    """PSI of the window's scores over the reference's score deciles."""


def _fit_one(
    scores: FloatArray, outcomes: FloatArray, method: Method
) -> tuple[FloatArray, FloatArray]:
    from sklearn.isotonic import IsotonicRegression  # 0.5 s: only when a calibrator is fitted
    from sklearn.linear_model import LogisticRegression

    if method == "isotonic":
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(scores, outcomes)
        return np.asarray(model.X_thresholds_, float), np.asarray(model.y_thresholds_, float)
    clipped = np.clip(scores, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    logistic = LogisticRegression(C=1e6)
    logistic.fit(np.log(clipped / (1 - clipped)).reshape(-1, 1), outcomes.astype(int))
    grid = np.clip(_PLATT_GRID, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    probabilities = logistic.predict_proba(np.log(grid / (1 - grid)).reshape(-1, 1))[:, 1]
    return _PLATT_GRID.copy(), np.asarray(probabilities, float)


def fit_calibrator(
    scores: FloatArray,
    outcomes: FloatArray,
    *,
    method: Method = "isotonic",
    replicates: int = REPLICATES,
    seed: int = 0,
    predicted: BoolArray | None = None,
    threshold: float = 0.5,
    folds: int = FOLDS,
) -> Calibrator:
    """Calibrate scores against 0/1 outcomes; `replicates` refits on bootstrap resamples;
    the error on `folds` held-out folds (0: not measured) of the estimates for the
    reference's predictions (`predicted`; None: score >= `threshold`)."""
    if len(scores) < 2 or len(np.unique(outcomes)) < 2:
        raise ValueError("calibration needs both outcomes among at least two labeled rows")
    x, y = _fit_one(scores, outcomes, method)
    rng = np.random.default_rng(seed)
    refits = []
    for _ in range(replicates):
        pick = rng.integers(0, len(scores), len(scores))
        if len(np.unique(outcomes[pick])) < 2:
            continue
        rx, ry = _fit_one(scores[pick], outcomes[pick], method)
        refits.append((tuple(rx.tolist()), tuple(ry.tolist())))
    flags = scores >= threshold if predicted is None else np.asarray(predicted, dtype=np.bool_)
    held_out = held_out_errors(
        len(scores), binary_fold_estimator(scores, outcomes, flags, method), folds=folds, seed=seed
    )
    edges = decile_edges(scores)
    return Calibrator(
        method,
        tuple(x.tolist()),
        tuple(y.tolist()),
        tuple(refits),
        len(scores),
        held_out,
        fit_warnings(method, scores, held_out),
        tuple(edges.tolist()),
        tuple(float(v) for v in bin_counts(scores, edges)),
    )


def sample_calibrator(
    sample: Iterable[Sequence[object]],
    positive: str,
    *,
    method: Method = "isotonic",
    replicates: int = REPLICATES,
    threshold: float = 0.5,
) -> Calibrator | None:
    """A calibrator fitted on (score, label) or (score, label, prediction) rows (the
    reference's sample; a missing prediction: score >= `threshold`), or None when fewer
    than two have a score in [0, 1] or their labels are all one outcome."""
    rows = [tuple(row) for row in sample]
    scores = np.array([_number(row[0]) for row in rows], dtype=np.float64)
    outcomes = np.array([row[1] == positive for row in rows], dtype=np.float64)
    valid = np.isfinite(scores) & (scores >= 0) & (scores <= 1)
    if valid.sum() < 2 or len(np.unique(outcomes[valid])) < 2:
        return None
    predicted = np.array(
        [
            row[2] == positive if len(row) > 2 and row[2] is not None else score >= threshold
            for row, score in zip(rows, scores, strict=True)
        ],
        dtype=np.bool_,
    )
    return fit_calibrator(
        scores[valid],
        outcomes[valid],
        method=method,
        replicates=replicates,
        predicted=predicted[valid],
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def _point(
    calibrated: FloatArray, count: FloatArray, positive: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Expected TP, FP, FN, TN along the last axis (works for replicate stacks too)."""
    expected_pos = calibrated * count
    tp = np.where(positive, expected_pos, 0.0).sum(axis=-1)
    fp = np.where(positive, count - expected_pos, 0.0).sum(axis=-1)
    fn = np.where(positive, 0.0, expected_pos).sum(axis=-1)
    tn = np.where(positive, 0.0, count - expected_pos).sum(axis=-1)
    return tp, fp, fn, tn


def _metrics(
    tp: FloatArray, fp: FloatArray, fn: FloatArray, tn: FloatArray
) -> dict[str, FloatArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "accuracy": (tp + tn) / (tp + fp + fn + tn),
            "precision": tp / (tp + fp),
            "recall": tp / (tp + fn),
            "f1": 2 * tp / (2 * tp + fp + fn),
        }


def _label_variance(
    calibrated: FloatArray, count: FloatArray, positive: BoolArray
) -> dict[str, float]:
    """Poisson-binomial variance of TP and FN, carried to each metric (delta method)."""
    tp, fp, fn, tn = (float(v) for v in _point(calibrated, count, positive))
    noise = calibrated * (1 - calibrated) * count
    var_tp = float(noise[positive].sum())
    var_fn = float(noise[~positive].sum())
    n = tp + fp + fn + tn
    predicted_pos = tp + fp
    nan = float("nan")
    return {
        "accuracy": (var_tp + var_fn) / n**2,
        "precision": var_tp / predicted_pos**2 if predicted_pos > 0 else nan,
        "recall": (fn**2 * var_tp + tp**2 * var_fn) / (tp + fn) ** 4 if tp + fn > 0 else nan,
        "f1": (
            (4 * (predicted_pos + fn) ** 2 * var_tp + 4 * tp**2 * var_fn)
            / (predicted_pos + tp + fn) ** 4
            if predicted_pos + tp + fn > 0
            else nan
        ),
    }


def _values_and_noise(
    calibrated: FloatArray, count: FloatArray, positive: BoolArray, scores: FloatArray
) -> tuple[dict[str, float], dict[str, float]]:
    """Each metric's expected value and label-noise variance (BINARY_METRICS)."""
    values = {k: float(v) for k, v in _metrics(*_point(calibrated, count, positive)).items()}
    noise = _label_variance(calibrated, count, positive)
    values["roc_auc"], noise["roc_auc"] = expected_auc(scores, count, calibrated)
    return values, noise


def _replicate_spread(
    calibrator: Calibrator, scores: FloatArray, count: FloatArray, positive: BoolArray
) -> dict[str, float]:
    """Variance of each metric over the bootstrap calibrators (0 with fewer than two)."""
    if len(calibrator.replicates) < 2:
        return {name: 0.0 for name in BINARY_METRICS}
    stack = calibrator.apply_replicates(scores)
    values = _metrics(*_point(stack, count, positive))
    groups, size = tie_groups(scores)
    values["roc_auc"] = auc(
        grouped(stack * count, groups, size), grouped((1 - stack) * count, groups, size)
    )
    spread = {}
    for name, found in values.items():
        finite = found[np.isfinite(found)]
        spread[name] = float(np.var(finite, ddof=1)) if len(finite) >= 2 else 0.0
    return spread


def estimate_binary(
    cells: ScoreCells, calibrator: Calibrator, *, confidence: float = CONFIDENCE
) -> Estimate:
    """Expected accuracy, precision, recall, F1 and ROC AUC of the predictions in `cells`."""
    keep = cells.count > 0
    count = cells.count[keep]
    positive = cells.predicted_positive[keep]
    n = round(float(count.sum()))
    if n == 0:
        empty = {name: Metric(None, None, None, 0) for name in BINARY_METRICS}
        return Estimate(0, empty, (0.0, 0.0, 0.0, 0.0), calibrator.warnings)
    mean_score = cells.score_sum[keep] / count
    c = calibrator.apply(mean_score)
    confusion = tuple(float(v) for v in _point(c, count, positive))
    values, noise = _values_and_noise(c, count, positive, mean_score)
    spread = _replicate_spread(calibrator, mean_score, count, positive)
    z = z_value(confidence)
    metrics = {
        name: band(
            values[name],
            noise[name] + estimator_variance(spread[name], calibrator.held_out, name),
            n,
            z,
        )
        for name in BINARY_METRICS
    }
    tp, fp, fn, tn = confusion
    shift = score_shift(
        np.array(calibrator.score_edges), np.array(calibrator.score_counts), mean_score, count
    )
    moved = shift_warning(shift)
    warnings = calibrator.warnings if moved is None else (*calibrator.warnings, moved)
    return Estimate(n, metrics, (tp, fp, fn, tn), warnings, shift)


def binary_fold_estimator(
    scores: FloatArray, outcomes: FloatArray, predicted: BoolArray, method: Method
) -> FoldEstimator:
    """The estimate of held-out reference chunks, row by row, with a calibrator fitted on
    the other folds (estimation_bands.held_out_errors)."""

    def run(train: IntArray, chunks: Sequence[IntArray]) -> list[ChunkOutcome]:
        if len(np.unique(outcomes[train])) < 2:
            return []
        x, y = _fit_one(scores[train], outcomes[train], method)
        found: list[ChunkOutcome] = []
        for chunk in chunks:
            ones = np.ones(len(chunk))
            chunk_scores, flags = scores[chunk], predicted[chunk]
            calibrated = np.interp(chunk_scores, x, y)
            estimated, noise = _values_and_noise(calibrated, ones, flags, chunk_scores)
            realized, _ = _values_and_noise(outcomes[chunk], ones, flags, chunk_scores)
            found.append({k: (estimated[k], realized[k], noise[k]) for k in estimated})
        return found

    return run
