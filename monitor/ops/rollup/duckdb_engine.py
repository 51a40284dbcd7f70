"""The rollup engine on one machine: the log store's DuckDB views (the SQL is
monitor.queries.rollup). Days are copied into memory a batch at a time (at most
BATCH_DAYS days and about BATCH_BYTES of input files), so the feedback is scanned once
per batch, not once per day, and memory stays bounded (MEMORY_LIMIT) whatever the size
of the logs."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

from monitor.core import logfiles
from monitor.core.schema import RecordKind
from monitor.core.sqlutil import quote_literal
from monitor.core.store import LogStore
from monitor.core.tabular import Runner
from monitor.core.views import FeatureColumn
from monitor.ops.rollup import tables as rt
from monitor.ops.rollup.engine import DayResult, InputFile, Specs, Work
from monitor.ops.rollup.tables import TableName
from monitor.queries import rollup as sql
from monitor.queries.rollup import ModelSpec

PARTITION_PATTERN: Final = r"date=([0-9]{4}-[0-9]{2}-[0-9]{2})[/\\][^/\\]*$"
BATCH_DAYS: Final = 7
BATCH_BYTES: Final = 96 * 2**20
MEMORY_LIMIT: Final = "1GB"
"""DuckDB's memory limit for the job; beyond it joins spill to a temporary folder (a batch
of the 10 M demo peaked at 2.3 GB without it, 1.1 GB with it, 50 % slower)."""
_TIME = pa.timestamp("us", tz="UTC")


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, data_dir: Path, *, memory_limit: str = MEMORY_LIMIT) -> None:
        self.data_dir = Path(data_dir)
        self._memory_limit = memory_limit
        self._store: LogStore | None = None
        self._spill: tempfile.TemporaryDirectory[str] | None = None

    @property
    def store(self) -> LogStore:
        if self._store is None:
            raise RuntimeError("open() the engine first")
        return self._store

    def list_files(self, kind: RecordKind) -> list[InputFile]:
        return [
            InputFile(str(f.path), f.day, f.size, f.mtime_ns)
            for f in logfiles.list_log_files(self.data_dir, kind)
        ]

    def open(self, files: Mapping[RecordKind, Sequence[InputFile]]) -> None:
        self._store = LogStore(self.data_dir, memory_limit=self._memory_limit)
        self._spill = tempfile.TemporaryDirectory(prefix="monitor-rollup-")
        self._store.execute("SET GLOBAL temp_directory = " + quote_literal(self._spill.name))

    def log_features(self) -> tuple[FeatureColumn, ...]:
        return self.store.features

    def reference_runner(self) -> Runner:
        return self.store

    def prediction_days(self, feedback: Collection[str]) -> set[dt.date]:
        if not feedback:
            return set()
        rows = self.store.execute(sql.prediction_days(PARTITION_PATTERN), {"files": list(feedback)})
        return {dt.date.fromisoformat(day) for (day,) in rows if day}

    def compute(
        self, work: Mapping[dt.date, Work], specs: Specs
    ) -> Iterator[tuple[dt.date, DayResult]]:
        for batch in batches(work):
            files = [(f.path, day.isoformat()) for day in batch for f in work[day].files]
            columns = [f.column for f in self.store.features]
            self.store.execute(
                sql.rows_table(columns),
                {"files": [p for p, _ in files], "days": [d for _, d in files]},
            )
            for day in batch:
                yield day, self._day(day, work[day].tables, specs)

    def _day(self, day: dt.date, tables: Collection[TableName], specs: Specs) -> DayResult:
        store, key = self.store, {"day": day.isoformat()}
        found: dict[TableName, list[pa.Table]] = {t: [] for t in tables}
        if "traffic" in tables:
            found["traffic"].append(store.fetch_arrow(sql.traffic(), sql.traffic_params() | key))
        for (model_id,) in store.execute(sql.models_in_rows(), key):
            spec = specs.get(model_id)
            for table in tables:
                if table != "traffic":
                    found[table].append(self._model_table(table, spec, key))
        label_files: frozenset[str] = frozenset()
        if set(tables) & rt.LABEL_TABLES:
            label_files = frozenset(str(f) for (f,) in store.execute(sql.label_files(), key))
        return DayResult({t: rt.combine(t, parts) for t, parts in found.items()}, label_files)

    def _model_table(self, table: TableName, spec: ModelSpec, key: dict[str, str]) -> pa.Table:
        store = self.store
        params = {"model": spec.model_id} | key
        if table == "labels" and spec.task in ("binary", "multiclass"):
            task: Literal["binary", "multiclass"] = (
                "binary" if spec.task == "binary" else "multiclass"
            )
            found = store.fetch_arrow(sql.labels(task), sql.labels_params(spec) | key)
            return _keyed(found.rename_columns(_LABEL_NAMES), spec.model_id)
        if table == "regression" and spec.task == "regression":
            return _keyed(store.fetch_arrow(sql.regression(), params), spec.model_id)
        if table == "features" and spec.features:
            query, feature_params = sql.features(spec.features)
            found = _keyed(store.fetch_arrow(query, params | feature_params), spec.model_id)
            kinds = sql.kinds_of(spec.features)
            kind = pa.array([kinds[f] for f in found.column("feature").to_pylist()], pa.string())
            declared = frozenset(f.key for f in spec.features if f.declared)
            return rt.drop_unlogged_features(found.append_column("kind", kind), declared)
        if table == "fairness":
            parts = [
                _fairness(spec, a.key, store.fetch_arrow(sql.fairness(spec, a), params))
                for a in spec.sensitive
            ]
            return rt.combine("fairness", parts)
        return rt.empty(table)

    def problems(self) -> list[str]:
        found: list[str] = []
        for record in self.store.invalid_records():
            if record.kind == "system":
                continue
            if record.unreadable:
                found.append(f"{record.path}: left out, {record.unreadable}")
            elif record.count:
                found.append(f"{record.path}: {record.count} invalid records left out")
        return found

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None


def batches(work: Mapping[dt.date, Work]) -> Iterator[list[dt.date]]:
    """Consecutive days in batches of at most BATCH_DAYS days and about BATCH_BYTES."""
    batch: list[dt.date] = []
    size = 0
    for day in sorted(work):
        day_size = sum(f.size for f in work[day].files)
        if batch and (len(batch) == BATCH_DAYS or size + day_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(day)
        size += day_size
    if batch:
        yield batch


_LABEL_NAMES: Final = [
    *("hour_us", "model_version", "prediction", "label", "ubin", "lbin", "n", "score_sum"),
    *("loss_sum", "loss_sq_sum", "entropy_sum", "entropy_n"),
]


def _keyed(found: pa.Table, model_id: str) -> pa.Table:
    """A model's aggregate with its model_id and `hour` (from epoch microseconds hour_us)."""
    hour = found.column("hour_us").cast(pa.int64()).cast(_TIME)
    found = found.append_column("hour", hour).drop_columns(["hour_us"])
    return found.append_column("model_id", pa.array([model_id] * found.num_rows, pa.string()))


def _fairness(spec: ModelSpec, attribute: str, found: pa.Table) -> pa.Table:
    """`fairness_sql` cells (k0 = hour_us, k1 = version, g0 = group) as fairness rows."""
    names = {"k0": "hour_us", "k1": "model_version", "g0": "group_value"}
    found = found.rename_columns([names.get(c, c) for c in found.column_names])
    rows = found.num_rows
    if spec.task == "regression":
        total = pc.add(
            pc.add(found.column("n"), found.column("unlabeled")), found.column("skipped")
        )
        found = pa.table(
            {
                "hour_us": found.column("hour_us"),
                "model_version": found.column("model_version"),
                "group_value": found.column("group_value"),
                "prediction": pa.nulls(rows, pa.string()),
                "label": pa.nulls(rows, pa.string()),
                "n": total,
                "labeled": found.column("n"),
                "abs_error_sum": found.column("abs_error"),
                "squared_error_sum": found.column("squared_error"),
            }
        )
    else:
        labeled = pc.if_else(pc.is_null(found.column("y")), 0, found.column("n"))
        found = pa.table(
            {
                "hour_us": found.column("hour_us"),
                "model_version": found.column("model_version"),
                "group_value": found.column("group_value"),
                "prediction": found.column("p"),
                "label": found.column("y"),
                "n": found.column("n"),
                "labeled": labeled,
                "abs_error_sum": pa.nulls(rows, pa.float64()),
                "squared_error_sum": pa.nulls(rows, pa.float64()),
            }
        )
    found = found.append_column("attribute", pa.array([attribute] * rows, pa.string()))
    return _keyed(found, spec.model_id)
