"""A metric value with its confidence band, and the interval methods behind the bands.

Every number the Performance page shows carries `n` (the observations behind it) and,
where a method exists, a band: Wilson for proportions (accuracy, precision, recall,
error rates), Hanley-McNeil for ROC AUC, the normal approximation for means (MAE, MSE,
log loss, residual mean), and a seeded multinomial bootstrap of the confusion counts for
F1 (counts are all the SQL hands over, so resampling them is resampling the rows).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

import numpy as np
import numpy.typing as npt

CONFIDENCE: Final = 0.95
BOOTSTRAP_DRAWS: Final = 1000
BOOTSTRAP_SEED: Final = 20261120


@dataclass(frozen=True)
class Metric:
    """A metric value, its confidence band (None where no method applies or n is too small)
    and the number of observations behind it."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0


@functools.lru_cache(maxsize=16)
def z_value(confidence: float = CONFIDENCE) -> float:
    """The two-sided normal quantile: 1.96 for 95%."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, *, confidence: float = CONFIDENCE) -> Metric:
    """The proportion successes/n with its Wilson score interval (no continuity correction)."""
    if n <= 0:
        return Metric(None, None, None, 0)
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Metric(p, max(0.0, centre - half), min(1.0, centre + half), n)


def mean_interval(
    mean: float | None, second_moment: float | None, n: int, *, confidence: float = CONFIDENCE
) -> Metric:
    """A mean with its normal-approximation interval, from the mean and the mean of squares
    (sample standard deviation, n - 1)."""
    if mean is None or n <= 0:
        return Metric(None, None, None, max(n, 0))
    if n < 2 or second_moment is None:
        return Metric(mean, None, None, n)
    variance = max(second_moment - mean * mean, 0.0) * n / (n - 1)
    half = z_value(confidence) * math.sqrt(variance / n)
    return Metric(mean, mean - half, mean + half, n)


def hanley_mcneil(
    auc: float, positives: int, negatives: int, *, confidence: float = CONFIDENCE
) -> Metric:
    """ROC AUC with the Hanley & McNeil (1982) standard error."""
    n = positives + negatives
    if positives == 0 or negatives == 0:
        return Metric(None, None, None, n)
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)
    ) / (positives * negatives)
    half = z_value(confidence) * math.sqrt(max(variance, 0.0))
    return Metric(auc, max(0.0, auc - half), min(1.0, auc + half), n)


def bootstrap_counts(
    counts: npt.NDArray[np.int64],
    statistic: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]],
    *,
    confidence: float = CONFIDENCE,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float | None, float | None]:
    """Percentile interval of `statistic` over multinomial resamples of a table of counts.

    `statistic` takes an array of shape (draws, *counts.shape) and returns one value per
    draw (NaN where undefined; those draws are left out)."""
    total = int(counts.sum())
    if total < 2:
        return None, None
    rng = np.random.default_rng(seed)
    flat = counts.reshape(-1).astype(np.float64)
    samples = rng.multinomial(total, flat / flat.sum(), size=draws).reshape(draws, *counts.shape)
    values = statistic(samples)
    values = values[np.isfinite(values)]
    if len(values) < draws // 2:
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
