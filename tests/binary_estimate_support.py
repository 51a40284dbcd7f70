"""Helpers of the binary estimate tests (tests/metrics/performance/test_estimation_*.py):
NannyML's car-loan data and score cells made from rows."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pandas as pd

from monitor.metrics.performance.estimation import (
    REPLICATES,
    Calibrator,
    Method,
    ScoreCells,
    fit_calibrator,
)
from monitor.metrics.performance.estimation_bands import FOLDS
from tests.nannyml_support import read_nannyml

CAR_LOAN_CHUNK = 5000
"""NannyML's docs chunk the car-loan data by 5,000 rows."""


@functools.cache
def car_loan() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference, analysis) in id order; read once, do not modify."""
    return read_nannyml("car_loan_reference"), read_nannyml("car_loan_analysis")


def car_loan_calibrator(
    reference: pd.DataFrame,
    *,
    method: Method = "isotonic",
    replicates: int = REPLICATES,
    folds: int = FOLDS,
) -> Calibrator:
    """`fit_calibrator` on the reference's scores, `repaid` outcomes and `y_pred`
    predictions."""
    return fit_calibrator(
        np.asarray(reference.y_pred_proba, dtype=np.float64),
        np.asarray(reference.repaid == 1, dtype=np.float64),
        method=method,
        replicates=replicates,
        folds=folds,
        predicted=np.asarray(reference.y_pred == 1),
    )


def distinct_cells(scores: npt.ArrayLike, positive: npt.ArrayLike) -> ScoreCells:
    """One cell per (score, predicted class): what the product's bins give for scores in
    steps of 0.01 (car-loan's)."""
    frame = pd.DataFrame({"score": np.asarray(scores), "positive": np.asarray(positive)})
    grouped = frame.groupby(["score", "positive"])
    counts, sums = grouped.size(), grouped.score.sum()
    flags = np.array([flag for _, flag in counts.index], dtype=np.bool_)
    return ScoreCells(
        np.asarray(counts, dtype=np.float64), np.asarray(sums, dtype=np.float64), flags
    )
