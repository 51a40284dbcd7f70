"""The rollup engine on Spark (pyspark): the same job over the same log layout, local
(`local[*]`) or on a cluster (`--master`), with logs on a local path or a Hadoop
filesystem URI (s3a://bucket/prefix, hdfs://...).

The logs are read as the log store reads them (monitor.ops.rollup.spark_read); the
aggregates (monitor.ops.rollup.spark_tables) are computed BATCH_DAYS days per pass,
collected to the driver (they are small) and written by the job like DuckDB's, through
the same writer and manifest. Reference datasets are profiled on the driver with DuckDB
(they must be local files).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from monitor.core import logfiles
from monitor.core.schema import RecordKind
from monitor.core.tabular import FileDatabase, Runner
from monitor.core.views import FeatureColumn
from monitor.ops.rollup import spark_tables
from monitor.ops.rollup import tables as rt
from monitor.ops.rollup.engine import DayResult, InputFile, Specs, Work
from monitor.ops.rollup.spark_read import LogReader, list_uri, local_path, session
from monitor.ops.rollup.storage import is_uri
from monitor.ops.rollup.tables import TableName
from monitor.queries.rollup import ModelSpec

HOUR_US = 3_600_000_000
BATCH_DAYS = 7
"""Days aggregated in one pass: fewer Spark jobs, and results still small to collect."""


class SparkEngine:
    name = "spark"

    def __init__(self, root: str, *, master: str | None = None) -> None:
        self.root = root.rstrip("/")
        self._master = master
        self._spark: SparkSession | None = None
        self._reader: LogReader | None = None
        self._files: dict[RecordKind, list[InputFile]] = {}
        self._latest: DataFrame | None = None
        self._runner: FileDatabase | None = None

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            self._spark = session(self._master)
        return self._spark

    @property
    def reader(self) -> LogReader:
        if self._reader is None:
            self._reader = LogReader(self.spark)
        return self._reader

    # -- files ---------------------------------------------------------------------------

    def list_files(self, kind: RecordKind) -> list[InputFile]:
        if not is_uri(self.root):
            return [
                InputFile(str(f.path), f.day, f.size, f.mtime_ns)
                for f in logfiles.list_log_files(Path(self.root), kind)
            ]
        return list_uri(self.spark, self.root, kind)

    def open(self, files: Mapping[RecordKind, Sequence[InputFile]]) -> None:
        self._files = {kind: list(found) for kind, found in files.items()}
        self.reader.open(self._files)

    def _latest_labels(self) -> DataFrame | None:
        """Per prediction id the latest label (by timestamp) and its file, cached."""
        if self._latest is None:
            feedback = self.reader.feedback(self._files.get("feedback", []))
            if feedback is None:
                return None
            latest = feedback.groupBy("prediction_id").agg(
                F.max_by(F.struct("label", "source_file"), "timestamp").alias("latest")
            )
            self._latest = latest.select(
                "prediction_id",
                F.col("latest.label").alias("feedback_label"),
                F.col("latest.source_file").alias("label_file"),
            ).cache()
        return self._latest

    # -- the engine ----------------------------------------------------------------------

    def log_features(self) -> tuple[FeatureColumn, ...]:
        return self.reader.features

    def reference_runner(self) -> Runner:
        if self._runner is None:
            self._runner = FileDatabase()
        return self._runner

    def prediction_days(self, feedback: Collection[str]) -> set[dt.date]:
        records = self.reader.feedback(self._files.get("feedback", []))
        predictions = self.reader.predictions(self._files.get("predictions", []))
        if records is None or predictions is None:
            return set()
        wanted = {local_path(p) for p in feedback}
        sources = [raw for (raw,) in records.select("source_file").distinct().collect()]
        chosen = [raw for raw in sources if local_path(raw) in wanted]
        ids = records.where(F.col("source_file").isin(chosen)).select("prediction_id")
        found = predictions.join(ids.distinct(), "prediction_id").select("day").distinct()
        return {dt.date.fromisoformat(day) for (day,) in found.collect() if day}

    def compute(
        self, work: Mapping[dt.date, Work], specs: Specs
    ) -> Iterator[tuple[dt.date, DayResult]]:
        """BATCH_DAYS days per pass (the union of their wanted tables)."""
        days = sorted(work)
        for start in range(0, len(days), BATCH_DAYS):
            batch = days[start : start + BATCH_DAYS]
            files = [f for day in batch for f in work[day].files]
            tables = {t for day in batch for t in work[day].tables}
            found = self._compute(files, tables, specs)
            for day in batch:
                wanted = work[day].tables
                result = found.get(day.isoformat(), DayResult({}))
                yield (
                    day,
                    DayResult(
                        {t: result.tables.get(t, rt.empty(t)) for t in wanted}, result.label_files
                    ),
                )

    def _compute(
        self, files: Sequence[InputFile], tables: Collection[TableName], specs: Specs
    ) -> dict[str, DayResult]:
        predictions = self.reader.predictions(files)
        if predictions is None:
            return {}
        micros = F.unix_micros(F.col("timestamp"))
        rows = predictions.withColumn("timestamp_us", micros).withColumn(
            "hour_us", F.floor(micros / F.lit(HOUR_US)).cast("long") * F.lit(HOUR_US)
        )
        labels = bool(set(tables) & rt.LABEL_TABLES)
        latest = self._latest_labels() if labels else None
        if latest is not None:
            rows = rows.join(latest, "prediction_id", "left").withColumn(
                "label", F.coalesce(F.col("feedback_label"), F.col("label"))
            )
        else:
            rows = rows.withColumn("label_file", F.lit(None).cast("string"))
        rows = rows.withColumn("label_value", F.col("label").cast("double")).cache()
        try:
            return self._tables(rows, tables, specs, labels)
        finally:
            rows.unpersist()

    def _tables(
        self, rows: DataFrame, tables: Collection[TableName], specs: Specs, labels: bool
    ) -> dict[str, DayResult]:
        found: dict[TableName, list[tuple[ModelSpec | None, spark_tables.Rows]]] = {
            t: [] for t in tables
        }
        if "traffic" in tables:
            found["traffic"].append((None, spark_tables.traffic(rows)))
        models = [m for (m,) in rows.select("model_id").distinct().collect()]
        for model_id in sorted(models):
            spec = specs.get(model_id)
            mine = rows.where(F.col("model_id") == model_id)
            if "labels" in tables and spec.task in ("binary", "multiclass"):
                found["labels"].append((spec, spark_tables.labels(mine, spec)))
            if "regression" in tables and spec.task == "regression":
                found["regression"].append((spec, spark_tables.regression(mine)))
            if "features" in tables:
                found["features"].append((spec, spark_tables.features(mine, spec)))
            if "fairness" in tables and spec.sensitive:
                found["fairness"].append((spec, spark_tables.fairness(mine, spec)))
        label_files: dict[str, set[str]] = {}
        if labels:
            pairs = rows.where(F.col("label_file").isNotNull()).select("day", "label_file")
            listed = {local_path(f.path): f.path for f in self._files.get("feedback", [])}
            for day, path in pairs.distinct().collect():
                label_files.setdefault(day, set()).add(listed.get(local_path(path), path))
        days = {d for parts in found.values() for _, split in parts for d in split}
        days |= set(label_files)
        return {
            day: DayResult(
                {t: _day_table(t, day, parts) for t, parts in found.items()},
                frozenset(label_files.get(day, set())),
            )
            for day in sorted(days)
        }

    def problems(self) -> list[str]:
        return self.reader.problems() if self._reader is not None else []

    def close(self) -> None:
        if self._latest is not None:
            self._latest.unpersist()
            self._latest = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._spark is not None:
            self._spark.stop()
            self._spark = None


def _day_table(
    table: TableName, day: str, parts: Sequence[tuple[ModelSpec | None, spark_tables.Rows]]
) -> pa.Table:
    """One day's table from the per-model results (features: unlogged ones dropped per model)."""
    pieces: list[pa.Table] = []
    for spec, split in parts:
        found = rt.from_rows(table, split.get(day, []))
        if table == "features" and spec is not None:
            declared = frozenset(f.key for f in spec.features if f.declared)
            found = rt.drop_unlogged_features(found, declared)
        pieces.append(found)
    return rt.combine(table, pieces)
