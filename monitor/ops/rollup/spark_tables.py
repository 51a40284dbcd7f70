"""The rollup aggregates in Spark: the same definitions as the DuckDB SQL of
monitor.queries.rollup (which reuses the performance and fairness queries), written with
Spark column expressions over one day's rows. Each function collects its (small) result
to the driver as a normalised Arrow table. Only monitor.ops.rollup.spark_engine imports
this module (pyspark is optional)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from monitor.metrics.health import latency_histogram
from monitor.queries.rollup import BINNING, FeatureSpec, ModelSpec

KEYS = ["day", "model_id", "model_version", "hour_us"]
_MOMENTS = ("hour", "first_seen", "last_seen")
_INF = float("inf")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _finite(c: Column) -> Column:
    return ~F.isnan(c) & (c != F.lit(_INF)) & (c != F.lit(-_INF))


Rows = dict[str, list[dict[str, Any]]]
"""Result rows (dicts keyed by column name) per partition day (ISO date)."""


def _by_day(found: list[dict[str, Any]]) -> Rows:
    split: Rows = {}
    for row in found:
        split.setdefault(str(row.pop("day")), []).append(row)
    return split


def _dicts(frame: DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts; epoch-microsecond columns (`<name>_us`) become UTC datetimes (what
    pyspark would make of timestamps depends on the machine's time zone)."""
    found = [row.asDict(recursive=True) for row in frame.collect()]
    for row in found:
        for name in _MOMENTS:
            micros = row.pop(name + "_us", None)
            if micros is not None:
                row[name] = _EPOCH + dt.timedelta(microseconds=int(micros))
    return found


def traffic(rows: DataFrame) -> Rows:
    lat = F.when(_finite(F.col("latency_ms")), F.col("latency_ms"))
    src = rows.withColumn("lat", lat)
    bucket = F.when(
        F.col("lat") > 0,
        F.ceil(F.log(F.col("lat")) / F.lit(math.log(latency_histogram.GAMMA))).cast("int"),
    ).when(F.col("lat").isNotNull(), F.lit(latency_histogram.ZERO_BUCKET))
    totals = src.groupBy(*KEYS).agg(
        F.count(F.lit(1)).alias("predictions"),
        F.count(F.when(F.col("status") == "error", 1)).alias("errors"),
        F.count("lat").alias("latency_count"),
        F.sum("lat").alias("latency_sum"),
        F.min("lat").alias("latency_min"),
        F.max("lat").alias("latency_max"),
        F.min("timestamp_us").alias("first_seen_us"),
        F.max("timestamp_us").alias("last_seen_us"),
    )
    histograms = (
        src.withColumn("bucket", bucket)
        .where(F.col("bucket").isNotNull())
        .groupBy(*KEYS, "bucket")
        .count()
        .groupBy(*KEYS)
        .agg(F.array_sort(F.collect_list(F.struct("bucket", F.col("count").alias("n")))).alias("h"))
    )
    found = _dicts(totals.join(histograms, KEYS, "left"))
    for row in found:
        row["latency_histogram"] = row.pop("h") or []
    return _by_day(found)


def _scored(rows: DataFrame, spec: ModelSpec) -> DataFrame:
    """`performance.scored_source`: score, entropy, loss and the score bins."""
    coarse, ratio = BINNING.coarse, BINNING.uniform // BINNING.coarse
    logit, spread = BINNING.logit, float(BINNING.logit_range)
    src = rows.where((F.col("status") == "ok") & F.col("prediction").isNotNull())
    if spec.task == "binary":
        raw = F.col("probability")
        score = F.when((raw >= 0) & (raw <= 1), raw)
        s = F.col("score")
        entropy = F.when(s.isin(0.0, 1.0), F.lit(0.0)).when(
            s.isNotNull(), -(s * F.log2(s) + (1 - s) * F.log2(1 - s))
        )
        eps = float(np.finfo(np.float64).eps)
        clipped = F.greatest(F.least(s, F.lit(1 - eps)), F.lit(eps))
        loss = (
            F.when(F.col("label").isNull() | s.isNull(), F.lit(None).cast("double"))
            .when(F.col("label") == spec.positive_label, -F.log(clipped))
            .otherwise(-F.log(1 - clipped))
        )
    else:
        probabilities = F.from_json(F.col("probabilities"), "map<string,double>")
        src = src.withColumn("cp", probabilities)
        raw = F.coalesce(F.element_at(F.col("cp"), F.col("prediction")), F.col("probability"))
        score = F.when((raw >= 0) & (raw <= 1), raw)
        terms = F.aggregate(
            F.map_values(F.col("cp")),
            F.lit(0.0),
            lambda acc, x: acc + F.when(x > 0, -x * F.log2(x)).otherwise(F.lit(0.0)),
        )
        entropy = F.when(F.size(F.col("cp")) > 0, terms)
        loss = F.lit(None).cast("double")
    src = src.withColumn("score", score)
    s = F.col("score")
    c0 = F.when(
        s.isNotNull(),
        F.least(F.greatest(F.ceil(s * coarse).cast("long") - 1, F.lit(0)), F.lit(coarse - 1)),
    )
    src = src.withColumn("entropy", entropy).withColumn("loss", loss).withColumn("c0", c0)
    c0c = F.col("c0")
    step = 1.0 / coarse
    cbin = (
        F.when((c0c >= 1) & (c0c * step >= s), c0c - 1)
        .when((c0c <= coarse - 2) & ((c0c + 1) * step < s), c0c + 1)
        .otherwise(c0c)
    )
    src = src.withColumn("cbin", cbin)
    cb = F.col("cbin")
    ubin = F.least(
        F.greatest(F.ceil(s * (coarse * ratio)).cast("long") - 1, cb * ratio),
        cb * ratio + ratio - 1,
    )
    logit_bin = F.least(
        F.greatest(
            F.floor((F.log(s / (1 - s)) + spread) * logit / (2 * spread)).cast("long"), F.lit(0)
        ),
        F.lit(logit - 1),
    )
    lbin = (
        F.when(s.isNull(), F.lit(None).cast("long"))
        .when(s <= 0, F.lit(0))
        .when(s >= 1, F.lit(logit - 1))
        .otherwise(logit_bin)
    )
    return src.withColumn("ubin", ubin).withColumn("lbin", lbin)


def labels(rows: DataFrame, spec: ModelSpec) -> Rows:
    src = _scored(rows, spec)
    found = src.groupBy(*KEYS, "prediction", "label", "ubin", "lbin").agg(
        F.count(F.lit(1)).alias("n"),
        F.coalesce(F.sum("score"), F.lit(0.0)).alias("score_sum"),
        F.coalesce(F.sum("loss"), F.lit(0.0)).alias("loss_sum"),
        F.coalesce(F.sum(F.col("loss") * F.col("loss")), F.lit(0.0)).alias("loss_sq_sum"),
        F.coalesce(F.sum("entropy"), F.lit(0.0)).alias("entropy_sum"),
        F.count("entropy").alias("entropy_n"),
    )
    return _by_day(_dicts(found))


def regression(rows: DataFrame) -> Rows:
    src = rows.where((F.col("status") == "ok") & F.col("prediction").isNotNull())
    src = src.withColumn("e", F.col("label_value") - F.col("prediction_value"))
    e, y = F.col("e"), F.when(F.col("e").isNotNull(), F.col("label_value"))

    def total(c: Column, name: str) -> Column:
        return F.coalesce(F.sum(c), F.lit(0.0)).alias(name)

    found = src.groupBy(*KEYS).agg(
        F.count(F.lit(1)).alias("predictions"),
        F.count(e).alias("labeled"),
        total(e, "residual_sum"),
        total(F.abs(e), "residual_abs_sum"),
        total(e * e, "residual_sq_sum"),
        total(e * e * e * e, "residual_p4_sum"),
        total(y, "label_sum"),
        total(y * y, "label_sq_sum"),
    )
    return _by_day(_dicts(found))


def _number_text(v: Column) -> Column:
    """monitor_number_text: whole numbers below 1e15 without a fraction."""
    whole = (v == F.floor(v)) & (F.abs(v) < 1e15)
    return (
        F.when(F.isnan(v), F.lit(None))
        .when(whole, v.cast("long").cast("string"))
        .otherwise(v.cast("string"))
    )


def _feature_cell(spec: FeatureSpec) -> Column:
    """One row's (feature, bin, category, missing, value) for one feature."""
    v = F.col(f"`{spec.column}`")
    if spec.numeric:
        finite = _finite(v)
        bin_index: Column = F.lit(None)
        if spec.edges is not None:
            below = [F.when(v > F.lit(e), 1).otherwise(0) for e in spec.edges]
            total = below[0]
            for more in below[1:]:
                total = total + more
            bin_index = F.when(finite, total)
        category = (
            F.when(F.isnan(v), F.lit("nan"))
            .when((v > 0) & ~finite, F.lit("inf"))
            .when(~finite, F.lit("-inf"))
        )
        value = F.when(finite, v)
    else:
        bin_index = F.lit(None)
        category = _number_text(v) if spec.sql_type == "DOUBLE" else v.cast("string")
        value = F.lit(None).cast("double")
    return F.struct(
        F.lit(spec.key).alias("feature"),
        bin_index.cast("int").alias("bin"),
        category.cast("string").alias("category"),
        v.isNull().alias("missing"),
        value.cast("double").alias("value"),
    )


def features(rows: DataFrame, spec: ModelSpec) -> Rows:
    """Per day (its table: `tables.drop_unlogged_features` applies per model and day).
    One pass: each row becomes one cell per feature (explode)."""
    if not spec.features:
        return {}
    cells = F.explode(F.array(*[_feature_cell(f) for f in spec.features])).alias("c")
    exploded = rows.select(*KEYS, cells).select(*KEYS, "c.*")
    found = exploded.groupBy(*KEYS, "feature", "bin", "category", "missing").agg(
        F.count(F.lit(1)).alias("n"),
        F.sum("value").alias("value_sum"),
        F.min("value").alias("value_min"),
        F.max("value").alias("value_max"),
    )
    kinds = {f.key: f.kind for f in spec.features}
    data = _dicts(found)
    for row in data:
        row["kind"] = kinds[row["feature"]]
    return _by_day(data)


def fairness(rows: DataFrame, spec: ModelSpec) -> Rows:
    data: list[dict[str, Any]] = []
    for attribute in spec.sensitive:
        group = F.col(f"`{attribute.column}`").cast("string").alias("group_value")
        if spec.task == "regression":
            y, p = F.col("label_value"), F.col("prediction_value")
            ok = y.isNotNull() & p.isNotNull()
            found = rows.groupBy(*KEYS, group).agg(
                F.count(F.lit(1)).alias("n"),
                F.count(F.when(ok, 1)).alias("labeled"),
                F.coalesce(F.sum(F.when(ok, F.abs(p - y))), F.lit(0.0)).alias("abs_error_sum"),
                F.coalesce(F.sum(F.when(ok, (p - y) * (p - y))), F.lit(0.0)).alias(
                    "squared_error_sum"
                ),
            )
        else:
            found = rows.groupBy(*KEYS, group, "prediction", "label").agg(
                F.count(F.lit(1)).alias("n")
            )
        for row in _dicts(found):
            row["attribute"] = attribute.key
            if spec.task != "regression":
                row["labeled"] = row["n"] if row["label"] is not None else 0
            data.append(row)
    return _by_day(data)
