"""Score-based metrics from score histograms (never from raw rows).

The SQL counts labeled predictions per fine score bin (default 1000 bins of width about
0.001, see monitor.queries.performance). From those counts:

- ROC AUC: P(score of a positive > score of a negative) + 1/2 P(tie), treating scores in
  the same bin as ties. Scores in different bins are ordered exactly, so the error is at
  most `auc_bound` = 1/2 * sum_b pos_b * neg_b / (P * N): the share of positive-negative
  pairs that share a bin, times 1/2. The bound is returned with the value.
- Reliability curve: per coarse bin (10 by default, edges as sklearn's
  `calibration_curve(strategy="uniform")`), mean score and observed frequency.
- Quantiles of a score-like value: numpy's definition (linear between order statistics)
  with each order statistic placed inside its bin: off by less than one bin width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.metrics.intervals import CONFIDENCE, Metric, hanley_mcneil, wilson

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CalibrationBin:
    """One point of a reliability curve: predictions with a score in (low, high]."""

    low: float
    high: float
    count: int
    mean_score: float
    observed: Metric
    """Share of these predictions whose event happened (label positive, or prediction
    correct for a multiclass top-label curve), with its Wilson band."""


def binned_auc(
    positives: FloatArray, negatives: FloatArray, *, confidence: float = CONFIDENCE
) -> tuple[Metric, float | None]:
    """ROC AUC from per-bin counts (bins in increasing score order) with its Hanley-McNeil
    band, and the bound on the binning error."""
    p_total, n_total = float(positives.sum()), float(negatives.sum())
    if p_total == 0 or n_total == 0:
        return Metric(None, None, None, int(p_total + n_total)), None
    below = np.concatenate(([0.0], np.cumsum(negatives)[:-1]))
    pairs = p_total * n_total
    auc = float((positives * (below + 0.5 * negatives)).sum() / pairs)
    bound = float(0.5 * (positives * negatives).sum() / pairs)
    return hanley_mcneil(auc, int(p_total), int(n_total), confidence=confidence), bound


def calibration_curve(
    events: FloatArray,
    totals: FloatArray,
    score_sums: FloatArray,
    *,
    coarse_bins: int,
    confidence: float = CONFIDENCE,
) -> tuple[CalibrationBin, ...]:
    """Reliability curve from fine-bin counts: fine bins are grouped `ratio` at a time into
    `coarse_bins` (the SQL never lets a fine bin straddle a coarse edge). Empty bins are
    left out, as sklearn does."""
    ratio = len(totals) // coarse_bins
    n = totals.reshape(coarse_bins, ratio).sum(axis=1)
    hits = events.reshape(coarse_bins, ratio).sum(axis=1)
    sums = score_sums.reshape(coarse_bins, ratio).sum(axis=1)
    step = 1.0 / coarse_bins
    return tuple(
        CalibrationBin(
            low=i * step,
            high=(i + 1) * step if i < coarse_bins - 1 else 1.0,
            count=int(n[i]),
            mean_score=float(sums[i] / n[i]),
            observed=wilson(int(hits[i]), int(n[i]), confidence=confidence),
        )
        for i in range(coarse_bins)
        if n[i] > 0
    )


def histogram_quantiles(counts: FloatArray, quantiles: Sequence[float]) -> tuple[float, ...] | None:
    """Quantiles of a value in [0, 1] from its counts in equal-width bins over [0, 1].

    Numpy's default definition (linear interpolation between the order statistics around
    rank (n - 1) * q), with each order statistic placed evenly inside its bin: every one is
    off by less than a bin width, so the quantile is too."""
    total = round(float(counts.sum()))
    if total <= 0:
        return None
    width = 1.0 / len(counts)
    cumulative = np.cumsum(counts)

    def order_statistic(rank: int) -> float:
        b = int(np.searchsorted(cumulative, rank, side="right"))
        before = cumulative[b - 1] if b > 0 else 0.0
        return float((b + (rank - before + 0.5) / counts[b]) * width)

    found: list[float] = []
    for q in quantiles:
        h = (total - 1) * q
        low = int(np.floor(h))
        high = min(low + 1, total - 1)
        value = order_statistic(low)
        found.append(value + (h - low) * (order_statistic(high) - value))
    return tuple(found)


def mirror(counts: FloatArray) -> FloatArray:
    """Counts of 1 - score from counts of score (same bins, reversed)."""
    result: FloatArray = counts[::-1].copy()
    return result
