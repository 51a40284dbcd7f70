"""Label-free performance estimation for binary classifiers (confidence-based, as
NannyML's CBPE).

1. Calibrate: fit a monotone map from the model's score to P(label = positive) on the
   labeled reference data (isotonic regression by default, or Platt scaling), plus
   `replicates` refits on bootstrap resamples of the reference.
2. Estimate: for a window, the calibrated probability c of each prediction is the chance
   that its label is positive, so the expected confusion matrix is
   TP = sum of c over predicted positives, FP = sum of 1 - c over them,
   FN = sum of c over predicted negatives, TN = sum of 1 - c over them; accuracy,
   precision, recall and F1 follow from it. Scores come binned (about 0.001 wide), and
   each bin's calibrated probability is taken at the bin's mean score.
3. Band: labels drawn from the calibrated probabilities are Bernoulli, so TP and FN are
   Poisson-binomial with variances sum c(1 - c); the delta method carries them to each
   metric. The spread of the estimate over the bootstrap calibrators adds the reference's
   own sampling error. The band is value +/- z * sqrt(both variances).

The estimate is only as good as its assumption: P(label | score) is the same as in the
reference. Covariate shift (the inputs move, P(label | inputs) stays) keeps it, and the
estimate follows the realized metric. A change in P(label | inputs) (concept drift, or
label shift that the scores do not follow, like the demo's `label_shift`) breaks it:
the estimate stays near the reference level while the real metric moves. It cannot be
detected without labels; where some labels exist, `performance` compares the estimate on
the labeled rows with the realized value and flags a disagreement.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from monitor.metrics.intervals import CONFIDENCE, Metric, z_value

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Method = Literal["isotonic", "platt"]

REPLICATES: Final = 30
ESTIMATED_METRICS: Final = ("accuracy", "precision", "recall", "f1")
_PLATT_GRID: Final = np.linspace(0.0, 1.0, 2001)
_LOGIT_CLIP: Final = 1e-6


@dataclass(frozen=True)
class Calibrator:
    """A monotone piecewise-linear map score -> P(positive), with bootstrap refits."""

    method: Method
    x: tuple[float, ...]
    y: tuple[float, ...]
    replicates: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]
    reference_rows: int

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


def _fit_one(
    scores: FloatArray, outcomes: FloatArray, method: Method
) -> tuple[FloatArray, FloatArray]:
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
) -> Calibrator:
    """Calibrate scores against 0/1 outcomes; `replicates` refits on bootstrap resamples."""
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
    return Calibrator(method, tuple(x.tolist()), tuple(y.tolist()), tuple(refits), len(scores))


def sample_calibrator(
    sample: Iterable[tuple[float | None, str | None]],
    positive: str,
    *,
    method: Method = "isotonic",
    replicates: int = REPLICATES,
) -> Calibrator | None:
    """A calibrator fitted on (score, label) pairs (the reference's sample), or None when
    fewer than two have a score in [0, 1] or their labels are all one outcome."""
    pairs = list(sample)
    scores = np.array([s for s, _ in pairs], dtype=np.float64)
    outcomes = np.array([label == positive for _, label in pairs], dtype=np.float64)
    valid = np.isfinite(scores) & (scores >= 0) & (scores <= 1)
    if valid.sum() < 2 or len(np.unique(outcomes[valid])) < 2:
        return None
    return fit_calibrator(scores[valid], outcomes[valid], method=method, replicates=replicates)


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


def estimate_binary(
    cells: ScoreCells, calibrator: Calibrator, *, confidence: float = CONFIDENCE
) -> Estimate:
    """Expected accuracy, precision, recall and F1 of the predictions in `cells`."""
    keep = cells.count > 0
    count = cells.count[keep]
    positive = cells.predicted_positive[keep]
    n = round(float(count.sum()))
    if n == 0:
        empty = {name: Metric(None, None, None, 0) for name in ESTIMATED_METRICS}
        return Estimate(0, empty, (0.0, 0.0, 0.0, 0.0))
    mean_score = cells.score_sum[keep] / count
    c = calibrator.apply(mean_score)
    tp, fp, fn, tn = (float(v) for v in _point(c, count, positive))
    point = {
        k: float(v)
        for k, v in _metrics(np.array(tp), np.array(fp), np.array(fn), np.array(tn)).items()
    }
    noise = c * (1 - c) * count
    var_tp = float(noise[positive].sum())
    var_fn = float(noise[~positive].sum())
    predicted_pos = tp + fp
    label_variance = {
        "accuracy": (var_tp + var_fn) / n**2,
        "precision": var_tp / predicted_pos**2 if predicted_pos > 0 else math.nan,
        "recall": (fn**2 * var_tp + tp**2 * var_fn) / (tp + fn) ** 4 if tp + fn > 0 else math.nan,
        "f1": (
            (4 * (predicted_pos + fn) ** 2 * var_tp + 4 * tp**2 * var_fn)
            / (predicted_pos + tp + fn) ** 4
            if predicted_pos + tp + fn > 0
            else math.nan
        ),
    }
    spread: dict[str, float] = {name: 0.0 for name in ESTIMATED_METRICS}
    if len(calibrator.replicates) >= 2:
        stacked = _metrics(*_point(calibrator.apply_replicates(mean_score), count, positive))
        for name, values in stacked.items():
            finite = values[np.isfinite(values)]
            spread[name] = float(np.var(finite, ddof=1)) if len(finite) >= 2 else 0.0
    z = z_value(confidence)
    metrics: dict[str, Metric] = {}
    for name in ESTIMATED_METRICS:
        value = point[name]
        if not math.isfinite(value):
            metrics[name] = Metric(None, None, None, n)
            continue
        half = z * math.sqrt(label_variance[name] + spread[name])
        if not math.isfinite(half):
            metrics[name] = Metric(value, None, None, n)
            continue
        metrics[name] = Metric(value, max(0.0, value - half), min(1.0, value + half), n)
    return Estimate(n, metrics, (tp, fp, fn, tn))
