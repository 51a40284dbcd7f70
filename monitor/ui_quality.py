"""Cached data-quality aggregates for the Data quality page (keyed by the store's version)."""

from __future__ import annotations

import streamlit as st

from monitor import buckets
from monitor.catalog import Window
from monitor.config import ModelConfig
from monitor.metrics import health, quality
from monitor.store import InvalidRecords, LogStore
from monitor.tabular import log_relation
from monitor.ui_drift import Baseline, bucket_for, sides


@st.cache_data(ttl=300, show_spinner="Checking data quality...", max_entries=64)
def report(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
) -> quality.QualityReport:
    chosen = sides(_store, _model, window, versions, baseline)
    invalid = health.invalid_in_window(_store.invalid_records(), window, model_id)
    return quality.quality_report(
        _store,
        chosen.reference,
        chosen.current,
        ranges=_model.feature_ranges,
        categories=_model.feature_categories,
        invalid_records=invalid,
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def over_time(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
) -> quality.QualityOverTime:
    """Missing, out-of-range and new-category shares per time bucket, with the ranges and
    known categories of the quality report against the same baseline."""
    found = report(_store, version, _model, model_id, window, versions, baseline)
    chosen = sides(_store, _model, window, versions, baseline)
    bucket = bucket_for(window)
    return quality.quality_over_time(
        _store,
        log_relation(_store, _model, window, versions),
        width_us=buckets.WIDTH_US[bucket],
        offset_us=buckets.offset_us(bucket),
        ranges={f.feature: f.valid_range for f in found.features if f.valid_range},
        known=quality.known_categories(_store, chosen.reference, _model.feature_categories),
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def correlations(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
) -> quality.Correlations:
    chosen = sides(_store, _model, window, versions, baseline)
    return quality.correlations(_store, chosen.reference, chosen.current)


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def invalid_files(_store: LogStore, version: str, window: Window) -> tuple[InvalidRecords, ...]:
    return health.in_window(_store.invalid_records(), window)
