"""Cached aggregates for the Performance page and the Overview's headline.

Keys: the store's version (new logs invalidate), the model id and the reference file's
size and modification time (a new reference refits the baseline and the calibrator).
Settings and the store are passed unhashed (`_`): they live for the process.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Settings
from monitor.core.store import LogStore
from monitor.metrics.performance import report as perf
from monitor.metrics.performance import segments as seg

ReferenceStamp = tuple[str, int, int] | None


def reference_stamp(model: ModelConfig) -> ReferenceStamp:
    """Identifies the reference file's content for cache keys."""
    path = model.reference
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)


def bucket_for(window: Window) -> Bucket:
    """Hourly buckets up to three days, daily up to 90 days, weekly beyond."""
    span = window.end - window.start
    if span <= dt.timedelta(days=3):
        return "hour"
    return "day" if span <= dt.timedelta(days=90) else "week"


@st.cache_data(ttl=3600, show_spinner=False, max_entries=32)
def reference_fit(
    _store: LogStore, _model: ModelConfig, model_id: str, stamp: ReferenceStamp
) -> perf.ReferenceFit:
    return perf.fit_reference(_store, _model)


@st.cache_data(ttl=300, show_spinner="Computing performance...", max_entries=64)
def performance_report(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    stamp: ReferenceStamp,
    window: Window,
    bucket: Bucket,
    versions: tuple[str, ...],
) -> perf.PerformanceReport:
    fit = reference_fit(_store, _model, model_id, stamp)
    return perf.performance(_store, _model, window, bucket=bucket, versions=versions, reference=fit)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def segment_report(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    feature: str,
) -> seg.SegmentReport:
    return seg.segments(_store, _model, window, feature=feature, versions=versions)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def _headline(
    _store: LogStore,
    version: str,
    _settings: Settings,
    model_id: str,
    stamp: ReferenceStamp,
    window: Window,
    versions: tuple[str, ...],
) -> perf.Headline:
    model = _settings.model(model_id)
    fit = reference_fit(_store, model, model_id, stamp)
    return perf.headline(_store, _settings, model_id, window, versions, reference=fit)


def headline(
    store: LogStore, settings: Settings, model_id: str, window: Window, versions: tuple[str, ...]
) -> perf.Headline:
    """`monitor.metrics.performance.headline`, cached (for the Overview)."""
    stamp = reference_stamp(settings.model(model_id))
    return _headline(store, store.version, settings, model_id, stamp, window, versions)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def segment_features(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
) -> tuple[str, ...]:
    return seg.segment_features(_store, _model, window, versions)
