"""Reading the logs in Spark as the log store reads them (monitor.core.store,
monitor.core.views): the same columns, types and valid records, from Parquet files (Spark's
reader, conformed to the store's types) and JSONL files (parsed on the executors by
monitor.ops.rollup.spark_rows). Also: the Spark session and listing files under a Hadoop
filesystem URI (s3a://, hdfs://). Only the Spark engine imports this module."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from monitor.core import logfiles, schema, views
from monitor.core.schema import RecordKind
from monitor.core.views import FeatureColumn
from monitor.ops.rollup import spark_rows
from monitor.ops.rollup.engine import InputFile
from monitor.ops.rollup.storage import is_uri

_SQL_TYPES = {"DOUBLE": T.DoubleType(), "BOOLEAN": T.BooleanType(), "VARCHAR": T.StringType()}
_BASE = T.StructType(
    [
        T.StructField("prediction_id", T.StringType()),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("model_id", T.StringType()),
        T.StructField("model_version", T.StringType()),
        T.StructField("prediction", T.StringType()),
        T.StructField("probability", T.DoubleType()),
        T.StructField("probabilities", T.StringType()),
        T.StructField("latency_ms", T.DoubleType()),
        T.StructField("status", T.StringType()),
        T.StructField("error", T.StringType()),
        T.StructField("label", T.StringType()),
    ]
)
_FEEDBACK = T.StructType(
    [
        T.StructField("prediction_id", T.StringType()),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("label", T.StringType()),
    ]
)
_DAY_PATTERN = r"date=([0-9]{4}-[0-9]{2}-[0-9]{2})/[^/]*$"


def session(master: str | None) -> SparkSession:
    """A Spark session in UTC with non-ANSI casts (a bad value reads as NULL, as TRY_CAST).
    The master: `master`, else spark-submit's (it starts the JVM and sets
    PYSPARK_GATEWAY_PORT), else local[*] with 2 GB for the driver."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("monitor-rollup")
    if master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:
        builder = builder.master("local[*]").config("spark.driver.memory", "2g")
    builder = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.files.ignoreCorruptFiles", "true")
        .config("spark.ui.showConsoleProgress", "false")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def local_path(location: str) -> str:
    """A file URI as Spark reports it (file:/x, file:///x) as a plain path; others as they are."""
    parsed = urlparse(location)
    return unquote(parsed.path) if parsed.scheme == "file" else location


def list_uri(spark: SparkSession, root: str, kind: RecordKind) -> list[InputFile]:
    """The kind's files under a URI, listed through Hadoop's FileSystem (s3a, hdfs)."""
    jvm: Any = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    folder = jvm.org.apache.hadoop.fs.Path(f"{root}/{schema.LOGS_DIR}/{kind}")
    filesystem = folder.getFileSystem(conf)
    if not filesystem.exists(folder):
        return []
    found: list[InputFile] = []
    for partition in filesystem.listStatus(folder):
        name = partition.getPath().getName()
        if not partition.isDirectory() or name.startswith("."):
            continue
        day = schema.partition_date(Path(name) / "x")
        for status in filesystem.listStatus(partition.getPath()):
            file_name = status.getPath().getName()
            if status.isDirectory() or file_name.startswith("."):
                continue
            if not file_name.endswith((".jsonl", ".parquet")):
                continue
            found.append(
                InputFile(
                    f"{root}/{schema.LOGS_DIR}/{kind}/{name}/{file_name}",
                    day,
                    int(status.getLen()),
                    int(status.getModificationTime()) * 1_000_000,
                )
            )
    stems = {f.path[: -len(".parquet")] for f in found if f.path.endswith(".parquet")}
    kept = [f for f in found if not (f.path.endswith(".jsonl") and f.path[:-6] in stems)]
    return sorted(kept, key=lambda f: f.path)


class LogReader:
    """Reads log files as the log store's views would: the same columns and types."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.features: tuple[FeatureColumn, ...] = ()
        self._corrupt: set[str] = set()
        self._invalid: dict[str, int] = {}
        self._unreadable: list[str] = []

    def open(self, files: Mapping[RecordKind, Sequence[InputFile]]) -> None:
        for found in files.values():
            self.check_parquet(found)
        self.features = self.discover_features(files.get("predictions", []))

    def parquet(self, paths: Sequence[str], target: T.StructType) -> DataFrame | None:
        """Parquet files conformed to `target`, with `source_file` (as Spark names it).
        Corrupt files are skipped (spark.sql.files.ignoreCorruptFiles) and reported."""
        readable = [p for p in paths if p not in self._corrupt]
        if not readable:
            return None
        frame = self.spark.read.option("mergeSchema", "true").parquet(*readable)
        return _conform(frame, target).withColumn("source_file", F.input_file_name())

    def check_parquet(self, files: Sequence[InputFile]) -> None:
        """Report local Parquet files whose footer cannot be read (as the store does)."""
        for f in files:
            if f.path.endswith(".parquet") and not is_uri(f.path):
                error = logfiles.read_footer(Path(f.path)).error
                if error is not None:
                    self._corrupt.add(f.path)
                    self._unreadable.append(f"{f.path}: left out, {error}")

    def _parquet_feature_types(self, paths: Sequence[str]) -> dict[str, str]:
        """Feature column types of the Parquet files (each file's when they disagree)."""
        readable = [p for p in paths if p not in self._corrupt]
        if not readable:
            return {}
        try:
            schemas = [self.spark.read.option("mergeSchema", "true").parquet(*readable).schema]
        except Exception:
            schemas = [self.spark.read.parquet(p).schema for p in readable]
        types: dict[str, str] = {}
        for found in schemas:
            for field in found.fields:
                if field.name.startswith(schema.FEATURE_PREFIX):
                    key = field.name[len(schema.FEATURE_PREFIX) :]
                    types[key] = views.unify_types(types.get(key), _sql_type(field.dataType))
        return types

    def discover_features(self, files: Sequence[InputFile]) -> tuple[FeatureColumn, ...]:
        """Feature columns and types as `LogStore` finds them: Parquet columns' types,
        then JSONL values' JSON types (monitor.core.views.feature_type)."""
        types = self._parquet_feature_types([f.path for f in files if f.path.endswith(".parquet")])
        jsonl = [f.path for f in files if f.path.endswith(".jsonl")]
        if jsonl:
            pairs = (
                self.spark.read.text(jsonl)
                .rdd.flatMap(lambda row: spark_rows.feature_types(row.value))
                .map(lambda pair: (pair, 1))
                .reduceByKey(lambda a, b: a + b)
                .collect()
            )
            counts: dict[str, dict[str, int]] = {}
            for (key, json_type), n in pairs:
                views.add_type_count(counts, key, json_type, n)
            for key, type_counts in counts.items():
                types[key] = views.unify_types(types.get(key), views.feature_type(type_counts))
        return tuple(views.feature_columns(types))

    def _jsonl(
        self, paths: Sequence[str], target: T.StructType, parse: Any, *extra: Any
    ) -> DataFrame:
        """JSONL files parsed on the executors (`spark_rows`), with `source_file`; counts
        the invalid lines per file for `problems`."""
        lines = self.spark.read.text(list(paths)).select(
            F.input_file_name().alias("path"), F.col("value")
        )
        parsed = lines.rdd.flatMap(lambda row: _with_path(parse(row.value, *extra), row.path))
        with_path = T.StructType(
            [*list(target.fields), T.StructField("source_file", T.StringType())]
        )
        bad = (
            lines.rdd.filter(lambda row: row.value.strip() and parse(row.value, *extra) is None)
            .map(lambda row: (row.path, 1))
            .reduceByKey(lambda a, b: a + b)
            .collect()
        )
        for path, n in bad:
            self._invalid[local_path(path)] = int(n)
        return self.spark.createDataFrame(parsed, with_path)

    def _read(
        self, files: Sequence[InputFile], target: T.StructType, parse: Any, *extra: Any
    ) -> DataFrame | None:
        parquet = [f.path for f in files if f.path.endswith(".parquet")]
        jsonl = [f.path for f in files if f.path.endswith(".jsonl")]
        found = self.parquet(parquet, target)
        if jsonl:
            parsed = self._jsonl(jsonl, target, parse, *extra)
            found = parsed if found is None else found.unionByName(parsed)
        return found

    def predictions(self, files: Sequence[InputFile]) -> DataFrame | None:
        """The predictions of these files, with the store's columns and types and their
        partition `day`."""
        features = [(f.key, f.sql_type) for f in self.features]
        target = T.StructType(
            list(_BASE.fields)
            + [T.StructField(f.column, _SQL_TYPES[f.sql_type]) for f in self.features]
        )
        union = self._read(files, target, spark_rows.prediction_row, features)
        if union is None:
            return None
        status = F.lower(
            F.coalesce(F.col("status"), F.when(F.col("error").isNotNull(), "error").otherwise("ok"))
        )
        return (
            union.where(F.col("timestamp").isNotNull())
            .withColumn("day", F.regexp_extract(F.col("source_file"), _DAY_PATTERN, 1))
            .withColumn("status", status)
            .withColumn("model_version", F.coalesce(F.col("model_version"), F.lit("")))
            .withColumn("prediction_value", F.col("prediction").cast("double"))
        )

    def feedback(self, files: Sequence[InputFile]) -> DataFrame | None:
        """Every valid feedback record: prediction_id, timestamp, label, source_file."""
        union = self._read(files, _FEEDBACK, spark_rows.feedback_row)
        if union is None:
            return None
        return union.where(
            F.col("prediction_id").isNotNull()
            & (F.length("prediction_id") > 0)
            & F.col("timestamp").isNotNull()
            & F.col("label").isNotNull()
        )

    def problems(self) -> list[str]:
        found = list(dict.fromkeys(self._unreadable))
        found += [
            f"{path}: {n} invalid records left out" for path, n in sorted(self._invalid.items())
        ]
        return found


def _with_path(row: tuple[Any, ...] | None, path: str) -> list[tuple[Any, ...]]:
    return [] if row is None else [(*row, path)]


def _sql_type(data_type: T.DataType) -> str:
    """The feature column type for a Parquet column (as the store's `_arrow_sql_type`)."""
    if isinstance(data_type, T.BooleanType):
        return "BOOLEAN"
    if isinstance(data_type, T.NumericType):
        return "DOUBLE"
    return "VARCHAR"


def _conform(frame: DataFrame, target: T.StructType) -> DataFrame:
    """The frame's columns as `target` has them: matched by lower-case name, cast to the
    target type (NULL where a value does not convert), NULL where the file has none."""
    present = {name.lower(): name for name in frame.columns}
    columns = []
    for field in target.fields:
        name = present.get(field.name.lower())
        if name is None:
            columns.append(F.lit(None).cast(field.dataType).alias(field.name))
        else:
            columns.append(F.col(f"`{name}`").cast(field.dataType).alias(field.name))
    return frame.select(*columns)
