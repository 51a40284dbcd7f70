"""Cached drift aggregates for the Drift page (never raw rows).

The page compares one of two scopes, chosen in the sidebar's data source: a model's logs
in the sidebar's `Scope` against a baseline (`LogScope`: new log files or another
reference file make a new Scope, so a new cache key), or an uploaded reference/current
pair (`UploadScope`, cached on the datasets' ids and sha256: a stored file never
changes). `choose_comparison` returns the scope with what computing it needs beside it
(`Comparison`). The Data quality page uses the same scopes (`monitor.ui.quality`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from monitor.core import tabular
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Thresholds
from monitor.core.errors import InputError, MonitorError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.core.tabular_reconcile import reconcile
from monitor.metrics.drift import distribution as drift_distribution
from monitor.metrics.drift.multivariate import MultivariateDrift
from monitor.metrics.drift.registry import CORRECTIONS, Correction
from monitor.metrics.drift.report import DriftReport
from monitor.metrics.drift.timeline import DriftTimeline
from monitor.ops.datasets import analysis
from monitor.ops.datasets.analysis import attached_model as attached_model
from monitor.ops.datasets.library import Dataset
from monitor.queries import drift as drift_queries
from monitor.queries.column_roles import Excluded
from monitor.queries.drift_multivariate import multivariate_drift
from monitor.queries.drift_profile import profiles
from monitor.ui.drift_tables import CORRECTION_NAMES as CORRECTION_NAMES

if TYPE_CHECKING:
    from monitor.ui.context import PageContext

Baseline = Literal["reference dataset", "previous window"]


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
    """A model's logs in the sidebar's scope against a baseline (a cache key)."""

    logs: Scope
    baseline: Baseline


@dataclass(frozen=True)
class UploadScope:
    """An uploaded (reference, current) pair and the model it is attached to (None: none,
    or one with nothing to apply). The caches hash it by `key` (`HASH_FUNCS`)."""

    reference: Dataset
    current: Dataset
    model_id: str | None

    @property
    def key(self) -> tuple[Any, ...]:
        """What the cached results depend on: ids and content hashes (a rename keeps both)."""
        ref, cur = self.reference, self.current
        return ("uploads", ref.id, ref.sha256, cur.id, cur.sha256, self.model_id or "")


DriftScope = LogScope | UploadScope
HASH_FUNCS: Final[dict[str | type[Any], Callable[[Any], Any]]] = {
    UploadScope: lambda scope: scope.key
}
"""`hash_funcs` of the caches that take a `DriftScope`."""


@dataclass(frozen=True)
class Comparison:
    """What the Drift or Data quality page compares: the scope (the cache key) and what
    the cached functions need beside it (passed unhashed)."""

    store: LogStore
    model: ModelConfig | None
    """The logs' model, or the model an uploaded pair is attached to."""
    scope: DriftScope
    window_label: str = ""
    """The sidebar's window choice (e.g. "Last 24 hours"), on logs."""
    uploaded_reference: str | None = None
    """The name of the uploaded dataset that is the model's reference, if it is one."""


def choose_comparison(context: PageContext, container: DeltaGenerator, page: str) -> Comparison:
    """What the Drift or Data quality page (`page`: the widget key prefix) compares: on
    logs, with the "Compare against" choice rendered in `container`; stops the page with
    a message when there is nothing to compare."""
    from monitor.ui import context as ui

    source = context.source
    if source.uploads:
        reference, current = ui.uploaded_pair(source)
        model = attached_model(context.settings, current, reference)
        pair = UploadScope(reference, current, None if model is None else model.id)
        return Comparison(context.store, model, pair)
    scope, filters = context.scope, context.filters
    if scope is None or filters is None:
        st.warning(f"No predictions found under {context.settings.data_dir}.")
        st.stop()
    assert scope is not None and filters is not None
    model = context.settings.model(scope.model_id)
    baseline = container.selectbox(
        "Compare against", baselines(model), key=f"{page}_baseline_{model.id}"
    )
    uploaded = context.references.get(model.id)
    return Comparison(
        context.store,
        model,
        LogScope(scope, baseline),
        filters.window_label,
        None if uploaded is None else uploaded.name,
    )


def describe(compared: Comparison) -> str:
    """What the page compares, as markdown (uploaded names escaped)."""
    from monitor.ui import context as ui

    scope, model = compared.scope, compared.model
    if isinstance(scope, UploadScope):
        text = ui.source_caption(ui.DataSource("uploads", scope.reference, scope.current))
        if model is not None:
            text += f" Attached to model {ui.escape_markdown(model.id)}."
        return text
    assert model is not None
    window = scope.logs.window
    uploaded = compared.uploaded_reference
    against = baseline_label(
        model, window, scope.baseline, None if uploaded is None else ui.escape_markdown(uploaded)
    )
    return (
        f"{model.id}: {compared.window_label.lower()} ({window.start:%Y-%m-%d %H:%M} to "
        f"{window.end:%Y-%m-%d %H:%M} UTC) against {against}."
    )


def export_labels(compared: Comparison) -> tuple[str, str, str]:
    """(file name stem suffix, reference label, current label) for the downloads."""
    scope, model = compared.scope, compared.model
    if isinstance(scope, UploadScope):
        return (
            "uploads",
            f"uploaded dataset {scope.reference.name} ({scope.reference.source_name})",
            f"uploaded dataset {scope.current.name} ({scope.current.source_name})",
        )
    assert model is not None
    window = scope.logs.window
    return (
        model.id,
        baseline_label(model, window, scope.baseline, compared.uploaded_reference),
        window_label(model, window),
    )


@dataclass(frozen=True)
class Sides:
    runner: tabular.Runner
    reference: tabular.Relation
    current: tabular.Relation
    excluded: tuple[Excluded, ...] = ()
    """Columns of an uploaded pair left out of the features, and why."""


def sides(
    store: LogStore, model: ModelConfig | None, scope: DriftScope, *, labels: bool = False
) -> Sides:
    """The two relations a scope compares and where they run (raises MonitorError with a
    readable reason); on logs, `labels` joins the feedback to add the label."""
    if isinstance(scope, UploadScope):
        return _upload_sides(model, scope)
    if model is None or model.id != scope.logs.model_id:
        raise ValueError(f"the logs of model {scope.logs.model_id!r} need its configuration")
    window, versions = scope.logs.window, scope.logs.versions
    current = tabular.log_relation(store, model, window, versions, labels=labels)
    if scope.baseline == "reference dataset":
        reference = tabular.reference_relation(store, model)
    else:
        reference = tabular.log_relation(store, model, window.previous(), versions, labels=labels)
        if not tabular.rows(store, reference):
            raise MonitorError("no predictions in the previous window to compare with")
    return Sides(store, *reconcile(store, reference, current))


def _upload_sides(model: ModelConfig | None, scope: UploadScope) -> Sides:
    """The relations of an uploaded pair (label, prediction and score are targets; id,
    ignored and identifier-like columns left out)."""
    from monitor.ui import context as ui

    runner = ui.upload_runner()
    pair = _upload_pair(runner, model, scope)
    reference, current = pair.reference, pair.current
    if model is not None and model.feature_kinds:
        kinds = dict(model.feature_kinds)
        reference = dataclasses.replace(reference, kinds=kinds)
        current = dataclasses.replace(current, kinds=kinds)
    if not {c.name for c in reference.features} & {c.name for c in current.features}:
        raise InputError(
            f"the reference dataset {scope.reference.name!r} and the current dataset "
            f"{scope.current.name!r} share no feature column: choose a matching pair in "
            "the sidebar"
        )
    return Sides(runner, reference, current, pair.excluded)


@st.cache_data(ttl=300, show_spinner=False, max_entries=64, hash_funcs=HASH_FUNCS)
def _upload_pair(
    _runner: tabular.Runner, _model: ModelConfig | None, scope: UploadScope
) -> analysis.Pair:
    """The pair's `analysis.Pair`, cached: finding identifiers counts distinct values.
    Without a model, targets keep their own types (a 0/1 number, a text class, a number);
    their drift kinds are then detected like features' (`target_drift`)."""
    task = "regression" if _model is None else _model.task
    return analysis.pair_relations(_runner, scope.reference, scope.current, task)


def excluded_caption(compared: Comparison) -> str:
    """The columns of an uploaded pair not analysed, and why, as markdown ("" if none)."""
    from monitor.ui import context as ui

    if not isinstance(compared.scope, UploadScope):
        return ""
    excluded = sides(compared.store, compared.model, compared.scope).excluded
    return ui.escape_markdown(analysis.excluded_text(excluded)) if excluded else ""


def schema_caption(compared: Comparison) -> str:
    """The columns read as different types on the two sides and how each is compared, as
    markdown (names and values escaped; "" if none)."""
    from monitor.ui import context as ui

    notes = sides(compared.store, compared.model, compared.scope).reference.schema
    if not notes:
        return ""
    return "Read two ways:  \n" + "  \n".join(ui.escape_markdown(n.note) for n in notes)


# -- cached aggregates ------------------------------------------------------------------------


@st.cache_data(ttl=300, show_spinner="Computing drift...", max_entries=64, hash_funcs=HASH_FUNCS)
def _report(
    _store: LogStore,
    _model: ModelConfig | None,
    scope: DriftScope,
    method: str,
    correction: Correction,
    thresholds: Thresholds,
) -> DriftReport:
    chosen = sides(_store, _model, scope)
    return drift_queries.drift_between(
        chosen.runner,
        chosen.reference,
        chosen.current,
        method=method,
        correction=correction,
        drift_share=thresholds.drift_share,
        thresholds={"psi": thresholds.psi},
    )


@st.cache_data(ttl=300, show_spinner="Computing drift over time...", max_entries=32)
def _timeline(
    _store: LogStore,
    _model: ModelConfig,
    scope: LogScope,
    method: str,
    correction: Correction,
    thresholds: Thresholds,
) -> DriftTimeline:
    chosen = sides(_store, _model, scope)
    bucket = scope.logs.bucket(finest="hour")
    assert bucket != "minute"
    return drift_queries.drift_over_time(
        chosen.runner,
        chosen.reference,
        chosen.current,
        bucket=bucket,
        method=method,
        correction=correction,
        drift_share=thresholds.drift_share,
        thresholds={"psi": thresholds.psi},
    )


@st.cache_data(ttl=300, show_spinner=False, max_entries=64, hash_funcs=HASH_FUNCS)
def _targets(
    _store: LogStore, _model: ModelConfig | None, scope: DriftScope, method: str
) -> DriftReport:
    chosen = sides(_store, _model, scope, labels=True)
    return drift_queries.target_drift(
        chosen.runner,
        chosen.reference,
        chosen.current,
        task=None if _model is None else _model.task,
        method=method,
    )


@st.cache_data(
    ttl=300,
    show_spinner="Training the domain classifier...",
    max_entries=32,
    hash_funcs=HASH_FUNCS,
)
def _domain(_store: LogStore, _model: ModelConfig | None, scope: DriftScope) -> MultivariateDrift:
    chosen = sides(_store, _model, scope)
    return multivariate_drift(chosen.runner, chosen.reference, chosen.current)


@st.cache_data(ttl=300, show_spinner=False, max_entries=128, hash_funcs=HASH_FUNCS)
def _distribution(
    _store: LogStore, _model: ModelConfig | None, scope: DriftScope, feature: str
) -> drift_distribution.Distribution | None:
    chosen = sides(_store, _model, scope)
    ref_profile, cur_profile = profiles(chosen.runner, chosen.reference, chosen.current)
    return drift_distribution.distribution(ref_profile, cur_profile, feature)


def report(
    compared: Comparison, method: str, correction: Correction, thresholds: Thresholds
) -> DriftReport:
    return _report(compared.store, compared.model, compared.scope, method, correction, thresholds)


def targets(compared: Comparison, method: str) -> DriftReport:
    """Drift of the label, prediction and score (each where the scope has it)."""
    return _targets(compared.store, compared.model, compared.scope, method)


def domain(compared: Comparison) -> MultivariateDrift:
    return _domain(compared.store, compared.model, compared.scope)


def distribution(compared: Comparison, feature: str) -> drift_distribution.Distribution | None:
    return _distribution(compared.store, compared.model, compared.scope, feature)


NO_TIME = (
    "Uploaded datasets have no time axis (a row is not a logged prediction with a "
    "timestamp), so there is nothing to split over time: this view needs model logs."
)


def timeline(
    compared: Comparison, method: str, correction: Correction, thresholds: Thresholds
) -> DriftTimeline | None:
    """Drift per time bucket, or None for an uploaded pair (see NO_TIME)."""
    if isinstance(compared.scope, UploadScope) or compared.model is None:
        return None
    return _timeline(compared.store, compared.model, compared.scope, method, correction, thresholds)
