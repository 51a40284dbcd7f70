"""Cached data-quality aggregates for the Data quality page, over the scopes of
`monitor.ui_drift` (a model's logs, cached on the store's version, or an uploaded pair,
cached on the datasets' ids and content hashes)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from monitor.core import buckets
from monitor.core.store import InvalidRecords
from monitor.core.tabular import log_relation
from monitor.metrics import quality
from monitor.metrics.health import service as health
from monitor.ui.drift import LogScope, Scope, UploadScope, bucket_for, sides

NO_LOG_FILES = "Uploaded datasets are validated when they are saved: there are no log files."


@st.cache_data(ttl=300, show_spinner="Checking data quality...", max_entries=64)
def _report(_scope: Scope, key: tuple[Any, ...]) -> quality.QualityReport:
    chosen = sides(_scope)
    model = _scope.model
    invalid = None
    if isinstance(_scope, LogScope):
        records = _scope.store.invalid_records()
        invalid = health.invalid_in_window(records, _scope.window, _scope.model.id)
    return quality.quality_report(
        _scope.runner,
        chosen.reference,
        chosen.current,
        ranges=None if model is None else model.feature_ranges,
        categories=None if model is None else model.feature_categories,
        invalid_records=invalid,
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def _over_time(_scope: LogScope, key: tuple[Any, ...]) -> quality.QualityOverTime:
    """Missing, out-of-range and new-category shares per time bucket, with the ranges and
    known categories of the quality report against the same baseline."""
    found = _report(_scope, key)
    chosen = sides(_scope)
    bucket = bucket_for(_scope.window)
    store, model = _scope.store, _scope.model
    return quality.quality_over_time(
        store,
        log_relation(store, model, _scope.window, _scope.versions),
        width_us=buckets.WIDTH_US[bucket],
        offset_us=buckets.offset_us(bucket),
        ranges={f.feature: f.valid_range for f in found.features if f.valid_range},
        known=quality.known_categories(store, chosen.reference, model.feature_categories),
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def _correlations(_scope: Scope, key: tuple[Any, ...]) -> quality.Correlations:
    chosen = sides(_scope)
    return quality.correlations(_scope.runner, chosen.reference, chosen.current)


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def _invalid_files(_scope: LogScope, key: tuple[Any, ...]) -> tuple[InvalidRecords, ...]:
    return health.in_window(_scope.store.invalid_records(), _scope.window)


def report(scope: Scope) -> quality.QualityReport:
    return _report(scope, scope.key)


def over_time(scope: Scope) -> quality.QualityOverTime | None:
    """Shares per time bucket, or None for an uploaded pair (no time axis)."""
    if isinstance(scope, UploadScope):
        return None
    return _over_time(scope, scope.key)


def correlations(scope: Scope) -> quality.Correlations:
    return _correlations(scope, scope.key)


def invalid_files(scope: Scope) -> tuple[InvalidRecords, ...] | None:
    """Log files with invalid records in the window, or None for an uploaded pair."""
    if isinstance(scope, UploadScope):
        return None
    return _invalid_files(scope, scope.key)
