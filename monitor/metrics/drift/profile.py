"""What drift needs to know about one side: its profile (counts, moments, values, bins).

A profile is computed in DuckDB by `monitor.queries.drift_profile`; this module holds the
result types and the pure steps between the queries: which kind each feature is, the
reference's decile edges, and a side's counts over those bins. Numpy only (no scipy), so
the CLI can start its DuckDB scans while scipy is still being imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from monitor.metrics.drift.bins import Floats, bin_counts, decile_edges
from monitor.metrics.drift.registry import KINDS, Kind

EXACT_LIMIT: Final = 50_000
"""Sides with at most this many rows give KS/Wasserstein on every value; larger ones use a
seeded reservoir sample of this many rows (see docs/drift.md for the measured error)."""
SAMPLE_SEED: Final = 42
MAX_CATEGORIES: Final = 200
"""Categories beyond the reference's most frequent ones are pooled into OTHER."""
OTHER: Final = "(other)"


@dataclass(frozen=True, eq=False)
class NumericSide:
    present: int
    """Non-null values, NaN and infinity included."""
    finite: int
    mean: float | None
    std: float | None
    """Population standard deviation (numpy's default, ddof=0)."""
    values: Floats
    """Sorted finite values: all of them when `exact`, else a seeded sample."""
    exact: bool
    bins: Floats | None = None
    """Counts over the reference decile bins (from every row)."""


@dataclass(frozen=True)
class CategoricalSide:
    present: int
    counts: Mapping[str, int]


Side = NumericSide | CategoricalSide


@dataclass(frozen=True, eq=False)
class Profile:
    """One side (reference, current, or one time bucket of the current)."""

    rows: int
    columns: Mapping[str, Side]
    types: Mapping[str, str] = field(default_factory=dict)
    """Feature name -> SQL type as read (DOUBLE / BOOLEAN / VARCHAR)."""


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    profile: Profile
    kinds: Mapping[str, Kind]
    edges: Mapping[str, Floats]
    """Decile edges per numeric feature."""


def detect_kind(sql_type: str, zero_one: bool, override: str | None) -> Kind:
    """BOOLEAN -> binary, text -> categorical, numbers -> numeric, or binary when every
    value is 0/1. A kind from config (`feature_kinds`) wins."""
    if override in KINDS:
        return override
    if sql_type == "BOOLEAN":
        return "binary"
    if sql_type == "VARCHAR":
        return "categorical"
    return "binary" if zero_one else "numeric"


def sorted_finite(raw: Any) -> Floats:
    """The finite values of a (masked) array of numbers, sorted."""
    if raw is None:
        return np.empty(0)
    array = np.ma.compressed(np.ma.asarray(raw)).astype(np.float64)
    array = array[np.isfinite(array)]
    array.sort()
    return array


def reference_kinds(
    types: Mapping[str, str], values: Mapping[str, Floats], overrides: Mapping[str, str]
) -> dict[str, Kind]:
    """Each reference feature's kind (`types`: name -> SQL type), a number column being
    binary when its values (or sample) are all 0/1."""
    kinds: dict[str, Kind] = {}
    for name, sql_type in types.items():
        seen = values.get(name, np.empty(0))
        zero_one = bool(seen.size) and bool(np.all((seen == 0) | (seen == 1)))
        kinds[name] = detect_kind(sql_type, zero_one, overrides.get(name))
    return kinds


def reference_edges(kinds: Mapping[str, Kind], values: Mapping[str, Floats]) -> dict[str, Floats]:
    """Decile edges of every numeric feature that has values."""
    return {
        name: decile_edges(found)
        for name, found in values.items()
        if kinds[name] == "numeric" and found.size
    }


def confirm_kinds(kinds: Mapping[str, Kind], profile: Profile) -> dict[str, Kind]:
    """A 0/1 guess from a sample that the full data contradicts (more than 2 values)
    becomes categorical."""
    confirmed = dict(kinds)
    for name, side in profile.columns.items():
        if kinds[name] == "binary" and isinstance(side, CategoricalSide) and len(side.counts) > 2:
            confirmed[name] = "categorical"
    return confirmed


def current_kinds(
    types: Mapping[str, str], reference: ReferenceProfile, overrides: Mapping[str, str]
) -> dict[str, Kind]:
    """A current side's kinds: the reference's, else detected from the type."""
    return {
        name: reference.kinds.get(name) or detect_kind(sql_type, False, overrides.get(name))
        for name, sql_type in types.items()
    }


def binned(
    histogram: Mapping[Any, int] | None, edges: Floats | None, values: Floats
) -> Floats | None:
    """Counts over the decile bins (-inf, e1], ..., (ek, inf): from DuckDB's
    `histogram(x, edges)` (keyed by upper edge; the rest is the open last bin) when the
    side was binned in SQL, else from its values (every value of a small side)."""
    if edges is None:
        return None
    if histogram is None:
        return bin_counts(values, edges).astype(np.float64)
    known = {float(e) for e in edges}
    overflow = sum(n for k, n in histogram.items() if float(k) not in known)
    return np.array([histogram.get(float(e), 0) for e in edges] + [overflow], float)
