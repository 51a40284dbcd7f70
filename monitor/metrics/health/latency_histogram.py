"""Latency quantiles from a log-bucketed histogram (the hourly rollups keep one per hour).

Bucket i > ZERO_BUCKET holds the latencies in (GAMMA^(i-1), GAMMA^i], i = ceil(log(x) /
log(GAMMA)); latencies <= 0 fall in ZERO_BUCKET (value 0); NaN, infinity and missing
latencies are not counted. A bucket stands for 2 * GAMMA^i / (GAMMA + 1), which is within
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1) (0.99 % for GAMMA = 1.02) of every value in it,
as in DDSketch. `quantiles` interpolates linearly between the two order statistics a
quantile falls between (numpy's default, DuckDB's quantile_cont), each estimated within
RELATIVE_ERROR, so the result is within RELATIVE_ERROR of numpy.quantile of the raw
latencies (positive latencies; a latency <= 0 is estimated as 0). Histograms of hours
merge by adding counts per bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

GAMMA: Final = 1.02
RELATIVE_ERROR: Final = (GAMMA - 1) / (GAMMA + 1)
ZERO_BUCKET: Final = -(2**31)
"""The bucket of latencies <= 0 (smaller than any real bucket: 1e-300 ms is bucket -34 880)."""


def bucket_of(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """The bucket of each finite latency (callers drop NaN and infinity first)."""
    positive = values > 0
    safe = np.where(positive, values, 1.0)
    index = np.ceil(np.log(safe) / math.log(GAMMA)).astype(np.int64)
    result: NDArray[np.int64] = np.where(positive, index, ZERO_BUCKET)
    return result


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for (0 for ZERO_BUCKET)."""
    if bucket == ZERO_BUCKET:
        return 0.0
    return 2.0 * GAMMA**bucket / (GAMMA + 1.0)


def merge(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """Counts per bucket summed over histograms (e.g. the hours of a window)."""
    total: dict[int, int] = {}
    for histogram in histograms:
        for bucket, count in histogram.items():
            total[int(bucket)] = total.get(int(bucket), 0) + int(count)
    return total


def quantiles(histogram: Mapping[int, int], qs: Sequence[float]) -> tuple[float, ...] | None:
    """Estimated quantiles (linear interpolation between order statistics, as
    numpy.quantile); None for an empty histogram."""
    items = sorted((int(b), int(n)) for b, n in histogram.items() if n > 0)
    total = sum(n for _, n in items)
    if total == 0:
        return None
    buckets = np.array([b for b, _ in items], dtype=np.int64)
    ends = np.cumsum([n for _, n in items])  # order statistics 0..ends[k]-1 are in bucket k

    def order_statistic(rank: int) -> float:
        return bucket_value(int(buckets[int(np.searchsorted(ends, rank, side="right"))]))

    found: list[float] = []
    for q in qs:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q} is not in [0, 1]")
        position = q * (total - 1)
        low = math.floor(position)
        fraction = position - low
        value = order_statistic(low)
        if fraction > 0:
            value += fraction * (order_statistic(low + 1) - value)
        found.append(value)
    return tuple(found)
