"""Direct loss estimation on NannyML's car-price regression data (60,000 reference and
60,000 analysis rows; chunks of 6,000 in id order), against scikit-learn's realized MAE
and RMSE, and NannyML's DLE published on the same chunks."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.core.errors import InputError
from monitor.metrics.performance.estimation_regression import (
    LossModel,
    estimate_regression,
    fit_loss_model,
    realized_regression,
)
from tests.nannyml_support import CHUNK_ROWS, chunks, read_nannyml

FEATURES = [
    "car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel", "transmission"
]  # fmt: skip
# NannyML 0.13.1's DLE (LightGBM) RMSE estimates on the same chunks (its regression
# tutorial's published table)
Change = Callable[
    [pd.DataFrame, np.ndarray, np.ndarray], tuple[pd.DataFrame, np.ndarray, np.ndarray]
]
"""Turns a usable reference (features, predictions, targets) into an unusable one."""
NANNYML_RMSE = (1067.212885, 1063.129715, 1054.158749, 1060.665742, 1055.230227,
                928.513388, 928.915961, 927.915836, 930.426206, 919.397864)  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return read_nannyml("regression_reference")


@pytest.fixture(scope="module")
def analysis() -> pd.DataFrame:
    return read_nannyml("regression_analysis")


@pytest.fixture(scope="module")
def model(reference: pd.DataFrame) -> LossModel:
    return fit_loss_model(reference[FEATURES], reference.y_pred, reference.y_true)


def _sklearn(chunk: pd.DataFrame) -> dict[str, float]:
    return {
        "mae": skm.mean_absolute_error(chunk.y_true, chunk.y_pred),
        "rmse": math.sqrt(skm.mean_squared_error(chunk.y_true, chunk.y_pred)),
    }


def test_bands_cover_the_realized_values(analysis: pd.DataFrame, model: LossModel) -> None:
    """All 10 analysis chunks (covariate shift in chunks 5-9): coverage >= 90% per metric
    and a mean absolute error within 1.5% of the metric's level."""
    assert model.warnings == ()
    inside = {"mae": 0, "rmse": 0}
    misses: dict[str, list[float]] = {"mae": [], "rmse": []}
    for chunk in chunks(analysis):
        found = estimate_regression(chunk[FEATURES], chunk.y_pred, model)
        assert found.warnings == () and found.predictions == CHUNK_ROWS
        for name, truth in _sklearn(chunk).items():
            metric = found.metrics[name]
            assert metric.value is not None and metric.low is not None and metric.high is not None
            inside[name] += metric.low <= truth <= metric.high
            misses[name].append(abs(metric.value - truth) / truth)
    assert inside["mae"] >= 9 and inside["rmse"] >= 9, inside
    assert max(float(np.mean(m)) for m in misses.values()) < 0.015, misses


def test_rmse_estimates_agree_with_nannyml_dle(analysis: pd.DataFrame, model: LossModel) -> None:
    """Another learner (LightGBM there, scikit-learn's histogram boosting here) on the
    same idea: within 1.5% of NannyML's estimate in every chunk."""
    for index, chunk in enumerate(chunks(analysis)):
        found = estimate_regression(chunk[FEATURES], chunk.y_pred, model).metrics["rmse"]
        assert found.value == pytest.approx(NANNYML_RMSE[index], rel=0.015)


def test_the_fit_is_measured_out_of_fold(reference: pd.DataFrame, model: LossModel) -> None:
    """The loss models beat a constant on held-out reference rows; the reference's own
    MAE and RMSE are sklearn's."""
    assert model.held_out is not None and model.reference_rows == len(reference)
    assert {e.metric for e in model.held_out.errors} == {"mae", "rmse"}
    assert model.skill["mae"] > 0.1 and model.skill["rmse"] > 0.1
    assert model.reference == pytest.approx(_sklearn(reference), rel=1e-12)


def test_realized_values_equal_sklearn(analysis: pd.DataFrame) -> None:
    for chunk in chunks(analysis):
        mine = realized_regression(chunk.y_pred, chunk.y_true)
        assert mine == pytest.approx(_sklearn(chunk), rel=1e-12)
    assert realized_regression([], []) == {"mae": None, "rmse": None}


def test_bands_narrow_with_the_rows_of_the_window(analysis: pd.DataFrame, model: LossModel) -> None:
    small = estimate_regression(analysis[FEATURES].iloc[:600], analysis.y_pred[:600], model)
    large = estimate_regression(analysis[FEATURES].iloc[:6000], analysis.y_pred[:6000], model)
    for name in ("mae", "rmse"):
        low, high = small.metrics[name].low, small.metrics[name].high
        big_low, big_high = large.metrics[name].low, large.metrics[name].high
        assert low is not None and high is not None and big_low is not None and big_high is not None
        assert high - low > 2 * (big_high - big_low)


def test_a_loss_the_inputs_do_not_explain_warns(reference: pd.DataFrame) -> None:
    """Errors drawn independently of the inputs: no model beats the constant."""
    rows = reference.iloc[:4000]
    noise = np.random.default_rng(5).normal(0, 500, len(rows))
    found = fit_loss_model(rows[FEATURES], rows.y_pred, rows.y_pred + noise)
    assert found.skill["mae"] < 0.02
    assert any("absolute error explains" in w and "barely follows" in w for w in found.warnings)


def test_a_small_reference_warns_and_unseen_categories_are_counted(
    reference: pd.DataFrame, analysis: pd.DataFrame
) -> None:
    small = fit_loss_model(reference[FEATURES], reference.y_pred, reference.y_true, max_rows=500)
    assert small.reference_rows == 500 and small.held_out is None and small.skill == {}
    assert any("too small to measure" in w for w in small.warnings)
    chunk = analysis[FEATURES].iloc[:100].copy()
    chunk["fuel"] = ["hydrogen"] * 10 + chunk["fuel"].iloc[10:].tolist()
    found = estimate_regression(chunk, analysis.y_pred[:100], small)
    assert found.warnings == (
        "feature 'fuel' has 10 rows (10.0%) with a category the reference did not have: "
        "the loss model treats them as missing",
    )
    assert found.metrics["mae"].value is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f, p, t: (f, np.where(np.arange(len(p)) == 3, np.nan, p), t),
            "predictions hold 1 values",
        ),
        (
            lambda f, p, t: (f, p, np.where(np.arange(len(t)) == 3, np.inf, t)),
            "targets hold 1 values",
        ),
        (lambda f, p, t: (f, p[:-1], t), "give one value per row"),
        (lambda f, p, t: (f.iloc[:50], p[:50], t[:50]), "needs at least 100"),
        (lambda f, p, t: (f, p, p), "no error to learn"),
        (
            lambda f, p, t: (f.assign(seen=pd.Timestamp("2026-01-01")), p, t),
            "feature 'seen' is a date or time",
        ),
    ],
)
def test_unusable_reference_is_refused_with_advice(
    reference: pd.DataFrame, change: Change, message: str
) -> None:
    rows = reference.iloc[:200]
    features, predictions, targets = change(
        rows[FEATURES], rows.y_pred.to_numpy(), rows.y_true.to_numpy()
    )
    with pytest.raises(InputError, match=re.escape(message)):
        fit_loss_model(features, predictions, targets)


def test_estimate_refuses_other_columns(analysis: pd.DataFrame, model: LossModel) -> None:
    chunk = analysis.iloc[:20]
    with pytest.raises(
        InputError, match=re.escape("features ['fuel'] of the reference are missing")
    ):
        estimate_regression(chunk[FEATURES].drop(columns="fuel"), chunk.y_pred, model)
    with pytest.raises(InputError, match="was a number in the reference but holds text"):
        estimate_regression(chunk[FEATURES].assign(car_age="old"), chunk.y_pred, model)
    with pytest.raises(InputError, match="not finite"):
        estimate_regression(chunk[FEATURES], np.full(20, np.nan), model)
    empty = estimate_regression(chunk[FEATURES].iloc[:0], [], model)
    assert empty.predictions == 0 and empty.metrics["mae"].value is None
