"""Cached aggregates for the Performance page and the Overview's headline, and the
page's values and tables as plain values.

The key is the `Scope`: it carries the store's version (new logs invalidate) and the
reference file's stamp (a new reference refits the baseline and the calibrator). The
model and the store are passed unhashed (`_`): the scope names the model, and the store
lives for the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.scope import ReferenceStamp, Scope, reference_stamp
from monitor.core.store import LogStore
from monitor.metrics.intervals import Metric
from monitor.metrics.performance.estimation import ESTIMATED_METRICS, Estimate
from monitor.metrics.performance.groups import GroupPerformance
from monitor.metrics.performance.report import (
    HEADLINE_METRIC,
    Headline,
    PerformanceReport,
    ReferenceFit,
)
from monitor.metrics.performance.scores import CalibrationBin
from monitor.metrics.performance.segments import SegmentReport
from monitor.queries import performance_report as queries
from monitor.queries import performance_segments as segment_queries
from monitor.queries.performance_reference import fit_reference
from monitor.ui.charts.performance import TITLES, Series, format_value
from monitor.ui.models_tables import version_name


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


# -- the page's values and tables, as plain values (no Streamlit) ---------------------------


def headline_help(name: str, realized: Metric | None) -> str:
    """The headline tile's help: what it measures, and its 95% band where there is one."""
    band = (
        f"95% band {format_value(name, realized.low)} to {format_value(name, realized.high)}."
        if realized is not None and realized.low is not None
        else ""
    )
    return "Realized on the labeled predictions of the window; delta against the baseline. " + band


def estimate_help(name: str, estimate: Metric | None) -> str:
    """An estimate tile's help: where it comes from, its 95% band and what it assumes."""
    band = (
        f" 95% band {format_value(name, estimate.low)} to {format_value(name, estimate.high)}."
        if estimate is not None and estimate.low is not None
        else ""
    )
    return (
        "Estimated from the scores alone (no labels), calibrated on the reference; delta "
        "against the baseline." + band + " Assumes P(label | score) as in the reference."
    )


def accuracy_drop(report: PerformanceReport, overall: GroupPerformance) -> float | None:
    """How far the realized accuracy is below the baseline's; None when the headline is not
    accuracy or either value is unknown."""
    name = HEADLINE_METRIC[report.task]
    realized, base = overall.metrics.get(name), report.baseline.metrics.get(name)
    if name != "accuracy" or realized is None or realized.value is None:
        return None
    if base is None or base.value is None:
        return None
    return base.value - realized.value


def trend_series(report: PerformanceReport, *, by_version: bool) -> list[Series]:
    """The trend chart's lines: one per version seen, or all versions together."""
    if not by_version:
        return [Series("all versions", report.buckets())]
    return [Series(version_name(v), report.buckets(v)) for v in report.versions_seen]


def estimate_misses(series: Sequence[Series]) -> tuple[int, int]:
    """(buckets whose realized accuracy falls outside the estimate's band, buckets checked)."""
    checked = [g.estimate_check for line in series for g in line.buckets if g.estimate_check]
    return sum(1 for c in checked if not c.agrees), len(checked)


def estimate_rows(series: Sequence[Series]) -> list[dict[str, Any]]:
    """Estimated against realized accuracy, one row per bucket of each line."""
    return [
        {
            "bucket": g.start,
            "version": g.version or "all",
            "predictions": g.predictions,
            "labeled": g.labeled,
            "realized": g.metrics["accuracy"].value if "accuracy" in g.metrics else None,
            "estimated": g.estimated.metrics["accuracy"].value if g.estimated else None,
            "agrees": None if g.estimate_check is None else g.estimate_check.agrees,
        }
        for line in series
        for g in line.buckets
    ]


def version_choices(report: PerformanceReport) -> dict[str, str | None]:
    """Names to pick a version by (None: all versions); just "all versions" with one."""
    versions = report.versions_seen
    if len(versions) <= 1:
        return {"all versions": None}
    return {"all versions": None} | {version_name(v): v for v in versions}


def calibration_curves(
    report: PerformanceReport,
) -> list[tuple[str, tuple[CalibrationBin, ...]]]:
    """The reliability curve of each version seen over the whole window, where it has one."""
    return [
        (version_name(v), g.calibration)
        for v in report.versions_seen
        if (g := report.overall(v)) is not None and g.calibration
    ]


def per_class_rows(group: GroupPerformance) -> list[dict[str, Any]]:
    return [
        {
            "class": c.label,
            "support": c.support,
            "predicted": c.predicted,
            "precision": c.precision.value,
            "recall": c.recall.value,
            "F1": c.f1,
        }
        for c in group.per_class
    ]


def segment_rows(found: SegmentReport) -> list[dict[str, Any]]:
    """One row per segment; the error column is named by `TITLES[found.metric]`."""
    return [
        {
            "value": s.label,
            "predictions": s.predictions,
            "labeled": s.labeled,
            TITLES[found.metric]: s.error.value,
            "95% low": s.error.low,
            "95% high": s.error.high,
        }
        for s in found.segments
    ]


# -- a window without labels -------------------------------------------------------------------


def has_estimates(report: PerformanceReport) -> bool:
    """Whether the report carries label-free estimates (binary models with a calibrator)."""
    return report.task == "binary" and report.estimation_note is None


def version_estimates(report: PerformanceReport) -> list[tuple[str, Estimate]]:
    """The whole window's estimates: all versions pooled, then each version (just the
    pool with one version), where there is one."""
    return [
        (name, group.estimated)
        for name, version in version_choices(report).items()
        if (group := report.overall(version)) is not None and group.estimated is not None
    ]


def estimate_table(report: PerformanceReport) -> list[dict[str, Any]]:
    """One row per (version, estimated metric): the estimate, its 95% band, the baseline."""
    rows = []
    for name, estimate in version_estimates(report):
        for metric in ESTIMATED_METRICS:
            found = estimate.metrics.get(metric)
            base = report.baseline.metrics.get(metric)
            rows.append(
                {
                    "version": name,
                    "metric": TITLES[metric],
                    "estimated": found.value if found else None,
                    "95% low": found.low if found else None,
                    "95% high": found.high if found else None,
                    "baseline": base.value if base else None,
                    "predictions": estimate.predictions,
                }
            )
    return rows
