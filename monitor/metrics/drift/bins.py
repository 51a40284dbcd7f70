"""Reference decile edges and bin counts (numpy only: no scipy import, so the CLI can start
its DuckDB scans while scipy is still being imported)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]


def decile_edges(reference: Floats) -> Floats:
    """Reference deciles (numpy's linear quantiles = DuckDB quantile_cont), duplicates
    dropped. Bins are (-inf, e1], (e1, e2], ..., (ek, inf)."""
    edges = np.quantile(reference, np.linspace(0.1, 0.9, 9))
    unique: Floats = np.unique(edges)
    return unique


def bin_counts(values: Floats, edges: Floats) -> NDArray[np.int64]:
    """Counts of values in the bins (-inf, e1], ..., (ek, inf) (len(edges) + 1 bins)."""
    index = np.searchsorted(edges, values, side="left")
    counts: NDArray[np.int64] = np.bincount(index, minlength=edges.size + 1).astype(np.int64)
    return counts
