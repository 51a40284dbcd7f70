"""The aggregates of a model's service health: traffic, errors and latency per scope, per
time bucket and per version, the most frequent errors and the arrivals per minute that
traffic gaps are found in.

Each function runs one of the store's .sql files (monitor/core/sql) with the scope's
window, model and versions as parameters and hands the rows to the pure functions and
results of `monitor.metrics.health`.
"""

from __future__ import annotations

import datetime as dt

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.health import gaps
from monitor.metrics.health.gaps import TrafficGap
from monitor.metrics.health.service import (
    ErrorMessage,
    Latency,
    ModelHealth,
    TrafficBucket,
    VersionHealth,
    invalid_in_window,
    latency,
    with_traffic_shares,
)
from monitor.queries.performance import scope_params


def model_health(store: LogStore, scope: Scope) -> ModelHealth:
    """Predictions, errors and latency percentiles of the scope's model in its window,
    with the invalid records attributed to the model in the files of the window's days."""
    rows = store.fetch("overview", scope_params(scope))
    invalid = invalid_in_window(store.invalid_records(), scope.window, scope.model_id)
    if not rows:
        return ModelHealth(scope.model_id, scope.window, 0, 0, Latency(None, None, None), invalid)
    _, predictions, errors, found, _, _ = rows[0]
    return ModelHealth(
        scope.model_id, scope.window, int(predictions), int(errors), latency(found), invalid
    )


def traffic(store: LogStore, scope: Scope, bucket: Bucket) -> tuple[TrafficBucket, ...]:
    """Predictions, errors and latency per time bucket (only buckets with predictions)."""
    width = buckets.width(bucket)
    return tuple(
        TrafficBucket(start, width, int(n), int(errors), latency(found))
        for start, n, errors, found in store.fetch("traffic", scope_params(scope, bucket))
    )


def version_health(store: LogStore, scope: Scope) -> tuple[VersionHealth, ...]:
    """Traffic, errors and latency per version, oldest first, with each one's traffic share."""
    rows = store.fetch("health_versions", scope_params(scope))
    return with_traffic_shares(
        [
            (version, int(n), int(errors), latency(found), first, last)
            for version, n, errors, found, first, last in rows
        ]
    )


def top_errors(store: LogStore, scope: Scope, *, limit: int = 10) -> tuple[ErrorMessage, ...]:
    """The most frequent error messages (as logged, shown as plain text)."""
    params = scope_params(scope) | {"limit": limit}
    return tuple(
        ErrorMessage(message, int(n), first, last, tuple(found))
        for message, n, first, last, found in store.fetch("top_errors", params)
    )


def traffic_gaps(
    store: LogStore,
    scope: Scope,
    *,
    min_expected: float = 7.0,
    baseline: dt.timedelta = dt.timedelta(days=7),
) -> tuple[TrafficGap, ...]:
    """Gaps in the scope's traffic (`metrics.health.gaps`), from the predictions per minute
    over the window and up to `baseline` before its end."""
    params = scope_params(scope) | {"start": gaps.baseline_start(scope.window, baseline)}
    arrivals = [(int(minute), int(n)) for minute, n in store.fetch("arrivals", params)]
    return gaps.traffic_gaps(arrivals, scope.window, min_expected=min_expected, baseline=baseline)
