"""Traffic, error rate and latency of a model: per window, per time bucket, per version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.store import InvalidRecords, LogStore


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


def model_health(
    store: LogStore,
    model_id: str,
    window: Window,
    versions: Sequence[str] | None = None,
) -> ModelHealth:
    """Predictions, errors and latency percentiles of one model in a window."""
    rows = store.fetch("overview", _params(window, model_id, versions))
    invalid = invalid_in_window(store.invalid_records(), window, model_id)
    if not rows:
        return ModelHealth(model_id, window, 0, 0, Latency(None, None, None), invalid)
    _, predictions, errors, latency, _, _ = rows[0]
    return ModelHealth(model_id, window, int(predictions), int(errors), _latency(latency), invalid)


def traffic(
    store: LogStore,
    model_id: str,
    window: Window,
    bucket: Bucket,
    versions: Sequence[str] | None = None,
) -> tuple[TrafficBucket, ...]:
    params = _params(window, model_id, versions) | buckets.params(bucket)
    width = buckets.width(bucket)
    return tuple(
        TrafficBucket(start, width, int(n), int(errors), _latency(latency))
        for start, n, errors, latency in store.fetch("traffic", params)
    )


def version_health(
    store: LogStore, model_id: str, window: Window, versions: Sequence[str] | None = None
) -> tuple[VersionHealth, ...]:
    """Traffic, errors and latency per version, oldest first, with each one's traffic share."""
    rows = store.fetch("health_versions", _params(window, model_id, versions))
    total = sum(int(r[1]) for r in rows)
    return tuple(
        VersionHealth(version, int(n), int(errors), _latency(latency), first, last, int(n) / total)
        for version, n, errors, latency, first, last in rows
    )


def top_errors(
    store: LogStore,
    model_id: str,
    window: Window,
    versions: Sequence[str] | None = None,
    *,
    limit: int = 10,
) -> tuple[ErrorMessage, ...]:
    """The most frequent error messages (as logged, shown as plain text)."""
    params = _params(window, model_id, versions) | {"limit": limit}
    return tuple(
        ErrorMessage(message, int(n), first, last, tuple(found))
        for message, n, first, last, found in store.fetch("top_errors", params)
    )


def in_window(found: Sequence[InvalidRecords], window: Window) -> tuple[InvalidRecords, ...]:
    """The files whose partition day falls in the window."""
    first, last = window.start.date(), window.end.date()
    return tuple(i for i in found if i.day is not None and first <= i.day <= last)


def invalid_in_window(
    found: Sequence[InvalidRecords], window: Window, model_id: str | None = None
) -> int:
    """Invalid records in the files of the window's days; for one model, those attributed
    to it (see `views.attribute_invalid`)."""
    chosen = in_window(found, window)
    if model_id is None:
        return sum(i.count for i in chosen)
    return sum(i.by_model.get(model_id, 0) for i in chosen)


def _latency(values: Sequence[float] | None) -> Latency:
    p50, p95, p99 = values if values is not None else (None, None, None)
    return Latency(p50, p95, p99)


def _params(window: Window, model_id: str, versions: Sequence[str] | None) -> dict[str, Any]:
    return {
        "start": window.start,
        "end": window.end,
        "model": model_id,
        "versions": list(versions) if versions else None,  # empty = no filter
    }
