"""The confidence bands shown with every performance metric, against scipy and against
bootstraps over rows with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import f1_score, roc_auc_score

from monitor.metrics.intervals import hanley_mcneil, mean_interval, wilson
from monitor.metrics.performance.classification import Confusion, binary_metrics, multiclass_metrics


@pytest.mark.parametrize(("k", "n"), [(0, 1), (17, 20), (19, 20), (20, 20), (950, 1000), (3, 7)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    found = wilson(k, n)
    assert found.value == pytest.approx(k / n)
    assert (found.low, found.high) == pytest.approx((expected.low, expected.high), abs=1e-12)
    assert wilson(0, 0).value is None


def test_a_95_percent_on_20_labels_is_visibly_weak() -> None:
    small, large = wilson(19, 20), wilson(1900, 2000)
    assert small.low is not None and large.low is not None
    assert small.low < 0.8 < large.low  # the band says what 20 labels cannot


def test_mean_interval_matches_scipy() -> None:
    x = np.random.default_rng(2).lognormal(1, 1, 500)
    found = mean_interval(float(x.mean()), float((x**2).mean()), len(x))
    expected = stats.norm.interval(0.95, loc=x.mean(), scale=stats.sem(x))
    assert (found.low, found.high) == pytest.approx(expected, rel=1e-9)


def _row_bootstrap(
    y: np.ndarray, p: np.ndarray, statistic: object, draws: int = 300
) -> tuple[float, float]:
    rng = np.random.default_rng(9)
    values = []
    for _ in range(draws):
        pick = rng.integers(0, len(y), len(y))
        values.append(statistic(y[pick], p[pick]))  # type: ignore[operator]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _f1_row_bootstrap(
    truth: np.ndarray, guess: np.ndarray, k: int, draws: int = 2000
) -> dict[str, tuple[float, float]]:
    """Percentile bands of binary (class 1), macro and weighted F1 over row resamples,
    computed with numpy from each resample's own confusion matrix."""
    rng = np.random.default_rng(9)
    picks = rng.integers(0, len(truth), (draws, len(truth)))
    cells = truth[picks] * k + guess[picks] + (np.arange(draws) * k * k)[:, None]
    matrix = np.bincount(cells.ravel(), minlength=draws * k * k).reshape(draws, k, k)
    hits = np.diagonal(matrix, axis1=1, axis2=2)
    support, predicted = matrix.sum(axis=2), matrix.sum(axis=1)
    with np.errstate(invalid="ignore"):
        f1 = np.where(support + predicted > 0, 2 * hits / (support + predicted), 0.0)
    values = {
        "f1": f1[:, 1],
        "f1_macro": f1.mean(axis=1),
        "f1_weighted": (f1 * support).sum(axis=1) / support.sum(axis=1),
    }
    return {
        name: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        for name, v in values.items()
    }


def test_hanley_mcneil_band_is_close_to_a_bootstrap() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.3).astype(int)
    score = rng.normal(0, 1, 2000) + 1.0 * y
    auc = roc_auc_score(y, score)
    found = hanley_mcneil(auc, int(y.sum()), int((1 - y).sum()))
    low, high = _row_bootstrap(y, score, roc_auc_score)
    assert found.low is not None and found.high is not None
    assert (found.high - found.low) == pytest.approx(high - low, rel=0.2)


def test_f1_bands_are_close_to_a_row_bootstrap() -> None:
    rng = np.random.default_rng(6)
    y = (rng.random(2000) < 0.25).astype(int)
    p = np.where(rng.random(2000) < 0.8, y, 1 - y)
    matrix = np.array([[((y == t) & (p == q)).sum() for q in (0, 1)] for t in (0, 1)])
    confusion = Confusion(("0", "1"), tuple(tuple(int(v) for v in row) for row in matrix))
    f1 = binary_metrics(confusion, "1")["f1"]
    assert f1.value == pytest.approx(f1_score(y, p))
    assert (f1.low, f1.high) == pytest.approx(_f1_row_bootstrap(y, p, 2)["f1"], abs=0.01)
    classes = rng.integers(0, 3, 2000)
    guess = np.where(rng.random(2000) < 0.7, classes, rng.integers(0, 3, 2000))
    table = np.array([[((classes == t) & (guess == q)).sum() for q in range(3)] for t in range(3)])
    labels = ("a", "b", "c")
    metrics, _ = multiclass_metrics(
        Confusion(labels, tuple(tuple(int(v) for v in r) for r in table))
    )
    bands = _f1_row_bootstrap(classes, guess, 3)
    for name, average in (("f1_macro", "macro"), ("f1_weighted", "weighted")):
        assert metrics[name].value == pytest.approx(f1_score(classes, guess, average=average))
        assert (metrics[name].low, metrics[name].high) == pytest.approx(bands[name], abs=0.01)
