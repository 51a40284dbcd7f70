"""What the Fairness page judges: a model's labeled logs in the page's `Scope`
(`LogSource`) or an uploaded dataset (`UploadSource`), and the parts of the page that
depend on which (choices, the labeled table, messages, the trends below the groups)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from monitor.core.config import ModelConfig
from monitor.core.errors import MonitorError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.fairness import trend as fairness_trend
from monitor.metrics.fairness.groups import GroupData, GroupKey, Slice
from monitor.metrics.fairness.rates import Task
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets.library import Dataset
from monitor.ui import fairness as caches
from monitor.ui.charts import fairness as charts_fairness
from monitor.ui.fairness import AuditOptions

if TYPE_CHECKING:
    from monitor.ui.context import PageContext


@dataclass(frozen=True)
class LogSource:
    """The labeled predictions of `model` in `scope`, read from `store`."""

    store: LogStore
    model: ModelConfig
    scope: Scope
    window_label: str
    """The sidebar's window choice (e.g. "Last 24 hours")."""


@dataclass(frozen=True)
class UploadSource:
    current: Dataset
    reference: Dataset
    model: ModelConfig | None
    task: Task
    threshold: float | None
    """prediction = score >= threshold, when the dataset has a score but no prediction."""
    positive_label: str


FairnessSource = LogSource | UploadSource


def source_key(source: FairnessSource) -> str:
    """The widget-key suffix of the page's choices (the model id on logs)."""
    return source.model.id if isinstance(source, LogSource) else "uploads"


def rows_noun(source: FairnessSource) -> str:
    return "predictions" if isinstance(source, LogSource) else "rows"


def source_task(source: FairnessSource) -> Task:
    if isinstance(source, UploadSource):
        return source.task
    return "regression" if source.model.task == "regression" else "binary"


def choose_source(context: PageContext) -> FairnessSource:
    """What the page judges, from the sidebar's data source; stops the page with a message
    when there is nothing to judge. On uploads, renders the task, positive label and
    threshold choices the dataset's column roles leave open."""
    from monitor.ui import context as ui
    from monitor.ui import drift as ui_drift

    source = context.source
    if not source.uploads:
        filters, scope = context.filters, context.scope
        if filters is None or scope is None:
            st.warning(f"No predictions found under {context.settings.data_dir}.")
            st.stop()
        assert filters is not None and scope is not None
        model = context.settings.model(filters.model.model_id)
        if model.task == "multiclass":
            st.info(
                f"{model.id} is a multiclass model: fairness supports binary and regression models."
            )
            st.stop()
        return LogSource(context.store, model, scope, filters.window_label)
    reference, current = ui.uploaded_pair(source)
    st.caption(
        ui.source_caption(source) + " Groups are judged on the current dataset; the "
        "reference dataset is compared below."
    )
    if not _judgeable(current.column_roles):
        current, reference = _choose_roles(current, reference)
    roles = current.column_roles
    attached = ui_drift.attached_model(context.settings, current, reference)
    a, b, c = st.columns(3)
    if attached is not None:
        model = attached
        if model.task == "multiclass":
            st.info(f"{model.id} is a multiclass model: fairness supports binary and regression.")
            st.stop()
        task: Task = "regression" if model.task == "regression" else "binary"
        positive = model.positive_label or "1"
        a.caption(f"Task {task}, positive label {positive!r} (from model {model.id}).")
    else:
        task = (
            "regression"
            if a.selectbox("Task", ["binary", "regression"], key="fairness_task_uploads")
            == "regression"
            else "binary"
        )
        positive = "1"
        if task == "binary":
            positive = (
                b.text_input(
                    "Positive label", "1", key="fairness_positive_uploads", max_chars=200
                ).strip()
                or "1"
            )
    threshold = None
    if roles.prediction is None and task == "binary":
        threshold = float(
            c.number_input(
                "Score threshold",
                value=0.5,
                step=0.05,
                key="fairness_threshold_uploads",
                help="The dataset has a score but no prediction column: "
                "prediction = score >= threshold.",
            )
        )
    return UploadSource(current, reference, attached, task, threshold, positive)


def _judgeable(roles: datasets.ColumnRoles) -> bool:
    return roles.label is not None and (roles.prediction is not None or roles.score is not None)


def _choose_roles(current: Dataset, reference: Dataset) -> tuple[Dataset, Dataset]:
    """Label and prediction columns for a dataset saved without them (roles cannot be
    changed after saving); the reference takes the same ones when it lacks its own."""
    from monitor.ui import context as ui

    st.caption(
        f"The current dataset {ui.escape_markdown(current.name)} was saved without a label "
        "or prediction column: choose them here."
    )
    names = list(current.column_names)
    saved = current.column_roles
    left, right = st.columns(2)
    label = left.selectbox(
        "Label column",
        names,
        index=names.index(saved.label) if saved.label in names else None,
        key="fairness_label_uploads",
    )
    prediction = right.selectbox(
        "Prediction column",
        [n for n in names if n != label],
        index=None,
        key="fairness_prediction_uploads",
    )
    if label is None or prediction is None:
        st.info("Choose the label and the prediction column.")
        st.stop()
    chosen = dataclasses.replace(saved, label=label, prediction=prediction, score=None)
    current = dataclasses.replace(current, column_roles=chosen)
    if not _judgeable(reference.column_roles):
        roles = dataclasses.replace(reference.column_roles, label=label, prediction=prediction)
        reference = dataclasses.replace(
            reference, column_roles=dataclasses.replace(roles, score=None)
        )
    return current, reference


def sensitive_choices(source: FairnessSource) -> tuple[list[str], list[str]]:
    """(every choice, the configured ones first) for the sensitive-feature multiselect."""
    if isinstance(source, LogSource):
        choices = caches.feature_choices(source.store, source.scope)
        keys = [key for key, _ in choices]
        configured = [f for f in source.model.sensitive_features if f in keys]
    else:
        roles = source.current.column_roles
        targets = {roles.label, roles.prediction, roles.score}
        keys = [name for name, _ in source.current.columns if name not in targets]
        configured = [f for f in roles.sensitive if f in keys]
        if not configured and source.model is not None:
            configured = [f for f in source.model.sensitive_features if f in keys]
    return configured + [k for k in keys if k not in configured], configured


def _upload_table(source: UploadSource, dataset: Dataset, sensitive: tuple[str, ...]) -> GroupData:
    key = (dataset.id, dataset.sha256, dataset.column_roles)
    return caches.upload_table(
        dataset, key, source.task, source.threshold, source.positive_label, sensitive
    )


def table(source: FairnessSource, sensitive: tuple[str, ...]) -> GroupData:
    if isinstance(source, LogSource):
        return caches.log_table(source.store, source.model, source.scope, sensitive)
    return _upload_table(source, source.current, sensitive)


def no_rows_message(source: FairnessSource, data: GroupData) -> str:
    unlabeled = getattr(data, "unlabeled_rows", 0)
    if isinstance(source, LogSource):
        return (
            f"No labeled predictions of {source.model.id} in this window "
            f"({unlabeled:,} without a label yet). Labels arrive after predictions: "
            "choose a longer time window in the sidebar."
        )
    return (
        "The current dataset has no rows with both a label and a prediction "
        f"({unlabeled:,} without a label)."
    )


def render_trends(
    source: FairnessSource,
    sensitive: tuple[str, ...],
    report: fairness.FairnessReport,
    options: AuditOptions,
) -> None:
    """Below the groups: per version and over time on logs; reference dataset against
    current dataset on uploads (each with the same reference group and screen)."""
    if isinstance(source, UploadSource):
        from monitor.ui import context as ui

        st.markdown("**Ratio to the reference group: reference dataset against current dataset**")
        try:
            reference = _upload_table(source, source.reference, sensitive)
        except MonitorError as exc:
            st.caption(
                "The reference dataset cannot be judged the same way: "
                + ui.escape_markdown(str(exc))
            )
        else:
            current = table(source, sensitive)
            slices = (Slice(None, "reference", reference), Slice(None, "current", current))
            compared = fairness_trend.trend(
                slices,
                metric=options.metric,
                reference=report.reference,
                reference_group=report.reference_group,
                tau=options.tau,
                min_group_size=options.min_group_size,
                min_class_count=options.min_class_count,
            )
            st.plotly_chart(
                charts_fairness.versions_figure(compared), config={"displayModeBar": False}
            )
        st.caption(
            "Per model version and over time: these views need model logs (an uploaded "
            "dataset has neither versions nor timestamps)."
        )
        return
    draw_log_trends(
        source, sensitive, options, report.reference, report.reference_group, labeled=True
    )


def draw_log_trends(
    source: LogSource,
    sensitive: tuple[str, ...],
    options: AuditOptions,
    reference: str,
    reference_group: GroupKey | None,
    *,
    labeled: bool,
) -> None:
    """The ratio to the reference per model version, then per time bucket and version
    (`caches.log_trend`: labeled predictions, or selection rates on all of them)."""
    bucket = source.scope.bucket()
    by_version, over_time = (
        caches.log_trend(
            source.store,
            source.model,
            source.scope,
            sensitive,
            chosen,
            options,
            reference,
            reference_group,
            labeled,
        )
        for chosen in (None, bucket)
    )
    st.markdown(f"**Ratio to the reference by model version** ({source.window_label.lower()})")
    st.plotly_chart(charts_fairness.versions_figure(by_version), config={"displayModeBar": False})
    st.markdown(f"**Ratio to the reference per {bucket}** (dash: version; hollow: too small)")
    st.plotly_chart(charts_fairness.trend_figure(over_time), config={"displayModeBar": False})
