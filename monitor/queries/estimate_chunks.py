# ruff: noqa: S608  (SQL built only from constants and the relations' aliases; values are parameters)
"""A file's rows cut into chunks, fetched one chunk at a time with only the columns an
estimator needs (the multiclass and regression estimates work on rows: scores or
features), and the chunks' bounds and common warnings.

`row_source` gives CTE `_rows`: the file's rows in file order (`row_index` from 0), the
columns asked for under their own names, `timestamp`, and the chunk key in
`model_version` (the shape `estimate_inputs.chunk_extents` reads). On a FileDatabase that
projection is copied once into an in-memory DuckDB table (`materialized`), so that each
chunk's query reads only its rows instead of the file again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.config import Task
from monitor.core.tabular import FileDatabase, Relation, Runner
from monitor.metrics.intervals import Metric
from monitor.metrics.performance.groups import bucket_start
from monitor.queries import estimate_inputs as inputs
from monitor.queries import performance as sql
from monitor.queries.estimate_types import (
    DEFAULT_CHUNKS,
    ChunkEstimate,
    Chunking,
    EstimateSpec,
    FileEstimate,
    MetricEstimate,
)
from monitor.queries.performance_reference import REFERENCE_SAMPLE_ROWS

Realized = tuple[int, Mapping[str, float | None]]
"""A chunk's labeled rows and its realized metrics."""
Found = tuple[Mapping[str, Metric], Realized | None, Sequence[str]]
"""A chunk's estimated metrics, realized metrics (None: no labels) and warnings."""


@dataclass(frozen=True)
class RowSource:
    """CTEs ending in `_rows` (module docstring), their parameters, and the rows per
    chunk of chunks of rows."""

    ctes: str
    params: Mapping[str, Any]
    size: int


def row_source(
    relation: Relation, columns: Mapping[str, str], chunking: Chunking, rows: int
) -> RowSource:
    """`columns`: output name -> SQL over the relation's aliases. Chunks of
    `chunking.size` rows (default: DEFAULT_CHUNKS equal chunks of the file's `rows`), or
    per `chunking.period` of the relation's time (rows without one left out)."""
    size = chunking.size or max(1, math.ceil(rows / DEFAULT_CHUNKS))
    params: dict[str, Any] = dict(relation.params)
    if chunking.period is not None:
        chunk = sql.bucket_expression(chunking.period)
        params |= buckets.params(chunking.period)
    else:
        chunk = "row_index // $e_chunk_size"
        params["e_chunk_size"] = size
    selected = "".join(f", {expression} AS {name}" for name, expression in columns.items())
    ctes = (
        "_file AS (SELECT row_number() OVER () - 1 AS row_index, "
        + (relation.time_alias or "NULL::TIMESTAMPTZ")
        + " AS timestamp"
        + selected
        + " FROM ("
        + relation.sql
        + ")), _rows AS (SELECT *, CAST("
        + chunk
        + " AS VARCHAR) AS model_version FROM _file"
        + (" WHERE timestamp IS NOT NULL" if chunking.period is not None else "")
        + ")"
    )
    return RowSource(ctes, params, size)


@contextlib.contextmanager
def materialized(runner: Runner, source: RowSource) -> Iterator[RowSource]:
    """The source read once into a table (on a FileDatabase; elsewhere as it is),
    dropped afterwards."""
    if not isinstance(runner, FileDatabase):
        yield source
        return
    table = runner.materialize("WITH " + source.ctes + " SELECT * FROM _rows", source.params)
    try:
        yield RowSource(f"_rows AS (SELECT * FROM {table})", {}, source.size)
    finally:
        runner.execute("DROP TABLE IF EXISTS " + table)


def fetch(
    runner: Runner,
    source: RowSource,
    names: Sequence[str],
    where: str,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `names` columns of the `_rows` that satisfy `where`, in file order, as numpy
    arrays (missing values: NaN in numbers, None in text)."""
    found = runner.fetch_arrays(
        "WITH " + source.ctes + " SELECT " + ", ".join(names) + " FROM _rows WHERE " + where
        + " ORDER BY row_index",
        {**source.params, **(params or {})},
    )  # fmt: skip
    return {name: _filled(found[name]) for name in names}


def reference_rows(
    runner: Runner, source: RowSource, names: Sequence[str], where: str
) -> dict[str, Any]:
    """`fetch` of the rows a model is fitted on: all of them in file order, or a
    deterministic sample of REFERENCE_SAMPLE_ROWS (the rows with the smallest hash of their
    index, as the binary calibration's `file_calibrator`), still in file order."""
    sample = (
        "row_index IN (SELECT row_index FROM _rows WHERE " + where
        + " ORDER BY hash(row_index) LIMIT $e_rows)"
    )  # fmt: skip
    return fetch(runner, source, names, sample, {"e_rows": REFERENCE_SAMPLE_ROWS})


def _filled(values: Any) -> Any:
    """Masked (missing) entries as NaN in numbers, None in anything else."""
    if not isinstance(values, np.ma.MaskedArray):
        return np.asarray(values)
    numeric = values.dtype.kind in "fiu"
    found = np.array(values.data, dtype=np.float64 if numeric else object)
    found[np.ma.getmaskarray(values)] = np.nan if numeric else None
    return found


def bounds(
    key: str, first: int, last: int, period: Bucket | None
) -> tuple[int | dt.datetime, int | dt.datetime]:
    """A chunk's first and last row, or the start and (exclusive) end of its period."""
    if period is None:
        return int(first), int(last)
    start = bucket_start(int(key))
    assert start is not None
    return start, start + buckets.width(period)


def estimate_each(
    runner: Runner,
    source: RowSource,
    columns: Sequence[str],
    period: Bucket | None,
    estimate: Callable[[dict[str, Any]], Found],
    nothing: str,
) -> list[ChunkEstimate]:
    """Each chunk's `usable` rows fetched on their own (`columns`) and `estimate`d; a
    chunk without such rows gets the warning `nothing`."""
    chunks = []
    with materialized(runner, source) as rows:
        for index, extent in enumerate(extents(runner, rows)):
            found = fetch(
                runner, rows, columns, "model_version = $e_key AND usable", {"e_key": extent[0]}
            )
            if len(found[columns[0]]):
                chunks.append(chunk_estimate(index, extent, period, *estimate(found)))
            else:
                chunks.append(chunk_estimate(index, extent, period, {}, None, (nothing,)))
    return chunks


def file_estimate(
    spec: EstimateSpec,
    task: Task,
    method: str,
    files: tuple[tuple[str, int], tuple[str, int]],
    chunks: Sequence[ChunkEstimate],
    size: int,
    warnings: Sequence[str],
) -> FileEstimate:
    """The result of a row-level estimate (`files`: each file's name and rows); the
    warnings end with the short last chunk's."""
    return FileEstimate(
        task=task,
        method=method,
        confidence=spec.confidence,
        positive=None,
        prediction=spec.current.prediction,
        threshold=None,
        chunking=spec.chunking.describe(spec.current.timestamp, size),
        reference=files[0],
        current=files[1],
        chunks=tuple(chunks),
        warnings=(*warnings, *chunk_warnings(chunks, spec.chunking, size)),
    )


def chunk_estimate(
    index: int,
    extent: tuple[str, int, int, int],
    period: Bucket | None,
    found: Mapping[str, Metric],
    realized: Realized | None,
    warnings: Sequence[str],
) -> ChunkEstimate:
    """One chunk (`extent`: key, rows, first and last row index) with its estimated
    metrics and, when it has labeled rows, (their count, the realized values)."""
    key, count, first, last = extent
    start, end = bounds(key, first, last, period)
    labeled, values = realized if realized is not None else (0, {})
    metrics = {
        name: MetricEstimate(metric.value, metric.low, metric.high, values.get(name))
        for name, metric in found.items()
    }
    return ChunkEstimate(index, start, end, count, labeled, metrics, tuple(warnings))


def chunk_warnings(chunks: Sequence[ChunkEstimate], chunking: Chunking, size: int) -> list[str]:
    """A last chunk of rows shorter than the others has wider bands."""
    if chunking.period is None and len(chunks) > 1 and chunks[-1].rows < size:
        return [
            f"the last chunk holds {chunks[-1].rows:,} rows (the others {size:,}): its bands "
            "are wider"
        ]
    return []


def extents(runner: Runner, source: RowSource) -> list[tuple[str, int, int, int]]:
    """(chunk key, rows, first and last row index) of each chunk, in file order."""
    return inputs.chunk_extents(runner, source.ctes, dict(source.params))


def left_out(
    where: str, rows: int, usable: int, untimed: int, what: str, column: str | None
) -> list[str]:
    """Warnings about the current file's rows the estimate leaves out: `rows - usable`
    without `what`, `untimed` without a time in `column`."""
    found = []
    if usable < rows:
        found.append(
            f"{rows - usable:,} of {rows:,} rows of {where} have no {what}: left out of the "
            "estimates"
        )
    if untimed:
        found.append(f"{untimed:,} rows of {where} have no time in {column!r}: left out")
    return found
