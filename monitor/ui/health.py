"""Cached aggregates for the System health page (keyed by the store's version)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.store import LogStore
from monitor.metrics.health import gaps, resources
from monitor.metrics.health import service as health


def bucket_for(window: Window) -> Bucket:
    """A bucket width that gives a readable number of points for the window."""
    span = window.end - window.start
    if span <= dt.timedelta(hours=6):
        return "minute"
    if span <= dt.timedelta(days=3):
        return "hour"
    return "day"


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def version_health(
    _store: LogStore, version: str, model_id: str, window: Window, versions: tuple[str, ...]
) -> tuple[health.VersionHealth, ...]:
    return health.version_health(_store, model_id, window, versions)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def top_errors(
    _store: LogStore, version: str, model_id: str, window: Window, versions: tuple[str, ...]
) -> tuple[health.ErrorMessage, ...]:
    return health.top_errors(_store, model_id, window, versions)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def traffic_gaps(
    _store: LogStore, version: str, model_id: str, window: Window, versions: tuple[str, ...]
) -> tuple[gaps.TrafficGap, ...]:
    return gaps.traffic_gaps(_store, model_id, window, versions)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def hosts(_store: LogStore, version: str, window: Window) -> tuple[resources.Host, ...]:
    return resources.hosts(_store, window)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def host_series(
    _store: LogStore, version: str, window: Window, bucket: Bucket, chosen: tuple[str, ...]
) -> tuple[resources.HostBucket, ...]:
    return resources.host_series(_store, window, bucket, chosen)
