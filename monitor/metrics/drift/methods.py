"""Drift statistics and their registry: one small descriptor per method beside its function.

Every function here is pure numpy/scipy on small inputs: sorted finite values (KS,
Wasserstein) or counts over shared bins/categories (the rest). Definitions follow
../shared/DESIGN.md and docs/drift.md; the tests compare each with scipy.
"""

from __future__ import annotations

import importlib
import math
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Final

import numpy as np
from numpy.typing import NDArray

from monitor.metrics.drift.bins import Floats, bin_counts, decile_edges
from monitor.metrics.drift.registry import (
    CORRECTIONS,
    KIND_EFFECT,
    KIND_TEST,
    KINDS,
    METHODS,
    SMALL_SAMPLE,
    Correction,
    Kind,
    Method,
    auto_method,
    methods_for,
)

__all__ = [
    "CORRECTIONS",
    "KINDS",
    "KIND_EFFECT",
    "KIND_TEST",
    "METHODS",
    "SMALL_SAMPLE",
    "Correction",
    "Floats",
    "Kind",
    "Method",
    "auto_method",
    "bin_counts",
    "decile_edges",
    "methods_for",
]
SHARE_FLOOR: Final = 1e-4
"""Empty-bin shares are floored at this for PSI and KL (DESIGN.md)."""
SCIPY_EXACT_KS_MAX_N: Final = 10_000
"""Up to this sample size scipy's ks_2samp computes an exact p-value (method='auto')."""


# -- numeric, on sorted finite values ------------------------------------------------------


def _stats() -> ModuleType:
    """scipy.stats, imported on first use (0.3 s): a command that computes no drift
    statistic does not load it."""
    return importlib.import_module("scipy.stats")


def _cdfs(reference: Floats, current: Floats) -> tuple[Floats, Floats, Floats]:
    """Both empirical CDFs at every pooled value (reference and current sorted)."""
    pooled = np.concatenate([reference, current])
    pooled.sort(kind="stable")
    cdf_r = np.searchsorted(reference, pooled, side="right") / reference.size
    cdf_c = np.searchsorted(current, pooled, side="right") / current.size
    return pooled, cdf_r, cdf_c


def _ks_p_value(d: float, n1: int, n2: int) -> float:
    """scipy's asymptotic two-sided p-value for ks_2samp (mode 'asymp')."""
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(_stats().kstwo.sf(d, np.round(en)), 0.0, 1.0))


def ks_2samp(reference: Floats, current: Floats) -> tuple[float, float]:
    """KS statistic D and two-sided p-value, as scipy.stats.ks_2samp (method='auto').

    Small samples go to scipy itself (its exact p-value); larger ones use the same D and
    scipy's asymptotic formula without scipy's extra sorting passes."""
    d, p, _ = ks_and_wasserstein(reference, current)
    return d, p


def ks_and_wasserstein(reference: Floats, current: Floats) -> tuple[float, float, float]:
    """(KS D, KS p-value, W1) from sorted finite values, sharing one pass over the pooled
    values. W1 = integral of |F_ref - F_cur| (scipy.stats.wasserstein_distance)."""
    pooled, cdf_r, cdf_c = _cdfs(reference, current)
    gaps = np.abs(cdf_r - cdf_c)
    w1 = float(np.sum(gaps[:-1] * np.diff(pooled)))
    n1, n2 = reference.size, current.size
    if max(n1, n2) <= SCIPY_EXACT_KS_MAX_N:
        with warnings.catch_warnings():  # "exact calculation unsuccessful": scipy falls back
            warnings.simplefilter("ignore", RuntimeWarning)
            result = _stats().ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue), w1
    d = float(np.max(gaps))
    return d, _ks_p_value(d, n1, n2), w1


def wasserstein(reference: Floats, current: Floats) -> float:
    """W1 = integral of |F_ref - F_cur| (scipy.stats.wasserstein_distance)."""
    pooled, cdf_r, cdf_c = _cdfs(reference, current)
    return float(np.sum(np.abs(cdf_r - cdf_c)[:-1] * np.diff(pooled)))


# -- on counts over shared bins or categories -----------------------------------------------


def _shares(counts: Sequence[float] | NDArray[np.generic]) -> Floats:
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    return array / total if total > 0 else array


def psi(reference_counts: Sequence[float], current_counts: Sequence[float]) -> float:
    """sum (cur% - ref%) * ln(cur% / ref%), shares floored at 1e-4."""
    r = np.maximum(_shares(reference_counts), SHARE_FLOOR)
    c = np.maximum(_shares(current_counts), SHARE_FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def jensenshannon(reference_counts: Sequence[float], current_counts: Sequence[float]) -> float:
    """Jensen-Shannon distance with base 2 (sqrt of the divergence), in [0, 1]."""
    p, q = _shares(reference_counts), _shares(current_counts)
    m = (p + q) / 2

    def kl2(a: Floats) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / m[mask])))

    divergence = max(0.0, (kl2(p) + kl2(q)) / 2)
    return min(1.0, math.sqrt(divergence))


def hellinger(reference_counts: Sequence[float], current_counts: Sequence[float]) -> float:
    """sqrt(1 - sum sqrt(p_i q_i)), in [0, 1]."""
    p, q = _shares(reference_counts), _shares(current_counts)
    return math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q)))))


def kl(reference_counts: Sequence[float], current_counts: Sequence[float]) -> float:
    """KL(current || reference) in nats, shares floored at 1e-4 and renormalised
    (scipy.stats.entropy(current, reference))."""
    r = np.maximum(_shares(reference_counts), SHARE_FLOOR)
    c = np.maximum(_shares(current_counts), SHARE_FLOOR)
    r, c = r / r.sum(), c / c.sum()
    return max(0.0, float(np.sum(c * np.log(c / r))))


def chisquare(
    reference_counts: Sequence[float], current_counts: Sequence[float]
) -> tuple[float, float]:
    """Chi-square homogeneity test of the 2 x k table, as scipy.stats.chi2_contingency
    (Yates' correction when there is one degree of freedom). Categories empty on both
    sides are dropped; with fewer than two categories left: (0, 1)."""
    table = np.vstack(
        [np.asarray(reference_counts, dtype=np.float64), np.asarray(current_counts, np.float64)]
    )
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    dof = table.shape[1] - 1
    observed = table
    if dof == 1:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return statistic, float(_stats().chi2.sf(statistic, dof))


def ztest(
    reference_positive: float, reference_n: float, current_positive: float, current_n: float
) -> tuple[float, float]:
    """Two-proportion z-test with pooled variance: (z, two-sided p). No variation: (0, 1)."""
    if reference_n <= 0 or current_n <= 0:
        return 0.0, 1.0
    p1, p2 = reference_positive / reference_n, current_positive / current_n
    pooled = (reference_positive + current_positive) / (reference_n + current_n)
    variance = pooled * (1 - pooled) * (1 / reference_n + 1 / current_n)
    if variance <= 0:
        return 0.0, 1.0
    z = (p2 - p1) / math.sqrt(variance)
    return z, float(2 * _stats().norm.sf(abs(z)))


# -- multiple testing --------------------------------------------------------------------


def adjust(p_values: Sequence[float | None], correction: Correction) -> list[float | None]:
    """Adjusted p-values (None stays None): Benjamini-Hochberg (as
    scipy.stats.false_discovery_control), Bonferroni, or none."""
    present = [(i, p) for i, p in enumerate(p_values) if p is not None]
    result: list[float | None] = [None] * len(p_values)
    m = len(present)
    if not m:
        return result
    if correction == "none":
        for i, p in present:
            result[i] = p
    elif correction == "bonferroni":
        for i, p in present:
            result[i] = min(1.0, p * m)
    else:
        order = sorted(present, key=lambda item: item[1])
        running = 1.0
        adjusted: dict[int, float] = {}
        for rank in range(m, 0, -1):
            index, p = order[rank - 1]
            running = min(running, p * m / rank)
            adjusted[index] = min(1.0, running)
        for i, value in adjusted.items():
            result[i] = value
    return result
