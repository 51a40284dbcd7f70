"""Multiclass CBPE on NannyML's multiclass data (3 classes; 60,000 reference and 60,000
analysis rows; chunks of 6,000 in id order), against scikit-learn's realized metrics.

The analysis period's second half (chunks 5-9) changes P(label | scores): there NannyML's
CBPE and ours estimate about 7 points above the realized values. No estimate from scores
can see that; what we require is that such chunks carry a warning, and that the bands
hold where none is raised: on the analysis chunks 0-4 and on reference chunks estimated
by a calibrator fitted on the other half of the reference (out of sample)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from monitor.core.errors import InputError
from monitor.metrics.performance.estimation_multiclass import (
    MulticlassCalibrator,
    MulticlassEstimate,
    estimate_multiclass,
    fit_multiclass_calibrator,
    realized_multiclass,
)
from monitor.metrics.performance.estimation_multiclass_metrics import (
    confusion,
    multiclass_metrics,
)
from tests.nannyml_support import chunks, read_nannyml

CLASSES = ("highstreet_card", "prepaid_card", "upmarket_card")
COLUMNS = [f"y_pred_proba_{c}" for c in CLASSES]
# NannyML 0.13.1's CBPE on the same chunks (its multiclass tutorial's published table)
NANNYML_F1 = (0.753301, 0.756422, 0.758166, 0.756557, 0.753618,
              0.630985, 0.631482, 0.630552, 0.631736, 0.633443)  # fmt: skip
NANNYML_AUC = (0.906962, 0.909877, 0.909887, 0.909033, 0.907116,
               0.819359, 0.820096, 0.818966, 0.819245, 0.821429)  # fmt: skip

SKLEARN: dict[str, Callable[[pd.DataFrame], float]] = {
    "accuracy": lambda d: skm.accuracy_score(d.y_true, d.y_pred),
    "precision": lambda d: skm.precision_score(d.y_true, d.y_pred, average="macro"),
    "recall": lambda d: skm.recall_score(d.y_true, d.y_pred, average="macro"),
    "f1": lambda d: skm.f1_score(d.y_true, d.y_pred, average="macro"),
    "roc_auc": lambda d: skm.roc_auc_score(
        d.y_true, d[COLUMNS].to_numpy(), multi_class="ovr", average="macro", labels=CLASSES
    ),
}


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return read_nannyml("multiclass_reference")


@pytest.fixture(scope="module")
def analysis() -> pd.DataFrame:
    return read_nannyml("multiclass_analysis")


def _fit(frame: pd.DataFrame) -> MulticlassCalibrator:
    return fit_multiclass_calibrator(
        frame[COLUMNS].to_numpy(),
        frame.y_true.to_numpy(),
        CLASSES,
        predicted=frame.y_pred.to_numpy(),
    )


@pytest.fixture(scope="module")
def calibrator(reference: pd.DataFrame) -> MulticlassCalibrator:
    return _fit(reference)


def _estimate(chunk: pd.DataFrame, calibrator: MulticlassCalibrator) -> MulticlassEstimate:
    return estimate_multiclass(chunk[COLUMNS].to_numpy(), chunk.y_pred.to_numpy(), calibrator)


def test_bands_cover_the_realized_values_where_no_warning_is_raised(
    reference: pd.DataFrame, analysis: pd.DataFrame, calibrator: MulticlassCalibrator
) -> None:
    """Coverage >= 90% per metric and a small mean absolute error over 15 chunks: the 5
    analysis chunks before the change, and the 10 reference chunks, each half estimated
    by a calibrator fitted on the other half."""
    assert calibrator.warnings == ()
    halves = (reference.iloc[:30_000], reference.iloc[30_000:])
    cases = [(chunk, calibrator) for chunk in chunks(analysis)[:5]]
    for half, other in ((halves[0], halves[1]), (halves[1], halves[0])):
        cases += [(chunk, _fit(half)) for chunk in chunks(other)]
    inside = dict.fromkeys(SKLEARN, 0)
    misses: dict[str, list[float]] = {name: [] for name in SKLEARN}
    for chunk, fitted in cases:
        found = _estimate(chunk, fitted)
        assert found.warnings == ()
        for name, realized in SKLEARN.items():
            metric, truth = found.metrics[name], realized(chunk)
            assert metric.low is not None and metric.high is not None and metric.value is not None
            inside[name] += metric.low <= truth <= metric.high
            misses[name].append(abs(metric.value - truth))
    for name in SKLEARN:
        assert inside[name] / len(cases) >= 0.9, (name, inside[name])
        assert float(np.mean(misses[name])) < 0.006, (name, np.mean(misses[name]))


def test_a_change_of_the_score_label_relation_is_flagged_not_covered(
    analysis: pd.DataFrame, calibrator: MulticlassCalibrator
) -> None:
    """Chunks 5-9: the scores moved (PSI 0.67-0.72 against 0.001-0.004 before), each chunk
    warns, and the estimates sit 5 to 10 points above the realized values, outside their
    bands (NannyML's CBPE estimates the same there)."""
    for index, chunk in enumerate(chunks(analysis)):
        found = _estimate(chunk, calibrator)
        assert found.score_shift is not None
        if index < 5:
            assert found.score_shift < 0.01 and found.warnings == ()
            continue
        assert found.score_shift > 0.5
        assert any("moved away from the reference" in w for w in found.warnings)
        for name in ("accuracy", "f1", "roc_auc"):
            metric, truth = found.metrics[name], SKLEARN[name](chunk)
            assert metric.low is not None and metric.value is not None
            assert metric.low > truth and 0.05 < metric.value - truth < 0.1, (index, name)


def test_estimates_equal_nannyml_cbpe(
    analysis: pd.DataFrame, calibrator: MulticlassCalibrator
) -> None:
    for index, chunk in enumerate(chunks(analysis)):
        found = _estimate(chunk, calibrator)
        assert found.metrics["f1"].value == pytest.approx(NANNYML_F1[index], abs=2e-6)
        assert found.metrics["roc_auc"].value == pytest.approx(NANNYML_AUC[index], abs=2e-6)


def test_realized_values_equal_sklearn(analysis: pd.DataFrame) -> None:
    for chunk in chunks(analysis):
        mine = realized_multiclass(
            chunk[COLUMNS].to_numpy(), chunk.y_pred.to_numpy(), chunk.y_true.to_numpy(), CLASSES
        )
        for name, realized in SKLEARN.items():
            assert mine[name] == pytest.approx(realized(chunk), abs=1e-12)


def test_expected_confusion_matrix_by_plain_loops() -> None:
    probabilities = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.5, 0.0], [0.2, 0.2, 0.6]]
    )
    predicted = np.array([0, 1, 2, 0, 1], dtype=np.int64)
    expected = [[0.0] * 3 for _ in range(3)]
    for row, column in enumerate(predicted):
        for true_class in range(3):
            expected[true_class][column] += probabilities[row][true_class]
    np.testing.assert_allclose(confusion(probabilities, predicted), expected, atol=1e-15)
    # metrics of that matrix, by hand: TP of class c = expected[c][c]
    tp = [expected[c][c] for c in range(3)]
    predicted_count = [sum(expected[t][c] for t in range(3)) for c in range(3)]
    true_count = [sum(expected[c]) for c in range(3)]
    found = multiclass_metrics(np.zeros((5, 3)), probabilities, predicted)
    assert found["accuracy"][0] == pytest.approx(sum(tp) / 5, abs=1e-15)
    assert found["precision"][0] == pytest.approx(
        np.mean([tp[c] / predicted_count[c] for c in range(3)])
    )
    assert found["recall"][0] == pytest.approx(np.mean([tp[c] / true_count[c] for c in range(3)]))
    f1 = [2 * tp[c] / (predicted_count[c] + true_count[c]) for c in range(3)]
    assert found["f1"][0] == pytest.approx(np.mean(f1))


def test_label_noise_variance_equals_a_simulation(
    analysis: pd.DataFrame, calibrator: MulticlassCalibrator
) -> None:
    """Labels drawn 4,000 times from the calibrated probabilities of 400 analysis rows:
    the spread of the realized metrics is the delta method's variance (within 5%; the
    simulation's own error is about 2%); the AUC's variance bound is above it."""
    rows = analysis.iloc[:400]
    scores = rows[COLUMNS].to_numpy()
    predicted = np.searchsorted(CLASSES, rows.y_pred.to_numpy()).astype(np.int64)
    probabilities = calibrator.probabilities(scores)
    found = multiclass_metrics(scores, probabilities, predicted)
    rng = np.random.default_rng(3)
    cumulative = probabilities.cumsum(axis=1)
    drawn: dict[str, list[float]] = {name: [] for name in SKLEARN}
    for _ in range(4000):
        labels = np.minimum((rng.random((400, 1)) > cumulative).sum(axis=1), 2)
        counts = np.zeros((3, 3))
        np.add.at(counts, (labels, predicted), 1)
        tp, by_predicted, by_true = np.diag(counts), counts.sum(axis=0), counts.sum(axis=1)
        drawn["accuracy"].append(tp.sum() / 400)
        drawn["precision"].append(float(np.mean(tp / by_predicted)))
        drawn["recall"].append(float(np.mean(tp / by_true)))
        drawn["f1"].append(float(np.mean(2 * tp / (by_predicted + by_true))))
        if len(drawn["roc_auc"]) < 500:
            drawn["roc_auc"].append(
                skm.roc_auc_score(labels, scores, multi_class="ovr", labels=[0, 1, 2])
            )
    for name in ("accuracy", "precision", "recall", "f1"):
        assert found[name][1] == pytest.approx(float(np.var(drawn[name])), rel=0.05), name
    assert found["roc_auc"][1] >= float(np.var(drawn["roc_auc"]))


def test_bands_narrow_with_the_rows_of_the_window(
    analysis: pd.DataFrame, calibrator: MulticlassCalibrator
) -> None:
    small = _estimate(analysis.iloc[:600], calibrator).metrics["accuracy"]
    large = _estimate(analysis.iloc[:6000], calibrator).metrics["accuracy"]
    assert small.low is not None and small.high is not None
    assert large.low is not None and large.high is not None
    assert small.high - small.low > 2.5 * (large.high - large.low)
    assert (small.n, large.n) == (600, 6000)


def test_poor_fits_warn(reference: pd.DataFrame) -> None:
    rare = pd.concat(
        [reference[reference.y_true != "upmarket_card"].iloc[:3000],
         reference[reference.y_true == "upmarket_card"].iloc[:50]]
    )  # fmt: skip
    found = _fit(rare)
    assert any("'upmarket_card' has 50 reference labels" in w for w in found.warnings)
    small = _fit(reference.iloc[:500])
    assert small.held_out is None
    assert any("too small to measure" in w for w in small.warnings)
    # a fourth class the model scores (always 0) but the reference never holds
    rows = reference.iloc[:3000]
    scores = np.column_stack([rows[COLUMNS].to_numpy(), np.zeros(len(rows))])
    four = fit_multiclass_calibrator(scores, rows.y_true.to_numpy(), (*CLASSES, "gold_card"))
    assert any("'gold_card' never occurs in the reference labels" in w for w in four.warnings)
    estimate = estimate_multiclass(scores, None, four)
    assert estimate.confusion[3] == (0.0, 0.0, 0.0, 0.0)
    assert any("'gold_card' is never predicted" in w for w in estimate.warnings)


@pytest.mark.parametrize(
    ("scores", "labels", "classes", "message"),
    [
        (np.full((4, 1), 0.5), ["a"] * 4, ("a",), "at least two classes"),
        (np.full((4, 2), 0.5), ["a"] * 4, ("a", "a"), "repeat a name"),
        (np.full((4, 3), 0.5), ["a"] * 4, ("a", "b"), "expected (rows, 2)"),
        (np.array([[0.5, math.nan]] * 4), ["a"] * 4, ("a", "b"), "not finite"),
        (np.array([[0.5, 1.5]] * 4), ["a"] * 4, ("a", "b"), "probabilities in [0, 1]"),
        (np.full((4, 2), 0.5), ["a"] * 3, ("a", "b"), "give one label per row"),
        (np.full((4, 2), 0.5), ["a", "b", "c", None], ("a", "b"), "values ['None', 'c'] are not"),
        (np.full((4, 2), 0.5), ["a"] * 4, ("a", "b"), "labels of at least two classes"),
    ],
)
def test_unusable_input_is_refused_with_advice(
    scores: np.ndarray, labels: list[str | None], classes: tuple[str, ...], message: str
) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        fit_multiclass_calibrator(scores, labels, classes)


def test_estimate_refuses_other_classes_and_shapes(
    analysis: pd.DataFrame, calibrator: MulticlassCalibrator
) -> None:
    chunk = analysis.iloc[:10]
    with pytest.raises(InputError, match=re.escape("predicted class values ['gold_card'] are not")):
        estimate_multiclass(chunk[COLUMNS].to_numpy(), ["gold_card"] * 10, calibrator)
    with pytest.raises(InputError, match="expected"):
        estimate_multiclass(chunk[COLUMNS[:2]].to_numpy(), chunk.y_pred.to_numpy(), calibrator)
    empty = estimate_multiclass(np.empty((0, 3)), [], calibrator)
    assert empty.predictions == 0 and empty.metrics["accuracy"].value is None
