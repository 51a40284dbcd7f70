"""Cached fairness aggregates for the Fairness page: on logs keyed by the page's `Scope`
(its data version makes new log files a new key), on uploads by the dataset's id, sha256
and column roles.

The labeled table (`log_table`, `upload_table`) is separate from the report: the report
is cached on the table's content, so either source feeds the same engine. Which source
the page judges, and the views that depend on it, are in `monitor.ui.fairness_source`.
`AuditOptions` and `summary_tiles` are the page's choices and tiles as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.fairness import trend as fairness_trend
from monitor.metrics.fairness.groups import GroupData, GroupKey
from monitor.metrics.fairness.rates import Task
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets.analysis import fairness_data
from monitor.ops.datasets.library import Dataset
from monitor.queries import fairness as fairness_sources

PAGE_BOOTSTRAP = 200
"""Bootstrap replicates on the page (error bars); the CLI takes --bootstrap."""


@st.cache_data(ttl=300, show_spinner=False, max_entries=32)
def feature_choices(_store: LogStore, scope: Scope) -> tuple[tuple[str, str], ...]:
    """The features the scope's model ever logged (`queries.fairness.model_features`)."""
    return fairness_sources.model_features(_store, scope.model_id)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def log_table(
    _store: LogStore, _model: ModelConfig, scope: Scope, sensitive: tuple[str, ...]
) -> GroupData:
    """The labeled predictions of the scope (`_model` is the scope's model)."""
    return fairness_sources.log_table(
        _store, _model, sensitive=sensitive, window=scope.window, versions=scope.versions
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
    _model: ModelConfig,
    scope: Scope,
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
        _model,
        sensitive=sensitive,
        window=scope.window,
        versions=scope.versions,
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


@st.cache_data(ttl=300, show_spinner="Reading the uploaded dataset...", max_entries=64)
def upload_table(
    _dataset: Dataset,
    dataset_key: tuple[int, str, datasets.ColumnRoles],
    task: Task,
    threshold: float | None,
    positive_label: str,
    sensitive: tuple[str, ...],
) -> GroupData:
    """The engine input from an uploaded dataset's stored Parquet file (DuckDB GROUP BY),
    with its column roles (as saved, or as chosen on the page)."""
    return fairness_data(
        _dataset,
        sensitive=sensitive,
        threshold=threshold,
        task=task,
        positive_label=positive_label,
    )


@dataclass(frozen=True)
class AuditOptions:
    """The page's audit choices beside the sensitive features and the reference group."""

    metric: str
    tau: float
    min_group_size: int
    min_class_count: int
    bootstrap: int


def summary_tiles(summary: fairness.FairnessSummary) -> list[tuple[str, str, str | None]]:
    """(title, value, help) of the fairlearn summaries; the help gives the 95% bootstrap
    interval where there is one."""
    values = (
        ("DP difference", summary.demographic_parity_difference, "demographic_parity_difference"),
        ("DP ratio", summary.demographic_parity_ratio, "demographic_parity_ratio"),
        ("EO difference", summary.equalized_odds_difference, "equalized_odds_difference"),
        ("EO ratio", summary.equalized_odds_ratio, "equalized_odds_ratio"),
        (
            "Equal opportunity diff.",
            summary.equal_opportunity_difference,
            "equal_opportunity_difference",
        ),
    )
    return [
        (
            title,
            "n/a" if value is None else f"{value:.3f}",
            None if (ci := summary.ci.get(name)) is None else f"95% CI {ci[0]:.3f} to {ci[1]:.3f}",
        )
        for title, value, name in values
    ]
