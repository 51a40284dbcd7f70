"""The estimator's own error measured on held-out reference folds, and the bands built
from it."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from monitor.metrics.performance.estimation import binary_fold_estimator
from monitor.metrics.performance.estimation_bands import (
    ChunkOutcome,
    FoldEstimator,
    HeldOutError,
    HeldOutErrors,
    band,
    estimator_variance,
    held_out_errors,
)
from tests.binary_estimate_support import car_loan


def rate_estimator(
    outcomes: np.ndarray, offset: float, seen: list[tuple[set[int], set[int]]]
) -> FoldEstimator:
    """Estimates a chunk's positive rate as the training rows' rate + `offset`; the label
    noise of a chunk of n rows is p(1 - p) / n. Records (training rows, held-out rows)."""

    def run(train: np.ndarray, chunks: Sequence[np.ndarray]) -> list[ChunkOutcome]:
        seen.append((set(train.tolist()), {int(i) for c in chunks for i in c}))
        p = float(outcomes[train].mean())
        return [
            {"rate": (p + offset, float(outcomes[c].mean()), p * (1 - p) / len(c))} for c in chunks
        ]

    return run


@pytest.mark.parametrize("offset", [0.0, 0.05])
def test_bias_and_excess_of_an_estimator_with_a_known_error(offset: float) -> None:
    rng = np.random.default_rng(2)
    outcomes = (rng.random(20_000) < 0.3).astype(np.float64)
    seen: list[tuple[set[int], set[int]]] = []
    found = held_out_errors(len(outcomes), rate_estimator(outcomes, offset, seen), seed=1)
    assert found is not None
    assert (found.folds, found.repeats, found.chunk_rows) == (5, 4, 2000)
    # every row is held out once per repeat, never trained on in its own fold
    assert len(seen) == 20
    for train, held in seen:
        assert not train & held and len(train) + len(held) == 20_000
    for repeat in range(4):
        held_rows = [h for _, h in seen[repeat * 5 : repeat * 5 + 5]]
        assert set().union(*held_rows) == set(range(20_000))
    error = found.get("rate")
    assert error is not None and error.chunks == 40
    training_noise = 0.3 * 0.7 / 16_000  # the training rate's own sampling variance
    assert abs(error.bias - offset) < 3 * error.bias_se + 1e-3
    assert error.excess == pytest.approx(offset**2 + training_noise, abs=2.5e-4)
    assert error.significant_bias == (offset > 0)


def test_no_folds_for_a_small_reference() -> None:
    outcomes = np.tile([0.0, 1.0], 450)  # chunks of 90 rows
    assert held_out_errors(len(outcomes), rate_estimator(outcomes, 0.0, [])) is None
    assert held_out_errors(100_000, rate_estimator(outcomes, 0.0, []), folds=1) is None


def test_platt_misfit_on_car_loan_does_not_shrink_with_the_chunk_size() -> None:
    """Platt scaling on car-loan (14% of scores exactly 0 or 1) is off by about 2 points:
    its excess variance is the same from held-out chunks of 1,000 rows to 10,000, and far
    above the label noise of the larger chunks."""
    reference, _ = car_loan()
    estimator = binary_fold_estimator(
        np.asarray(reference.y_pred_proba, dtype=np.float64),
        np.asarray(reference.repaid, dtype=np.float64),
        reference.y_pred.to_numpy() == 1,
        "platt",
    )
    large = held_out_errors(len(reference), estimator, chunks_per_fold=1, repeats=1)
    small = held_out_errors(len(reference), estimator, chunks_per_fold=10, repeats=1)
    assert large is not None and small is not None
    assert (large.chunk_rows, small.chunk_rows) == (10_000, 1000)
    for name in ("accuracy", "precision", "recall", "f1"):
        assert small.excess(name) == pytest.approx(large.excess(name), rel=0.15), name
        assert large.excess(name) > 0.02**2 > 10 * large.get(name).noise  # type: ignore[union-attr]


def test_band_and_estimator_variance() -> None:
    errors = HeldOutErrors(5, 4, 1000, (HeldOutError("recall", 40, 0.02, 0.001, 5e-4, 1e-4),))
    assert estimator_variance(1e-4, errors, "recall") == pytest.approx(4e-4)
    assert estimator_variance(9e-4, errors, "recall") == 9e-4
    assert estimator_variance(2e-4, errors, "precision") == 2e-4  # not measured: the spread
    assert estimator_variance(math.nan, None, "recall") == 0.0
    found = band(0.9, 0.01, 100, 1.96)
    assert (found.value, found.high, found.n) == (0.9, 1.0, 100)
    assert found.low == pytest.approx(0.704)
    unbounded = band(0.9, 0.01, 100, 1.96, bounds=None)
    assert unbounded.high == pytest.approx(1.096)
    assert band(math.nan, 0.1, 5, 1.96).value is None
    assert band(0.5, math.nan, 5, 1.96).low is None
