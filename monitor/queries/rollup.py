# ruff: noqa: S608  (SQL built only from constants and quote_identifier; values are parameters)
"""What the hourly rollups hold per model (`ModelSpec`) and the DuckDB SQL that computes them.

The rollup job (monitor.ops.rollup) copies a few log partitions (days) of predictions,
with their latest labels and their partition `day`, into the table ROWS (one scan of the
feedback for all of them), then runs one aggregate per rollup table and day over it. The
aggregates are the ones the pages compute today, keyed by hour:
- labels: `performance.classification_cells` (the score bins of
  monitor.metrics.performance.binning), so binned AUC, calibration, confusion matrices and
  the label-free estimates follow from them exactly as from the raw logs;
- fairness: `fairness_sql.binary_cells` / `regression_sums`, one sensitive feature at a time;
- features: counts per reference decile bin (numeric) or per category, as drift bins them;
- traffic: counts, errors and a log-bucketed latency histogram
  (monitor.metrics.health.latency_histogram).
Labels follow the `labeled` view: the latest feedback record by timestamp, else the inline
label. The Spark engine (monitor.ops.rollup.spark_tables) computes the same aggregates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

from monitor.core import buckets
from monitor.core.config import ModelConfig, Task
from monitor.core.errors import MonitorError
from monitor.core.schema import feature_column
from monitor.core.sqlutil import quote_identifier
from monitor.core.tabular import Runner, reference_relation
from monitor.core.views import FeatureColumn
from monitor.metrics.drift.profile import detect_kind
from monitor.metrics.health import latency_histogram
from monitor.metrics.performance.binning import Binning
from monitor.queries import fairness_sql, performance
from monitor.queries.drift_profile import profile_reference

ROWS: Final = "_rollup_rows"
HOUR_US: Final = buckets.WIDTH_US["hour"]
BINNING: Final = Binning()
"""The product's score binning (the performance pages' defaults)."""
FeatureKind = Literal["numeric", "categorical", "binary"]


@dataclass(frozen=True)
class FeatureSpec:
    key: str
    column: str
    """The log column ("features.<key>")."""
    sql_type: str
    """How the logs hold it: DOUBLE, BOOLEAN or VARCHAR."""
    kind: FeatureKind
    edges: tuple[float, ...] | None
    """The reference's decile edges (numeric features of a model with a reference)."""
    declared: bool
    """In the reference or the config: counted (as missing) even where never logged."""

    @property
    def numeric(self) -> bool:
        return self.kind == "numeric" and self.sql_type == "DOUBLE"


@dataclass(frozen=True)
class ModelSpec:
    """Everything about a model that shapes its rollups; its digest goes into the manifest,
    so a change (a new reference, another positive label) rebuilds the rollups."""

    model_id: str
    task: Task
    positive_label: str
    features: tuple[FeatureSpec, ...]
    sensitive: tuple[FeatureSpec, ...]
    reference_problem: str | None = None
    """Why the reference's bins could not be used (then numeric features have no bins)."""

    def document(self) -> dict[str, Any]:
        return asdict(self) | {"binning": asdict(BINNING), "gamma": latency_histogram.GAMMA}


def spec_digest(specs: Iterable[ModelSpec]) -> str:
    """A stable text that changes whenever any spec does."""
    documents = sorted((s.document() for s in specs), key=lambda d: str(d["model_id"]))
    return json.dumps(documents, sort_keys=True, separators=(",", ":"))


def model_spec(
    runner: Runner, model: ModelConfig, log_features: Sequence[FeatureColumn]
) -> ModelSpec:
    """The model's rollup spec: the reference's features (kinds and decile edges as drift
    computes them), those named in the config, and every other logged feature (numeric
    ones without bins). `log_features`: the feature columns of the logs and their types."""
    logged = {f.key: f for f in log_features}
    kinds: dict[str, FeatureKind] = {}
    edges: dict[str, tuple[float, ...]] = {}
    problem = None
    if model.reference is not None:
        try:
            profile = profile_reference(runner, reference_relation(runner, model))
            kinds = {name: kind for name, kind in profile.kinds.items() if name in logged}
            edges = {name: tuple(float(e) for e in found) for name, found in profile.edges.items()}
        except MonitorError as exc:
            problem = str(exc)
    configured = {
        *model.feature_ranges,
        *model.feature_categories,
        *model.feature_kinds,
        *model.sensitive_features,
    }
    declared = set(kinds) | configured
    features: list[FeatureSpec] = []
    for key, column in sorted(logged.items()):
        kind = kinds.get(key) or detect_kind(column.sql_type, False, model.feature_kinds.get(key))
        numeric = kind == "numeric" and column.sql_type == "DOUBLE"
        features.append(
            FeatureSpec(
                key,
                column.column,
                column.sql_type,
                kind if numeric or kind != "numeric" else "categorical",
                edges.get(key) if numeric else None,
                key in declared,
            )
        )
    by_key = {f.key: f for f in features}
    sensitive = tuple(by_key[k] for k in dict.fromkeys(model.sensitive_features) if k in by_key)
    positive = model.positive_label or "1"
    return ModelSpec(model.id, model.task, positive, tuple(features), sensitive, problem)


def default_log_feature(key: str, sql_type: str) -> FeatureColumn:
    return FeatureColumn(key, feature_column(key), sql_type)


# -- the day's rows ------------------------------------------------------------------------


def rows_table(features: Sequence[str]) -> str:
    """CREATE the table ROWS (in the engine's own in-memory database): the predictions of
    the files in $files (partition days in $days, one per file) with a timestamp, their
    latest label (`labeled` view's rule), the file that label came from (`label_file`), the
    start of their UTC hour (`hour_us`) and their file's partition `day`. `features`: log
    columns."""
    feature_list = "".join(", " + quote_identifier(c) for c in features)
    return (
        "CREATE OR REPLACE TABLE " + ROWS + " AS "
        "WITH _files AS (SELECT unnest($files) AS source_file, unnest($days) AS day), "
        "_p AS (SELECT prediction_id, timestamp, model_id, "
        "coalesce(model_version, '') AS model_version, prediction, prediction_value, "
        "probability, probabilities, latency_ms, status, label AS inline_label, source_file"
        + feature_list
        + " FROM predictions WHERE list_contains($files, source_file) AND timestamp IS NOT NULL), "
        "_latest AS (SELECT prediction_id, "
        "arg_max({'label': label, 'file': source_file}, timestamp) AS latest "
        "FROM feedback WHERE prediction_id IN (SELECT prediction_id FROM _p) "
        "GROUP BY prediction_id) "
        "SELECT _p.* EXCLUDE (prediction_id, inline_label, source_file), _files.day, "
        "coalesce(_latest.latest.label, _p.inline_label) AS label, "
        "TRY_CAST(coalesce(_latest.latest.label, _p.inline_label) AS DOUBLE) AS label_value, "
        "_latest.latest.file AS label_file, "
        f"epoch_us(timestamp) // {HOUR_US} * {HOUR_US} AS hour_us "
        "FROM _p JOIN _files USING (source_file) LEFT JOIN _latest USING (prediction_id)"
    )


def models_in_rows() -> str:
    return f"SELECT DISTINCT model_id FROM {ROWS} WHERE day = $day ORDER BY 1"


def label_files() -> str:
    """The feedback files that hold a latest label of the day's predictions."""
    return (
        f"SELECT DISTINCT label_file FROM {ROWS} "
        "WHERE day = $day AND label_file IS NOT NULL ORDER BY 1"
    )


def prediction_days(partition_pattern: str) -> str:
    """The partition dates of the prediction files that hold an id of the feedback files in
    $files (late labels: which days they change). `partition_pattern`: a regular
    expression whose group 1 is the date."""
    return (
        "SELECT DISTINCT regexp_extract(source_file, "
        + "'"
        + partition_pattern.replace("'", "''")
        + "', 1) FROM predictions WHERE prediction_id IN "
        "(SELECT prediction_id FROM feedback WHERE list_contains($files, source_file))"
    )


# -- the tables ----------------------------------------------------------------------------


def traffic() -> str:
    """Per model, version and hour: predictions, errors, latency count/sum/min/max (finite
    latencies), first and last timestamp, and the latency histogram ($log_gamma,
    $zero_bucket) as a list of {bucket, n} sorted by bucket."""
    bucket = (
        "CASE WHEN lat > 0 THEN CAST(ceil(ln(lat) / $log_gamma::DOUBLE) AS INTEGER) "
        "WHEN lat IS NOT NULL THEN $zero_bucket::INTEGER END"
    )
    return (
        "SELECT model_id, model_version, make_timestamptz(hour_us) AS hour, "
        "count(*) AS predictions, count(*) FILTER (WHERE status = 'error') AS errors, "
        "count(lat) AS latency_count, sum(lat) AS latency_sum, min(lat) AS latency_min, "
        "max(lat) AS latency_max, min(timestamp) AS first_seen, max(timestamp) AS last_seen, "
        "list_sort(list_transform(map_entries(histogram(" + bucket + ")), "
        "lambda e: {'bucket': e.key, 'n': CAST(e.value AS BIGINT)})) AS latency_histogram "
        "FROM (SELECT *, CASE WHEN isfinite(latency_ms) THEN latency_ms END AS lat "
        f"FROM {ROWS} WHERE day = $day) "
        "GROUP BY ALL"
    )


def traffic_params() -> dict[str, object]:
    return {
        "log_gamma": math.log(latency_histogram.GAMMA),
        "zero_bucket": latency_histogram.ZERO_BUCKET,
    }


def _model_rows(columns: str = "*") -> str:
    return f"_rows AS (SELECT {columns} FROM {ROWS} WHERE model_id = $model AND day = $day)"


def labels(task: Literal["binary", "multiclass"]) -> str:
    """A classifier's `classification_cells` per hour: (hour, version, prediction, label,
    ubin, lbin, n, score/loss/entropy sums)."""
    return performance.classification_cells(task, "hour", rows=_model_rows())


def labels_params(spec: ModelSpec) -> dict[str, object]:
    """With the engine's $day."""
    task: Literal["binary", "multiclass"] = "binary" if spec.task == "binary" else "multiclass"
    return (
        {"model": spec.model_id}
        | buckets.params("hour")
        | performance.binning_params(BINNING, task, spec.positive_label)
    )


def regression() -> str:
    """A regression model's residual sums per hour and version (e = label - prediction)."""
    return (
        "WITH "
        + _model_rows()
        + ", _e AS (SELECT hour_us, model_version, label_value - prediction_value AS e, "
        "label_value AS y FROM _rows WHERE status = 'ok' AND prediction IS NOT NULL) "
        "SELECT hour_us, model_version, count(*) AS predictions, count(e) AS labeled, "
        "coalesce(sum(e), 0) AS residual_sum, coalesce(sum(abs(e)), 0) AS residual_abs_sum, "
        "coalesce(sum(e * e), 0) AS residual_sq_sum, "
        "coalesce(sum(e * e * e * e), 0) AS residual_p4_sum, "
        "coalesce(sum(y) FILTER (WHERE e IS NOT NULL), 0) AS label_sum, "
        "coalesce(sum(y * y) FILTER (WHERE e IS NOT NULL), 0) AS label_sq_sum "
        "FROM _e GROUP BY ALL"
    )


def fairness(spec: ModelSpec, attribute: FeatureSpec) -> str:
    """Per hour, version and value of one sensitive feature: the fairness page's cells
    (classifiers: label x prediction counts; regression: error sums)."""
    regression_task = spec.task == "regression"
    columns = fairness_sql.Columns(
        groups=(quote_identifier(attribute.column),),
        label="label_value" if regression_task else "label",
        prediction="prediction_value" if regression_task else "prediction",
    )
    keys = ["hour_us", "model_version"]
    source = f"{ROWS} WHERE model_id = $model AND day = $day"
    if regression_task:
        return fairness_sql.regression_sums(columns, keys=keys, source=source, where="")
    return fairness_sql.binary_cells(columns, keys=keys, source=source, where="")


def features(specs: Sequence[FeatureSpec]) -> tuple[str, dict[str, object]]:
    """Per hour, version and feature: (bin, category, missing, n, value sum/min/max).
    Numeric: bin = number of reference edges below the value (bins (e_i, e_i+1]; NULL
    without a reference), non-finite values as categories 'nan'/'inf'/'-inf'; other kinds:
    one row per category (canonical text, as drift counts them); missing: NULL values."""
    parts: list[str] = []
    params: dict[str, object] = {}
    for i, spec in enumerate(specs):
        column = quote_identifier(spec.column)
        name = f"f{i}"
        params[name] = spec.key
        if spec.numeric:
            bin_expr = "NULL::INTEGER"
            if spec.edges is not None:
                params[f"e{i}"] = list(spec.edges)
                bin_expr = (
                    f"CASE WHEN isfinite(v) THEN len(list_filter($e{i}, lambda e: e < v)) END"
                )
            category = "CASE WHEN isnan(v) THEN 'nan' WHEN v > 0 AND NOT isfinite(v) THEN 'inf' "
            category += "WHEN NOT isfinite(v) THEN '-inf' END"
            value = "CASE WHEN isfinite(v) THEN v END"
        else:
            bin_expr = "NULL::INTEGER"
            category = (
                "monitor_number_text(v)" if spec.sql_type == "DOUBLE" else "CAST(v AS VARCHAR)"
            )
            value = "NULL::DOUBLE"
        parts.append(
            f"SELECT hour_us, model_version, ${name} AS feature, {bin_expr} AS bin, "
            f"{category} AS category, v IS NULL AS missing, count(*) AS n, "
            f"sum({value}) AS value_sum, min({value}) AS value_min, max({value}) AS value_max "
            f"FROM (SELECT hour_us, model_version, {column} AS v FROM {ROWS} "
            "WHERE model_id = $model AND day = $day) GROUP BY ALL"
        )
    return " UNION ALL ".join(parts), params


def kinds_of(specs: Sequence[FeatureSpec]) -> Mapping[str, str]:
    return {s.key: s.kind for s in specs}
