"""Cached aggregates for the System health page, keyed by the page's `Scope` (its data
version makes new log files a new key). Charts use `scope.bucket(finest="minute")`."""

from __future__ import annotations

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.health.gaps import TrafficGap
from monitor.metrics.health.resources import Host, HostBucket
from monitor.metrics.health.service import ErrorMessage, VersionHealth
from monitor.queries import health, resources


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def version_health(_store: LogStore, scope: Scope) -> tuple[VersionHealth, ...]:
    return health.version_health(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def top_errors(_store: LogStore, scope: Scope) -> tuple[ErrorMessage, ...]:
    return health.top_errors(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def traffic_gaps(_store: LogStore, scope: Scope) -> tuple[TrafficGap, ...]:
    return health.traffic_gaps(_store, scope)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def hosts(_store: LogStore, scope: Scope) -> tuple[Host, ...]:
    """Hosts that reported in the scope's window (system events are not per model)."""
    return resources.hosts(_store, scope.window)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def host_series(
    _store: LogStore, scope: Scope, bucket: Bucket, chosen: tuple[str, ...]
) -> tuple[HostBucket, ...]:
    return resources.host_series(_store, scope.window, bucket, chosen)
