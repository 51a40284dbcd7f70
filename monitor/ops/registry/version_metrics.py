"""One version of a model as the logs show it: whether the logs know it, the windows it
served in, and its metrics in a window (from the same engines as the Overview, see
`monitor.findings.status`): the headline metric (accuracy, or MAE for regression;
realized from labels, or estimated without enough of them), error rate and latency
p95, drift against the reference and the four-fifths fairness screen; beside them the
task's other performance metrics against their baseline (F1, precision... realized from
at least MIN_LABELS labels) and the screen per sensitive feature (`version_fairness`)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.core import catalog
from monitor.core.catalog import ModelInfo, Window
from monitor.core.config import Settings
from monitor.core.errors import InputError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.findings.status import Status, model_status
from monitor.metrics.performance.baseline import HIGHER_IS_BETTER
from monitor.metrics.performance.report import (
    HEADLINE_METRIC,
    METRICS,
    MIN_LABELS,
    PerformanceReport,
    ReferenceFit,
)
from monitor.ops.registry.version_fairness import FeatureScreen, screens
from monitor.queries import health
from monitor.queries.performance_reference import fit_reference
from monitor.queries.performance_report import performance


@dataclass(frozen=True)
class Measure:
    """A performance metric of a version (realized from labels) beside the model's baseline."""

    name: str
    value: float | None
    baseline: float | None
    higher_is_better: bool

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": json_number(self.value),
            "baseline": json_number(self.baseline),
            "higher_is_better": self.higher_is_better,
        }


@dataclass(frozen=True)
class VersionMetrics:
    """One version of a model in one window."""

    version: str
    window: Window
    predictions: int
    errors: int
    latency_p95_ms: float | None
    metric: str
    """The headline metric: accuracy (classifiers) or mae (regression)."""
    value: float | None
    estimated: bool
    """True: `value` is estimated from scores (too few labels), not realized."""
    labeled: int
    higher_is_better: bool
    model_baseline: float | None
    """The model's baseline value of `metric` (reference dataset or config)."""
    performance: Status
    drift: Status
    drift_share: float | None
    fairness: Status
    measures: tuple[Measure, ...] = ()
    """The task's other metrics (not the headline) against their baseline; empty below
    MIN_LABELS labels."""
    screens: tuple[FeatureScreen, ...] = ()
    """The four-fifths screen per sensitive feature, on this version and the reference."""

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.predictions if self.predictions else None

    @property
    def metric_known(self) -> bool:
        """A value to judge: estimated, or realized from at least MIN_LABELS labels."""
        return self.value is not None and (self.estimated or self.labeled >= MIN_LABELS)

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready snapshot (times as ISO text; non-finite numbers as None)."""
        fields: Mapping[str, Any] = {
            "version": self.version,
            "window": window_document(self.window),
            "predictions": self.predictions,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "latency_p95_ms": self.latency_p95_ms,
            "metric": self.metric,
            "value": self.value,
            "estimated": self.estimated,
            "labeled": self.labeled,
            "model_baseline": self.model_baseline,
            "performance": _status_document(self.performance),
            "drift": _status_document(self.drift),
            "drift_share": self.drift_share,
            "fairness": _status_document(self.fairness),
        }
        return {k: json_number(v) for k, v in fields.items()} | {
            "measures": [m.to_document() for m in self.measures],
            "fairness_screens": [s.to_document() for s in self.screens],
        }


def model_info(store: LogStore, model_id: str) -> ModelInfo:
    """The model as the logs know it; InputError naming the known models otherwise."""
    models = catalog.inventory(store)
    for info in models:
        if info.model_id == model_id:
            return info
    known = ", ".join(m.model_id for m in models) or "none"
    raise InputError(f"unknown model {model_id!r}: the logs have {known}")


def require_version(info: ModelInfo, version: str) -> None:
    known = [v.version for v in info.versions]
    if version not in known:
        names = ", ".join(v or "(unversioned)" for v in known)
        raise InputError(
            f"model {info.model_id!r} has no version {version!r} in its logs (known: {names})"
        )


def measure(
    store: LogStore,
    settings: Settings,
    model_id: str,
    version: str,
    window: Window,
    *,
    reference: ReferenceFit | None = None,
) -> VersionMetrics:
    """The metrics of one version in a window."""
    model = settings.model(model_id)
    fit = reference or fit_reference(store, model)
    status = model_status(store, settings, model_id, window, (version,), reference=fit)
    found = status.headline
    metric = HEADLINE_METRIC[model.task]
    report = performance(
        store, model, Scope(model_id, window, (version,)), bucket=None, reference=fit
    )
    return VersionMetrics(
        version=version,
        window=window,
        predictions=status.health.predictions,
        errors=status.health.errors,
        latency_p95_ms=status.health.latency.p95,
        metric=found.metric if found else metric,
        value=found.value if found else None,
        estimated=found.estimated if found else False,
        labeled=found.labeled if found else 0,
        higher_is_better=found.higher_is_better if found else HIGHER_IS_BETTER[metric],
        model_baseline=found.baseline if found else None,
        performance=status.performance,
        drift=status.drift,
        drift_share=status.drift_share,
        fairness=status.fairness,
        measures=_measures(report, skip=metric),
        screens=screens(store, model, version, window, tau=settings.thresholds.fairness_tau),
    )


def _measures(report: PerformanceReport, *, skip: str) -> tuple[Measure, ...]:
    overall = report.overall()
    if overall is None or overall.labeled < MIN_LABELS:
        return ()
    return tuple(
        Measure(
            name,
            found.value if (found := overall.metrics.get(name)) else None,
            base.value if (base := report.baseline.metrics.get(name)) else None,
            HIGHER_IS_BETTER.get(name, True),
        )
        for name in METRICS[report.task]
        if name != skip
    )


def shared_window(
    store: LogStore, model_id: str, first: str, second: str, window: Window
) -> Window | None:
    """The part of `window` between the later first and the earlier last prediction of
    the two versions; None when they did not serve at the same time."""
    found = health.version_health(store, Scope(model_id, window, (first, second)))
    rows = {v.version: v for v in found}
    if first not in rows or second not in rows:
        return None
    start = max(rows[first].first_seen, rows[second].first_seen)
    end = min(rows[first].last_seen, rows[second].last_seen)
    return Window(start, end) if start <= end else None


def own_window(store: LogStore, info: ModelInfo, version: str, window: Window) -> Window:
    """`window` when the version served in it, else a span as long ending at its last
    prediction."""
    served = health.version_health(store, Scope(info.model_id, window, (version,)))
    if served:
        return window
    last = next(v.last_seen for v in info.versions if v.version == version)
    return Window(last - (window.end - window.start), last)


def unknown_metric_text(metrics: VersionMetrics) -> str:
    if metrics.value is None:
        return f"{metrics.version}: no {metrics.metric} (no labels and no estimate)"
    return (
        f"{metrics.version}: {metrics.metric} from only {metrics.labeled:,} labels "
        f"(at least {MIN_LABELS} needed)"
    )


def metric_text(metrics: VersionMetrics) -> str:
    kind = " (estimated)" if metrics.estimated else ""
    return f"{metrics.metric} {metrics.value:.3f}{kind} of {metrics.version}"


def amount_text(metric: str, value: float) -> str:
    return f"{value * 100:.1f} points" if metric == "accuracy" else f"{value:.3g}"


def window_document(window: Window) -> dict[str, str]:
    return {"start": _time(window.start), "end": _time(window.end)}


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _status_document(status: Status) -> dict[str, str]:
    return {"state": status.state, "summary": status.summary}
