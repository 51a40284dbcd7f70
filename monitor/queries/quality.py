# ruff: noqa: S608  (SQL built from the relation's safe aliases; values bound as parameters)
"""The counts data quality needs, from DuckDB (the results: monitor.metrics.quality): one
aggregate scan per side, duplicate prediction ids, the current's shares per time bucket
in one grouped scan, and pairwise correlations."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.core import tabular
from monitor.core.tabular import Relation, Runner, TabColumn
from monitor.metrics import quality
from monitor.metrics.drift.registry import Kind
from monitor.metrics.quality import Correlations, QualityOverTime, QualityReport, QualitySide
from monitor.queries.drift_profile import bucket_sql, finite_sql, profile_reference, text_sql


def _types(relation: Relation) -> dict[str, str]:
    return {c.name: c.sql_type for c in relation.features}


def _scan(
    runner: Runner,
    relation: Relation,
    kinds: Mapping[str, Kind],
    ranges: Mapping[str, tuple[float, float]],
) -> QualitySide:
    numeric = [
        c for c in relation.features if kinds.get(c.name) == "numeric" and c.sql_type == "DOUBLE"
    ]
    textual = [c for c in relation.features if c not in numeric]
    params = dict(relation.params)
    parts = ["count(*)"]
    for column in numeric:
        f = finite_sql(column.alias)
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
        parts += [f"count({column.alias})", f"histogram({text_sql(column)})"]
    row = runner.execute(tabular.select_sql(parts, relation.sql), params)[0]
    present: dict[str, int] = {}
    finite: dict[str, int] = {}
    low: dict[str, float | None] = {}
    high: dict[str, float | None] = {}
    outside: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    i = 1
    for column in numeric:
        name = column.name
        present[name], finite[name], low[name], high[name], outside[name] = row[i : i + 5]
        i += 5
    for column in textual:
        present[column.name] = int(row[i])
        counts[column.name] = {str(k): int(v) for k, v in (row[i + 1] or {}).items()}
        i += 2
    return QualitySide(
        int(row[0]),
        _types(relation),
        {k: int(v) for k, v in present.items()},
        {k: int(v) for k, v in finite.items()},
        low,
        high,
        {k: int(v) for k, v in outside.items()},
        counts,
    )


def quality_report(
    runner: Runner,
    reference: Relation,
    current: Relation,
    *,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    invalid_records: int | None = None,
    limits: quality.Limits = quality.DEFAULT_LIMITS,
) -> QualityReport:
    """Quality of `current` against `reference`. Valid ranges come from `ranges` (config)
    or else the reference's min and max; known categories are the reference's plus
    `categories` (config); `limits` decide each feature's status."""
    kinds = dict(profile_reference(runner, reference).kinds)
    ref_side = _scan(runner, reference, kinds, {})
    cur_kinds = quality.current_kinds(kinds, _types(current))
    valid, sources = quality.valid_ranges(list(cur_kinds), ref_side, ranges)
    cur_side = _scan(runner, current, cur_kinds, valid)
    report = quality.quality_from_sides(
        ref_side,
        cur_side,
        cur_kinds | kinds,
        ranges=valid,
        sources=sources,
        categories=categories,
        duplicate_ids=duplicate_ids(runner, current),
        invalid_records=invalid_records,
        limits=limits,
    )
    # Columns a reconciled pair left out as incomparable (monitor.core.tabular_reconcile)
    # are still a schema problem: a type change.
    found = tuple(
        (n.column, n.reference_type, n.current_type) for n in reference.schema if n.incomparable
    )
    return dataclasses.replace(report, type_changes=report.type_changes + found)


def duplicate_ids(runner: Runner, relation: Relation) -> int | None:
    """Predictions whose id appeared before in the relation (None: it has no ids)."""
    if relation.id_alias is None:
        return None
    ids = relation.id_alias
    sql = f"SELECT count({ids}) - count(DISTINCT {ids}) FROM ({relation.sql})"
    return int(runner.execute(sql, relation.params)[0][0])


def known_categories(
    runner: Runner, reference: Relation, configured: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """Categories of each categorical/binary reference feature, plus configured ones."""
    return quality.known_categories_of(profile_reference(runner, reference).profile, configured)


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
    params: dict[str, Any] = dict(relation.params) | {"b_width": width_us, "b_offset": offset_us}
    parts = ["count(*)"]
    for column in relation.features:
        parts += _checks(
            column, (ranges or {}).get(column.name), (known or {}).get(column.name), params
        )
    sql = (
        f"SELECT {bucket_sql(relation.time_alias)} AS bucket, {', '.join(parts)} "
        f"FROM ({relation.sql}) GROUP BY bucket ORDER BY bucket"
    )
    rows = runner.execute(sql, params)
    totals = tuple(int(r[1]) for r in rows)
    missing, outside, new = [], [], []
    for i, column in enumerate(relation.features):
        shares = quality.shares_over_time(
            totals,
            [int(r[2 + 3 * i]) for r in rows],
            [r[3 + 3 * i] for r in rows],
            [r[4 + 3 * i] for r in rows],
            ranged=column.sql_type == "DOUBLE" and column.name in (ranges or {}),
        )
        missing.append(shares[0])
        outside.append(shares[1])
        new.append(shares[2])
    names = tuple(c.name for c in relation.features)
    starts = tuple(r[0] for r in rows)
    return QualityOverTime(starts, totals, names, tuple(missing), tuple(outside), tuple(new))


def _checks(
    column: TabColumn,
    bounds: tuple[float, float] | None,
    categories: Sequence[str] | None,
    params: dict[str, Any],
) -> list[str]:
    """count(values), count(values checked), count(values failing the check): finite
    values outside `bounds` for numbers with a range, else values not among `categories`
    (NULL, NULL: nothing to check). Adds the bound values to `params`."""
    a = column.alias
    if column.sql_type == "DOUBLE" and bounds is not None:
        params[f"lo_{a}"], params[f"hi_{a}"] = bounds
        f = finite_sql(a)
        return [
            f"count({a})",
            f"count({f})",
            f"count(*) FILTER (WHERE {f} < $lo_{a} OR {f} > $hi_{a})",
        ]
    if categories is not None:
        params[f"known_{a}"] = list(categories)
        text = text_sql(column)
        return [
            f"count({a})",
            f"count({text})",
            f"count(*) FILTER (WHERE NOT list_contains($known_{a}, {text}))",
        ]
    return [f"count({a})", "NULL", "NULL"]


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
    return Correlations(
        tuple(c.name for c, _ in shared),
        _correlations(runner, reference, [c for c, _ in shared]),
        _correlations(runner, current, [f for _, f in shared]),
    )


def _correlations(
    runner: Runner, relation: Relation, columns: Sequence[TabColumn]
) -> tuple[tuple[float | None, ...], ...]:
    n = len(columns)
    exprs = [
        f"corr({finite_sql(columns[i].alias)}, {finite_sql(columns[j].alias)})"
        for i, j in quality.correlation_pairs(n)
    ]
    values: list[Any] = []
    if exprs:
        values = list(runner.execute(tabular.select_sql(exprs, relation.sql), relation.params)[0])
    return quality.correlation_grid(n, values)
