"""Label-free performance estimation for regression models: direct loss estimation (in
the spirit of NannyML's DLE).

1. Fit: on the labeled reference, two gradient-boosted tree models (scikit-learn's
   HistGradientBoostingRegressor, Poisson loss: positive targets, multiplicative
   effects) learn the absolute error |y - y_pred| and the squared error (y - y_pred)^2
   of each row from the features plus the prediction (categories natively, see
   `estimation_features`).
2. Estimate: a window's MAE = mean of the predicted absolute errors; RMSE = square root
   of the mean predicted squared error.
3. Band: value +/- z * sqrt(label noise + the estimator's own error). Label noise: a
   row's loss varies around its prediction with variance dispersion * prediction^2 (the
   dispersion measured out of fold on the reference), so a window's mean loss has
   dispersion * sum(prediction^2) / rows^2 (the delta method carries it to the RMSE);
   it shrinks with the window's size. Own error: the models are fitted on all folds but
   one of the reference and the held-out fold's chunks give (estimate - realized); what
   label noise does not explain is the estimator's error (`estimation_bands`). The same
   out-of-fold predictions say whether the loss model beats a constant at all.

It assumes P(y | inputs) is the same as in the reference, and the tree models do not
extrapolate: inputs outside the reference's range get the loss of its edge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from monitor.core.errors import InputError
from monitor.metrics.intervals import CONFIDENCE, Metric, z_value
from monitor.metrics.performance.estimation_bands import (
    FOLDS,
    ChunkOutcome,
    HeldOutErrors,
    band,
    biased_metrics,
    estimator_variance,
    held_out_errors,
)
from monitor.metrics.performance.estimation_features import (
    FeatureCoding,
    categorical_mask,
    encode,
    learn_codings,
)

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REGRESSION_METRICS: Final = ("mae", "rmse")
MIN_REFERENCE_ROWS: Final = 100
MAX_REFERENCE_ROWS: Final = 200_000
CHUNKS_PER_FOLD: Final = 4
MIN_SKILL: Final = 0.02
"""A loss model whose out-of-fold R^2 is below this is no better than a constant."""
BIAS_SHARE: Final = 0.02
"""A held-out bias above this share of the reference's value (and significant) is reported."""
_TREES: Final = {"loss": "poisson", "max_iter": 100, "learning_rate": 0.1}


@dataclass(frozen=True, eq=False)
class LossModel:
    """Models of a row's absolute and squared error, fitted on the reference."""

    codings: tuple[FeatureCoding, ...]
    absolute: Any = field(repr=False)
    """Fitted HistGradientBoostingRegressor of |y - y_pred|."""
    squared: Any = field(repr=False)
    """Fitted HistGradientBoostingRegressor of (y - y_pred)^2."""
    dispersion: Mapping[str, float]
    """Per metric, Var(loss | inputs) / predicted loss^2, measured out of fold."""
    reference_rows: int
    """Rows the models were fitted on (at most `max_rows` of the reference)."""
    reference: Mapping[str, float]
    """The reference's realized MAE and RMSE."""
    skill: Mapping[str, float]
    """Out-of-fold R^2 of each loss model against a constant (mae: the absolute error,
    rmse: the squared error); empty when not measured."""
    held_out: HeldOutErrors | None
    warnings: tuple[str, ...]
    """Where the fit is poor: a loss model no better than a constant, a bias on
    held-out folds, a reference too small to measure them."""


@dataclass(frozen=True)
class RegressionEstimate:
    """Estimated MAE and RMSE of a set of predictions, from their inputs only."""

    predictions: int
    metrics: Mapping[str, Metric]
    """REGRESSION_METRICS: mae, rmse."""
    warnings: tuple[str, ...]
    """About this window (categories the reference did not have); the fit's own
    warnings are on the model."""


def _numbers(values: npt.ArrayLike, what: str, rows: int) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers: pass a numeric column") from None
    if array.ndim != 1 or len(array) != rows:
        raise InputError(
            f"{what} have shape {array.shape} where {rows} rows were expected: "
            "give one value per row"
        )
    bad = int((~np.isfinite(array)).sum())
    if bad:
        raise InputError(
            f"{what} hold {bad} values that are not finite numbers (NaN or infinite): "
            "drop those rows first"
        )
    return array


def _matrix(
    features: pd.DataFrame, predictions: FloatArray, codings: Sequence[FeatureCoding]
) -> tuple[FloatArray, tuple[tuple[str, int], ...]]:
    """The loss models' inputs: the encoded features, then the prediction."""
    encoded = encode(features, codings)
    return np.column_stack([encoded.matrix, predictions]), encoded.unseen


def _trees(categorical: npt.NDArray[np.bool_], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor  # 0.5 s: only when fitted

    mask = np.append(categorical, False)
    return HistGradientBoostingRegressor(
        categorical_features=mask if mask.any() else None, random_state=seed, **_TREES
    )


def _fit_pair(
    matrix: FloatArray, errors: FloatArray, categorical: npt.NDArray[np.bool_], seed: int
) -> tuple[Any, Any]:
    from threadpoolctl import threadpool_limits

    # One OpenMP thread: on a busy machine spinning worker threads make fits many times
    # slower (as in monitor.metrics.drift.multivariate).
    with threadpool_limits(limits=1):
        absolute = _trees(categorical, seed).fit(matrix, np.abs(errors))
        squared = _trees(categorical, seed).fit(matrix, errors**2)
    return absolute, squared


def _predict(model: Any, matrix: FloatArray) -> FloatArray:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        result: FloatArray = np.maximum(np.asarray(model.predict(matrix), dtype=np.float64), 0.0)
    return result


def _dispersion(loss: FloatArray, predicted: FloatArray) -> float:
    """Var(loss | inputs) / predicted^2: mean squared residual over mean squared prediction."""
    scale = float(np.mean(predicted**2))
    return float(np.mean((loss - predicted) ** 2)) / scale if scale > 0 else 0.0


def _dispersions(errors: FloatArray, absolute: FloatArray, squared: FloatArray) -> dict[str, float]:
    """Per metric, the dispersion of the loss its model predicts (`absolute`, `squared`)."""
    return {"mae": _dispersion(np.abs(errors), absolute), "rmse": _dispersion(errors**2, squared)}


def _values_and_noise(
    absolute: FloatArray, squared: FloatArray, dispersion: Mapping[str, float]
) -> dict[str, tuple[float, float]]:
    """(estimate, label-noise variance) of MAE and RMSE from per-row predicted losses."""
    n = len(absolute)
    mae = float(absolute.mean())
    mse = float(squared.mean())
    mse_noise = dispersion["rmse"] * float((squared**2).sum()) / n**2
    return {
        "mae": (mae, dispersion["mae"] * float((absolute**2).sum()) / n**2),
        "rmse": (math.sqrt(mse), mse_noise / (4 * mse) if mse > 0 else math.nan),
    }


def _losses(errors: FloatArray) -> dict[str, float]:
    """MAE and RMSE of the errors y - y_pred (NaN without rows)."""
    if len(errors) == 0:
        return {name: math.nan for name in REGRESSION_METRICS}
    return {"mae": float(np.abs(errors).mean()), "rmse": math.sqrt(float((errors**2).mean()))}


def realized_regression(
    predictions: npt.ArrayLike, targets: npt.ArrayLike
) -> dict[str, float | None]:
    """The realized MAE and RMSE of labeled rows (None without rows)."""
    predicted = _numbers(predictions, "predictions", len(np.asarray(predictions)))
    errors = _numbers(targets, "targets", len(predicted)) - predicted
    return {k: (v if math.isfinite(v) else None) for k, v in _losses(errors).items()}


class _Folds:
    """The FoldEstimator of estimation_bands for the loss models; keeps the out-of-fold
    predictions of every held-out row."""

    def __init__(
        self, matrix: FloatArray, errors: FloatArray, categorical: npt.NDArray[np.bool_], seed: int
    ) -> None:
        self.matrix, self.errors, self.categorical, self.seed = matrix, errors, categorical, seed
        self.absolute = np.full(len(errors), np.nan)
        self.squared = np.full(len(errors), np.nan)

    def __call__(self, train: IntArray, chunks: Sequence[IntArray]) -> list[ChunkOutcome]:
        absolute, squared = _fit_pair(
            self.matrix[train], self.errors[train], self.categorical, self.seed
        )
        fitted = self.matrix[train]
        dispersion = _dispersions(
            self.errors[train], _predict(absolute, fitted), _predict(squared, fitted)
        )
        outcomes: list[ChunkOutcome] = []
        for rows in chunks:
            self.absolute[rows] = _predict(absolute, self.matrix[rows])
            self.squared[rows] = _predict(squared, self.matrix[rows])
            found = _values_and_noise(self.absolute[rows], self.squared[rows], dispersion)
            real = _losses(self.errors[rows])
            outcomes.append({m: (found[m][0], real[m], found[m][1]) for m in REGRESSION_METRICS})
        return outcomes


def fit_loss_model(
    features: pd.DataFrame,
    predictions: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    seed: int = 0,
    folds: int = FOLDS,
    max_rows: int = MAX_REFERENCE_ROWS,
) -> LossModel:
    """Fit the loss models on the reference's `features` (one column per input; numbers,
    booleans, text or categories), the model's `predictions` and the true `targets`,
    and measure the estimate's error on `folds` held-out folds. A reference of more than
    `max_rows` rows is sampled down to them (seeded); 12 tree fits on 60,000 rows take
    about 6 s on one core.

    Raises InputError on unusable input: predictions or targets that are not finite
    numbers or not one per row, date/time features, fewer than MIN_REFERENCE_ROWS rows,
    or predictions equal to the targets everywhere (no error to learn)."""
    rows = len(features)
    predicted = _numbers(predictions, "predictions", rows)
    errors = _numbers(targets, "targets", rows) - predicted
    if rows < MIN_REFERENCE_ROWS:
        raise InputError(
            f"the reference has {rows} labeled rows: the loss model needs at least "
            f"{MIN_REFERENCE_ROWS}; use a larger reference"
        )
    if not np.any(errors):
        raise InputError(
            "the predictions equal the targets on every reference row: there is no error "
            "to learn (check that the target column is not the prediction)"
        )
    if rows > max_rows:
        pick = np.sort(np.random.default_rng(seed).choice(rows, max_rows, replace=False))
        features, predicted, errors, rows = (
            features.iloc[pick],
            predicted[pick],
            errors[pick],
            max_rows,
        )
    codings = learn_codings(features)
    matrix, _ = _matrix(features, predicted, codings)
    categorical = categorical_mask(codings)
    cross = _Folds(matrix, errors, categorical, seed)
    held_out = held_out_errors(
        rows, cross, folds=folds, repeats=1, chunks_per_fold=CHUNKS_PER_FOLD, seed=seed
    )
    absolute, squared = _fit_pair(matrix, errors, categorical, seed)
    measured = held_out is not None and not np.isnan(cross.absolute).any()
    dispersion = (
        _dispersions(errors, cross.absolute, cross.squared)
        if measured
        else _dispersions(errors, _predict(absolute, matrix), _predict(squared, matrix))
    )
    skill = (
        {"mae": _r2(np.abs(errors), cross.absolute), "rmse": _r2(errors**2, cross.squared)}
        if measured
        else {}
    )
    reference = _losses(errors)
    return LossModel(
        codings,
        absolute,
        squared,
        dispersion,
        rows,
        reference,
        skill,
        held_out,
        _fit_warnings(rows, reference, skill, held_out),
    )


def _r2(actual: FloatArray, predicted: FloatArray) -> float:
    total = float(((actual - actual.mean()) ** 2).sum())
    return 1 - float(((actual - predicted) ** 2).sum()) / total if total > 0 else 0.0


def _fit_warnings(
    rows: int,
    reference: Mapping[str, float],
    skill: Mapping[str, float],
    held_out: HeldOutErrors | None,
) -> tuple[str, ...]:
    found: list[str] = []
    if held_out is None:
        found.append(
            f"the reference ({rows} rows) is too small to measure the estimator's own error "
            "on held-out folds: the bands cover label noise only"
        )
    for metric, r2 in skill.items():
        if r2 < MIN_SKILL:
            loss = "absolute" if metric == "mae" else "squared"
            found.append(
                f"the model of the {loss} error explains {r2:.1%} of its variation on "
                f"held-out reference rows (less than {MIN_SKILL:.0%}): the estimated "
                f"{metric.upper()} barely follows the inputs and amounts to the reference's "
                f"({reference[metric]:.4g}); add the features the error depends on"
            )
    for error in biased_metrics(held_out, 0.0):
        if abs(error.bias) > BIAS_SHARE * reference[error.metric]:
            found.append(
                f"estimated {error.metric.upper()} is off by {error.bias:+.4g} on average on "
                "held-out reference chunks: the loss model fits badly"
            )
    return tuple(found)


def estimate_regression(
    features: pd.DataFrame,
    predictions: npt.ArrayLike,
    model: LossModel,
    *,
    confidence: float = CONFIDENCE,
) -> RegressionEstimate:
    """Estimated MAE and RMSE of `predictions` made for the rows of `features` (the
    reference's feature columns), with `confidence` bands.

    Raises InputError for missing feature columns, a numeric feature that holds text, or
    predictions that are not finite numbers, one per row."""
    rows = len(features)
    predicted = _numbers(predictions, "predictions", rows)
    if rows == 0:
        empty = {name: Metric(None, None, None, 0) for name in REGRESSION_METRICS}
        return RegressionEstimate(0, empty, ("no rows to estimate",))
    matrix, unseen = _matrix(features, predicted, model.codings)
    found = _values_and_noise(
        _predict(model.absolute, matrix), _predict(model.squared, matrix), model.dispersion
    )
    z = z_value(confidence)
    metrics = {
        name: band(
            value,
            noise + estimator_variance(0.0, model.held_out, name),
            rows,
            z,
            bounds=(0.0, math.inf),
        )
        for name, (value, noise) in found.items()
    }
    warnings = tuple(
        f"feature {name!r} has {count} rows ({count / rows:.1%}) with a category the "
        "reference did not have: the loss model treats them as missing"
        for name, count in unseen
    )
    return RegressionEstimate(rows, metrics, warnings)
