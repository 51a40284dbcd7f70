"""Warnings of the label-free estimates: a calibration that fits badly, scores that moved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import KFold

from monitor.metrics.performance.estimation import (
    estimate_binary,
    fit_calibrator,
    sample_calibrator,
)
from monitor.metrics.performance.estimation_checks import SHIFT_PSI
from tests.binary_estimate_support import (
    CAR_LOAN_CHUNK,
    car_loan,
    car_loan_calibrator,
    distinct_cells,
)


def platt_out_of_fold_bias(reference: pd.DataFrame) -> dict[str, float]:
    """Mean (expected - realized) precision and recall over 5 held-out folds, Platt
    scaling fitted by scikit-learn on the other four (logits of scores clipped to 1e-6)."""
    scores = np.clip(reference.y_pred_proba.to_numpy(), 1e-6, 1 - 1e-6)
    logit = np.log(scores / (1 - scores)).reshape(-1, 1)
    labels = reference.repaid.to_numpy()
    predicted = reference.y_pred.to_numpy() == 1
    misses: dict[str, list[float]] = {"precision": [], "recall": []}
    for train, held in KFold(5, shuffle=True, random_state=0).split(logit):
        model = LogisticRegression(C=1e6).fit(logit[train], labels[train])
        c = model.predict_proba(logit[held])[:, 1]
        y, p = labels[held], predicted[held]
        misses["precision"].append(c[p].mean() - y[p].mean())
        misses["recall"].append(c[p].sum() / c.sum() - (y[p].sum() / y.sum()))
    return {name: float(np.mean(v)) for name, v in misses.items()}


def test_platt_on_car_loan_warns_and_isotonic_does_not() -> None:
    """Platt's held-out bias agrees with scikit-learn's out-of-fold fit; its bands, which
    include it, hold the realized values of the first half's chunks (the raw Poisson-
    binomial bands held none of them)."""
    reference, analysis = car_loan()
    isotonic = car_loan_calibrator(reference, replicates=5)
    assert isotonic.warnings == ()
    platt = car_loan_calibrator(reference, method="platt", replicates=5)
    extreme = ((reference.y_pred_proba == 0) | (reference.y_pred_proba == 1)).mean()
    assert round(extreme, 2) == 0.14
    assert platt.warnings[0].startswith("14% of the reference's scores are exactly 0 or 1")
    assert "fits the reference badly" in platt.warnings[1]
    assert all(w.endswith("use isotonic calibration") for w in platt.warnings)
    assert platt.held_out is not None and isotonic.held_out is not None
    expected = platt_out_of_fold_bias(reference)
    for name, bias in expected.items():
        ours = platt.held_out.get(name)
        assert ours is not None and ours.bias == pytest.approx(bias, abs=0.003), name
        assert abs(ours.bias) > 0.015
        assert abs(isotonic.held_out.get(name).bias) < 0.002  # type: ignore[union-attr]
    for start in range(0, 5 * CAR_LOAN_CHUNK, CAR_LOAN_CHUNK):
        rows = analysis.iloc[start : start + CAR_LOAN_CHUNK]
        estimate = estimate_binary(distinct_cells(rows.y_pred_proba, rows.y_pred == 1), platt)
        assert estimate.warnings == platt.warnings
        realized = {
            "accuracy": accuracy_score(rows.repaid, rows.y_pred),
            "precision": precision_score(rows.repaid, rows.y_pred),
            "recall": recall_score(rows.repaid, rows.y_pred),
            "f1": f1_score(rows.repaid, rows.y_pred),
        }
        for name, value in realized.items():
            found = estimate.metrics[name]
            assert found.low is not None and found.high is not None
            assert found.low <= value <= found.high, (start, name)
            assert found.value is not None and abs(found.value - value) > 0.01


def test_a_small_reference_is_warned_about() -> None:
    reference, _ = car_loan()
    for rows, warned in ((2999, True), (3000, False)):
        found = car_loan_calibrator(reference.iloc[:rows], replicates=0)
        small = [w for w in found.warnings if "labeled reference rows only" in w]
        assert bool(small) == warned, found.warnings
    assert small == [] and found.warnings == ()


def hand_psi(reference: np.ndarray, window: np.ndarray) -> float:
    """PSI over the reference's deciles, bins (-inf, e1], ..., (ek, inf), shares floored
    at 1e-4 (DESIGN.md), with pandas."""
    edges = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))
    bins = [-np.inf, *edges, np.inf]
    ref = pd.Series(pd.cut(reference, bins, right=True)).value_counts(normalize=True, sort=False)
    cur = pd.Series(pd.cut(window, bins, right=True)).value_counts(normalize=True, sort=False)
    r, c = np.maximum(ref.to_numpy(), 1e-4), np.maximum(cur.to_numpy(), 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def test_score_shift_is_the_psi_over_reference_deciles_and_warns_past_the_threshold() -> None:
    reference, analysis = car_loan()
    calibrator = car_loan_calibrator(reference, replicates=0, folds=0)
    shifts = []
    for start in range(0, len(analysis), CAR_LOAN_CHUNK):
        rows = analysis.iloc[start : start + CAR_LOAN_CHUNK]
        estimate = estimate_binary(distinct_cells(rows.y_pred_proba, rows.y_pred == 1), calibrator)
        expected = hand_psi(reference.y_pred_proba.to_numpy(), rows.y_pred_proba.to_numpy())
        assert estimate.score_shift == pytest.approx(expected, abs=1e-12)
        moved = any("scores moved away" in w for w in estimate.warnings)
        assert moved == (expected >= SHIFT_PSI)
        shifts.append(expected)
    assert max(shifts[:5]) < 0.01 and min(shifts[5:]) > 0.25  # car-loan's second half moved


def test_sample_rows_with_or_without_predictions() -> None:
    """(score, label, prediction) rows use the predictions on the held-out folds; (score,
    label) rows and rows whose prediction is None predict positive at score >= threshold."""
    reference, _ = car_loan()
    rows = reference.iloc[:6000]
    scores = np.asarray(rows.y_pred_proba, dtype=np.float64)
    outcomes = np.asarray(rows.repaid == 1, dtype=np.float64)
    labels = rows.repaid.astype(int).astype(str).tolist()
    triples = list(zip(scores.tolist(), labels, rows.y_pred.astype(str).tolist(), strict=True))
    found = sample_calibrator(triples, "1", replicates=0)
    direct = fit_calibrator(scores, outcomes, replicates=0, predicted=rows.y_pred.to_numpy() == 1)
    assert found is not None and found.held_out == direct.held_out
    assert (found.x, found.y) == (direct.x, direct.y)
    pairs = [(s, label) for s, label, _ in triples]
    unpredicted = [(s, label, None) for s, label, _ in triples]
    by_threshold = fit_calibrator(scores, outcomes, replicates=0, threshold=0.3)
    for sample in (pairs, unpredicted):
        found = sample_calibrator(sample, "1", replicates=0, threshold=0.3)
        assert found is not None and found.held_out == by_threshold.held_out
    assert by_threshold.held_out != direct.held_out
