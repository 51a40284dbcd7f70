"""CPU, memory and queue depth per host from system events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.store import LogStore


@dataclass(frozen=True)
class Host:
    host: str
    samples: int
    last_seen: dt.datetime


@dataclass(frozen=True)
class HostBucket:
    host: str
    start: dt.datetime
    samples: int
    cpu_mean: float | None
    cpu_max: float | None
    memory_mean: float | None
    memory_max: float | None
    queue_mean: float | None
    queue_max: float | None


def hosts(store: LogStore, window: Window) -> tuple[Host, ...]:
    rows = store.fetch("system_hosts", {"start": window.start, "end": window.end})
    return tuple(Host(host, int(n), last) for host, n, last in rows)


def host_series(
    store: LogStore, window: Window, bucket: Bucket, hosts: Sequence[str] | None = None
) -> tuple[HostBucket, ...]:
    """Per host and bucket: mean and max of each resource (None where not reported)."""
    params = {
        "start": window.start,
        "end": window.end,
        "hosts": list(hosts) if hosts else None,
    } | buckets.params(bucket)
    return tuple(
        HostBucket(host, start, int(n), *values)
        for host, start, n, *values in store.fetch("system", params)
    )
