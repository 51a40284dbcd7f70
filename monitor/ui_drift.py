"""Cached drift aggregates for the Drift page (keyed by the store's version; never raw rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import streamlit as st

from monitor import tabular
from monitor.catalog import Window
from monitor.config import ModelConfig, Thresholds
from monitor.errors import MonitorError
from monitor.metrics import drift, drift_distribution, drift_profile, drift_time, multivariate
from monitor.metrics.drift_registry import CORRECTIONS, Correction
from monitor.store import LogStore

Baseline = Literal["reference dataset", "previous window"]
CORRECTION_NAMES: dict[str, str] = {
    "bh": "Benjamini-Hochberg",
    "bonferroni": "Bonferroni",
    "none": "none",
}


def baselines(model: ModelConfig) -> list[Baseline]:
    """What the current window can be compared with: the reference dataset when the
    model has one, and always the window just before."""
    choices: list[Baseline] = ["previous window"]
    if model.reference is not None:
        choices.insert(0, "reference dataset")
    return choices


def correction(value: str | None) -> Correction:
    for known in CORRECTIONS:
        if value == known:
            return known
    return "bh"


@dataclass(frozen=True)
class Sides:
    reference: tabular.Relation
    current: tabular.Relation


def sides(
    store: LogStore,
    model: ModelConfig,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
    *,
    labels: bool = False,
) -> Sides:
    """The two relations the page compares (raises MonitorError with a readable reason)."""
    current = tabular.log_relation(store, model, window, versions, labels=labels)
    if baseline == "reference dataset":
        reference = tabular.reference_relation(store, model)
    else:
        before = window.previous()
        reference = tabular.log_relation(store, model, before, versions, labels=labels)
        if not tabular.rows(store, reference):
            raise MonitorError("no predictions in the previous window to compare with")
    return Sides(reference, current)


def bucket_for(window: Window) -> drift_time.TimeBucket:
    span = window.end - window.start
    if span <= dt.timedelta(days=3):
        return "hour"
    if span <= dt.timedelta(days=120):
        return "day"
    return "week"


@st.cache_data(ttl=300, show_spinner="Computing drift...", max_entries=64)
def report(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
    method: str,
    correction: Correction,
    _thresholds: Thresholds,
) -> drift.DriftReport:
    chosen = sides(_store, _model, window, versions, baseline)
    return drift.drift_between(
        _store,
        chosen.reference,
        chosen.current,
        method=method,
        correction=correction,
        drift_share=_thresholds.drift_share,
        thresholds={"psi": _thresholds.psi},
    )


@st.cache_data(ttl=300, show_spinner="Computing drift over time...", max_entries=32)
def timeline(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
    method: str,
    correction: Correction,
    _thresholds: Thresholds,
) -> drift_time.DriftTimeline:
    chosen = sides(_store, _model, window, versions, baseline)
    return drift_time.drift_over_time(
        _store,
        chosen.reference,
        chosen.current,
        bucket=bucket_for(window),
        method=method,
        correction=correction,
        drift_share=_thresholds.drift_share,
        thresholds={"psi": _thresholds.psi},
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def targets(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
    method: str,
) -> drift.DriftReport:
    chosen = sides(_store, _model, window, versions, baseline, labels=True)
    return drift_time.target_drift(
        _store, chosen.reference, chosen.current, task=_model.task, method=method
    )


@st.cache_data(ttl=300, show_spinner="Training the domain classifier...", max_entries=32)
def domain(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
) -> multivariate.MultivariateDrift:
    chosen = sides(_store, _model, window, versions, baseline)
    return multivariate.multivariate_drift(_store, chosen.reference, chosen.current)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def distribution(
    _store: LogStore,
    version: str,
    _model: ModelConfig,
    model_id: str,
    window: Window,
    versions: tuple[str, ...],
    baseline: Baseline,
    feature: str,
) -> drift_distribution.Distribution | None:
    chosen = sides(_store, _model, window, versions, baseline)
    ref_profile, cur_profile = drift_profile.profiles(_store, chosen.reference, chosen.current)
    return drift_distribution.distribution(ref_profile, cur_profile, feature)


def window_label(model: ModelConfig, window: Window) -> str:
    return f"{model.id} logs {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"


def baseline_label(model: ModelConfig, window: Window, baseline: Baseline) -> str:
    """What the page compares against, in words (cheap: no statistics)."""
    if baseline == "reference dataset":
        return f"the reference dataset ({model.reference})"
    before = window.previous()
    return f"the previous window ({before.start:%Y-%m-%d %H:%M} to {before.end:%Y-%m-%d %H:%M} UTC)"
