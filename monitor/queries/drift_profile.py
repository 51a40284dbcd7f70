# ruff: noqa: S608  (SQL built from constants and the relation's safe aliases; values bound)
"""Drift profiles computed in DuckDB (the types and pure steps: monitor.metrics.drift.profile).

Per side: a count, then the numeric values (every finite value when the side has at most
`EXACT_LIMIT` rows, else a seeded reservoir sample of that many rows), then ONE
aggregate scan: per numeric feature counts, moments and, for large sides, the counts
over the reference decile bins (`histogram(x, edges)`); per categorical/binary feature
its category counts. A reference's decile edges come from its values (or sample), so
the reference needs no extra pass; its profile is cached per relation (file path +
mtime, or store version + window).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from monitor.core import tabular
from monitor.core.tabular import Relation, Runner, TabColumn
from monitor.core.tabular_reconcile import reconcile
from monitor.metrics.drift.bins import Floats
from monitor.metrics.drift.profile import (
    EXACT_LIMIT,
    SAMPLE_SEED,
    CategoricalSide,
    NumericSide,
    Profile,
    ReferenceProfile,
    Side,
    binned,
    confirm_kinds,
    current_kinds,
    reference_edges,
    reference_kinds,
    sorted_finite,
)
from monitor.metrics.drift.registry import Kind


def text_sql(column: TabColumn) -> str:
    """A column as canonical text (1.0 -> '1'), for category counts."""
    if column.sql_type == "DOUBLE":
        return f"monitor_number_text({column.alias})"
    return f"CAST({column.alias} AS VARCHAR)"


def finite_sql(alias: str) -> str:
    """A number column with NaN and infinity nulled."""
    return f"CASE WHEN isfinite({alias}) THEN {alias} END"


def bucket_sql(time_alias: str) -> str:
    """A row's time bucket start (`$b_width` / `$b_offset` in microseconds, see
    monitor.core.buckets)."""
    return (
        f"make_timestamptz((epoch_us({time_alias}) - $b_offset::BIGINT) "
        "// $b_width::BIGINT * $b_width::BIGINT + $b_offset::BIGINT)"
    )


def _sample_sql(relation: Relation, numeric: Sequence[TabColumn], exact: bool, extra: str) -> str:
    picks = [f"{finite_sql(c.alias)} AS {c.alias}" for c in numeric]
    sample = (
        "" if exact else f" USING SAMPLE reservoir({EXACT_LIMIT} ROWS) REPEATABLE ({SAMPLE_SEED})"
    )
    return f"SELECT {extra}{', '.join(picks)} FROM ({relation.sql}){sample}"


def _aggregates(
    numeric: Sequence[TabColumn],
    textual: Sequence[TabColumn],
    edges: Mapping[str, Floats] | None,
    params: dict[str, Any],
    moments: bool = True,
) -> list[str]:
    """Aggregates over `_projection`: NaN/inf nulled once per value, not per aggregate.
    Without `moments` (a current side: only the reference's std is used) mean and std are
    left out, which saves a third of the scan's work."""
    parts = ["count(*)"]
    for column in numeric:
        a = column.alias
        parts += [f"count(raw_{a})", f"count({a})"]
        parts += [f"avg({a})", f"stddev_pop({a})"] if moments else ["NULL", "NULL"]
        if edges is not None and column.name in edges:
            params[f"e_{a}"] = [float(e) for e in edges[column.name]]
            parts.append(f"histogram({a}, $e_{a})")
        else:
            parts.append("NULL")
    for column in textual:
        parts += [f"count({column.alias})", f"histogram({column.alias})"]
    return parts


def _projection(
    numeric: Sequence[TabColumn], textual: Sequence[TabColumn], source: str, extra: str = "1"
) -> str:
    picks = [f"{extra} AS bucket"]
    for column in numeric:
        a = column.alias
        picks += [f"{a} AS raw_{a}", f"{finite_sql(a)} AS {a}"]
    picks += [f"{text_sql(c)} AS {c.alias}" for c in textual]
    return f"(SELECT {', '.join(picks)} FROM ({source}))"


def _split(
    row: Sequence[Any],
    numeric: Sequence[TabColumn],
    textual: Sequence[TabColumn],
    values: Mapping[str, Floats],
    exact: bool,
    edges: Mapping[str, Floats],
) -> dict[str, Side]:
    """Sides from one aggregate row (after its leading count(*)) and the values."""
    columns: dict[str, Side] = {}
    i = 1
    for column in numeric:
        present, finite, mean, std, histogram = row[i : i + 5]
        i += 5
        column_values = values.get(column.name, np.empty(0))
        bins = binned(histogram, edges.get(column.name), column_values)
        columns[column.name] = NumericSide(
            int(present), int(finite), _float(mean), _float(std), column_values, exact, bins
        )
    for column in textual:
        present, counts = row[i], row[i + 1]
        i += 2
        found = {str(k): int(v) for k, v in (counts or {}).items()}
        columns[column.name] = CategoricalSide(int(present), found)
    return columns


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _types(relation: Relation) -> dict[str, str]:
    return {c.name: c.sql_type for c in relation.features}


def _split_kinds(
    columns: Sequence[TabColumn], kinds: Mapping[str, Kind]
) -> tuple[list[TabColumn], list[TabColumn]]:
    """Numeric features (read as numbers) and categorical/binary ones (counted as text).
    A numeric feature whose column is not numeric on this side is left out: its status
    is 'type changed'."""
    numeric = [c for c in columns if kinds.get(c.name) == "numeric" and c.sql_type == "DOUBLE"]
    textual = [c for c in columns if kinds.get(c.name) != "numeric"]
    return numeric, textual


def _fetch_values(
    runner: Runner, relation: Relation, numeric: Sequence[TabColumn], exact: bool
) -> dict[str, Floats]:
    raw = runner.fetch_arrays(_sample_sql(relation, numeric, exact, ""), relation.params)
    return {c.name: sorted_finite(raw.get(c.alias)) for c in numeric}


def _scan(
    runner: Runner,
    relation: Relation,
    kinds: Mapping[str, Kind],
    edges: Mapping[str, Floats],
    *,
    rows: int | None = None,
    values: Mapping[str, Floats] | None = None,
    moments: bool = True,
) -> Profile:
    numeric, textual = _split_kinds(relation.features, kinds)
    total = tabular.rows(runner, relation) if rows is None else rows
    exact = total <= EXACT_LIMIT
    if values is None:
        values = _fetch_values(runner, relation, numeric, exact) if numeric and total else {}
    params = dict(relation.params)
    parts = _aggregates(numeric, textual, None if exact else edges, params, moments)
    source = _projection(numeric, textual, relation.sql)
    row = runner.execute("SELECT " + ", ".join(parts) + " FROM " + source, params)[0]
    columns = _split(row, numeric, textual, values, exact, edges)
    return Profile(total, columns, _types(relation))


def profile_reference(runner: Runner, relation: Relation) -> ReferenceProfile:
    """Profile a reference: kinds detected (0/1 numbers from its values or sample), decile
    edges from its values or sample, then one aggregate scan. Cached per relation."""
    key = (relation.cache_key, relation.sql, tuple(sorted(relation.kinds.items())))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    rows = tabular.rows(runner, relation)
    doubles = [c for c in relation.features if c.sql_type == "DOUBLE"]
    values: dict[str, Floats] = {}
    if doubles and rows:
        values = _fetch_values(runner, relation, doubles, rows <= EXACT_LIMIT)
    kinds = reference_kinds(_types(relation), values, relation.kinds)
    edges = reference_edges(kinds, values)
    profile = _scan(runner, relation, kinds, edges, rows=rows, values=values)
    result = ReferenceProfile(profile, confirm_kinds(kinds, profile), edges)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def profile_current(runner: Runner, relation: Relation, reference: ReferenceProfile) -> Profile:
    """Profile the current side against a reference (its kinds and decile edges)."""
    kinds = current_kinds(_types(relation), reference, relation.kinds)
    return _scan(runner, relation, kinds, reference.edges, moments=False)


def profiles(
    runner: Runner, reference: Relation, current: Relation
) -> tuple[ReferenceProfile, Profile]:
    """Both sides' profiles (the reference's cached), over one type per column
    (`monitor.core.tabular_reconcile`; free when the pair is reconciled already)."""
    reference, current = reconcile(runner, reference, current)
    ref_profile = profile_reference(runner, reference)
    return ref_profile, profile_current(runner, current, ref_profile)


def profile_buckets(
    runner: Runner,
    relation: Relation,
    reference: ReferenceProfile,
    *,
    width_us: int,
    offset_us: int = 0,
) -> list[tuple[Any, Profile]]:
    """The current side per time bucket (fixed widths in UTC, as the traffic chart): one
    grouped scan for counts and bins, one sample of the whole window for the values."""
    if relation.time_alias is None:
        raise ValueError("the relation has no time column")
    kinds = current_kinds(_types(relation), reference, relation.kinds)
    numeric, textual = _split_kinds(relation.features, kinds)
    bucket = bucket_sql(relation.time_alias)
    params = dict(relation.params) | {"b_width": width_us, "b_offset": offset_us}
    total = tabular.rows(runner, relation)
    exact = total <= EXACT_LIMIT
    edges = dict(reference.edges)
    agg_params = dict(params)
    parts = _aggregates(numeric, textual, edges, agg_params, moments=False)
    source = _projection(numeric, textual, relation.sql, bucket)
    grouped = runner.execute(
        f"SELECT bucket, epoch_us(bucket), {', '.join(parts)} FROM {source} "
        "GROUP BY bucket ORDER BY bucket",
        agg_params,
    )
    raw: dict[str, Any] = {}
    if numeric and total:
        extra = f"epoch_us({bucket}) AS bucket, "
        raw = runner.fetch_arrays(_sample_sql(relation, numeric, exact, extra), params)
    keys = np.ma.filled(np.ma.asarray(raw.get("bucket", np.empty(0)), dtype=np.int64), -1)
    types = _types(relation)
    result: list[tuple[Any, Profile]] = []
    for start, start_us, *row in grouped:
        mask = keys == start_us
        values = {c.name: sorted_finite(np.ma.asarray(raw[c.alias])[mask]) for c in numeric if raw}
        columns = _split(row, numeric, textual, values, exact, edges)
        result.append((start, Profile(int(row[0]), columns, types)))
    return result


_CACHE: OrderedDict[tuple[Any, ...], ReferenceProfile] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE: Final = 16


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
