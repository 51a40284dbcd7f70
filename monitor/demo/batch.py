"""Columnar batches of demo records and their two on-disk forms (Arrow table, JSON record).

A batch holds one day of one model's records as numpy arrays. `to_table` builds the
Parquet columns of schema.py; `to_records` builds the dicts the SDK would write as
JSONL lines. Both go through the same values, so the two formats always agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from monitor.core.schema import (
    FEEDBACK_SCHEMA,
    PREDICTION_BASE_SCHEMA,
    STATUS_ERROR,
    STATUS_OK,
    SYSTEM_SCHEMA,
    TIMESTAMP_TYPE,
    canonical_text,
    feature_column,
    format_timestamp,
    json_safe,
)
from monitor.demo.spec import ERROR_MESSAGES, ModelSpec
from monitor.demo.timeline import BoolArray, FloatArray, IntArray

_ARROW_TYPES = {"double": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


@dataclass(frozen=True)
class Column:
    """Numbers, booleans, or codes into `categories` (a text column), with optional nulls."""

    values: npt.NDArray[Any]
    null: BoolArray | None = None
    categories: tuple[str, ...] | None = None
    integral: bool = False  # numbers that are whole: written as JSON integers

    def __len__(self) -> int:
        return len(self.values)

    def select(self, rows: slice) -> Column:
        null = None if self.null is None else self.null[rows]
        return replace(self, values=self.values[rows], null=null)

    def take(self, index: IntArray) -> Column:
        null = None if self.null is None else self.null[index]
        return replace(self, values=self.values[index], null=null)

    def to_arrow(self) -> pa.Array:
        if self.categories is not None:
            codes = pa.array(self.values, pa.int64(), mask=self.null)  # null code -> null text
            return pc.take(pa.array(self.categories, pa.string()), codes)
        if self.values.dtype == np.bool_:
            return pa.array(self.values, pa.bool_(), mask=self.null)
        return pa.array(self.values.astype(np.float64), pa.float64(), mask=self.null)

    def to_python(self) -> list[Any]:
        if self.categories is not None:
            names = self.categories
            values: list[Any] = [names[i] for i in self.values.tolist()]
        elif self.integral:
            values = self.values.astype(np.int64).tolist()
        else:
            values = self.values.tolist()
        if self.null is not None:
            values = [
                None if missing else v
                for v, missing in zip(values, self.null.tolist(), strict=True)
            ]
        return values

    def canonical(self) -> pa.Array:
        """schema.canonical_text of each value, computed once per distinct value."""
        if self.categories is not None:
            return self.to_arrow()
        values = self.values.astype(np.int64) if self.integral else self.values
        if self.null is not None:
            values = np.where(self.null, np.zeros(1, values.dtype), values)
        distinct, inverse = np.unique(values, return_inverse=True)
        texts = pa.array([canonical_text(v) for v in distinct.tolist()], pa.string())
        return pc.take(texts, pa.array(inverse.astype(np.int64).ravel(), mask=self.null))


def concat_columns(columns: list[Column]) -> Column:
    first = columns[0]
    nulls = [c.null if c.null is not None else np.zeros(len(c), np.bool_) for c in columns]
    null = np.concatenate(nulls) if any(c.null is not None for c in columns) else None
    return replace(first, values=np.concatenate([c.values for c in columns]), null=null)


def id_strings(prefix: str, numbers: IntArray) -> pa.Array:
    """Prediction ids such as ``cr-000000123``."""
    digits = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(pa.string()), 9, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _repeat(text: str, count: int) -> pa.Array:
    return pc.take(pa.array([text], pa.string()), pa.array(np.zeros(count, np.int64)))


def _float_or_null(values: FloatArray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _timestamps(values: IntArray) -> pa.Array:
    return pa.array(values, TIMESTAMP_TYPE)


def _iso(values: IntArray) -> list[str]:
    return [format_timestamp(us / 1_000_000) for us in values.tolist()]


def _dumps(record: dict[str, Any]) -> str:
    """A compact JSON line; a stray NaN raises instead of writing invalid JSON."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Batch(Protocol):
    def __len__(self) -> int: ...
    def select(self, rows: slice) -> Batch: ...
    def to_table(self) -> pa.Table: ...
    def to_lines(self) -> list[str]: ...


@dataclass(frozen=True)
class PredictionBatch:
    spec: ModelSpec
    numbers: IntArray  # prediction number: the id is spec.id_prefix + 9 digits
    timestamp_us: IntArray
    version: Column
    features: tuple[Column, ...]  # aligned with spec.features
    prediction: Column  # null where the request failed
    probability: FloatArray | None  # NaN where the request failed
    latency_ms: FloatArray
    error: Column  # index into ERROR_MESSAGES, null where the request succeeded
    request_number: IntArray
    channel: Column

    def __len__(self) -> int:
        return len(self.numbers)

    def select(self, rows: slice) -> PredictionBatch:
        return PredictionBatch(
            spec=self.spec,
            numbers=self.numbers[rows],
            timestamp_us=self.timestamp_us[rows],
            version=self.version.select(rows),
            features=tuple(f.select(rows) for f in self.features),
            prediction=self.prediction.select(rows),
            probability=None if self.probability is None else self.probability[rows],
            latency_ms=self.latency_ms[rows],
            error=self.error.select(rows),
            request_number=self.request_number[rows],
            channel=self.channel.select(rows),
        )

    @property
    def failed(self) -> BoolArray:
        assert self.error.null is not None
        return ~self.error.null

    def _request_ids(self) -> pa.Array:
        digits = pc.utf8_lpad(pa.array(self.request_number, pa.int64()).cast(pa.string()), 12, "0")
        return pc.binary_join_element_wise("req-", digits, "")

    def _metadata(self) -> pa.Array:
        assert self.channel.categories is not None
        texts = [json.dumps({"channel": c}, separators=(",", ":")) for c in self.channel.categories]
        return Column(self.channel.values, categories=tuple(texts)).to_arrow()

    def to_table(self) -> pa.Table:
        n = len(self)
        status = Column(self.failed.astype(np.int64), categories=(STATUS_OK, STATUS_ERROR))
        base = [
            id_strings(self.spec.id_prefix, self.numbers),
            _timestamps(self.timestamp_us),
            _repeat(self.spec.model_id, n),
            self.version.to_arrow(),
            self.prediction.canonical(),
            pa.nulls(n, pa.float64())
            if self.probability is None
            else _float_or_null(self.probability),
            pa.nulls(n, pa.string()),
            pa.array(self.latency_ms, pa.float64()),
            status.to_arrow(),
            self.error.to_arrow(),
            self._request_ids(),
            self._metadata(),
            pa.nulls(n, pa.string()),
        ]
        fields = list(PREDICTION_BASE_SCHEMA)
        for (name, kind), column in zip(self.spec.features, self.features, strict=True):
            fields.append(pa.field(feature_column(name), _ARROW_TYPES[kind]))
            base.append(column.to_arrow())
        return pa.Table.from_arrays(base, schema=pa.schema(fields))

    def to_lines(self) -> list[str]:
        ids = id_strings(self.spec.id_prefix, self.numbers).to_pylist()
        stamps = _iso(self.timestamp_us)
        versions = self.version.to_python()
        names = [name for name, _ in self.spec.features]
        features = [f.to_python() for f in self.features]
        predictions = self.prediction.to_python()
        probabilities = (
            [None] * len(self) if self.probability is None else self.probability.tolist()
        )
        latencies = self.latency_ms.tolist()
        errors = self.error.to_python()
        requests = self._request_ids().to_pylist()
        channels = self.channel.to_python()
        lines = []
        for i in range(len(self)):
            record: dict[str, Any] = {
                "prediction_id": ids[i],
                "timestamp": stamps[i],
                "model_id": self.spec.model_id,
                "model_version": versions[i],
                # As the SDK does: NaN/inf features become null.
                "features": json_safe(
                    {name: values[i] for name, values in zip(names, features, strict=True)}
                ),
            }
            if errors[i] is None:
                record["prediction"] = predictions[i]
                if probabilities[i] is not None:
                    record["probability"] = probabilities[i]
            record["latency_ms"] = latencies[i]
            record["status"] = STATUS_OK if errors[i] is None else STATUS_ERROR
            if errors[i] is not None:
                record["error"] = errors[i]
            record["request_id"] = requests[i]
            record["metadata"] = {"channel": channels[i]}
            lines.append(_dumps(record))
        return lines


def error_column(codes: IntArray) -> Column:
    """Error messages by index into ERROR_MESSAGES; -1 means the request succeeded."""
    return Column(np.maximum(codes, 0), null=codes < 0, categories=ERROR_MESSAGES)


@dataclass(frozen=True)
class FeedbackBatch:
    prefix: str
    numbers: IntArray
    timestamp_us: IntArray
    label: Column

    def __len__(self) -> int:
        return len(self.numbers)

    def select(self, rows: slice) -> FeedbackBatch:
        return self.take_rows(np.arange(len(self))[rows])

    def take_rows(self, index: IntArray) -> FeedbackBatch:
        return FeedbackBatch(
            self.prefix, self.numbers[index], self.timestamp_us[index], self.label.take(index)
        )

    def to_table(self) -> pa.Table:
        arrays = [
            id_strings(self.prefix, self.numbers),
            _timestamps(self.timestamp_us),
            self.label.canonical(),
        ]
        return pa.Table.from_arrays(arrays, schema=FEEDBACK_SCHEMA)

    def to_lines(self) -> list[str]:
        ids = id_strings(self.prefix, self.numbers).to_pylist()
        stamps = _iso(self.timestamp_us)
        labels = self.label.to_python()
        return [
            _dumps({"prediction_id": i, "timestamp": t, "label": label})
            for i, t, label in zip(ids, stamps, labels, strict=True)
        ]


def concat_feedback(batches: list[FeedbackBatch]) -> FeedbackBatch:
    return FeedbackBatch(
        batches[0].prefix,
        np.concatenate([b.numbers for b in batches]),
        np.concatenate([b.timestamp_us for b in batches]),
        concat_columns([b.label for b in batches]),
    )


@dataclass(frozen=True)
class SystemBatch:
    timestamp_us: IntArray
    host: Column
    cpu_percent: FloatArray
    memory_mb: FloatArray
    queue_depth: FloatArray

    def __len__(self) -> int:
        return len(self.timestamp_us)

    def select(self, rows: slice) -> SystemBatch:
        return SystemBatch(
            self.timestamp_us[rows],
            self.host.select(rows),
            self.cpu_percent[rows],
            self.memory_mb[rows],
            self.queue_depth[rows],
        )

    def to_table(self) -> pa.Table:
        arrays = [
            _timestamps(self.timestamp_us),
            self.host.to_arrow(),
            pa.array(self.cpu_percent, pa.float64()),
            pa.array(self.memory_mb, pa.float64()),
            pa.array(self.queue_depth, pa.float64()),
        ]
        return pa.Table.from_arrays(arrays, schema=SYSTEM_SCHEMA)

    def to_lines(self) -> list[str]:
        rows = zip(
            _iso(self.timestamp_us),
            self.host.to_python(),
            self.cpu_percent.tolist(),
            self.memory_mb.tolist(),
            self.queue_depth.astype(np.int64).tolist(),
            strict=True,
        )
        return [
            _dumps({"timestamp": t, "host": h, "cpu_percent": c, "memory_mb": m, "queue_depth": q})
            for t, h, c, m, q in rows
        ]
