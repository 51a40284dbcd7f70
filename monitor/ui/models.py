"""Cached reads of the Models page: versions, comparisons, the last healthy version.

What the logs say is cached with the page's `Scope` as the key (it holds the store's
version and the reference file's stamp, so new logs or a new reference are never served
stale), always over all versions: the page shows every version whatever the sidebar's
version filter. What people decided (aliases, marks, notes, audit) is read from the state
store on every run, so a change made elsewhere shows at the next rerun.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

from monitor.core.config import Settings
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.performance.report import ReferenceFit
from monitor.ops.registry import compare as registry_compare
from monitor.ops.registry import versions as registry
from monitor.ops.registry.compare import Comparison, HealthyVersion
from monitor.ops.registry.versions import ModelUsage, ModelVersions
from monitor.ui import performance as ui_performance
from monitor.ui.context import PageContext

Apart = Literal["inconclusive", "own_windows"]
"""How two versions that never served at the same time are compared (`registry_compare`)."""


def _all_versions(scope: Scope) -> Scope:
    """The cache key: the page's scope over every version of the model."""
    return scope.with_versions(())


def reference_fit(store: LogStore, settings: Settings, scope: Scope) -> ReferenceFit:
    """The model's reference fit (baseline, calibrator), cached with its reference stamp."""
    return ui_performance.reference_fit(store, settings.model(scope.model_id), scope)


@st.cache_data(ttl=300, show_spinner="Reading versions...", max_entries=64)
def _usage(_store: LogStore, scope: Scope, _settings: Settings) -> ModelUsage:
    fit = reference_fit(_store, _settings, scope)
    return registry.usage(_store, _settings, scope.model_id, scope.window, reference=fit)


@st.cache_data(ttl=300, show_spinner="Comparing versions...", max_entries=64)
def _comparison(
    _store: LogStore, scope: Scope, _settings: Settings, baseline: str, candidate: str, apart: Apart
) -> Comparison:
    fit = reference_fit(_store, _settings, scope)
    return registry_compare.compare(
        _store,
        _settings,
        scope.model_id,
        baseline,
        candidate,
        scope.window,
        reference=fit,
        apart=apart,
    )


@st.cache_data(ttl=300, show_spinner="Looking for the last healthy version...", max_entries=64)
def _healthy(_store: LogStore, scope: Scope, _settings: Settings, current: str) -> HealthyVersion:
    fit = reference_fit(_store, _settings, scope)
    return registry_compare.last_healthy(
        _store, _settings, scope.model_id, current, scope.window, reference=fit
    )


def versions(context: PageContext, scope: Scope) -> ModelVersions:
    """Every version of the scope's model in its window, with aliases and the current one."""
    found = _usage(context.store, _all_versions(scope), context.settings)
    return registry.model_versions(context.state, found)


def comparison(
    context: PageContext,
    scope: Scope,
    baseline: str,
    candidate: str,
    *,
    apart: Apart = "inconclusive",
) -> Comparison:
    """`registry_compare.compare` of two versions over the scope's window, cached."""
    return _comparison(
        context.store, _all_versions(scope), context.settings, baseline, candidate, apart
    )


def last_healthy(context: PageContext, scope: Scope, current: str) -> HealthyVersion:
    """The newest version before `current` that is healthy in the scope's window, cached."""
    return _healthy(context.store, _all_versions(scope), context.settings, current)
