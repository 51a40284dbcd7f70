"""Where the fairness engine's labeled table comes from: a data file or the logs.

Both are reduced in DuckDB to the engine's input (`fairness_input`): distinct cells for
binary tasks, per-group error sums for regression, so no raw rows cross into Python.

- A file (CSV, Parquet, JSONL; optionally .gz/.zst compressed) is read by DuckDB
  (read_csv_auto / read_parquet / read_json_auto) in a connection of its own; only the
  named columns are copied into a temporary table, through quoted identifiers.
- The logs: the `labeled` view of the store for one model and time window (rows without
  a label count as unlabeled and are not judged). The label is the `label` column, the
  prediction the `prediction` column, both compared with the model's positive label;
  sensitive features are feature keys (columns "features.<key>"). Optionally split per
  time bucket and per model version, still one GROUP BY.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import duckdb

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig
from monitor.core.errors import InputError
from monitor.core.store import LogStore
from monitor.metrics.fairness.groups import (
    GroupData,
    LabeledCells,
    Slice,
    cells_from_rows,
    check_binary,
    sums_from_rows,
)
from monitor.metrics.fairness.rates import Task
from monitor.queries import fairness_sql as queries
from monitor.queries.features import logged_features

READERS: Final = {
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".txt": "read_csv_auto",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
    ".jsonl": "read_json_auto",
    ".ndjson": "read_json_auto",
    ".json": "read_json_auto",
}
COMPRESSION: Final = (".gz", ".zst")
NUMERIC_TYPES: Final = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")

Run = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


def unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def reader_for(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSION:
        suffixes.pop()
    if not suffixes or suffixes[-1] not in READERS:
        raise InputError(
            f"cannot tell the format of {path.name}: use a .csv, .parquet or .jsonl file"
        )
    return READERS[suffixes[-1]]


@dataclass(frozen=True)
class FileTarget:
    """What a data file's rows are judged on (the options of `load_file`)."""

    label: str
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    weight: str | None = None
    task: Task = "binary"
    positive_label: str = "1"


def load_file(
    path: Path,
    *,
    label: str,
    sensitive: Sequence[str],
    prediction: str | None = None,
    score: str | None = None,
    threshold: float | None = None,
    weight: str | None = None,
    task: Task = "binary",
    positive_label: str = "1",
) -> GroupData:
    """The engine input from a data file (see the module docstring): one group per
    combination of the sensitive columns' values."""
    sensitive = unique(sensitive)
    target = FileTarget(label, prediction, score, threshold, weight, task, positive_label)
    return _file_tables(path, target, sensitive, [sensitive])[0]


def load_file_by_attribute(
    path: Path, target: FileTarget, sensitive: Sequence[str]
) -> dict[str, GroupData]:
    """Per sensitive column, the engine input grouped by that column alone (each equal
    to `load_file` with only that column), from one read of the file."""
    sensitive = unique(sensitive)
    tables = _file_tables(path, target, sensitive, [[name] for name in sensitive])
    return dict(zip(sensitive, tables, strict=True))


def _file_tables(
    path: Path, target: FileTarget, sensitive: list[str], groupings: Sequence[Sequence[str]]
) -> list[GroupData]:
    """One table per grouping (a list of sensitive columns) from one copy of the file."""
    prediction, score, threshold, task = (
        target.prediction,
        target.score,
        target.threshold,
        target.task,
    )
    if not sensitive:
        raise InputError("name at least one sensitive feature")
    if (prediction is None) == (score is None):
        raise InputError("give --prediction COL, or --score COL with --threshold T")
    if score is not None and task == "binary":
        if threshold is None or not math.isfinite(threshold):
            raise InputError("--score needs a finite --threshold")
    elif threshold is not None:
        raise InputError("--threshold applies only to a --score of a binary task")
    if not path.is_file():
        raise InputError(f"{path} is not a file")
    reader = reader_for(path)
    weight = target.weight
    con = duckdb.connect(":memory:")
    try:
        params: dict[str, Any] = {"path": str(path)}
        types = _describe(con, reader, path)
        output = prediction if prediction is not None else str(score)
        needed = unique([target.label, output, *sensitive, *([weight] if weight else [])])
        for name in needed:
            if name not in types:
                shown = ", ".join(repr(c) for c in list(types)[:20])
                raise InputError(f"column {name!r} not found in {path.name} (columns: {shown})")
        if score is not None and types[score] not in NUMERIC_TYPES:
            raise InputError(f"score column {score!r} is not numeric ({types[score]})")
        try:
            con.execute(queries.file_table(reader, needed), params)
        except duckdb.Error as exc:
            raise InputError(f"cannot read {path.name}: {_first_line(exc)}") from None
        if not con.execute(queries.count_rows(queries.FILE_TABLE)).fetchall()[0][0]:
            raise InputError(f"{path.name} has no rows")
        if weight is not None:
            bad = con.execute(queries.bad_weights(queries.column(weight))).fetchall()[0][0]
            if bad:
                raise InputError(f"weight column {weight!r} has {bad} missing or negative values")

        def run(sql: str, bound: dict[str, Any]) -> list[tuple[Any, ...]]:
            return con.execute(sql, bound).fetchall()

        extra = {"threshold": threshold} if score is not None and task == "binary" else {}
        tables: list[GroupData] = []
        for features in groupings:
            columns = queries.Columns(
                groups=tuple(queries.column(s) for s in features),
                label=queries.column(target.label),
                prediction=(
                    queries.thresholded(queries.column(output))
                    if score is not None and task == "binary"
                    else queries.column(output)
                ),
                weight=queries.number(queries.column(weight)) if weight else "1.0",
            )
            slices = _reduce(
                run,
                columns,
                features,
                task=task,
                positive=target.positive_label,
                thresholded=score is not None,
                source=queries.FILE_TABLE,
                where="",
                params=extra,
                keys=(),
            )
            tables.append(slices[0][1] if slices else _empty(features, task))
        return tables
    finally:
        con.close()


def log_slices(
    store: LogStore,
    model: ModelConfig,
    *,
    sensitive: Sequence[str],
    window: Window,
    versions: Sequence[str] = (),
    bucket: Bucket | None = None,
    by_version: bool = False,
) -> tuple[Slice, ...]:
    """The labeled predictions of a model in a window, per time bucket and/or version."""
    sensitive = unique(sensitive)
    columns = log_columns(store, model, sensitive)
    params, keys = log_params(model, window, versions, bucket=bucket, by_version=by_version)
    reduced = _reduce(
        store.execute,
        columns,
        sensitive,
        task=model.task,
        positive=model.positive_label or "1",
        thresholded=False,
        source=queries.LOG_RELATION,
        where=queries.LOG_FILTER,
        params=params,
        keys=keys,
    )
    result: list[Slice] = []
    for key_values, data in reduced:
        values = list(key_values)
        start = values.pop(0) if bucket is not None else None
        version = values.pop(0) if by_version else None
        result.append(Slice(bucket=start, version=version, data=data))
    return tuple(result)


def log_columns(store: LogStore, model: ModelConfig, sensitive: Sequence[str]) -> queries.Columns:
    """The log columns of the sensitive features (keys), the label and the prediction;
    InputError for no feature, an unknown one or a multiclass model."""
    if not sensitive:
        raise InputError("name at least one sensitive feature")
    if model.task == "multiclass":
        raise InputError(
            f"model {model.id!r} is multiclass: fairness supports binary and regression"
        )
    available = {f.key: f.column for f in store.features}
    for key in sensitive:
        if key not in available:
            shown = ", ".join(repr(k) for k in list(available)[:20])
            raise InputError(f"feature {key!r} not found in the logs (features: {shown})")
    binary = model.task == "binary"
    return queries.Columns(
        groups=tuple(queries.column(available[s]) for s in sensitive),
        label=queries.column("label" if binary else "label_value"),
        prediction=queries.column("prediction" if binary else "prediction_value"),
    )


def log_params(
    model: ModelConfig,
    window: Window,
    versions: Sequence[str],
    *,
    bucket: Bucket | None,
    by_version: bool,
) -> tuple[dict[str, Any], list[str]]:
    """The parameters of `queries.LOG_FILTER` (and of the bucket key) and the split keys."""
    params: dict[str, Any] = {
        "model": model.id,
        "start": window.start,
        "end": window.end,
        "versions": list(versions) or None,
    }
    keys: list[str] = []
    if bucket is not None:
        keys.append(queries.BUCKET_KEY)
        params |= buckets.params(bucket)
    if by_version:
        keys.append(queries.VERSION_KEY)
    return params, keys


def log_table(
    store: LogStore,
    model: ModelConfig,
    *,
    sensitive: Sequence[str],
    window: Window,
    versions: Sequence[str] = (),
) -> GroupData:
    """The labeled predictions of a model in a window as one table."""
    slices = log_slices(store, model, sensitive=sensitive, window=window, versions=versions)
    task: Task = "regression" if model.task == "regression" else "binary"
    return slices[0].data if slices else _empty(unique(sensitive), task)


def _reduce(
    run: Run,
    columns: queries.Columns,
    features: Sequence[str],
    *,
    task: Task | str,
    positive: str,
    thresholded: bool,
    source: str,
    where: str,
    params: dict[str, Any],
    keys: Sequence[str],
) -> list[tuple[tuple[Any, ...], GroupData]]:
    """Check the label (and prediction) are binary, run the GROUP BY, split by keys."""
    key_exprs = list(keys)
    filter_params = {k: v for k, v in params.items() if k in ("model", "start", "end", "versions")}
    if task == "binary":
        values = run(
            queries.distinct_values(columns.label, source=source, where=where), filter_params
        )
        check_binary([v for (v,) in values], positive, "the label")
        if not thresholded:
            values = run(
                queries.distinct_values(columns.prediction, source=source, where=where),
                filter_params,
            )
            check_binary([v for (v,) in values], positive, "the prediction")
        rows = run(
            queries.binary_cells(columns, keys=key_exprs, source=source, where=where), params
        )
    else:
        numeric = queries.Columns(
            columns.groups,
            queries.number(columns.label),
            queries.number(columns.prediction),
            columns.weight,
        )
        rows = run(
            queries.regression_sums(numeric, keys=key_exprs, source=source, where=where), params
        )
    width = len(key_exprs)
    split: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        split.setdefault(tuple(row[:width]), []).append(tuple(row[width:]))
    result: list[tuple[tuple[Any, ...], GroupData]] = []
    for key, part in split.items():
        data: GroupData = (
            cells_from_rows(features, part, positive=positive, thresholded=thresholded)
            if task == "binary"
            else sums_from_rows(features, part)
        )
        result.append((key, data))
    return result


def _empty(features: Sequence[str], task: Task) -> GroupData:
    if task == "regression":
        return sums_from_rows(features, [])
    return LabeledCells(tuple(features), (), (), (), (), ())


def _describe(con: duckdb.DuckDBPyConnection, reader: str, path: Path) -> dict[str, str]:
    """{column: DuckDB type} of a data file, in file order."""
    try:
        described = con.execute(queries.describe_file(reader), {"path": str(path)}).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"cannot read {path.name}: {_first_line(exc)}") from None
    return {str(row[0]): str(row[1]) for row in described}


def file_columns(path: Path) -> list[str]:
    """The column names of a data file, as `load_file` reads it."""
    if not path.is_file():
        raise InputError(f"{path} is not a file")
    reader = reader_for(path)
    con = duckdb.connect(":memory:")
    try:
        return list(_describe(con, reader, path))
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def model_features(store: LogStore, model_id: str) -> tuple[tuple[str, str], ...]:
    """(feature key, SQL type) of the features a model logged at least once: the choices
    for a sensitive feature, categorical (VARCHAR, BOOLEAN) first."""
    found = [(f.key, f.sql_type) for f in logged_features(store, model_id)]
    return tuple(sorted(found, key=lambda f: (f[1] == "DOUBLE", f[0])))
