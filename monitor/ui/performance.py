"""Cached aggregates for the Performance page and the Overview's headline.

The key is the `Scope`: it carries the store's version (new logs invalidate) and the
reference file's stamp (a new reference refits the baseline and the calibrator). The
model and the store are passed unhashed (`_`): the scope names the model, and the store
lives for the process.
"""

from __future__ import annotations

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.scope import ReferenceStamp, Scope, reference_stamp
from monitor.core.store import LogStore
from monitor.metrics.performance.report import Headline, PerformanceReport, ReferenceFit
from monitor.metrics.performance.segments import SegmentReport
from monitor.queries import performance_report as queries
from monitor.queries import performance_segments as segment_queries
from monitor.queries.performance_reference import fit_reference


@st.cache_data(ttl=3600, show_spinner=False, max_entries=32)
def _reference_fit(
    _store: LogStore, _model: ModelConfig, model_id: str, stamp: ReferenceStamp
) -> ReferenceFit:
    return fit_reference(_store, _model)


def reference_fit(store: LogStore, model: ModelConfig, scope: Scope | None = None) -> ReferenceFit:
    """`fit_reference`, cached on the model and its reference file only (the scope's
    stamp, or the file's now without a scope): not on the window or the logs."""
    stamp = scope.reference if scope is not None else reference_stamp(model.reference)
    return _reference_fit(store, model, model.id, stamp)


@st.cache_data(ttl=300, show_spinner="Computing performance...", max_entries=64)
def performance_report(
    _store: LogStore, _model: ModelConfig, scope: Scope, bucket: Bucket
) -> PerformanceReport:
    fit = reference_fit(_store, _model, scope)
    return queries.performance(_store, _model, scope, bucket=bucket, reference=fit)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def segment_report(
    _store: LogStore, _model: ModelConfig, scope: Scope, feature: str
) -> SegmentReport:
    return segment_queries.segments(_store, _model, scope, feature=feature)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def headline(_store: LogStore, _model: ModelConfig, scope: Scope) -> Headline:
    """`monitor.queries.performance_report.headline`, cached (for the Overview)."""
    fit = reference_fit(_store, _model, scope)
    return queries.headline(_store, _model, scope, reference=fit)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def segment_features(_store: LogStore, _model: ModelConfig, scope: Scope) -> tuple[str, ...]:
    return segment_queries.segment_features(_store, _model, scope)
