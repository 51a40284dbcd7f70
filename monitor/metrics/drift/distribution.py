"""Reference vs current distribution of one feature, for the overlay chart (light: at most
`bins` bars or the most frequent categories)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Final

import numpy as np

from monitor.metrics.drift.profile import CategoricalSide, NumericSide, Profile, ReferenceProfile
from monitor.metrics.drift.registry import Kind
from monitor.metrics.drift.report import align_categories

BINS: Final = 40
TAIL: Final = 0.005
"""Numeric bins span the pooled 0.5%-99.5% quantiles; values beyond go to the end bins."""


@dataclass(frozen=True)
class Distribution:
    feature: str
    kind: Kind
    labels: tuple[str, ...]
    """Categories (categorical/binary) or bin ranges (numeric)."""
    edges: tuple[float, ...]
    """Numeric bin edges (len(labels) + 1); empty for categories."""
    reference: tuple[float, ...]
    current: tuple[float, ...]
    """Shares of each side's values (each side sums to 1)."""
    reference_count: int
    current_count: int
    sampled: bool
    """Numeric shares come from a seeded sample of a large side."""


def distribution(
    reference: ReferenceProfile, current: Profile, feature: str, *, bins: int = BINS
) -> Distribution | None:
    """None when the feature has no values on one side or differs in type."""
    kind = reference.kinds.get(feature)
    ref, cur = reference.profile.columns.get(feature), current.columns.get(feature)
    if kind is None:
        return None
    if isinstance(ref, NumericSide) and isinstance(cur, NumericSide):
        if not ref.values.size or not cur.values.size:
            return None
        pooled = np.concatenate([ref.values, cur.values])
        low, high = np.quantile(pooled, [TAIL, 1 - TAIL])
        if high <= low:
            low, high = float(pooled.min()) - 0.5, float(pooled.max()) + 0.5
        edges = np.linspace(low, high, bins + 1)

        def shares(values: np.ndarray) -> tuple[float, ...]:
            counts = np.histogram(np.clip(values, low, high), edges)[0]
            return tuple(float(c) for c in counts / values.size)

        labels = tuple(f"{a:.4g} to {b:.4g}" for a, b in itertools.pairwise(edges))
        return Distribution(
            feature,
            kind,
            labels,
            tuple(float(e) for e in edges),
            shares(ref.values),
            shares(cur.values),
            ref.finite,
            cur.finite,
            not (ref.exact and cur.exact),
        )
    if isinstance(ref, CategoricalSide) and isinstance(cur, CategoricalSide):
        if not ref.present or not cur.present:
            return None
        names, ref_counts, cur_counts, _ = align_categories(ref.counts, cur.counts)
        return Distribution(
            feature,
            kind,
            tuple(names),
            (),
            tuple(c / ref.present for c in ref_counts),
            tuple(c / cur.present for c in cur_counts),
            ref.present,
            cur.present,
            False,
        )
    return None
