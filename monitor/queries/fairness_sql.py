# ruff: noqa: S608  (SQL built only from constants and quote_identifier)
"""SQL text that reduces a labeled table to the fairness engine's input.

Built from constants and quoted column names only; values (paths, thresholds, model ids,
time windows, the positive label) are always bound as $parameters by the caller.
Binary tasks: one row per (keys, group values, raw label, raw prediction) with the row
count and weight sum. Regression: one row per (keys, group values) with the sums MAE and
RMSE follow from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from monitor.core.sqlutil import quote_identifier

LOG_RELATION: Final = "labeled"
PREDICTION_RELATION: Final = "predictions"
"""The logs without the label join, for prediction-only aggregates."""
FILE_TABLE: Final = "fairness_source"

BUCKET_KEY: Final = (
    "make_timestamptz((epoch_us(timestamp) - $offset_us::BIGINT) // $width_us::BIGINT "
    "* $width_us::BIGINT + $offset_us::BIGINT)"
)
VERSION_KEY: Final = "coalesce(model_version, '')"
LOG_FILTER: Final = (
    "model_id = $model AND timestamp BETWEEN $start AND $end "
    "AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))"
)


@dataclass(frozen=True)
class Columns:
    """Expressions (already quoted) for the parts of a labeled table."""

    groups: tuple[str, ...]
    label: str
    prediction: str
    weight: str = "1.0"


def column(name: str) -> str:
    return quote_identifier(name)


def number(expression: str) -> str:
    """An expression as DOUBLE, NULL when it is not a number or NaN."""
    return "nullif(TRY_CAST(" + expression + " AS DOUBLE), 'NaN'::DOUBLE)"


def thresholded(score: str) -> str:
    """score >= $threshold (NULL for a missing or non-numeric score)."""
    return "(" + number(score) + " >= $threshold::DOUBLE)"


def _inner(columns: Columns, keys: Sequence[str], source: str, where: str) -> tuple[str, str]:
    """The inner SELECT and the list of key/group aliases to group by."""
    parts = [f"{expr} AS k{i}" for i, expr in enumerate(keys)]
    parts += [f"CAST({expr} AS VARCHAR) AS g{i}" for i, expr in enumerate(columns.groups)]
    parts += [
        columns.label + " AS y",
        columns.prediction + " AS p",
        columns.weight + " AS w",
    ]
    aliases = [f"k{i}" for i in range(len(keys))] + [f"g{i}" for i in range(len(columns.groups))]
    inner = "SELECT " + ", ".join(parts) + " FROM " + source + (" WHERE " + where if where else "")
    return inner, ", ".join(aliases)


def binary_cells(columns: Columns, *, keys: Sequence[str], source: str, where: str) -> str:
    """(keys..., groups..., label, prediction, rows, weight sum) per distinct cell."""
    inner, aliases = _inner(columns, keys, source, where)
    return (
        "SELECT " + aliases + ", y, p, count(*) AS n, sum(w) AS w FROM (" + inner + ") "
        "GROUP BY ALL ORDER BY ALL"
    )


def prediction_cells(columns: Columns, *, keys: Sequence[str], source: str, where: str) -> str:
    """(keys..., groups..., prediction, rows, weight sum) per distinct cell; the label
    expression is not read (selection rates need none)."""
    inner, aliases = _inner(dataclasses.replace(columns, label="NULL"), keys, source, where)
    return (
        "SELECT " + aliases + ", p, count(*) AS n, sum(w) AS w FROM (" + inner + ") "
        "GROUP BY ALL ORDER BY ALL"
    )


def regression_sums(columns: Columns, *, keys: Sequence[str], source: str, where: str) -> str:
    """(keys..., groups..., rows, unlabeled, skipped, weight, |error| and error² sums)."""
    inner, aliases = _inner(columns, keys, source, where)
    ok = "FILTER (WHERE y IS NOT NULL AND p IS NOT NULL)"
    return (
        "SELECT " + aliases + ", count(*) " + ok + " AS n, "
        "count(*) FILTER (WHERE y IS NULL) AS unlabeled, "
        "count(*) FILTER (WHERE y IS NOT NULL AND p IS NULL) AS skipped, "
        "coalesce(sum(w) " + ok + ", 0) AS w, "
        "coalesce(sum(w * abs(p - y)) " + ok + ", 0) AS abs_error, "
        "coalesce(sum(w * (p - y) * (p - y)) " + ok + ", 0) AS squared_error "
        "FROM (" + inner + ") GROUP BY ALL ORDER BY ALL"
    )


def distinct_values(expression: str, *, source: str, where: str) -> str:
    """Up to three distinct non-NULL values (enough to tell binary from not)."""
    condition = "(" + where + ") AND " if where else ""
    return (
        "SELECT DISTINCT "
        + expression
        + " AS v FROM "
        + source
        + " WHERE "
        + condition
        + expression
        + " IS NOT NULL LIMIT 3"
    )


def bad_weights(expression: str) -> str:
    """Rows of the file table whose weight is missing, not a number, or negative."""
    value = number(expression)
    return (
        "SELECT count(*) FROM " + FILE_TABLE + " WHERE " + value + " IS NULL OR " + value + " < 0"
    )


def file_table(reader: str, names: Sequence[str]) -> str:
    """Copy only the needed columns of a file ($path) into a temporary table."""
    return (
        "CREATE TEMP TABLE "
        + FILE_TABLE
        + " AS SELECT "
        + ", ".join(column(n) for n in names)
        + " FROM "
        + reader
        + "($path)"
    )


def describe_file(reader: str) -> str:
    return "DESCRIBE SELECT * FROM " + reader + "($path)"


def count_rows(source: str) -> str:
    return "SELECT count(*) FROM " + source
