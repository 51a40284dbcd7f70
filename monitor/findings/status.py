"""The executive summary: per model, is anything wrong right now, and where to look.

Combines the engines for one model and window: traffic, errors and p95 latency with
deltas against the window before; the headline metric (realized, or estimated without
labels) against the baseline; feature drift against the reference dataset; the
four-fifths screen per sensitive feature. Each part fails soft into a status with a
reason ("no reference dataset", "not enough labels"), so one missing input never hides
the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from monitor.core import tabular
from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.errors import MonitorError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.metrics.drift.report import DriftReport
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.fairness.audit import FairnessReport
from monitor.metrics.health.service import ModelHealth
from monitor.metrics.performance.report import (
    Headline,
    PerformanceReport,
    ReferenceFit,
    headline_of,
)
from monitor.queries import drift
from monitor.queries.fairness import log_table
from monitor.queries.health import model_health
from monitor.queries.performance_report import performance

State = Literal["ok", "warning", "alert", "unknown"]
SYMBOLS: dict[State, str] = {"ok": "✓", "warning": "⚠", "alert": "✗", "unknown": "–"}
LABELS: dict[State, str] = {"ok": "ok", "warning": "warning", "alert": "problem", "unknown": "n/a"}


@dataclass(frozen=True)
class Status:
    state: State
    summary: str
    """One line a person reads: what was found, or why nothing could be judged."""


@dataclass(frozen=True)
class ModelStatus:
    model_id: str
    window: Window
    health: ModelHealth
    previous: ModelHealth
    """The same length of time just before the window (for deltas)."""
    headline: Headline | None
    performance: Status
    drift: Status
    drift_share: float | None
    fairness: Status
    performance_report: PerformanceReport | None = None
    """The report the headline was taken from (None when it could not be made)."""
    drift_report: DriftReport | None = None
    """The drift report behind `drift` (per-feature scores); None when it could not be made."""
    fairness_reports: Mapping[str, FairnessReport] = field(default_factory=dict)
    """Sensitive feature -> the audit behind `fairness` (the features that could be audited)."""

    @property
    def error_rate_delta(self) -> float | None:
        return _delta(self.health.error_rate, self.previous.error_rate)

    @property
    def p95_delta(self) -> float | None:
        return _delta(self.health.latency.p95, self.previous.latency.p95)


def model_status(
    store: LogStore,
    settings: Settings,
    model_id: str,
    window: Window,
    versions: Sequence[str] = (),
    *,
    reference: ReferenceFit | None = None,
) -> ModelStatus:
    """`reference`: the model's fitted reference (baseline and calibrator), when the
    caller keeps one; else it is fitted here."""
    scope = Scope(model_id, window, tuple(versions))
    now = model_health(store, scope)
    before = model_health(store, scope.previous())
    report, performance_status = _performance(
        store, settings, model_id, window, versions, reference
    )
    drift_status, share, drift_report = _drift(store, settings, model_id, window, versions)
    fairness_status, audits = _fairness(store, settings, model_id, window, versions)
    return ModelStatus(
        model_id,
        window,
        now,
        before,
        None if report is None else headline_of(report),
        performance_status,
        drift_status,
        share,
        fairness_status,
        report,
        drift_report,
        audits,
    )


def _performance(
    store: LogStore,
    settings: Settings,
    model_id: str,
    window: Window,
    versions: Sequence[str],
    reference: ReferenceFit | None,
) -> tuple[PerformanceReport | None, Status]:
    try:
        model = settings.model(model_id)
        scope = Scope.of(model, window, tuple(versions))
        report = performance(store, model, scope, bucket=None, reference=reference)
    except MonitorError as exc:
        return None, Status("unknown", str(exc))
    return report, _performance_status(settings, headline_of(report))


def _performance_status(settings: Settings, found: Headline) -> Status:
    if found.value is None:
        return Status("unknown", "no labels and no estimate in this window")
    kind = "estimated" if found.estimated else f"from {found.labeled:,} labels"
    if found.delta is None:
        return Status("unknown", f"{found.label} {found.value:.3g} ({kind}); no baseline")
    worse = -found.delta if found.higher_is_better else found.delta
    allowed = settings.thresholds.accuracy_drop  # accuracy: points; error metrics: relative
    if found.metric != "accuracy":
        allowed *= abs(found.baseline or 0.0)
    state: State = "alert" if worse > allowed else "warning" if worse > allowed / 2 else "ok"
    return Status(
        state, f"{found.label} {found.value:.3g} ({kind}) vs baseline {found.baseline:.3g}"
    )


def _drift(
    store: LogStore, settings: Settings, model_id: str, window: Window, versions: Sequence[str]
) -> tuple[Status, float | None, DriftReport | None]:
    model = settings.model(model_id)
    try:
        reference = tabular.reference_relation(store, model)
        current = tabular.log_relation(store, model, window, versions)
        report = drift.drift_between(
            store,
            reference,
            current,
            drift_share=settings.thresholds.drift_share,
            thresholds={"psi": settings.thresholds.psi},
        )
    except MonitorError as exc:
        return Status("unknown", str(exc)), None, None
    return _drift_status(report), report.share_drifted, report


def _drift_status(report: DriftReport) -> Status:
    names = [f.feature for f in report.drifted]
    if not report.evaluated:
        return Status("unknown", "no feature could be compared")
    if report.dataset_drift:
        state: State = "alert"
    elif names:
        state = "warning"
    else:
        return Status("ok", f"no drift in {len(report.evaluated)} features")
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return Status(state, f"{len(names)} of {len(report.evaluated)} features drifted: {shown}")


def _fairness(
    store: LogStore, settings: Settings, model_id: str, window: Window, versions: Sequence[str]
) -> tuple[Status, dict[str, FairnessReport]]:
    model = settings.model(model_id)
    audits: dict[str, FairnessReport] = {}
    if not model.sensitive_features:
        return Status("unknown", "no sensitive features configured"), audits
    failing: list[str] = []
    judged = 0
    for feature in model.sensitive_features:
        try:
            data = log_table(store, model, sensitive=[feature], window=window, versions=versions)
            report = audits[feature] = fairness.audit(data, tau=settings.thresholds.fairness_tau)
        except MonitorError:
            continue
        if report.summary.four_fifths_passed is None:
            continue
        judged += 1
        if not report.summary.four_fifths_passed:
            groups = ", ".join("/".join(g) for g in report.summary.failing_groups)
            failing.append(f"{feature} ({groups})")
    if judged == 0:
        return Status("unknown", "not enough labeled predictions per group in this window"), audits
    if failing:
        return Status("alert", "four-fifths screen failed for " + "; ".join(failing)), audits
    return Status("ok", f"four-fifths screen passed for {judged} sensitive features"), audits


def _delta(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before
