"""Cached fairness aggregates for the Fairness page (keys include the store version).

The labeled table (`log_table`) is separate from the report: the report is cached on
the table's content, so another source (an uploaded dataset) can feed the same engine.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from monitor import fairness_sources
from monitor.catalog import Window
from monitor.config import ModelConfig
from monitor.fairness_sources import Bucket
from monitor.metrics import fairness, fairness_trend
from monitor.metrics.fairness_input import GroupData, GroupKey
from monitor.store import LogStore

PAGE_BOOTSTRAP = 200
"""Bootstrap replicates on the page (error bars); the CLI takes --bootstrap."""


def bucket_for(window: Window) -> Bucket:
    return "hour" if window.end - window.start <= dt.timedelta(days=3) else "day"


@st.cache_data(ttl=300, show_spinner=False, max_entries=32)
def feature_choices(_store: LogStore, version: str, model_id: str) -> tuple[tuple[str, str], ...]:
    return fairness_sources.model_features(_store, model_id)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def log_table(
    _store: LogStore,
    version: str,
    model: ModelConfig,
    window: Window,
    versions: tuple[str, ...],
    sensitive: tuple[str, ...],
) -> GroupData:
    return fairness_sources.log_table(
        _store, model, sensitive=sensitive, window=window, versions=versions
    )


@st.cache_data(ttl=300, show_spinner="Computing group metrics...", max_entries=64)
def report(
    data: GroupData,
    *,
    reference: str,
    metric: str,
    tau: float,
    min_group_size: int,
    min_class_count: int,
    bootstrap: int,
    seed: int,
) -> fairness.FairnessReport:
    return fairness.audit(
        data,
        reference=reference,
        metric=metric,
        tau=tau,
        min_group_size=min_group_size,
        min_class_count=min_class_count,
        bootstrap=bootstrap,
        seed=seed,
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def log_trend(
    _store: LogStore,
    version: str,
    model: ModelConfig,
    window: Window,
    versions: tuple[str, ...],
    sensitive: tuple[str, ...],
    bucket: Bucket | None,
    *,
    metric: str,
    reference: str,
    reference_group: GroupKey | None,
    tau: float,
    min_group_size: int,
    min_class_count: int,
) -> fairness_trend.FairnessTrend:
    """Per version (bucket None) or per time bucket and version."""
    slices = fairness_sources.log_slices(
        _store,
        model,
        sensitive=sensitive,
        window=window,
        versions=versions,
        bucket=bucket,
        by_version=True,
    )
    return fairness_trend.trend(
        slices,
        metric=metric,
        reference=reference,
        reference_group=reference_group,
        tau=tau,
        min_group_size=min_group_size,
        min_class_count=min_class_count,
    )
