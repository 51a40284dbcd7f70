"""Cached reads of the Models page: versions, comparisons, each version's own check and
the evidence of a rollback.

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
from monitor.ops.registry import health as registry_health
from monitor.ops.registry import rollback_evidence
from monitor.ops.registry import versions as registry
from monitor.ops.registry.compare import Comparison
from monitor.ops.registry.health import VersionCheck
from monitor.ops.registry.rollback_evidence import RollbackEvidence
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


@st.cache_data(ttl=300, show_spinner="Checking each version on its own traffic...", max_entries=64)
def _checks(_store: LogStore, scope: Scope, _settings: Settings) -> tuple[VersionCheck, ...]:
    fit = reference_fit(_store, _settings, scope)
    return registry_health.check_all(_store, _settings, scope.model_id, scope.window, reference=fit)


@st.cache_data(ttl=300, show_spinner="Gathering the evidence...", max_entries=64)
def _evidence(
    _store: LogStore, scope: Scope, _settings: Settings, source: str, target: str
) -> RollbackEvidence:
    return rollback_evidence.gather(
        _store,
        _settings,
        scope.model_id,
        source,
        target,
        scope.window,
        reference=reference_fit(_store, _settings, scope),
        checks=_checks(_store, scope, _settings),
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


def version_checks(context: PageContext, scope: Scope) -> tuple[VersionCheck, ...]:
    """Every version (oldest first) judged on its own traffic in the scope's window, cached."""
    return _checks(context.store, _all_versions(scope), context.settings)


def evidence(context: PageContext, scope: Scope, source: str, target: str) -> RollbackEvidence:
    """The evidence for rolling `source` back to `target` (what the mark keeps), cached."""
    return _evidence(context.store, _all_versions(scope), context.settings, source, target)
