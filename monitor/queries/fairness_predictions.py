"""The selection-rate input from the logs: a binary model's predictions per group, with
or without labels.

One GROUP BY over the `predictions` view (no label join: selection rates need no
labels) gives the distinct (keys, group values, prediction) cells with row counts and
weight sums; `monitor.metrics.fairness.selection` judges them. Sensitive features are
feature keys, the prediction is compared with the model's positive label, as in
`monitor.queries.fairness.log_slices`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig
from monitor.core.errors import InputError
from monitor.core.store import LogStore
from monitor.metrics.fairness.groups import check_binary
from monitor.metrics.fairness.selection import (
    PredictionCells,
    PredictionSlice,
    predictions_from_rows,
)
from monitor.queries import fairness_sql as queries
from monitor.queries.fairness import log_columns, log_params, unique


def prediction_slices(
    store: LogStore,
    model: ModelConfig,
    *,
    sensitive: Sequence[str],
    window: Window,
    versions: Sequence[str] = (),
    bucket: Bucket | None = None,
    by_version: bool = False,
) -> tuple[PredictionSlice, ...]:
    """The predictions of a binary model in a window, per time bucket and/or version."""
    if model.task != "binary":
        raise InputError(f"model {model.id!r} is {model.task}: selection rates need a binary model")
    features = unique(sensitive)
    columns = log_columns(store, model, features)
    params, keys = log_params(model, window, versions, bucket=bucket, by_version=by_version)
    positive = model.positive_label or "1"
    source, where = queries.PREDICTION_RELATION, queries.LOG_FILTER
    filter_params = {k: params[k] for k in ("model", "start", "end", "versions")}
    found = store.execute(
        queries.distinct_values(columns.prediction, source=source, where=where), filter_params
    )
    check_binary([v for (v,) in found], positive, "the prediction")
    rows = store.execute(
        queries.prediction_cells(columns, keys=keys, source=source, where=where), params
    )
    width = len(keys)
    split: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        split.setdefault(tuple(row[:width]), []).append(tuple(row[width:]))
    result: list[PredictionSlice] = []
    for key_values, part in split.items():
        values = list(key_values)
        start = values.pop(0) if bucket is not None else None
        version = values.pop(0) if by_version else None
        data = predictions_from_rows(features, part, positive=positive)
        result.append(PredictionSlice(bucket=start, version=version, data=data))
    return tuple(result)


def prediction_table(
    store: LogStore,
    model: ModelConfig,
    *,
    sensitive: Sequence[str],
    window: Window,
    versions: Sequence[str] = (),
) -> PredictionCells:
    """The predictions of a binary model in a window as one table."""
    slices = prediction_slices(store, model, sensitive=sensitive, window=window, versions=versions)
    if slices:
        return slices[0].data
    return PredictionCells(tuple(unique(sensitive)), (), (), (), ())
