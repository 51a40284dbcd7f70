# ruff: noqa: S608  (SQL built only from constants and the relations' SELECTs; values are parameters)
"""The two files of a label-free estimate, read and checked (monitor.queries.estimate_files).

A file is a relation (`tabular.file_relation`) whose label, score and prediction columns
are its targets. `file_cte` gives its rows in file order (`row_index` from 0, DuckDB's
streaming `row_number() OVER ()` keeps the scan order) under uniform names; `rows_source`
shapes them like the logs' rows (`performance.window_rows`) with the chunk key in
`model_version`. Every check ends in an InputError naming the flag, the column and the
file: a missing column, scores that are not numbers in [0, 1], a reference label with one
outcome (or more than two).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from monitor.core import buckets, tabular
from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.errors import InputError
from monitor.core.tabular import Relation, Runner
from monitor.metrics.performance.estimation import Calibrator, Method, sample_calibrator
from monitor.queries import performance as sql
from monitor.queries.column_roles import (
    NO_COLUMN,
    RoleNames,
    TargetRole,
    column_names,
    unknown_column,
)
from monitor.queries.estimate_types import EstimateSpec
from monitor.queries.performance_reference import REFERENCE_SAMPLE_ROWS

POSITIVE_GUESSES: Final = ("1", "true", "yes", "positive")
"""Label values taken as the positive outcome when none is named."""


@dataclass(frozen=True)
class FileSide:
    """One file as read: its relation, the columns its roles name, and its counts."""

    relation: Relation
    roles: RoleNames
    rows: int
    scored: int
    labeled: int
    untimed: int
    """Rows without a time (0 unless read with its time column)."""

    @property
    def where(self) -> str:
        return self.relation.label


def open_side(
    runner: Runner, path: Path, roles: RoleNames, *, time: bool = False, name: str | None = None
) -> FileSide:
    """The file with the roles' columns as targets and, with `time`, the timestamp
    role's column as its time; counted in one scan (scores must be in [0, 1]). `name`:
    what to call it (default: its path)."""
    model = ModelConfig(
        id="files",
        label_column=roles.label or NO_COLUMN,
        prediction_column=roles.prediction or NO_COLUMN,
        score_column=roles.score,
    )
    time_column = roles.timestamp if time else None
    return _profile(runner, read_file(runner, path, model, time=time_column, name=name), roles)


def read_pair(
    runner: Runner,
    paths: tuple[Path, Path],
    spec: EstimateSpec,
    names: tuple[str | None, str | None],
) -> tuple[Relation, Relation]:
    """Both files of a row-level estimate (multiclass, regression), each with its roles'
    label and prediction as targets (text for classes, numbers as read for regression),
    the current one timed when chunked by time; the prediction must be in both (when
    named), the label in the reference."""
    found = []
    timed = spec.current.timestamp if spec.chunking.period is not None else None
    for path, roles, name, time in (
        (paths[0], spec.roles, names[0], None),
        (paths[1], spec.current, names[1], timed),
    ):
        model = ModelConfig(
            id="files",
            task=spec.task,
            label_column=roles.label or NO_COLUMN,
            prediction_column=roles.prediction or NO_COLUMN,
            score_column=None,
        )
        relation = read_file(runner, path, model, time=time, name=name)
        require_target(relation, "prediction", roles.prediction)
        found.append(relation)
    require_target(found[0], "label", spec.roles.label)
    return found[0], found[1]


def read_file(
    runner: Runner, path: Path, model: ModelConfig, *, time: str | None, name: str | None
) -> Relation:
    """The file read with the model's label, prediction and score columns as targets and,
    with `time`, that column as its time (which must hold dates or times); called `name`
    in messages (default: its path)."""
    relation = tabular.file_relation(runner, path, model=model)
    label = relation.label if name is None else name
    if time is not None:
        _check_time(dataclasses.replace(relation, label=label), time)
        relation = tabular.file_relation(runner, path, model=model, time=time)
    return dataclasses.replace(relation, label=label)


def _check_time(relation: Relation, name: str) -> None:
    """The time column must be dates, times, or text (read as times where it is)."""
    types = {c.name: c.source_type for c in relation.features} | dict(relation.unsupported)
    if name not in types:
        raise unknown_column("--chunk-by", name, column_names(relation), relation.label)
    found = types[name].upper()
    if not (found.startswith(("TIMESTAMP", "DATE")) or found == "VARCHAR"):
        raise InputError(
            f"--chunk-by: column {name!r} of {relation.label} holds {types[name]} values, "
            "not dates or times"
        )


def require(side: FileSide, role: TargetRole) -> None:
    """The role's column must be in the file (when the role names one)."""
    require_target(side.relation, role, side.roles.target(role))


def require_target(relation: Relation, role: TargetRole, name: str | None) -> None:
    """The column `name` (when not None) must be the relation's `role` target."""
    if name is not None and role not in relation.targets:
        raise unknown_column("--" + role, name, column_names(relation), relation.label)


def _profile(runner: Runner, relation: Relation, roles: RoleNames) -> FileSide:
    score = relation.targets.get("score")
    if score is not None and score.sql_type != "DOUBLE":
        raise InputError(
            f"--score: column {score.name!r} of {relation.label} holds {score.source_type} "
            "values, not numbers in [0, 1]"
        )
    found = runner.execute(
        "WITH " + file_cte(relation) + " SELECT count(*), count(score), "
        "count(*) FILTER (WHERE score < 0 OR score > 1 OR isnan(score)), min(score), "
        "max(score), count(label), count(*) FILTER (WHERE timestamp IS NULL) FROM _file",
        relation.params,
    )[0]
    rows, scored, outside, low, high, labeled, untimed = found
    if outside:
        assert score is not None
        raise InputError(
            f"--score: {outside:,} values of column {score.name!r} in {relation.label} are "
            f"outside [0, 1] (min {low:g}, max {high:g}): scores must be probabilities"
        )
    untimed = untimed if relation.time_alias is not None else 0
    return FileSide(relation, roles, int(rows), int(scored), int(labeled), int(untimed))


def file_cte(relation: Relation) -> str:
    """`_file`: the relation's rows in file order (`row_index`), as score, label,
    predicted (the prediction column's value) and timestamp (NULL where absent)."""
    targets = relation.targets

    def column(role: tabular.Role, cast: str) -> str:
        return targets[role].alias if role in targets else f"NULL::{cast}"

    return (
        "_file AS (SELECT row_number() OVER () - 1 AS row_index, "
        + column("score", "DOUBLE")
        + " AS score, "
        + column("label", "VARCHAR")
        + " AS label, "
        + column("prediction", "VARCHAR")
        + " AS predicted, "
        + (relation.time_alias or "NULL::TIMESTAMPTZ")
        + " AS timestamp FROM ("
        + relation.sql
        + "))"
    )


def values(runner: Runner, side: FileSide, column: str, limit: int = 3) -> list[str]:
    """The most frequent values of `_file`'s `column` (label or predicted), at most `limit`."""
    found = runner.execute(
        "WITH " + file_cte(side.relation) + f" SELECT {column} FROM _file "
        f"WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT $e_limit",
        {**side.relation.params, "e_limit": limit},
    )
    return [str(row[0]) for row in found]


def outcomes(runner: Runner, side: FileSide, given: str | None) -> tuple[str, str]:
    """(positive, negative): the reference's two label values, the positive one `given`
    (the same text, or the same number: 1.0 is 1) or guessed (POSITIVE_GUESSES)."""
    name = side.roles.label
    found = values(runner, side, "label")
    if len(found) < 2:
        shown = f" ({found[0]!r})" if found else ""
        raise InputError(
            f"--label: column {name!r} of {side.where} holds one outcome{shown}: the "
            "calibration needs labels of both outcomes"
        )
    if len(found) > 2:
        raise InputError(
            f"--label: column {name!r} of {side.where} holds more than two values "
            f"({', '.join(repr(v) for v in found)}, ...): binary estimates need two"
        )
    if given is not None:
        match = [v for v in found if v == given or _same_number(v, given)]
        if not match:
            raise InputError(
                f"--positive {given!r} is not a value of column {name!r} in {side.where} "
                f"({found[0]!r}, {found[1]!r})"
            )
    else:
        match = [v for v in found if v.casefold() in POSITIVE_GUESSES]
        if not match:
            raise InputError(
                f"--positive: which value of column {name!r} is the positive outcome, "
                f"{found[0]!r} or {found[1]!r}?"
            )
    return match[0], next(v for v in found if v != match[0])


def _same_number(text: str, other: str) -> bool:
    try:
        return float(text) == float(other)
    except ValueError:
        return False


def file_calibrator(
    runner: Runner, side: FileSide, positive: str, method: Method, threshold: float = 0.5
) -> Calibrator:
    """Fitted on up to REFERENCE_SAMPLE_ROWS (score, label, prediction) rows of the file:
    the rows with the smallest hash of their row index, as `performance.reference_sample`
    does (without a prediction column: positive when score >= `threshold`)."""
    pairs = runner.execute(
        "WITH " + file_cte(side.relation) + " SELECT score, label, predicted FROM _file "
        "WHERE score IS NOT NULL AND label IS NOT NULL ORDER BY hash(row_index) LIMIT $e_rows",
        {**side.relation.params, "e_rows": REFERENCE_SAMPLE_ROWS},
    )
    found = sample_calibrator(pairs, positive, method=method, threshold=threshold)
    if found is None:
        raise InputError(
            f"{side.where}: the calibration needs rows with a score and labels of both outcomes"
        )
    return found


def rows_source(
    side: FileSide,
    *,
    size: int,
    period: Bucket | None,
    threshold: float,
    outcome: tuple[str, str],
) -> tuple[str, dict[str, Any]]:
    """CTEs `_file` and `_rows` (shaped like `performance.window_rows`; the chunk key in
    `model_version`: the chunk number for chunks of `size` rows, the period's start in
    epoch microseconds for chunks by time) and their parameters. Without a prediction
    column, the prediction is outcome[0] when score >= threshold, else outcome[1]."""
    params: dict[str, Any] = dict(side.relation.params)
    if period is not None:
        chunk = sql.bucket_expression(period)
        params |= buckets.params(period)
    else:
        chunk = "row_index // $e_chunk_size"
        params["e_chunk_size"] = size
    if "prediction" in side.relation.targets:
        predicted = "predicted"
    else:
        predicted = (
            "CASE WHEN score IS NULL THEN NULL WHEN score >= $e_threshold THEN $e_positive "
            "ELSE $e_negative END"
        )
        params |= {"e_threshold": threshold, "e_positive": outcome[0], "e_negative": outcome[1]}
    rows = (
        file_cte(side.relation) + ", "
        "_rows AS (SELECT row_index, timestamp, CAST("
        + chunk
        + " AS VARCHAR) AS model_version, "
        + predicted
        + " AS prediction, score AS probability, NULL::VARCHAR AS probabilities, "
        "NULL::DOUBLE AS prediction_value, label, NULL::DOUBLE AS label_value, 'ok' AS status "
        "FROM _file" + (" WHERE timestamp IS NOT NULL" if period is not None else "") + ")"
    )
    return rows, params


def chunk_extents(
    runner: Runner, rows: str, params: dict[str, Any]
) -> list[tuple[str, int, int, int]]:
    """(chunk key, rows, first and last row index) of each chunk of a `rows_source`, in
    file order."""
    found = runner.execute(
        "WITH " + rows + " SELECT model_version, count(*), min(row_index), max(row_index) "
        "FROM _rows GROUP BY 1 ORDER BY min(row_index)",
        params,
    )
    return [(str(key), int(n), int(first), int(last)) for key, n, first, last in found]


def input_warnings(runner: Runner, side: FileSide, labels: Sequence[str]) -> list[str]:
    """What of the current file the estimate leaves out or reads unexpectedly."""
    warnings = []
    if side.scored < side.rows:
        warnings.append(
            f"{side.rows - side.scored:,} of {side.rows:,} rows of {side.where} have no score: "
            "left out of the estimates"
        )
    if side.untimed:
        warnings.append(
            f"{side.untimed:,} rows of {side.where} have no time in {side.roles.timestamp!r}: "
            "left out"
        )
    checks: list[tuple[str, TargetRole, str]] = []
    if side.labeled:
        checks.append(("label", "label", "label values the reference does not have"))
    if "prediction" in side.relation.targets:
        checks.append(("predicted", "prediction", "values that are not labels"))
    for column, role, what in checks:
        odd = [v for v in values(runner, side, column, len(labels) + 3) if v not in labels]
        if odd:
            warnings.append(
                f"column {side.roles.target(role)!r} of {side.where} holds {what} "
                f"({', '.join(repr(v) for v in odd)}): they count as negative"
            )
    return warnings


def label_values(runner: Runner, path: Path, column: str, limit: int) -> tuple[str, ...] | None:
    """The label column's values in a file (as text, 1.0 as '1'; most frequent first), or
    None when it holds more than `limit` (a regression target rather than classes)."""
    model = ModelConfig(id="files", label_column=column, prediction_column=NO_COLUMN)
    relation = tabular.file_relation(runner, path, model=model)
    if "label" not in relation.targets:
        return ()
    found = runner.execute(
        "SELECT t_label FROM (" + relation.sql + ") WHERE t_label IS NOT NULL GROUP BY 1 "
        "ORDER BY count(*) DESC, 1 LIMIT $e_limit",
        {**relation.params, "e_limit": limit + 1},
    )
    return None if len(found) > limit else tuple(str(row[0]) for row in found)
