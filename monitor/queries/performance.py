# ruff: noqa: S608  (SQL built only from constants and quote_identifier)
"""SQL text of the performance queries: a row source (the window's predictions with their
labels, or the reference file) and the aggregates over it.

Everything is built from constants and quoted identifiers; values (window, model,
versions, positive label, file path, bin counts) are always `$name` parameters.

Labels follow the `labeled` view (monitor/views.py): the latest feedback record by
timestamp wins, else the inline label. The view's definition takes the latest label of
every prediction ever logged, then joins; for a short window it is much cheaper to keep
only the feedback of the window's prediction ids first (a semi-join): on the 10 M demo
(8.4 M feedback records), one day took 0.9-2 s instead of 6.5-8 s and 240 MB instead of
1.2-1.3 GB. For a window holding most of the logs the semi-join costs more memory than
it saves (all data: 1.8 GB against 1.2 GB, time about the same), so `restrict_feedback`
picks it only for windows with less than RESTRICT_SHARE of all logged predictions. A
test checks both give the view's labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import Task
from monitor.core.logfiles import VersionSlice
from monitor.core.scope import Scope
from monitor.core.sqlutil import quote_identifier
from monitor.metrics.performance.binning import Binning

_WINDOW_FILTER: Final = (
    "timestamp BETWEEN $start AND $end AND model_id = $model "
    "AND ($versions IS NULL OR list_contains($versions, coalesce(model_version, '')))"
)
_BASE_COLUMNS: Final = (
    "prediction_id",
    "timestamp",
    "model_version",
    "prediction",
    "probability",
    "probabilities",
    "prediction_value",
    "label",
    "status",
)
SEGMENT_COLUMN: Final = "segment_value"


@dataclass(frozen=True)
class ReferenceColumns:
    """Quoted column names of a reference file (None: the file has no such column)."""

    label: str
    prediction: str | None
    score: str | None


def bucket_expression(bucket: Bucket | None) -> str:
    """Start of the fixed-width UTC bucket of `timestamp` ($width_us, $offset_us) in epoch
    microseconds (cheaper to fetch than TIMESTAMPTZ); NULL when the window is not split
    into buckets. See `monitor.metrics.performance.groups.bucket_start`."""
    if bucket is None:
        return "NULL::BIGINT"
    return (
        "((epoch_us(timestamp) - $offset_us::BIGINT) // $width_us::BIGINT "
        "* $width_us::BIGINT + $offset_us::BIGINT)"
    )


RESTRICT_SHARE: Final = 0.3


def restrict_feedback(slices: Sequence[VersionSlice], model_id: str, window: Window) -> bool:
    """Whether to semi-join the feedback to the window's predictions: when the window
    holds (by the time extents of the files' version slices) under RESTRICT_SHARE of all
    logged predictions."""
    total = sum(s.predictions for s in slices)
    inside = 0.0
    for piece in slices:
        if piece.model_id != model_id:
            continue
        low, high = max(piece.first_seen, window.start), min(piece.last_seen, window.end)
        if low > high:
            continue
        span = (piece.last_seen - piece.first_seen).total_seconds()
        inside += piece.predictions * ((high - low).total_seconds() / span if span > 0 else 1.0)
    return inside < RESTRICT_SHARE * total


def window_rows(segment: str | None = None, *, restrict: bool = True) -> str:
    """The window's predictions of one model with their latest label (the `labeled` view's
    rule), as CTEs ending in `_rows`; `restrict`: see `restrict_feedback`. `segment` is a
    quoted feature column to carry along as `segment_value`."""
    columns = list(_BASE_COLUMNS)
    if segment is not None:
        columns.append(f"{segment} AS {SEGMENT_COLUMN}")
    only_window = "WHERE prediction_id IN (SELECT prediction_id FROM _p) " if restrict else ""
    return (
        "_p AS (SELECT " + ", ".join(columns) + " FROM predictions WHERE " + _WINDOW_FILTER + "), "
        "_latest AS (SELECT prediction_id, arg_max(label, timestamp) AS label FROM feedback "
        + only_window
        + "GROUP BY prediction_id), "
        "_rows AS (SELECT _p.* REPLACE (coalesce(_latest.label, _p.label) AS label), "
        "TRY_CAST(coalesce(_latest.label, _p.label) AS DOUBLE) AS label_value "
        "FROM _p LEFT JOIN _latest USING (prediction_id))"
    )


def _canonical(column: str) -> str:
    """Canonical text of a reference value, as the log views write it (1.0 -> '1')."""
    return f"monitor_value_text(to_json({column}))"


def reference_rows(columns: ReferenceColumns) -> str:
    """The reference file ($reference) shaped like `window_rows`, as the CTE `_rows`."""
    prediction = columns.prediction
    score = f"TRY_CAST({columns.score} AS DOUBLE)" if columns.score else "NULL::DOUBLE"
    return (
        "_rows AS (SELECT NULL::TIMESTAMPTZ AS timestamp, '' AS model_version, "
        + (_canonical(prediction) if prediction else "NULL::VARCHAR")
        + " AS prediction, "
        + score
        + " AS probability, NULL::VARCHAR AS probabilities, "
        + (f"TRY_CAST({prediction} AS DOUBLE)" if prediction else "NULL::DOUBLE")
        + " AS prediction_value, "
        + _canonical(columns.label)
        + " AS label, TRY_CAST("
        + columns.label
        + " AS DOUBLE) AS label_value, 'ok' AS status FROM read_parquet($reference))"
    )


def reference_columns(label: str, prediction: str | None, score: str | None) -> ReferenceColumns:
    return ReferenceColumns(
        quote_identifier(label),
        quote_identifier(prediction) if prediction else None,
        quote_identifier(score) if score else None,
    )


_BINARY_SCORE: Final = "CASE WHEN probability BETWEEN 0 AND 1 THEN probability END"
_BINARY_ENTROPY: Final = (
    "CASE WHEN score IN (0, 1) THEN 0.0 WHEN score IS NOT NULL "
    "THEN -(score * log2(score) + (1 - score) * log2(1 - score)) END"
)
_MULTICLASS_MAP: Final = "TRY_CAST(TRY_CAST(probabilities AS JSON) AS MAP(VARCHAR, DOUBLE))"
_MULTICLASS_SCORE: Final = (
    "CASE WHEN coalesce(class_probabilities[prediction], probability) BETWEEN 0 AND 1 "
    "THEN coalesce(class_probabilities[prediction], probability) END"
)
_MULTICLASS_ENTROPY: Final = (
    "list_sum(list_transform(map_values(class_probabilities), "
    "lambda x: CASE WHEN x > 0 THEN -x * log2(x) ELSE 0.0 END))"
)
# log loss of a binary prediction, with the score clipped to [eps, 1 - eps] as sklearn does
_BINARY_LOSS: Final = (
    "CASE WHEN truth IS NULL OR score IS NULL THEN NULL "
    "WHEN truth = $positive THEN -ln(greatest(least(score, 1 - $eps::DOUBLE), $eps::DOUBLE)) "
    "ELSE -ln(1 - greatest(least(score, 1 - $eps::DOUBLE), $eps::DOUBLE)) END"
)
# Score bins (monitor.metrics.performance.binning): coarse bin `cbin` of $coarse, uniform bin
# `ubin` of $coarse * $ratio, logit bin `lbin` of $logit_bins over +/- $logit_range
# (`binning_params`).
# NULL scores stay NULL in every bin (DuckDB's greatest/least skip NULL arguments).
_COARSE_GUESS: Final = (
    "CASE WHEN score IS NOT NULL THEN "
    "least(greatest(ceil(score * $coarse)::BIGINT - 1, 0), $coarse - 1) END"
)
_COARSE_BIN: Final = (
    "CASE WHEN c0 >= 1 AND c0 * (1.0::DOUBLE / $coarse) >= score THEN c0 - 1 "
    "WHEN c0 <= $coarse - 2 AND (c0 + 1) * (1.0::DOUBLE / $coarse) < score THEN c0 + 1 "
    "ELSE c0 END"
)
_UNIFORM_BIN: Final = (
    "least(greatest(ceil(score * ($coarse * $ratio))::BIGINT - 1, cbin * $ratio), "
    "cbin * $ratio + $ratio - 1)"
)
_LOGIT_BIN: Final = (
    "CASE WHEN score IS NULL THEN NULL WHEN score <= 0 THEN 0 "
    "WHEN score >= 1 THEN $logit_bins - 1 ELSE "
    "least(greatest(floor((ln(score / (1 - score)) + $logit_range) * $logit_bins "
    "/ (2 * $logit_range))::BIGINT, 0), $logit_bins - 1) END"
)


def scored_source(task: Literal["binary", "multiclass"], bucket: Bucket | None) -> str:
    """`_src`: one row per ok prediction of a classifier: bucket, version, pred, truth,
    score (binary: positive-class probability; multiclass: the predicted class's), its
    entropy in bits, the log loss (binary) and the score bins (uniform `ubin`, logit `lbin`)."""
    if task == "binary":
        scores = f"{_BINARY_SCORE} AS score"
        entropy = _BINARY_ENTROPY
        loss = _BINARY_LOSS
        inner_from = "_rows"
    else:
        scores = f"{_MULTICLASS_SCORE} AS score"
        entropy = _MULTICLASS_ENTROPY
        loss = "NULL::DOUBLE"
        inner_from = f"(SELECT *, {_MULTICLASS_MAP} AS class_probabilities FROM _rows)"
    return (
        "_scored AS (SELECT " + bucket_expression(bucket) + " AS bucket, "
        "coalesce(model_version, '') AS version, prediction AS pred, label AS truth, "
        + scores
        + (", class_probabilities" if task == "multiclass" else "")
        + " FROM "
        + inner_from
        + " WHERE status = 'ok' AND prediction IS NOT NULL), "
        "_c0 AS (SELECT *, "
        + _COARSE_GUESS
        + " AS c0, "
        + entropy
        + " AS entropy, "
        + loss
        + " AS loss FROM _scored), "
        "_src AS (SELECT *, " + _UNIFORM_BIN + " AS ubin, " + _LOGIT_BIN + " AS lbin FROM "
        "(SELECT *, " + _COARSE_BIN + " AS cbin FROM _c0))"
    )


def classification_cells(
    task: Literal["binary", "multiclass"],
    bucket: Bucket | None,
    *,
    reference: ReferenceColumns | None = None,
    restrict: bool = True,
    rows: str | None = None,
) -> str:
    """Counts and sums per (bucket, version, prediction, label, uniform bin, logit bin): the
    one aggregate a classifier's performance needs (bins NULL for unscored predictions).
    `rows`: another row source shaped like `window_rows` (CTEs ending in `_rows`), e.g. a
    file's (monitor.queries.estimate_files)."""
    if rows is None and reference is not None:
        rows = reference_rows(reference)
    elif rows is None:
        rows = window_rows(restrict=restrict)
    return (
        "WITH " + rows + ", " + scored_source(task, bucket) + " "
        "SELECT bucket, version, pred, truth, ubin, lbin, count(*) AS n, "
        "coalesce(sum(score), 0) AS score_sum, coalesce(sum(loss), 0) AS loss_sum, "
        "coalesce(sum(loss * loss), 0) AS loss_sq_sum, coalesce(sum(entropy), 0) AS entropy_sum, "
        "count(entropy) AS entropy_n FROM _src GROUP BY ALL"
    )


def regression_moments(
    bucket: Bucket | None, *, reference: ReferenceColumns | None = None, restrict: bool = True
) -> str:
    """Moments of the residual e = label - prediction per (bucket, version), per bucket,
    per version and overall (GROUPING SETS; `level` = grouping(bucket, version))."""
    rows = reference_rows(reference) if reference is not None else window_rows(restrict=restrict)
    return (
        "WITH " + rows + ", "
        "_src AS (SELECT " + bucket_expression(bucket) + " AS bucket, "
        "coalesce(model_version, '') AS version, label_value - prediction_value AS e, "
        "CASE WHEN prediction_value IS NOT NULL THEN label_value END AS y "
        "FROM _rows WHERE status = 'ok' AND prediction IS NOT NULL) "
        "SELECT bucket, version, grouping(bucket, version) AS level, count(*) AS predictions, "
        "count(e) AS labeled, avg(abs(e)) AS mae, avg(e) AS residual_mean, avg(e * e) AS mse, "
        "avg(e * e * e * e) AS e4, stddev_pop(e) AS residual_std, var_pop(y) AS label_var "
        "FROM _src GROUP BY GROUPING SETS ((bucket, version), (bucket), (version), ()) "
        "ORDER BY level, bucket, version"
    )


def numeric_edges(column: str) -> str:
    """Quintile edges of a numeric feature over the window's predictions (no labels needed)."""
    return (
        f"SELECT quantile_cont({column}, [0.2, 0.4, 0.6, 0.8]) FROM predictions "
        "WHERE " + _WINDOW_FILTER + " AND status = 'ok' AND prediction IS NOT NULL"
    )


def segment_counts(
    column: str, kind: Literal["text", "numeric"], task: Task, *, restrict: bool = True
) -> str:
    """Per category of a feature (top $top by predictions, the rest folded into one row):
    predictions, labeled, errors (classifiers) or absolute/squared error sums (regression).
    Numeric features are cut at the edges in $edges (bin index = edges <= value)."""
    if kind == "numeric":
        value = (
            f"CASE WHEN {SEGMENT_COLUMN} IS NOT NULL THEN "
            f"len(list_filter($edges, lambda x: x <= {SEGMENT_COLUMN}))::VARCHAR END"
        )
    else:
        value = f"CAST({SEGMENT_COLUMN} AS VARCHAR)"
    if task == "regression":
        errors = (
            "count(label_value - prediction_value) AS labeled, "
            "coalesce(sum(abs(label_value - prediction_value)), 0) AS error_sum, "
            "coalesce(sum((label_value - prediction_value) ^ 2), 0) AS error_sq_sum"
        )
    else:
        errors = (
            "count(label) AS labeled, "
            "count(*) FILTER (WHERE label IS NOT NULL AND label <> prediction) AS error_sum, "
            "count(*) FILTER (WHERE label IS NOT NULL AND label <> prediction) AS error_sq_sum"
        )
    return (
        "WITH " + window_rows(column, restrict=restrict) + ", "
        "_seg AS (SELECT " + value + " AS segment, count(*) AS predictions, " + errors + " "
        "FROM _rows WHERE status = 'ok' AND prediction IS NOT NULL GROUP BY 1), "
        "_ranked AS (SELECT *, row_number() OVER (ORDER BY predictions DESC, segment NULLS LAST) "
        "> $top AS folded FROM _seg) "
        "SELECT CASE WHEN folded THEN NULL ELSE segment END AS segment, folded, "
        "sum(predictions)::BIGINT, sum(labeled)::BIGINT, sum(error_sum)::DOUBLE, "
        "sum(error_sq_sum)::DOUBLE FROM _ranked GROUP BY ALL ORDER BY folded, 3 DESC, 1"
    )


def reference_sample(columns: ReferenceColumns) -> str:
    """Up to $rows (score, label, prediction) rows of the reference file, for calibration:
    the rows with the smallest hash of their row number, a deterministic pseudo-random
    sample (prediction NULL when the file has none)."""
    if columns.score is None:
        raise ValueError("reference has no score column")
    prediction = _canonical(columns.prediction) if columns.prediction else "NULL::VARCHAR"
    return (
        f"SELECT TRY_CAST({columns.score} AS DOUBLE) AS score, "
        f"{_canonical(columns.label)} AS label, {prediction} AS prediction "
        "FROM read_parquet($reference, file_row_number = true) "
        f"WHERE {columns.score} IS NOT NULL AND {columns.label} IS NOT NULL "
        "ORDER BY hash(file_row_number) LIMIT $rows"
    )


def binning_params(
    binning: Binning, task: Literal["binary", "multiclass"], positive: str | None
) -> dict[str, object]:
    """Parameters of `classification_cells` beyond the row source's."""
    binning.validate()
    params: dict[str, object] = {
        "coarse": binning.coarse,
        "ratio": binning.uniform // binning.coarse,
        "logit_bins": binning.logit,
        "logit_range": float(binning.logit_range),
    }
    if task == "binary":
        params |= {"positive": positive, "eps": float(np.finfo(np.float64).eps)}
    return params


def window_params(
    window: Window, model_id: str, versions: Sequence[str] | None, bucket: Bucket | None
) -> dict[str, object]:
    """Parameters of `window_rows` and `bucket_expression`."""
    params: dict[str, object] = {
        "start": window.start,
        "end": window.end,
        "model": model_id,
        "versions": list(versions) if versions else None,
    }
    if bucket is not None:
        params |= buckets.params(bucket)
    return params


def scope_params(scope: Scope, bucket: Bucket | None = None) -> dict[str, object]:
    """`window_params` of a scope."""
    return window_params(scope.window, scope.model_id, scope.versions, bucket)


def feature_presence(columns: Sequence[str]) -> str:
    """Non-null values of each (quoted) feature column among the window's predictions."""
    counts = ", ".join(f"count({c})" for c in columns)
    return "SELECT " + counts + " FROM predictions WHERE " + _WINDOW_FILTER


def label_arrival(*, restrict: bool = True) -> str:
    """Over the window's counted predictions (status ok, with a prediction value): how many,
    how many labeled (the `labeled` view's rule), the newest labeled one's timestamp, and
    the 10/50/90% quantiles of the delay in days from a prediction to its first feedback
    record (labels received so far; inline labels have no delay)."""
    only_window = "WHERE prediction_id IN (SELECT prediction_id FROM _p) " if restrict else ""
    return (
        "WITH _p AS (SELECT prediction_id, timestamp, label FROM predictions WHERE "
        + _WINDOW_FILTER
        + " AND status = 'ok' AND prediction IS NOT NULL), "
        "_f AS (SELECT prediction_id, arg_max(label, timestamp) AS label, "
        "min(timestamp) AS first_label FROM feedback " + only_window + "GROUP BY prediction_id), "
        "_j AS (SELECT _p.timestamp, coalesce(_f.label, _p.label) IS NOT NULL AS labeled, "
        "epoch(_f.first_label - _p.timestamp) / 86400.0 AS delay "
        "FROM _p LEFT JOIN _f USING (prediction_id)) "
        "SELECT count(*), count(*) FILTER (WHERE labeled), max(timestamp) FILTER (WHERE labeled), "
        "quantile_cont(delay, [0.1, 0.5, 0.9]) FILTER (WHERE delay >= 0) FROM _j"
    )
