"""Expected ROC AUC from calibrated probabilities, against scikit-learn on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from monitor.metrics.performance.estimation import estimate_binary, fit_calibrator
from monitor.metrics.performance.estimation_auc import expected_auc
from tests.binary_estimate_support import (
    CAR_LOAN_CHUNK,
    car_loan,
    car_loan_calibrator,
    distinct_cells,
)
from tests.conftest import REPO_ROOT


def weighted_twice(scores: np.ndarray, calibrated: np.ndarray) -> float:
    """roc_auc_score over the rows taken twice: once positive with weight c, once negative
    with weight 1 - c."""
    labels = np.r_[np.ones(len(scores)), np.zeros(len(scores))]
    weights = np.r_[calibrated, 1 - calibrated]
    return float(roc_auc_score(labels, np.r_[scores, scores], sample_weight=weights))


@pytest.mark.parametrize("chunk", [0, 7])
def test_expected_auc_is_sklearn_on_rows_weighted_by_the_calibrated_probability(
    chunk: int,
) -> None:
    """One cell per (score, predicted class), as the product's bins give for car-loan's
    scores (multiples of 0.01); a score in both classes is a tie."""
    reference, analysis = car_loan()
    calibrator = car_loan_calibrator(reference, replicates=0, folds=0)
    rows = analysis.iloc[chunk * CAR_LOAN_CHUNK : (chunk + 1) * CAR_LOAN_CHUNK]
    scores = np.asarray(rows.y_pred_proba, dtype=np.float64)
    cells = distinct_cells(scores, rows.y_pred == 1)
    assert cells.predicted_positive.sum() < len(np.unique(scores))  # scores in both classes
    estimate = estimate_binary(cells, calibrator)
    value = estimate.metrics["roc_auc"].value
    assert value is not None
    assert value == pytest.approx(weighted_twice(scores, calibrator.apply(scores)), abs=1e-9)


def test_expected_auc_of_distinct_scores_and_of_labels() -> None:
    """Scores with many distinct values (adult_rf_binary's are in steps of 0.01 with ties,
    jittered here to be distinct); with c = the labels the formula is the realized AUC."""
    frame = pd.read_csv(REPO_ROOT / "tests" / "data" / "adult_rf_binary.csv")
    labels = np.asarray(frame.label_value, dtype=np.float64)
    raw = np.asarray(frame.score, dtype=np.float64)
    value, _ = expected_auc(raw, np.ones(len(raw)), labels)
    assert value == pytest.approx(roc_auc_score(labels, raw), abs=1e-12)  # ties count 1/2
    rng = np.random.default_rng(4)
    scores = np.clip(raw + rng.uniform(-0.004, 0.004, len(raw)), 0, 1)
    calibrated = fit_calibrator(scores, labels, replicates=0, folds=0).apply(scores)
    value, _ = expected_auc(scores, np.ones(len(scores)), calibrated)
    assert value == pytest.approx(weighted_twice(scores, calibrated), abs=1e-9)


def test_label_noise_variance_matches_labels_drawn_from_the_probabilities() -> None:
    """The delta method's variance against the variance of sklearn's AUC over 2,000
    label draws from the calibrated probabilities (within 10%)."""
    reference, analysis = car_loan()
    calibrator = car_loan_calibrator(reference, replicates=0, folds=0)
    scores = np.asarray(analysis.y_pred_proba, dtype=np.float64)[:CAR_LOAN_CHUNK]
    calibrated = calibrator.apply(scores)
    _, variance = expected_auc(scores, np.ones(len(scores)), calibrated)
    rng = np.random.default_rng(9)
    draws = [roc_auc_score(rng.random(len(scores)) < calibrated, scores) for _ in range(2000)]
    assert variance == pytest.approx(float(np.var(draws, ddof=1)), rel=0.1)


def test_no_auc_without_both_outcomes() -> None:
    scores = np.array([0.2, 0.4, 0.9])
    value, variance = expected_auc(scores, np.ones(3), np.ones(3))
    assert np.isnan(value) and np.isnan(variance)
    value, _ = expected_auc(np.zeros(0), np.zeros(0), np.zeros(0))
    assert np.isnan(value)
