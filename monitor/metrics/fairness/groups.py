"""The engine's input: a labeled table reduced to what fairness metrics need.

A binary table becomes its distinct (group, label, prediction) cells with row counts
and weight sums: every group metric, the summary and the bootstrap follow from these
exactly, so a table of millions of rows crosses into Python as a few hundred cells
(built by SQL GROUP BY in `monitor.queries.fairness`, or from arrays here). A
regression table becomes per-group sums of weights and absolute / squared errors.
Where the rows came from (a file, the logs, an upload) does not matter to the engine.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from monitor.core.errors import InputError
from monitor.core.schema import canonical_text
from monitor.metrics.fairness.rates import Task

if TYPE_CHECKING:  # pandas loads only for the array API (cells_from_arrays)
    import pandas as pd

MISSING: Final = "(missing)"
"""The group value of rows whose sensitive feature is missing (never dropped)."""

GroupKey = tuple[str, ...]


@dataclass(frozen=True)
class LabeledCells:
    """A binary labeled table as distinct cells. Rows without a label count in
    `unlabeled_rows`, labeled rows without a prediction in `skipped_rows`."""

    features: tuple[str, ...]
    groups: tuple[GroupKey, ...]
    label: tuple[bool, ...]
    """label == the positive label"""
    prediction: tuple[bool, ...]
    rows: tuple[int, ...]
    weight: tuple[float, ...]
    unlabeled_rows: int = 0
    skipped_rows: int = 0

    @property
    def task(self) -> Task:
        return "binary"

    @property
    def total_rows(self) -> int:
        return sum(self.rows)


@dataclass(frozen=True)
class RegressionSums:
    """A regression table as per-group sums (weights, weighted |error| and error²)."""

    features: tuple[str, ...]
    groups: tuple[GroupKey, ...]
    rows: tuple[int, ...]
    weight: tuple[float, ...]
    abs_error: tuple[float, ...]
    squared_error: tuple[float, ...]
    unlabeled_rows: int = 0
    skipped_rows: int = 0

    @property
    def task(self) -> Task:
        return "regression"

    @property
    def total_rows(self) -> int:
        return sum(self.rows)


GroupData = LabeledCells | RegressionSums


@dataclass(frozen=True)
class Slice:
    """The table of one time bucket and/or model version (None: not split that way)."""

    bucket: dt.datetime | None
    version: str | None
    data: GroupData


def group_label(group: Sequence[str]) -> str:
    """How a group is named on screen and in --reference-group: values joined by ' & '."""
    return " & ".join(group)


def group_value(value: Any) -> str:
    """A sensitive feature value as group text; None and NaN become MISSING."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return str(value)


def check_binary(values: Iterable[Any], positive: str, what: str) -> None:
    """Refuse a label (or prediction) column that is not binary around `positive`."""
    texts = sorted({t for t in (canonical_text(v) for v in values) if t is not None})
    shown = ", ".join(repr(t) for t in texts[:3]) + (", ..." if len(texts) > 3 else "")
    if len(texts) > 2:
        raise InputError(f"{what} is not binary: it has more than two values ({shown})")
    if len(texts) == 2 and positive not in texts:
        raise InputError(
            f"the positive label {positive!r} is not among the {what} values ({shown}); "
            "name it with --positive-label"
        )


def cells_from_rows(
    features: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    positive: str,
    thresholded: bool = False,
) -> LabeledCells:
    """Cells from (group values..., label, prediction, rows, weight) tuples (SQL output).

    Labels (and predictions, unless `thresholded`: then they are booleans score >=
    threshold) are raw values compared by canonical text with `positive`. A NULL label
    is unlabeled; a NULL prediction or weight is skipped."""
    width = len(features)
    merged: dict[tuple[GroupKey, bool, bool], tuple[int, float]] = {}
    unlabeled = skipped = 0
    for row in rows:
        group = tuple(group_value(v) for v in row[:width])
        label, prediction, n, weight = row[width : width + 4]
        label_text = canonical_text(label)
        if label_text is None:
            unlabeled += int(n)
            continue
        if prediction is None or weight is None:
            skipped += int(n)
            continue
        predicted = bool(prediction) if thresholded else canonical_text(prediction) == positive
        key = (group, label_text == positive, predicted)
        seen = merged.get(key, (0, 0.0))
        merged[key] = (seen[0] + int(n), seen[1] + float(weight))
    ordered = sorted(merged.items())
    return LabeledCells(
        features=tuple(features),
        groups=tuple(k[0] for k, _ in ordered),
        label=tuple(k[1] for k, _ in ordered),
        prediction=tuple(k[2] for k, _ in ordered),
        rows=tuple(v[0] for _, v in ordered),
        weight=tuple(v[1] for _, v in ordered),
        unlabeled_rows=unlabeled,
        skipped_rows=skipped,
    )


def cells_from_arrays(
    *,
    y_true: Any,
    sensitive_features: pd.DataFrame | Mapping[str, Any],
    y_pred: Any = None,
    score: Any = None,
    threshold: float | None = None,
    sample_weight: Any = None,
    positive_label: str = "1",
    task: Task = "binary",
) -> GroupData:
    """The engine input from arrays (the Python API; files and logs go through SQL).

    Give `y_pred`, or `score` with `threshold` (prediction = score >= threshold)."""
    import pandas as pd

    frame = pd.DataFrame(sensitive_features).reset_index(drop=True)
    features = tuple(str(c) for c in frame.columns)
    if not features:
        raise InputError("name at least one sensitive feature")
    groups = [frame[c].astype(object).map(group_value).tolist() for c in frame.columns]
    if (y_pred is None) == (score is None):
        raise InputError("give either a prediction or a score with a threshold")
    weight = np.ones(len(frame)) if sample_weight is None else np.asarray(sample_weight, float)
    if np.any(weight < 0):
        raise InputError("sample weights must not be negative")
    y = list(np.asarray(y_true, dtype=object))
    if task == "regression":
        truth = pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(float)
        predicted = pd.to_numeric(
            pd.Series(list(np.asarray(y_pred, dtype=object))), errors="coerce"
        )
        return _regression_from_arrays(features, groups, truth, predicted.to_numpy(float), weight)
    check_binary(y, positive_label, "the label")
    if score is not None:
        if threshold is None or not math.isfinite(threshold):
            raise InputError("a score needs a finite threshold")
        values = pd.to_numeric(pd.Series(list(np.asarray(score, dtype=object))), errors="coerce")
        prediction: list[Any] = [None if math.isnan(s) else bool(s >= threshold) for s in values]
    else:
        prediction = list(np.asarray(y_pred, dtype=object))
        check_binary(prediction, positive_label, "the prediction")
    rows = [
        (*values[:-3], values[-3], values[-2], 1, values[-1])
        for values in zip(*groups, y, prediction, weight, strict=True)
    ]
    return cells_from_rows(features, rows, positive=positive_label, thresholded=score is not None)


def _regression_from_arrays(
    features: tuple[str, ...],
    groups: list[list[str]],
    truth: np.ndarray,
    predicted: np.ndarray,
    weight: np.ndarray,
) -> RegressionSums:
    import pandas as pd

    frame = pd.DataFrame({f"g{i}": g for i, g in enumerate(groups)})
    valid = ~np.isnan(truth) & ~np.isnan(predicted)
    error = np.where(valid, predicted - truth, 0.0)
    frame["rows"] = valid.astype(int)
    frame["weight"] = np.where(valid, weight, 0.0)
    frame["abs_error"] = frame["weight"] * np.abs(error)
    frame["squared_error"] = frame["weight"] * error**2
    sums = frame.groupby([f"g{i}" for i in range(len(groups))], sort=True).sum()
    sums = sums[sums["rows"] > 0]
    keys = [k if isinstance(k, tuple) else (k,) for k in sums.index]
    return RegressionSums(
        features=features,
        groups=tuple(tuple(str(v) for v in k) for k in keys),
        rows=tuple(int(v) for v in sums["rows"]),
        weight=tuple(float(v) for v in sums["weight"]),
        abs_error=tuple(float(v) for v in sums["abs_error"]),
        squared_error=tuple(float(v) for v in sums["squared_error"]),
        unlabeled_rows=int(np.isnan(truth).sum()),
        skipped_rows=int((~np.isnan(truth) & np.isnan(predicted)).sum()),
    )


def sums_from_rows(features: Sequence[str], rows: Iterable[Sequence[Any]]) -> RegressionSums:
    """Sums from (group values..., rows, unlabeled, skipped, weight, |error|, error²)."""
    width = len(features)
    merged: dict[GroupKey, list[float]] = {}
    unlabeled = skipped = 0
    for row in rows:
        group = tuple(group_value(v) for v in row[:width])
        n, no_label, no_prediction, weight, abs_error, squared_error = row[width : width + 6]
        unlabeled += int(no_label)
        skipped += int(no_prediction)
        if int(n) == 0:
            continue
        seen = merged.setdefault(group, [0.0, 0.0, 0.0, 0.0])
        for i, value in enumerate((n, weight, abs_error, squared_error)):
            seen[i] += float(value)
    ordered = sorted(merged.items())
    return RegressionSums(
        features=tuple(features),
        groups=tuple(k for k, _ in ordered),
        rows=tuple(int(v[0]) for _, v in ordered),
        weight=tuple(v[1] for _, v in ordered),
        abs_error=tuple(v[2] for _, v in ordered),
        squared_error=tuple(v[3] for _, v in ordered),
        unlabeled_rows=unlabeled,
        skipped_rows=skipped,
    )
