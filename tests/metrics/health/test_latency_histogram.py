"""Latency quantiles from the log-bucketed histogram are within the stated relative error
of numpy.quantile (linear interpolation) of the raw latencies."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.metrics.health import latency_histogram as lh

QS = [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0]


def _histogram(values: np.ndarray) -> dict[int, int]:
    buckets, counts = np.unique(lh.bucket_of(values), return_counts=True)
    return {int(b): int(n) for b, n in zip(buckets, counts, strict=True)}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [1, 2, 7, 1000, 50_000])
def test_quantiles_are_within_the_relative_error(seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.lognormal(mean=3.5, sigma=0.8, size=size), 2)
    found = np.array(lh.quantiles(_histogram(values), QS))
    exact = np.quantile(values, QS)
    assert np.all(np.abs(found - exact) <= lh.RELATIVE_ERROR * exact + 1e-12)


def test_the_bound_is_tight_for_a_value_on_a_bucket_edge() -> None:
    edge = lh.GAMMA**100
    (estimate,) = lh.quantiles(_histogram(np.array([edge])), [0.5]) or (None,)
    assert estimate is not None
    assert abs(estimate - edge) / edge == pytest.approx(lh.RELATIVE_ERROR, rel=1e-9)
    assert lh.RELATIVE_ERROR < 0.01


def test_hours_merge_by_adding_counts() -> None:
    rng = np.random.default_rng(5)
    parts = [rng.exponential(40.0, size=n) for n in (300, 10, 2000)]
    merged = lh.merge(_histogram(p) for p in parts)
    assert merged == _histogram(np.concatenate(parts))
    found = np.array(lh.quantiles(merged, [0.5, 0.99]))
    exact = np.quantile(np.concatenate(parts), [0.5, 0.99])
    assert np.all(np.abs(found - exact) <= lh.RELATIVE_ERROR * exact)


def test_zero_and_negative_latencies_count_as_zero_and_empty_is_none() -> None:
    histogram = _histogram(np.array([0.0, -1.0, 0.0, 5.0]))
    assert histogram[lh.ZERO_BUCKET] == 3
    assert lh.quantiles(histogram, [0.5]) == (0.0,)
    assert lh.quantiles({}, [0.5]) is None
    with pytest.raises(ValueError):
        lh.quantiles(histogram, [1.5])
