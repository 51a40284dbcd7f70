"""Host resources from system events: the hosts that reported in a window and their CPU,
memory and queue depth per time bucket (monitor/core/sql/system*.sql). System events
belong to hosts, not models: these take a window, not a scope."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.core import buckets
from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.store import LogStore
from monitor.metrics.health.resources import Host, HostBucket


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
