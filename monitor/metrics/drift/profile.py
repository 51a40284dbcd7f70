# ruff: noqa: S608  (SQL built from constants and the relation's safe aliases; values bound)
"""What drift needs to know about one side, computed in DuckDB: profiles.

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
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from monitor.core import tabular
from monitor.core.tabular import Relation, Runner, TabColumn
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


def detect_kind(column: TabColumn, zero_one: bool, override: str | None) -> Kind:
    """BOOLEAN -> binary, text -> categorical, numbers -> numeric, or binary when every
    value is 0/1. A kind from config (`feature_kinds`) wins."""
    if override in KINDS:
        return override
    if column.sql_type == "BOOLEAN":
        return "binary"
    if column.sql_type == "VARCHAR":
        return "categorical"
    return "binary" if zero_one else "numeric"


def _text(column: TabColumn) -> str:
    if column.sql_type == "DOUBLE":
        return f"monitor_number_text({column.alias})"
    return f"CAST({column.alias} AS VARCHAR)"


def _finite(alias: str) -> str:
    return f"CASE WHEN isfinite({alias}) THEN {alias} END"


def _count(runner: Runner, relation: Relation) -> int:
    return tabular.rows(runner, relation)


def _sample_sql(relation: Relation, numeric: Sequence[TabColumn], exact: bool, extra: str) -> str:
    picks = [f"{_finite(c.alias)} AS {c.alias}" for c in numeric]
    sample = (
        "" if exact else f" USING SAMPLE reservoir({EXACT_LIMIT} ROWS) REPEATABLE ({SAMPLE_SEED})"
    )
    return f"SELECT {extra}{', '.join(picks)} FROM ({relation.sql}){sample}"


def _values(raw: Any) -> Floats:
    if raw is None:
        return np.empty(0)
    array = np.ma.compressed(np.ma.asarray(raw)).astype(np.float64)
    array = array[np.isfinite(array)]
    array.sort()
    return array


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
        picks += [f"{a} AS raw_{a}", f"{_finite(a)} AS {a}"]
    picks += [f"{_text(c)} AS {c.alias}" for c in textual]
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
        column_edges = edges.get(column.name)
        bins = None
        if column_edges is not None and histogram is not None:
            known = {float(e) for e in column_edges}
            overflow = sum(n for k, n in histogram.items() if float(k) not in known)
            bins = np.array([histogram.get(float(e), 0) for e in column_edges] + [overflow], float)
        elif column_edges is not None:
            bins = bin_counts(column_values, column_edges).astype(np.float64)
        columns[column.name] = NumericSide(
            int(present),
            int(finite),
            _float(mean),
            _float(std),
            column_values,
            exact,
            bins,
        )
    for column in textual:
        present, counts = row[i], row[i + 1]
        i += 2
        found = {str(k): int(v) for k, v in (counts or {}).items()}
        columns[column.name] = CategoricalSide(int(present), found)
    return columns


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _split_kinds(
    columns: Sequence[TabColumn], kinds: Mapping[str, Kind]
) -> tuple[list[TabColumn], list[TabColumn]]:
    """Numeric features (read as numbers) and categorical/binary ones (counted as text).
    A numeric feature whose column is not numeric on this side is left out: its status
    is 'type changed'."""
    numeric = [c for c in columns if kinds.get(c.name) == "numeric" and c.sql_type == "DOUBLE"]
    textual = [c for c in columns if kinds.get(c.name) != "numeric"]
    return numeric, textual


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
    total = _count(runner, relation) if rows is None else rows
    exact = total <= EXACT_LIMIT
    if values is None:
        values = {}
        if numeric and total:
            raw = runner.fetch_arrays(_sample_sql(relation, numeric, exact, ""), relation.params)
            values = {c.name: _values(raw.get(c.alias)) for c in numeric}
    params = dict(relation.params)
    parts = _aggregates(numeric, textual, None if exact else edges, params, moments)
    source = _projection(numeric, textual, relation.sql)
    row = runner.execute("SELECT " + ", ".join(parts) + " FROM " + source, params)[0]
    columns = _split(row, numeric, textual, values, exact, edges)
    return Profile(total, columns, {c.name: c.sql_type for c in relation.features})


def profile_reference(runner: Runner, relation: Relation) -> ReferenceProfile:
    """Profile a reference: kinds detected (0/1 numbers from its values or sample), decile
    edges from its values or sample, then one aggregate scan. Cached per relation."""
    key = (relation.cache_key, relation.sql, tuple(sorted(relation.kinds.items())))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached
    rows = _count(runner, relation)
    exact = rows <= EXACT_LIMIT
    doubles = [c for c in relation.features if c.sql_type == "DOUBLE"]
    values: dict[str, Floats] = {}
    if doubles and rows:
        raw = runner.fetch_arrays(_sample_sql(relation, doubles, exact, ""), relation.params)
        values = {c.name: _values(raw.get(c.alias)) for c in doubles}
    kinds: dict[str, Kind] = {}
    for column in relation.features:
        seen = values.get(column.name, np.empty(0))
        zero_one = bool(seen.size) and bool(np.all((seen == 0) | (seen == 1)))
        kinds[column.name] = detect_kind(column, zero_one, relation.kinds.get(column.name))
    edges = {
        name: decile_edges(found)
        for name, found in values.items()
        if kinds[name] == "numeric" and found.size
    }
    profile = _scan(runner, relation, kinds, edges, rows=rows, values=values)
    for name, side in profile.columns.items():
        # A 0/1 guess from a sample that the full data contradicts: more than 2 values.
        if kinds[name] == "binary" and isinstance(side, CategoricalSide) and len(side.counts) > 2:
            kinds[name] = "categorical"
    result = ReferenceProfile(profile, kinds, edges)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def current_kinds(relation: Relation, reference: ReferenceProfile) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    for column in relation.features:
        kind = reference.kinds.get(column.name)
        kinds[column.name] = kind or detect_kind(column, False, relation.kinds.get(column.name))
    return kinds


def profile_current(runner: Runner, relation: Relation, reference: ReferenceProfile) -> Profile:
    """Profile the current side against a reference (its kinds and decile edges)."""
    kinds = current_kinds(relation, reference)
    return _scan(runner, relation, kinds, reference.edges, moments=False)


def profiles(
    runner: Runner, reference: Relation, current: Relation
) -> tuple[ReferenceProfile, Profile]:
    """Both sides' profiles (the reference's cached)."""
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
    numeric, textual = _split_kinds(relation.features, current_kinds(relation, reference))
    bucket = (
        f"make_timestamptz((epoch_us({relation.time_alias}) - $b_offset::BIGINT) "
        "// $b_width::BIGINT * $b_width::BIGINT + $b_offset::BIGINT)"
    )
    params = dict(relation.params) | {"b_width": width_us, "b_offset": offset_us}
    total = _count(runner, relation)
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
    types = {c.name: c.sql_type for c in relation.features}
    result: list[tuple[Any, Profile]] = []
    for start, start_us, *row in grouped:
        mask = keys == start_us
        values = {c.name: _values(np.ma.asarray(raw[c.alias])[mask]) for c in numeric if raw}
        columns = _split(row, numeric, textual, values, exact, edges)
        result.append((start, Profile(int(row[0]), columns, types)))
    return result


_CACHE: OrderedDict[tuple[Any, ...], ReferenceProfile] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE: Final = 16


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
