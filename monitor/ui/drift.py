"""Cached drift aggregates for the Drift page (never raw rows).

The page compares one of two scopes (`Scope`), chosen in the sidebar's data source: a
model's logs in the filter window against a baseline (`LogScope`, cached on the store's
version), or an uploaded reference/current pair (`UploadScope`, cached on the datasets'
ids and sha256: a stored file never changes). The Data quality page uses the same scopes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from monitor.core import tabular
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Settings, Thresholds
from monitor.core.errors import InputError, MonitorError
from monitor.core.store import LogStore
from monitor.core.tabular import FileDatabase
from monitor.metrics.drift import distribution as drift_distribution
from monitor.metrics.drift import multivariate
from monitor.metrics.drift import profile as drift_profile
from monitor.metrics.drift import report as drift
from monitor.metrics.drift import timeline as drift_time
from monitor.metrics.drift.registry import CORRECTIONS, Correction
from monitor.ops.datasets import library as datasets
from monitor.ops.datasets.library import Dataset
from monitor.ui.performance import reference_stamp

if TYPE_CHECKING:
    from monitor.ui.context import PageContext

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


def bucket_for(window: Window) -> drift_time.TimeBucket:
    span = window.end - window.start
    if span <= dt.timedelta(days=3):
        return "hour"
    if span <= dt.timedelta(days=120):
        return "day"
    return "week"


def window_label(model: ModelConfig, window: Window) -> str:
    return f"{model.id} logs {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"


def baseline_label(
    model: ModelConfig, window: Window, baseline: Baseline, uploaded: str | None = None
) -> str:
    """What the page compares against, in words (cheap: no statistics); `uploaded`: the
    name of the uploaded dataset that is the model's reference, if it is one."""
    if baseline == "reference dataset":
        if uploaded is not None:
            return f"the reference dataset (uploaded dataset '{uploaded}')"
        return f"the reference dataset ({model.reference})"
    before = window.previous()
    return f"the previous window ({before.start:%Y-%m-%d %H:%M} to {before.end:%Y-%m-%d %H:%M} UTC)"


# -- scopes: model logs or an uploaded pair -------------------------------------------------


@dataclass(frozen=True)
class LogScope:
    store: LogStore
    model: ModelConfig
    window: Window
    versions: tuple[str, ...]
    window_label: str
    """The sidebar's window choice (e.g. "Last 24 hours")."""
    baseline: Baseline
    uploaded_reference: str | None = None
    """The name of the uploaded dataset that is the model's reference, if it is one."""

    @property
    def runner(self) -> LogStore:
        return self.store

    @property
    def key(self) -> tuple[Any, ...]:
        """What the cached results depend on (new log files change the store's version;
        another reference file, e.g. an uploaded one attached, changes the stamp)."""
        stamp = reference_stamp(self.model) if self.baseline == "reference dataset" else None
        return (
            "logs",
            self.store.version,
            self.model.id,
            self.window,
            self.versions,
            self.baseline,
            stamp,
        )


@dataclass(frozen=True)
class UploadScope:
    runner: FileDatabase
    reference: Dataset
    current: Dataset
    model: ModelConfig | None
    """The configured model either dataset is attached to (its task, valid ranges, known
    categories and feature kinds apply), else None."""

    @property
    def key(self) -> tuple[Any, ...]:
        """What the cached results depend on: ids and content hashes (a rename keeps both)."""
        ref, cur = self.reference, self.current
        model = "" if self.model is None else self.model.id
        return ("uploads", ref.id, ref.sha256, cur.id, cur.sha256, model)


Scope = LogScope | UploadScope


def attached_model(settings: Settings, *found: Dataset) -> ModelConfig | None:
    """The configured model the first of the datasets is attached to, if any (a model
    whose configuration is only the defaults and a reference, such as one known from the
    logs with an uploaded reference attached, has nothing to apply)."""
    configured = {m.id: m for m in settings.models if not _defaults_only(m)}
    for dataset in found:
        if dataset.model_id is not None and dataset.model_id in configured:
            return configured[dataset.model_id]
    return None


def _defaults_only(model: ModelConfig) -> bool:
    plain = ModelConfig(id=model.id)
    return plain == dataclasses.replace(
        model,
        reference=None,
        label_column=plain.label_column,
        prediction_column=plain.prediction_column,
        score_column=plain.score_column,
    )


def choose_scope(context: PageContext, container: DeltaGenerator, page: str) -> Scope:
    """The scope of the Drift or Data quality page (`page`: the widget key prefix): on
    logs, with the "Compare against" choice rendered in `container`; stops the page with
    a message when there is nothing to compare."""
    from monitor.ui import context as ui

    source = context.source
    if source.uploads:
        reference, current = ui.uploaded_pair(source)
        model = attached_model(context.settings, current, reference)
        return UploadScope(ui.upload_runner(), reference, current, model)
    filters = context.filters
    if filters is None:
        st.warning(f"No predictions found under {context.settings.data_dir}.")
        st.stop()
    assert filters is not None
    model = context.settings.model(filters.model.model_id)
    baseline = container.selectbox(
        "Compare against", baselines(model), key=f"{page}_baseline_{model.id}"
    )
    uploaded = context.references.get(model.id)
    return LogScope(
        context.store,
        model,
        filters.window,
        filters.versions,
        filters.window_label,
        baseline,
        None if uploaded is None else uploaded.name,
    )


def describe(scope: Scope) -> str:
    """What the page compares, as markdown (uploaded names escaped)."""
    from monitor.ui import context as ui

    if isinstance(scope, UploadScope):
        text = ui.source_caption(ui.DataSource("uploads", scope.reference, scope.current))
        if scope.model is not None:
            text += f" Attached to model {ui.escape_markdown(scope.model.id)}."
        return text
    window = scope.window
    uploaded = scope.uploaded_reference
    against = baseline_label(
        scope.model,
        window,
        scope.baseline,
        None if uploaded is None else ui.escape_markdown(uploaded),
    )
    return (
        f"{scope.model.id}: {scope.window_label.lower()} ({window.start:%Y-%m-%d %H:%M} to "
        f"{window.end:%Y-%m-%d %H:%M} UTC) against {against}."
    )


def export_labels(scope: Scope) -> tuple[str, str, str]:
    """(file name stem suffix, reference label, current label) for the downloads."""
    if isinstance(scope, UploadScope):
        return (
            "uploads",
            f"uploaded dataset {scope.reference.name} ({scope.reference.source_name})",
            f"uploaded dataset {scope.current.name} ({scope.current.source_name})",
        )
    return (
        scope.model.id,
        baseline_label(scope.model, scope.window, scope.baseline, scope.uploaded_reference),
        window_label(scope.model, scope.window),
    )


def sides(scope: Scope, *, labels: bool = False) -> Sides:
    """The two relations a scope compares (raises MonitorError with a readable reason);
    on logs, `labels` joins the feedback to add the label."""
    if isinstance(scope, UploadScope):
        return _upload_sides(scope)
    current = tabular.log_relation(
        scope.store, scope.model, scope.window, scope.versions, labels=labels
    )
    if scope.baseline == "reference dataset":
        reference = tabular.reference_relation(scope.store, scope.model)
    else:
        before = scope.window.previous()
        reference = tabular.log_relation(
            scope.store, scope.model, before, scope.versions, labels=labels
        )
        if not tabular.rows(scope.store, reference):
            raise MonitorError("no predictions in the previous window to compare with")
    return Sides(reference, current)


def _upload_sides(scope: UploadScope) -> Sides:
    """The relations of an uploaded pair (label, prediction and score are targets)."""
    # Without a model, targets keep their own types (a 0/1 number, a text class, a
    # number); their drift kinds are then detected like features' (`_auto_kinds`).
    task = "regression" if scope.model is None else scope.model.task
    reference = datasets.dataset_relation(scope.runner, scope.reference, task)
    current = datasets.dataset_relation(scope.runner, scope.current, task)
    if scope.model is not None and scope.model.feature_kinds:
        kinds = dict(scope.model.feature_kinds)
        reference = dataclasses.replace(reference, kinds=kinds)
        current = dataclasses.replace(current, kinds=kinds)
    if not {c.name for c in reference.features} & {c.name for c in current.features}:
        raise InputError(
            f"the reference dataset {scope.reference.name!r} and the current dataset "
            f"{scope.current.name!r} share no feature column: choose a matching pair in "
            "the sidebar"
        )
    return Sides(reference, current)


def _auto_kinds(relation: tabular.Relation) -> tabular.Relation:
    """Targets of an upload with no model: kinds detected from the values (text:
    categorical, 0/1: binary, else numeric), as for features."""
    return dataclasses.replace(relation, kinds={}, cache_key=relation.cache_key + "|auto")


@st.cache_data(ttl=300, show_spinner="Computing drift...", max_entries=64)
def _report(
    _scope: Scope, key: tuple[Any, ...], method: str, correction: Correction, thresholds: Thresholds
) -> drift.DriftReport:
    chosen = sides(_scope)
    return drift.drift_between(
        _scope.runner,
        chosen.reference,
        chosen.current,
        method=method,
        correction=correction,
        drift_share=thresholds.drift_share,
        thresholds={"psi": thresholds.psi},
    )


@st.cache_data(ttl=300, show_spinner="Computing drift over time...", max_entries=32)
def _timeline(
    _scope: LogScope,
    key: tuple[Any, ...],
    method: str,
    correction: Correction,
    thresholds: Thresholds,
) -> drift_time.DriftTimeline:
    chosen = sides(_scope)
    return drift_time.drift_over_time(
        _scope.store,
        chosen.reference,
        chosen.current,
        bucket=bucket_for(_scope.window),
        method=method,
        correction=correction,
        drift_share=thresholds.drift_share,
        thresholds={"psi": thresholds.psi},
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64)
def _targets(_scope: Scope, key: tuple[Any, ...], method: str) -> drift.DriftReport:
    chosen = sides(_scope, labels=True)
    if _scope.model is not None:
        return drift_time.target_drift(
            _scope.runner, chosen.reference, chosen.current, task=_scope.model.task, method=method
        )
    reference = _auto_kinds(tabular.targets_relation(chosen.reference, ""))
    current = _auto_kinds(tabular.targets_relation(chosen.current, ""))
    ref_profile, cur_profile = drift_profile.profiles(_scope.runner, reference, current)
    return drift.compare(
        ref_profile, cur_profile, method=method, features=[c.name for c in reference.features]
    )


@st.cache_data(ttl=300, show_spinner="Training the domain classifier...", max_entries=32)
def _domain(_scope: Scope, key: tuple[Any, ...]) -> multivariate.MultivariateDrift:
    chosen = sides(_scope)
    return multivariate.multivariate_drift(_scope.runner, chosen.reference, chosen.current)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128)
def _distribution(
    _scope: Scope, key: tuple[Any, ...], feature: str
) -> drift_distribution.Distribution | None:
    chosen = sides(_scope)
    ref_profile, cur_profile = drift_profile.profiles(
        _scope.runner, chosen.reference, chosen.current
    )
    return drift_distribution.distribution(ref_profile, cur_profile, feature)


def report(
    scope: Scope, method: str, correction: Correction, thresholds: Thresholds
) -> drift.DriftReport:
    return _report(scope, scope.key, method, correction, thresholds)


def targets(scope: Scope, method: str) -> drift.DriftReport:
    """Drift of the label, prediction and score (each where the scope has it)."""
    return _targets(scope, scope.key, method)


def domain(scope: Scope) -> multivariate.MultivariateDrift:
    return _domain(scope, scope.key)


def distribution(scope: Scope, feature: str) -> drift_distribution.Distribution | None:
    return _distribution(scope, scope.key, feature)


NO_TIME = (
    "Uploaded datasets have no time axis (a row is not a logged prediction with a "
    "timestamp), so there is nothing to split over time: this view needs model logs."
)


def timeline(
    scope: Scope, method: str, correction: Correction, thresholds: Thresholds
) -> drift_time.DriftTimeline | None:
    """Drift per time bucket, or None for an uploaded pair (see NO_TIME)."""
    if isinstance(scope, UploadScope):
        return None
    return _timeline(scope, scope.key, method, correction, thresholds)
