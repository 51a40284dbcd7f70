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
from typing import Any, Final

import streamlit as st

from monitor.core.buckets import Bucket
from monitor.core.config import ModelConfig
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.fairness import selection
from monitor.metrics.fairness import trend as fairness_trend
from monitor.metrics.fairness.bootstrap import JUDGED_SUMMARY
from monitor.metrics.fairness.groups import GroupData, GroupKey
from monitor.metrics.fairness.rates import Task
from monitor.metrics.fairness.selection import PredictionCells
from monitor.metrics.fairness.summary import FairnessSummary
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets.analysis import fairness_data
from monitor.ops.datasets.library import Dataset
from monitor.queries import fairness as fairness_sources
from monitor.queries import fairness_predictions

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
def report(data: GroupData, options: AuditOptions, reference: str) -> fairness.FairnessReport:
    """The audit of a labeled table with the page's options (cached on all three)."""
    return fairness.audit(
        data,
        reference=reference,
        metric=options.metric,
        tau=options.tau,
        min_group_size=options.min_group_size,
        min_class_count=options.min_class_count,
        bootstrap=options.bootstrap,
        seed=0,
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def log_predictions(
    _store: LogStore, _model: ModelConfig, scope: Scope, sensitive: tuple[str, ...]
) -> PredictionCells:
    """The predictions of the scope, labeled or not (binary models; selection rates)."""
    return fairness_predictions.prediction_table(
        _store, _model, sensitive=sensitive, window=scope.window, versions=scope.versions
    )


@st.cache_data(ttl=300, show_spinner="Computing selection rates...", max_entries=64)
def selection_report(
    data: PredictionCells, options: AuditOptions, reference: str
) -> selection.SelectionReport:
    """The label-free audit (selection rates) with the page's options."""
    return selection.selection_audit(
        data,
        reference=reference,
        tau=options.tau,
        min_group_size=options.min_group_size,
        bootstrap=options.bootstrap,
        seed=0,
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def log_trend(
    _store: LogStore,
    _model: ModelConfig,
    scope: Scope,
    sensitive: tuple[str, ...],
    bucket: Bucket | None,
    options: AuditOptions,
    reference: str,
    reference_group: GroupKey | None,
    labeled: bool,
) -> fairness_trend.FairnessTrend:
    """Per version (bucket None) or per time bucket and version: the audit's metric on
    the labeled predictions, or (not `labeled`) the selection rate on all of them."""
    if labeled:
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
            metric=options.metric,
            reference=reference,
            reference_group=reference_group,
            tau=options.tau,
            min_group_size=options.min_group_size,
            min_class_count=options.min_class_count,
        )
    predictions = fairness_predictions.prediction_slices(
        _store,
        _model,
        sensitive=sensitive,
        window=scope.window,
        versions=scope.versions,
        bucket=bucket,
        by_version=True,
    )
    return selection.selection_trend(
        predictions,
        reference=reference,
        reference_group=reference_group,
        tau=options.tau,
        min_group_size=options.min_group_size,
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


GROUPINGS: Final = ("Intersections", "Each attribute separately")
"""The page's toggle: one group per combination of the sensitive features, or each
feature audited on its own (as Aequitas reports per attribute)."""


def groupings(sensitive: tuple[str, ...], per_attribute: bool) -> tuple[tuple[str, ...], ...]:
    """The sensitive features of each audit the page shows: all of them together, or
    (`per_attribute`) one feature per audit."""
    return tuple((name,) for name in sensitive) if per_attribute else (sensitive,)


@dataclass(frozen=True)
class AuditOptions:
    """The page's audit choices beside the sensitive features and the reference group."""

    metric: str
    tau: float
    min_group_size: int
    min_class_count: int
    bootstrap: int


_SUMMARY_TILES: Final = (
    ("DP difference", "demographic_parity_difference"),
    ("DP ratio", "demographic_parity_ratio"),
    ("EO difference", "equalized_odds_difference"),
    ("EO ratio", "equalized_odds_ratio"),
    ("Equal opportunity diff.", "equal_opportunity_difference"),
)


def summary_tiles(
    summary: FairnessSummary, *, judged: bool = False
) -> list[tuple[str, str, str | None]]:
    """(title, value, help) of fairlearn's summaries over all groups, or with `judged` of
    the `judged_*` variants over the groups large enough to judge (titled so); the help
    gives the 95% bootstrap interval where there is one."""
    tiles: list[tuple[str, str, str | None]] = []
    for title, fairlearn_name in _SUMMARY_TILES:
        name = JUDGED_SUMMARY[fairlearn_name] if judged else fairlearn_name
        value: float | None = getattr(summary, name)
        ci = summary.ci.get(name)
        scope = "over the groups large enough to judge" if judged else "over all groups"
        tiles.append(
            (
                f"{title} (judged groups)" if judged else title,
                "n/a" if value is None else f"{value:.3f}",
                f"{name}: {scope}."
                + ("" if ci is None else f" 95% CI {ci[0]:.3f} to {ci[1]:.3f}."),
            )
        )
    return tiles


def selection_tiles(report: selection.SelectionReport) -> list[tuple[str, str, str | None]]:
    """(title, value, help) of the label-free summaries: the overall selection rate and
    fairlearn's demographic parity over all groups (with the judged-groups variant and the
    95% bootstrap interval in the help, where they differ or exist)."""

    def three(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    def interval(name: str) -> str:
        found = report.ci.get(name)
        return "" if found is None else f" 95% CI {found[0]:.3f} to {found[1]:.3f}."

    judged = (
        (report.judged_parity_difference, report.judged_parity_ratio)
        if report.judged_groups < len(report.groups)
        else None
    )
    return [
        (
            "Selection rate",
            "n/a" if report.selection_rate is None else f"{report.selection_rate:.1%}",
            "Share of predictions that are positive, all groups." + interval("selection_rate"),
        ),
        (
            "DP difference",
            three(report.demographic_parity_difference),
            "fairlearn's demographic_parity_difference: highest minus lowest selection rate "
            "over all groups."
            + interval("demographic_parity_difference")
            + (f" Over the groups large enough to judge: {three(judged[0])}." if judged else ""),
        ),
        (
            "DP ratio",
            three(report.demographic_parity_ratio),
            "fairlearn's demographic_parity_ratio: lowest over highest selection rate over all "
            "groups."
            + interval("demographic_parity_ratio")
            + (f" Over the groups large enough to judge: {three(judged[1])}." if judged else ""),
        ),
    ]


def selection_rows(report: selection.SelectionReport) -> list[dict[str, Any]]:
    """The page's table without labels: one row per group."""
    return [
        {
            "group": g.label,
            "count": g.count,
            "too small": g.small,
            "why": g.small_reason or "",
            "selected": g.selected,
            "selection_rate": g.selection_rate,
            "ppr": g.ppr,
            "CI low": None if g.ci is None else g.ci[0],
            "CI high": None if g.ci is None else g.ci[1],
            "ratio to reference": g.disparity,
            "fails screen": g.fails_screen,
        }
        for g in report.groups
    ]
