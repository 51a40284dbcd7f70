"""Cached data-quality aggregates for the Data quality page, over the scopes of
`monitor.ui.drift` (a model's logs keyed by the sidebar's `Scope` and the baseline, or
an uploaded pair keyed by the datasets' ids and content hashes), and the page's tables
as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from monitor.core import buckets
from monitor.core.config import ModelConfig
from monitor.core.scope import Scope
from monitor.core.store import InvalidRecords, LogStore
from monitor.metrics.health import service as health
from monitor.metrics.quality import OK, Correlations, Limits, QualityOverTime, QualityReport
from monitor.queries import quality as quality_queries
from monitor.ui.drift import HASH_FUNCS, Comparison, DriftScope, LogScope, UploadScope, sides

NO_LOG_FILES = "Uploaded datasets are validated when they are saved: there are no log files."


@st.cache_data(
    ttl=300, show_spinner="Checking data quality...", max_entries=64, hash_funcs=HASH_FUNCS
)
def _report(
    _store: LogStore, _model: ModelConfig | None, scope: DriftScope, limits: Limits
) -> QualityReport:
    chosen = sides(_store, _model, scope)
    invalid = None
    if isinstance(scope, LogScope):
        records = _store.invalid_records()
        invalid = health.invalid_in_window(records, scope.logs.window, scope.logs.model_id)
    return quality_queries.quality_report(
        chosen.runner,
        chosen.reference,
        chosen.current,
        ranges=None if _model is None else _model.feature_ranges,
        categories=None if _model is None else _model.feature_categories,
        invalid_records=invalid,
        limits=limits,
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def _over_time(
    _store: LogStore, _model: ModelConfig, scope: LogScope, limits: Limits
) -> QualityOverTime:
    """Missing, out-of-range and new-category shares per time bucket, with the ranges and
    known categories of the quality report against the same baseline."""
    found = _report(_store, _model, scope, limits)
    chosen = sides(_store, _model, scope)
    bucket = scope.logs.bucket(finest="hour")
    return quality_queries.quality_over_time(
        _store,
        chosen.current,
        width_us=buckets.WIDTH_US[bucket],
        offset_us=buckets.offset_us(bucket),
        ranges={f.feature: f.valid_range for f in found.features if f.valid_range},
        known=quality_queries.known_categories(_store, chosen.reference, _model.feature_categories),
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64, hash_funcs=HASH_FUNCS)
def _correlations(_store: LogStore, _model: ModelConfig | None, scope: DriftScope) -> Correlations:
    chosen = sides(_store, _model, scope)
    return quality_queries.correlations(chosen.runner, chosen.reference, chosen.current)


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def _invalid_files(_store: LogStore, scope: Scope) -> tuple[InvalidRecords, ...]:
    return health.in_window(_store.invalid_records(), scope.window)


def report(compared: Comparison, limits: Limits) -> QualityReport:
    """The quality report; `limits` (the rules' thresholds) decide each feature's status."""
    return _report(compared.store, compared.model, compared.scope, limits)


def over_time(compared: Comparison, limits: Limits) -> QualityOverTime | None:
    """Shares per time bucket, or None for an uploaded pair (no time axis)."""
    if isinstance(compared.scope, UploadScope) or compared.model is None:
        return None
    return _over_time(compared.store, compared.model, compared.scope, limits)


def correlations(compared: Comparison) -> Correlations:
    return _correlations(compared.store, compared.model, compared.scope)


def invalid_files(compared: Comparison) -> tuple[InvalidRecords, ...] | None:
    """Log files with invalid records in the window, or None for an uploaded pair."""
    if isinstance(compared.scope, UploadScope):
        return None
    return _invalid_files(compared.store, compared.scope.logs)


# -- the page's tables, as plain values (no Streamlit) --------------------------------------


def schema_issue_count(report: QualityReport) -> int:
    """Columns missing in current, not in the reference, or of another type."""
    return len(report.missing_columns) + len(report.unexpected_columns) + len(report.type_changes)


def limits_text(limits: Limits) -> str:
    """The thresholds behind a feature's status, in words."""
    parts = ["a schema change"]
    if limits.missing_share is not None:
        parts.append(f"often missing: above {limits.missing_share:.0%} missing")
    if limits.new_category_share is not None:
        parts.append(
            f"new categories: above {limits.new_category_share:.0%} of the values in "
            "neither the reference nor the config"
        )
    return "Features whose status is not ok: " + "; ".join(parts) + "."


def with_issues(report: QualityReport) -> list[str]:
    """'feature: status' of every feature whose status is not ok (the table's verdicts)."""
    return [f"{f.feature}: {f.status}" for f in report.features if f.status != OK]


def feature_rows(report: QualityReport) -> list[dict[str, Any]]:
    return [
        {
            "feature": f.feature,
            "kind": f.kind,
            "missing": f.missing_share,
            "missing (reference)": f.reference_missing_share,
            "NaN/inf": f.non_finite,
            "out of range": f.out_of_range_share,
            "new categories": f.new_category_share,
            "distinct (reference)": f.reference_cardinality,
            "distinct": f.current_cardinality,
            "constant": f.constant,
            "status": f.status,
        }
        for f in report.features
    ]


def range_rows(report: QualityReport) -> list[dict[str, Any]]:
    """The features with a valid range: the range, where it came from, the values outside."""
    return [
        {
            "feature": f.feature,
            "valid range": f"{f.valid_range[0]:g} to {f.valid_range[1]:g}",
            "from": f.range_source,
            "values out of range": f.out_of_range,
            "share": f.out_of_range_share,
        }
        for f in report.features
        if f.valid_range is not None
    ]


def new_category_rows(report: QualityReport) -> list[dict[str, Any]]:
    return [
        {"feature": f.feature, "category": category, "rows": count}
        for f in report.features
        for category, count in f.new_categories
    ]


def schema_rows(report: QualityReport) -> list[dict[str, str]]:
    return (
        [{"column": n, "problem": "missing in current"} for n in report.missing_columns]
        + [{"column": n, "problem": "not in reference"} for n in report.unexpected_columns]
        + [{"column": n, "problem": f"type {a} -> {b}"} for n, a, b in report.type_changes]
    )


def invalid_file_rows(
    invalid: Sequence[InvalidRecords], data_dir: Path, model_id: str
) -> list[dict[str, Any]]:
    """One row per log file with invalid records (paths relative to `data_dir`), with the
    count of `model_id`'s."""
    return [
        {
            "file": str(i.path.relative_to(data_dir)),
            "kind": i.kind,
            "invalid records": i.count,
            f"of {model_id}": i.by_model.get(model_id, 0),
            "problem": i.unreadable or "unreadable lines skipped",
        }
        for i in invalid
    ]
