"""Data quality of the current data against a reference: missing values, out-of-range
values, new categories, schema changes, constant features, cardinality, duplicates, and
the features' correlations. The counts come from DuckDB (monitor.queries.quality: one
aggregate scan per side, the current's shares per time bucket in one grouped scan); the
functions here turn them into results.

A feature's `status` is its one verdict: a schema problem (missing in current, not in
reference, type changed), else the checks past their thresholds ("often missing": the
missing share above `missing_share`; "new categories": the share of values in neither
the reference nor the config above `new_category_share`), else "ok". The thresholds are
those of the alert rules watching the same shares, so the page and the findings agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from monitor.core.config import Thresholds
from monitor.metrics.drift.profile import CategoricalSide, Profile
from monitor.metrics.drift.registry import Kind

RangeSource = Literal["config", "reference"]
MAX_NEW_CATEGORIES: Final = 20
OK: Final = "ok"
OFTEN_MISSING: Final = "often missing"
NEW_CATEGORIES: Final = "new categories"
_DEFAULTS: Final = Thresholds()


@dataclass(frozen=True)
class FeatureQuality:
    feature: str
    kind: Kind | None
    reference_type: str | None
    current_type: str | None
    status: str
    """ok; missing in current, not in reference, type changed (X -> Y); or the checks past
    their thresholds ("often missing", "new categories", joined by ", ")."""
    rows: int
    missing: int
    missing_share: float | None
    reference_missing_share: float | None
    non_finite: int
    """NaN or infinity in a numeric feature (counted apart from missing)."""
    out_of_range: int
    out_of_range_share: float | None
    valid_range: tuple[float, float] | None
    range_source: RangeSource | None
    new_categories: tuple[tuple[str, int], ...]
    """Categories neither in the reference nor in the config, with their counts."""
    new_category_share: float | None
    reference_cardinality: int | None
    current_cardinality: int | None
    constant: bool
    """At most one distinct value among the current's values (and some values)."""


@dataclass(frozen=True)
class QualityReport:
    reference_rows: int
    current_rows: int
    features: tuple[FeatureQuality, ...]
    missing_columns: tuple[str, ...]
    unexpected_columns: tuple[str, ...]
    type_changes: tuple[tuple[str, str, str], ...]
    duplicate_ids: int | None
    """Predictions whose prediction_id appeared earlier in the window (logs only)."""
    invalid_records: int | None


@dataclass(frozen=True)
class QualityOverTime:
    starts: tuple[dt.datetime, ...]
    rows: tuple[int, ...]
    features: tuple[str, ...]
    missing: tuple[tuple[float | None, ...], ...]
    """missing[feature][bucket]: rows without a value / rows."""
    out_of_range: tuple[tuple[float | None, ...], ...]
    """Finite values outside the feature's valid range / finite values (None: no range)."""
    new_categories: tuple[tuple[float | None, ...], ...]
    """Values not among the known categories / values (None: not categorical)."""


@dataclass(frozen=True)
class Correlations:
    features: tuple[str, ...]
    reference: tuple[tuple[float | None, ...], ...]
    current: tuple[tuple[float | None, ...], ...]
    """Pearson correlations (pairwise complete rows), None where undefined."""


@dataclass(frozen=True)
class QualitySide:
    """The counts of one side, per feature (numeric features: `finite`, `low`, `high` and
    `outside` the valid range; the others: category `counts`)."""

    rows: int
    types: Mapping[str, str]
    """Feature name -> SQL type as read (DOUBLE / BOOLEAN / VARCHAR)."""
    present: Mapping[str, int]
    finite: Mapping[str, int]
    low: Mapping[str, float | None]
    high: Mapping[str, float | None]
    outside: Mapping[str, int]
    counts: Mapping[str, Mapping[str, int]]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def current_kinds(reference: Mapping[str, Kind], types: Mapping[str, str]) -> dict[str, Kind]:
    """The current's kinds (`types`: name -> SQL type): the reference's, else numeric for
    numbers and categorical for the rest."""
    return {
        name: reference.get(name) or ("numeric" if sql_type == "DOUBLE" else "categorical")
        for name, sql_type in types.items()
    }


def valid_ranges(
    names: Sequence[str],
    reference: QualitySide,
    configured: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[dict[str, tuple[float, float]], dict[str, RangeSource]]:
    """Each feature's valid range and where it comes from: `configured` (config), else
    the reference's min and max."""
    ranges: dict[str, tuple[float, float]] = {}
    sources: dict[str, RangeSource] = {}
    for name in names:
        low, high = reference.low.get(name), reference.high.get(name)
        if configured and name in configured:
            ranges[name], sources[name] = configured[name], "config"
        elif low is not None and high is not None:
            ranges[name], sources[name] = (float(low), float(high)), "reference"
    return ranges, sources


@dataclass(frozen=True)
class Limits:
    """Above these shares a feature's status names the problem (None: not judged)."""

    missing_share: float | None = _DEFAULTS.missing_share
    new_category_share: float | None = _DEFAULTS.new_category_share


DEFAULT_LIMITS: Final = Limits()
"""The `[thresholds]` defaults."""


def new_categories(counts: Mapping[str, int], known: Collection[str]) -> list[tuple[str, int]]:
    """The categories not in `known` (the reference's and the configured ones) with their
    counts, most frequent first: the one definition of a new category."""
    return sorted(((k, v) for k, v in counts.items() if k not in known), key=lambda kv: -kv[1])


def problems(
    missing_share: float | None, new_category_share: float | None, limits: Limits
) -> tuple[str, ...]:
    """The checks a feature fails: its missing share or new-category share above the limit
    (the rules' comparator, >)."""
    found: list[str] = []
    for share, limit, name in (
        (missing_share, limits.missing_share, OFTEN_MISSING),
        (new_category_share, limits.new_category_share, NEW_CATEGORIES),
    ):
        if share is not None and limit is not None and share > limit:
            found.append(name)
    return tuple(found)


def quality_from_sides(
    reference: QualitySide,
    current: QualitySide,
    kinds: Mapping[str, Kind],
    *,
    ranges: Mapping[str, tuple[float, float]],
    sources: Mapping[str, RangeSource],
    categories: Mapping[str, Sequence[str]] | None = None,
    duplicate_ids: int | None = None,
    invalid_records: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> QualityReport:
    """The report from both sides' counts (the current's `outside` counted against
    `ranges`); known categories are the reference's plus `categories` (config)."""
    ref_types, cur_types = reference.types, current.types
    features = tuple(
        _feature(
            name,
            kinds.get(name),
            reference,
            current,
            ranges.get(name),
            sources.get(name),
            (categories or {}).get(name, ()),
            limits,
        )
        for name in [*ref_types, *(n for n in cur_types if n not in ref_types)]
    )
    changes = tuple(
        (n, ref_types[n], cur_types[n])
        for n in ref_types
        if n in cur_types and ref_types[n] != cur_types[n]
    )
    return QualityReport(
        reference.rows,
        current.rows,
        features,
        tuple(n for n in ref_types if n not in cur_types),
        tuple(n for n in cur_types if n not in ref_types),
        changes,
        duplicate_ids,
        invalid_records,
    )


def _feature(
    name: str,
    kind: Kind | None,
    ref: QualitySide,
    cur: QualitySide,
    bounds: tuple[float, float] | None,
    source: RangeSource | None,
    configured: Sequence[str],
    limits: Limits,
) -> FeatureQuality:
    ref_type, cur_type = ref.types.get(name), cur.types.get(name)
    status = OK
    if cur_type is None:
        status = "missing in current"
    elif ref_type is None:
        status = "not in reference"
    elif ref_type != cur_type:
        status = f"type changed ({ref_type} -> {cur_type})"
    present = cur.present.get(name, 0)
    rows = cur.rows if cur_type is not None else 0
    ref_present = ref.present.get(name)
    new: list[tuple[str, int]] = []
    counts = cur.counts.get(name)
    ref_counts = ref.counts.get(name)
    if counts is not None and ref_type is not None:
        new = new_categories(counts, set(ref_counts or {}) | set(configured))
    finite = cur.finite.get(name)
    if counts is not None:
        distinct: int | None = len(counts)
    elif cur.low.get(name) is not None:
        distinct = 1 if cur.low[name] == cur.high[name] else 2
    else:
        distinct = 0 if cur_type is not None else None
    outside = cur.outside.get(name, 0)
    missing_share = _share(rows - present, rows)
    new_share = _share(sum(v for _, v in new), present) if counts is not None else None
    if status == OK:
        status = ", ".join(problems(missing_share, new_share, limits)) or OK
    return FeatureQuality(
        name,
        kind,
        ref_type,
        cur_type,
        status,
        rows,
        rows - present,
        missing_share,
        None if ref_present is None else _share(ref.rows - ref_present, ref.rows),
        0 if finite is None else present - finite,
        outside,
        _share(outside, finite or 0) if finite is not None else None,
        bounds,
        source,
        tuple(new[:MAX_NEW_CATEGORIES]),
        new_share,
        None if ref_counts is None else len(ref_counts),
        None if counts is None else len(counts),
        bool(present) and distinct == 1,
    )


def known_categories_of(
    reference: Profile, configured: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Categories of each categorical/binary reference feature, plus configured ones."""
    known: dict[str, tuple[str, ...]] = {}
    for name, side in reference.columns.items():
        if isinstance(side, CategoricalSide):
            extra = tuple((configured or {}).get(name, ()))
            known[name] = tuple(sorted(set(side.counts) | set(extra)))
    return known


@dataclass(frozen=True)
class NewCategoryShare:
    feature: str
    share: float | None
    """New values / values (None: no values)."""
    values: int
    new_values: int
    new: tuple[tuple[str, int], ...]
    """The most frequent new categories with their counts (at most MAX_NEW_CATEGORIES)."""


def new_category_shares(
    reference: Profile, current: Profile, configured: Mapping[str, Sequence[str]] | None = None
) -> tuple[NewCategoryShare, ...]:
    """Each categorical feature's new categories from two drift profiles (what the alert
    rule measures; the same definition as the report's `new_category_share`)."""
    known = known_categories_of(reference, configured)
    found = []
    for name, side in current.columns.items():
        if name in known and isinstance(side, CategoricalSide):
            new = new_categories(side.counts, known[name])
            count = sum(v for _, v in new)
            found.append(
                NewCategoryShare(
                    name,
                    _share(count, side.present),
                    side.present,
                    count,
                    tuple(new[:MAX_NEW_CATEGORIES]),
                )
            )
    return tuple(found)


Shares = tuple[float | None, ...]


def shares_over_time(
    totals: Sequence[int],
    present: Sequence[int],
    checked: Sequence[int | None],
    failed: Sequence[int | None],
    *,
    ranged: bool,
) -> tuple[Shares, Shares, Shares]:
    """One feature's (missing, out-of-range, new-category) shares per bucket, from its
    rows, values, values checked (finite values or values) and values that failed the
    check (outside the range when `ranged`, else not a known category)."""
    missing = tuple(_share(t - p, t) for t, p in zip(totals, present, strict=True))
    shares = tuple(
        None if c is None or f is None else _share(int(f), int(c))
        for c, f in zip(checked, failed, strict=True)
    )
    nothing = tuple(None for _ in totals)
    return (missing, shares, nothing) if ranged else (missing, nothing, shares)


def correlation_pairs(n: int) -> list[tuple[int, int]]:
    """The pairs (i < j) of `n` features whose correlation is computed."""
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def correlation_grid(
    n: int, values: Sequence[float | None]
) -> tuple[tuple[float | None, ...], ...]:
    """The symmetric matrix from the `correlation_pairs(n)` values: 1 on the diagonal,
    None where undefined (no pairs, a constant feature)."""
    grid: list[list[float | None]] = [[1.0 if i == j else None for j in range(n)] for i in range(n)]
    for (i, j), value in zip(correlation_pairs(n), values, strict=True):
        clean = None if value is None or not math.isfinite(value) else float(value)
        grid[i][j] = grid[j][i] = clean
    return tuple(tuple(row) for row in grid)
