# ruff: noqa: S608  (SQL built only from constants and the relations' aliases; values are parameters)
"""Label-free estimates of a regression model's file (`monitor estimate --task regression`):
direct loss estimation (`estimation_regression`) from the model's inputs.

The features are every column no role names (label, prediction, ids, timestamp, ignored
columns), less the columns that look like identifiers (unless `keep_ids`) and the types
not analysed (dates, lists), with one type per column on both sides: the split of
`column_roles.split_columns`, as drift and data quality make it. The reference's rows
with a finite prediction and label fit the loss models (above REFERENCE_SAMPLE_ROWS, a
deterministic sample, in file order); each chunk of the current file is fetched on its
own, features, prediction and label only (`estimate_chunks`), and estimated; its
labeled rows give the realized MAE and RMSE. Rows without a finite prediction are left
out, with a warning.

Bad input ends in a one-line InputError: a label or prediction column that is not
numbers, a feature of the reference missing from the current file, a named column that
does not exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from monitor.core import tabular
from monitor.core.errors import InputError
from monitor.core.tabular import Relation, Runner, TabColumn
from monitor.metrics.performance.estimation_regression import (
    estimate_regression,
    fit_loss_model,
    realized_regression,
)
from monitor.queries import column_roles
from monitor.queries import estimate_chunks as chunked
from monitor.queries import estimate_inputs as inputs
from monitor.queries.column_roles import Excluded, RoleNames, TargetRole
from monitor.queries.estimate_types import Chunking, EstimateSpec, FileEstimate

if TYPE_CHECKING:
    import pandas as pd

NOTHING: Final = "no predictions, nothing to estimate"
FITTED: Final = "usable AND labeled"


def estimate_regression_files(
    runner: Runner,
    reference: Path,
    current: Path,
    spec: EstimateSpec,
    names: tuple[str | None, str | None],
) -> FileEstimate:
    """The regression estimate of `current` per chunk (module docstring)."""
    _check_flags(spec)
    ref_rel, cur_rel = _relations(runner, reference, current, spec, names)
    ref_rel, cur_rel, excluded = _features(runner, ref_rel, cur_rel, spec)
    features = ref_rel.features
    ref = _source(ref_rel, features, Chunking(), rows=0)
    cur = _source(cur_rel, features, spec.chunking, rows=tabular.rows(runner, cur_rel))
    cur_counts = _profile(runner, cur_rel, cur)
    columns = [*(f"f{i}" for i in range(len(features))), "prediction", "label"]
    fitted = chunked.reference_rows(runner, ref, columns, FITTED)
    model = fit_loss_model(_frame(fitted, features), fitted["prediction"], fitted["label"])
    warnings = [
        *model.warnings,
        *chunked.left_out(cur_rel.label, *cur_counts, "prediction", spec.current.timestamp),
    ]

    def one_chunk(found: dict[str, Any]) -> chunked.Found:
        predicted = np.asarray(found["prediction"], dtype=np.float64)
        frame = _frame(found, features)
        result = estimate_regression(frame, predicted, model, confidence=spec.confidence)
        labels = np.asarray(found["label"], dtype=np.float64)
        labeled = np.isfinite(labels)
        if not labeled.any():
            return result.metrics, None, result.warnings
        realized = realized_regression(predicted[labeled], labels[labeled])
        return result.metrics, (int(labeled.sum()), realized), result.warnings

    period = spec.chunking.period
    chunks = chunked.estimate_each(runner, cur, columns, period, one_chunk, NOTHING)
    files = ((ref_rel.label, tabular.rows(runner, ref_rel)), (cur_rel.label, cur_counts[0]))
    result = chunked.file_estimate(spec, "regression", "dle", files, chunks, cur.size, warnings)
    used = tuple(c.name for c in features)
    return dataclasses.replace(result, features=used, excluded=excluded)


def _check_flags(spec: EstimateSpec) -> None:
    if spec.roles.score is not None or spec.current.score is not None:
        raise InputError(
            "--score does not apply to regression: the loss model reads the features and the "
            "prediction (--prediction)"
        )
    if spec.positive is not None:
        raise InputError("--positive applies to binary models only")
    if spec.roles.prediction is None or spec.current.prediction is None:
        raise InputError("--prediction is required for regression: the predicted value column")


def _relations(
    runner: Runner,
    reference: Path,
    current: Path,
    spec: EstimateSpec,
    names: tuple[str | None, str | None],
) -> tuple[Relation, Relation]:
    """Both files with the label and the prediction as numeric targets; the named id,
    ignored and timestamp columns must exist."""
    pair = inputs.read_pair(runner, (reference, current), spec, names)
    for relation, roles in zip(pair, (spec.roles, spec.current), strict=True):
        left = RoleNames(ids=roles.ids, ignore=roles.ignore)
        if relation.time_alias is None and roles.timestamp is not None:
            left = dataclasses.replace(left, timestamp=roles.timestamp)
        column_roles.check_names(left, column_roles.column_names(relation), relation.label)
        for role in ("label", "prediction"):
            _numeric(relation, role)
    return pair


def _numeric(relation: Relation, role: TargetRole) -> None:
    column = relation.targets.get(role)
    if column is not None and column.sql_type != "DOUBLE":
        raise InputError(
            f"--{role}: column {column.name!r} of {relation.label} holds {column.source_type} "
            f"values: a regression {role} must be numbers"
        )


def _features(
    runner: Runner, reference: Relation, current: Relation, spec: EstimateSpec
) -> tuple[Relation, Relation, tuple[Excluded, ...]]:
    """Both relations with the reference's features only (one type per column on both
    sides), and the columns left out and why."""
    ref, cur = spec.roles, spec.current
    timestamps = list(dict.fromkeys(t for t in (cur.timestamp, ref.timestamp) if t is not None))
    left = RoleNames(
        ids=tuple(dict.fromkeys((*ref.ids, *cur.ids))),
        timestamp=timestamps[0] if timestamps else None,
        ignore=tuple(dict.fromkeys((*ref.ignore, *cur.ignore, *timestamps[1:]))),
    )
    untimed = dataclasses.replace(current, time_alias=None)
    reference, found, excluded = column_roles.split_columns(
        runner, reference, untimed, left, detect=not spec.keep_ids
    )
    current = dataclasses.replace(found, time_alias=current.time_alias)
    missing = [c.name for c in reference.features if current.feature(c.name) is None]
    if missing:
        shown = ", ".join(repr(n) for n in missing[:5]) + (", ..." * (len(missing) > 5))
        raise InputError(
            f"{current.label} lacks features of the reference: {shown} (the loss model needs "
            "the same inputs; --ignore leaves a column out)"
        )
    return reference, current, excluded


def _expression(column: TabColumn) -> str:
    """Booleans as 0/1 numbers: one numeric type whether or not a side has missing values."""
    return f"CAST({column.alias} AS DOUBLE)" if column.sql_type == "BOOLEAN" else column.alias


def _source(
    relation: Relation, features: Sequence[TabColumn], chunking: Chunking, *, rows: int
) -> chunked.RowSource:
    """Rows with the features (f0, f1, ...), prediction, label, `usable` (a finite
    prediction) and `labeled` (a finite label)."""
    targets = relation.targets
    by_name = {c.name: c for c in relation.features}
    label = targets["label"].alias if "label" in targets else "NULL::DOUBLE"
    prediction = targets["prediction"].alias
    expressions = {f"f{i}": _expression(by_name[c.name]) for i, c in enumerate(features)} | {
        "prediction": prediction,
        "label": label,
        "usable": f"coalesce(isfinite({prediction}), false)",
        "labeled": f"coalesce(isfinite({label}), false)",
    }
    return chunked.row_source(relation, expressions, chunking, rows)


def _profile(runner: Runner, relation: Relation, source: chunked.RowSource) -> tuple[int, int, int]:
    """(rows, rows with a finite prediction, rows without a time), in one scan."""
    row = runner.execute(
        "WITH " + source.ctes + " SELECT count(*), count(*) FILTER (WHERE usable), "
        "count(*) FILTER (WHERE timestamp IS NULL) FROM _file",
        source.params,
    )[0]
    untimed = int(row[2]) if relation.time_alias is not None else 0
    return int(row[0]), int(row[1]), untimed


def _frame(found: dict[str, Any], features: Sequence[TabColumn]) -> pd.DataFrame:
    """The fetched features as the loss model reads them: one column per feature."""
    import pandas as pd

    columns = {c.name: found[f"f{i}"] for i, c in enumerate(features)}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(found["prediction"])))
