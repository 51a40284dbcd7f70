# ruff: noqa: S608  (SQL built from the relation's safe aliases; values bound as parameters)
"""Data quality of the current data against a reference: missing values, out-of-range
values, new categories, schema changes, constant features, cardinality, duplicates, and
the features' correlations. One aggregate scan per side; the current's missing shares per
time bucket in one grouped scan."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from monitor.core import tabular
from monitor.core.tabular import Relation, Runner, TabColumn
from monitor.metrics.drift.profile import CategoricalSide, profile_reference
from monitor.metrics.drift.registry import Kind

RangeSource = Literal["config", "reference"]
MAX_NEW_CATEGORIES: Final = 20


@dataclass(frozen=True)
class FeatureQuality:
    feature: str
    kind: Kind | None
    reference_type: str | None
    current_type: str | None
    status: str
    """ok, missing in current, not in reference, type changed (X -> Y)."""
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
class _Side:
    rows: int
    present: dict[str, int]
    finite: dict[str, int]
    low: dict[str, float | None]
    high: dict[str, float | None]
    outside: dict[str, int]
    counts: dict[str, dict[str, int]]


def _text(column: TabColumn) -> str:
    if column.sql_type == "DOUBLE":
        return f"monitor_number_text({column.alias})"
    return f"CAST({column.alias} AS VARCHAR)"


def _finite(alias: str) -> str:
    return f"CASE WHEN isfinite({alias}) THEN {alias} END"


def _scan(
    runner: Runner,
    relation: Relation,
    kinds: Mapping[str, Kind],
    ranges: Mapping[str, tuple[float, float]],
) -> _Side:
    numeric = [
        c for c in relation.features if kinds.get(c.name) == "numeric" and c.sql_type == "DOUBLE"
    ]
    textual = [c for c in relation.features if c not in numeric]
    params = dict(relation.params)
    parts = ["count(*)"]
    for column in numeric:
        f = _finite(column.alias)
        parts += [f"count({column.alias})", f"count({f})", f"min({f})", f"max({f})"]
        bounds = ranges.get(column.name)
        if bounds is None:
            parts.append("0")
        else:
            params[f"lo_{column.alias}"], params[f"hi_{column.alias}"] = bounds
            parts.append(
                f"count(*) FILTER (WHERE {f} < $lo_{column.alias} OR {f} > $hi_{column.alias})"
            )
    for column in textual:
        parts += [f"count({column.alias})", f"histogram({_text(column)})"]
    row = runner.execute(tabular.select_sql(parts, relation.sql), params)[0]
    side = _Side(int(row[0]), {}, {}, {}, {}, {}, {})
    i = 1
    for column in numeric:
        present, finite, low, high, outside = row[i : i + 5]
        i += 5
        side.present[column.name], side.finite[column.name] = int(present), int(finite)
        side.low[column.name], side.high[column.name] = low, high
        side.outside[column.name] = int(outside)
    for column in textual:
        side.present[column.name] = int(row[i])
        side.counts[column.name] = {str(k): int(v) for k, v in (row[i + 1] or {}).items()}
        i += 2
    return side


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def quality_report(
    runner: Runner,
    reference: Relation,
    current: Relation,
    *,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    invalid_records: int | None = None,
) -> QualityReport:
    """Quality of `current` against `reference`. Valid ranges come from `ranges` (config)
    or else the reference's min and max; known categories are the reference's plus
    `categories` (config)."""
    kinds = dict(profile_reference(runner, reference).kinds)
    configured = dict(ranges or {})
    ref_side = _scan(runner, reference, kinds, {})
    cur_kinds = {c.name: kinds.get(c.name, "categorical") for c in current.features}
    for column in current.features:
        if column.name not in kinds and column.sql_type == "DOUBLE":
            cur_kinds[column.name] = "numeric"
    effective: dict[str, tuple[float, float]] = {}
    sources: dict[str, RangeSource] = {}
    for name in cur_kinds:
        if name in configured:
            effective[name], sources[name] = configured[name], "config"
        elif ref_side.low.get(name) is not None and ref_side.high.get(name) is not None:
            effective[name] = (float(ref_side.low[name] or 0.0), float(ref_side.high[name] or 0.0))
            sources[name] = "reference"
    cur_side = _scan(runner, current, cur_kinds, effective)
    ref_types = {c.name: c.sql_type for c in reference.features}
    cur_types = {c.name: c.sql_type for c in current.features}
    features: list[FeatureQuality] = []
    for name in [*ref_types, *(n for n in cur_types if n not in ref_types)]:
        kind = kinds.get(name) or cur_kinds.get(name)
        known = (categories or {}).get(name, ())
        bounds, source = effective.get(name), sources.get(name)
        features.append(
            _feature(name, kind, ref_types, cur_types, ref_side, cur_side, bounds, source, known)
        )
    changes = tuple(
        (n, ref_types[n], cur_types[n])
        for n in ref_types
        if n in cur_types and ref_types[n] != cur_types[n]
    )
    return QualityReport(
        ref_side.rows,
        cur_side.rows,
        tuple(features),
        tuple(n for n in ref_types if n not in cur_types),
        tuple(n for n in cur_types if n not in ref_types),
        changes,
        duplicate_ids(runner, current),
        invalid_records,
    )


def _feature(
    name: str,
    kind: Kind | None,
    ref_types: Mapping[str, str],
    cur_types: Mapping[str, str],
    ref: _Side,
    cur: _Side,
    bounds: tuple[float, float] | None,
    source: RangeSource | None,
    configured: Sequence[str],
) -> FeatureQuality:
    ref_type, cur_type = ref_types.get(name), cur_types.get(name)
    status = "ok"
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
        known = set(ref_counts or {}) | set(configured)
        new = sorted(((k, v) for k, v in counts.items() if k not in known), key=lambda kv: -kv[1])
    finite = cur.finite.get(name)
    if counts is not None:
        distinct: int | None = len(counts)
    elif cur.low.get(name) is not None:
        distinct = 1 if cur.low[name] == cur.high[name] else 2
    else:
        distinct = 0 if cur_type is not None else None
    outside = cur.outside.get(name, 0)
    return FeatureQuality(
        name,
        kind,
        ref_type,
        cur_type,
        status,
        rows,
        rows - present,
        _share(rows - present, rows),
        None if ref_present is None else _share(ref.rows - ref_present, ref.rows),
        0 if finite is None else present - finite,
        outside,
        _share(outside, finite or 0) if finite is not None else None,
        bounds,
        source,
        tuple(new[:MAX_NEW_CATEGORIES]),
        _share(sum(v for _, v in new), present) if counts is not None else None,
        None if ref_counts is None else len(ref_counts),
        None if counts is None else len(counts),
        bool(present) and distinct == 1,
    )


def duplicate_ids(runner: Runner, relation: Relation) -> int | None:
    if relation.id_alias is None:
        return None
    ids = relation.id_alias
    sql = f"SELECT count({ids}) - count(DISTINCT {ids}) FROM ({relation.sql})"
    return int(runner.execute(sql, relation.params)[0][0])


def known_categories(
    runner: Runner, reference: Relation, configured: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Categories of each categorical/binary reference feature, plus configured ones."""
    profile = profile_reference(runner, reference).profile
    known: dict[str, tuple[str, ...]] = {}
    for name, side in profile.columns.items():
        if isinstance(side, CategoricalSide):
            extra = tuple((configured or {}).get(name, ()))
            known[name] = tuple(sorted(set(side.counts) | set(extra)))
    return known


def quality_over_time(
    runner: Runner,
    relation: Relation,
    *,
    width_us: int,
    offset_us: int = 0,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    known: Mapping[str, Sequence[str]] | None = None,
) -> QualityOverTime:
    """Missing, out-of-range and new-category shares per feature and time bucket (fixed
    UTC widths), in one grouped scan. `ranges` apply to numeric features, `known` (the
    known categories) to the others."""
    if relation.time_alias is None:
        raise ValueError("the relation has no time column")
    bucket = (
        f"make_timestamptz((epoch_us({relation.time_alias}) - $b_offset::BIGINT) "
        "// $b_width::BIGINT * $b_width::BIGINT + $b_offset::BIGINT)"
    )
    params: dict[str, Any] = dict(relation.params) | {"b_width": width_us, "b_offset": offset_us}
    parts = ["count(*)"]
    for column in relation.features:
        a = column.alias
        bounds = (ranges or {}).get(column.name)
        categories = (known or {}).get(column.name)
        if column.sql_type == "DOUBLE" and bounds is not None:
            params[f"lo_{a}"], params[f"hi_{a}"] = bounds
            f = _finite(a)
            parts += [f"count({a})", f"count({f})"]
            parts.append(f"count(*) FILTER (WHERE {f} < $lo_{a} OR {f} > $hi_{a})")
        elif categories is not None:
            params[f"known_{a}"] = list(categories)
            text = _text(column)
            parts += [f"count({a})", f"count({text})"]
            parts.append(f"count(*) FILTER (WHERE NOT list_contains($known_{a}, {text}))")
        else:
            parts += [f"count({a})", "NULL", "NULL"]
    sql = (
        f"SELECT {bucket} AS bucket, {', '.join(parts)} "
        f"FROM ({relation.sql}) GROUP BY bucket ORDER BY bucket"
    )
    rows = runner.execute(sql, params)
    starts = tuple(r[0] for r in rows)
    totals = tuple(int(r[1]) for r in rows)
    missing, outside, new = [], [], []
    for i, column in enumerate(relation.features):
        present = [int(r[2 + 3 * i]) for r in rows]
        base = [r[3 + 3 * i] for r in rows]
        odd = [r[4 + 3 * i] for r in rows]
        missing.append(tuple(_share(t - p, t) for t, p in zip(totals, present, strict=True)))
        shares = tuple(
            None if b is None or o is None else _share(int(o), int(b))
            for b, o in zip(base, odd, strict=True)
        )
        numeric = column.sql_type == "DOUBLE" and column.name in (ranges or {})
        outside.append(shares if numeric else tuple(None for _ in rows))
        new.append(tuple(None for _ in rows) if numeric else shares)
    names = tuple(c.name for c in relation.features)
    return QualityOverTime(starts, totals, names, tuple(missing), tuple(outside), tuple(new))


def correlations(runner: Runner, reference: Relation, current: Relation) -> Correlations:
    """Pearson correlation of every pair of numeric features both sides share."""
    kinds = profile_reference(runner, reference).kinds
    shared = [
        (c, found)
        for c in reference.features
        if kinds.get(c.name) == "numeric"
        and c.sql_type == "DOUBLE"
        and (found := current.feature(c.name)) is not None
        and found.sql_type == "DOUBLE"
    ]

    def matrix(
        relation: Relation, columns: list[TabColumn]
    ) -> tuple[tuple[float | None, ...], ...]:
        n = len(columns)
        if n == 0:
            return ()
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        exprs = [
            f"corr({_finite(columns[i].alias)}, {_finite(columns[j].alias)})" for i, j in pairs
        ]
        values: list[Any] = []
        if exprs:
            values = list(
                runner.execute(tabular.select_sql(exprs, relation.sql), relation.params)[0]
            )
        grid: list[list[float | None]] = [
            [1.0 if i == j else None for j in range(n)] for i in range(n)
        ]
        for (i, j), value in zip(pairs, values, strict=True):
            clean = None if value is None or not math.isfinite(value) else float(value)
            grid[i][j] = grid[j][i] = clean
        return tuple(tuple(row) for row in grid)

    return Correlations(
        tuple(c.name for c, _ in shared),
        matrix(reference, [c for c, _ in shared]),
        matrix(current, [f for _, f in shared]),
    )
