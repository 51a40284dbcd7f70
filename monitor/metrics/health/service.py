"""Traffic, error rate and latency of a model: per window, per time bucket, per version.

Pure: the aggregates come from `monitor.queries.health`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from monitor.core.catalog import Window


@dataclass(frozen=True)
class Latency:
    """Latency percentiles in ms (linear interpolation, as numpy's default)."""

    p50: float | None
    p95: float | None
    p99: float | None


@dataclass(frozen=True)
class ModelHealth:
    model_id: str
    window: Window
    predictions: int
    errors: int
    latency: Latency
    invalid_records: int
    """Invalid records attributed to this model in the log files of the window's days."""

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.predictions if self.predictions else None


@dataclass(frozen=True)
class TrafficBucket:
    start: dt.datetime
    width: dt.timedelta
    predictions: int
    errors: int
    latency: Latency

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.predictions if self.predictions else None

    @property
    def per_minute(self) -> float:
        """Throughput: predictions per minute over the bucket's full width."""
        return self.predictions / (self.width.total_seconds() / 60)


@dataclass(frozen=True)
class VersionHealth:
    version: str
    """'' when predictions were logged without a version."""
    predictions: int
    errors: int
    latency: Latency
    first_seen: dt.datetime
    last_seen: dt.datetime
    traffic_share: float

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.predictions if self.predictions else None


@dataclass(frozen=True)
class ErrorMessage:
    message: str
    count: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    versions: tuple[str, ...]


def latency(values: Sequence[float | None] | None) -> Latency:
    """Latency from a (p50, p95, p99) list as DuckDB's quantile_cont returns it."""
    p50, p95, p99 = values if values is not None else (None, None, None)
    return Latency(p50, p95, p99)


def with_traffic_shares(
    rows: Sequence[tuple[str, int, int, Latency, dt.datetime, dt.datetime]],
) -> tuple[VersionHealth, ...]:
    """Per-version health from (version, predictions, errors, latency, first seen, last
    seen), each with its share of the predictions of all the rows."""
    total = sum(n for _, n, *_ in rows)
    return tuple(
        VersionHealth(version, n, errors, found, first, last, n / total)
        for version, n, errors, found, first, last in rows
    )


class InvalidFile(Protocol):
    """What the health counts need of a log file's invalid records (`store.InvalidRecords`)."""

    @property
    def day(self) -> dt.date | None: ...

    @property
    def count(self) -> int: ...

    @property
    def by_model(self) -> Mapping[str, int]: ...


F = TypeVar("F", bound=InvalidFile)


def in_window(found: Sequence[F], window: Window) -> tuple[F, ...]:
    """The files whose partition day falls in the window."""
    first, last = window.start.date(), window.end.date()
    return tuple(i for i in found if i.day is not None and first <= i.day <= last)


def invalid_in_window(
    found: Sequence[InvalidFile], window: Window, model_id: str | None = None
) -> int:
    """Invalid records in the files of the window's days; for one model, those attributed
    to it (see `views.attribute_invalid`)."""
    chosen = in_window(found, window)
    if model_id is None:
        return sum(i.count for i in chosen)
    return sum(i.by_model.get(model_id, 0) for i in chosen)
