"""One model's report over a window: the executive summary of `monitor summary` and the
sections below it, each failing soft into a line that says why it is missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.errors import MonitorError
from monitor.core.scope import Scope
from monitor.core.state import StateStore, utc_now
from monitor.core.store import LogStore
from monitor.ops.registry.version_metrics import model_info, require_version
from monitor.queries.health import traffic
from monitor.reporting import analysis, operations
from monitor.reporting.model import Report, Section, failed
from monitor.reports.summary import summarize


def build_report(
    store: LogStore,
    settings: Settings,
    *,
    model_id: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    versions: Sequence[str] = (),
    state: StateStore | None = None,
) -> Report:
    """The report of `model_id` in the window of `monitor summary` (without `since` and
    `until`: the day ending at its newest prediction), over `versions` (empty: all).
    `state`: the state store to read alerts from (None: none yet, no alerts section)."""
    _check_versions(store, model_id, versions)
    summary = summarize(store, settings, model_id=model_id, since=since, until=until, state=state)
    entry = summary["models"][0]
    window = Window(
        dt.datetime.fromisoformat(entry["window"]["start"]),
        dt.datetime.fromisoformat(entry["window"]["end"]),
    )
    model = settings.model(model_id)
    scope = Scope.of(model, window, tuple(versions), data_version=store.version)
    buckets = traffic(store, scope, scope.bucket(finest="minute"))
    alerts = None if state is None else operations.window_alerts(state, scope)
    sections = (
        operations.summary_section(summary, versions, buckets),
        _soft(
            "performance", "Performance", lambda: analysis.performance_section(store, model, scope)
        ),
        _soft("drift", "Drift", lambda: analysis.drift_section(store, settings, scope)),
        _soft("quality", "Data quality", lambda: analysis.quality_section(store, settings, scope)),
        _soft("fairness", "Fairness", lambda: analysis.fairness_section(store, settings, scope)),
        _soft(
            "health",
            "System health",
            lambda: operations.health_section(store, settings, scope, buckets),
        ),
        operations.alerts_section(alerts, window),
    )
    return Report(
        model_id=model_id,
        versions=tuple(versions),
        window=window,
        generated_at=utc_now(),
        status=entry["status"],
        sections=sections,
        summary=summary,
    )


def _check_versions(store: LogStore, model_id: str, versions: Sequence[str]) -> None:
    """InputError naming the known models or versions for an unknown one."""
    info = model_info(store, model_id)
    for version in versions:
        require_version(info, version)


def _soft(key: str, title: str, compute: Callable[[], Section]) -> Section:
    """The section, or one that says why it could not be computed (no reference dataset,
    no predictions in the window...): one missing input never hides the others."""
    try:
        return compute()
    except MonitorError as exc:
        return failed(key, title, str(exc))
