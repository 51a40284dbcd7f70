"""The figures the exporter publishes, per model and per version.

Each model's figures come from the Overview's executive summary
(`monitor.findings.status.model_status`) over the window `monitor summary` uses (the
day ending at the model's newest prediction): once for all versions together (what
`monitor summary` prints) and once per version with predictions in that window. Beside
the summary's numbers: the realized and estimated headline metric (from the same
performance report), each configured feature's drift score (the same drift report) and
missing share (the `missing_share` rule's measurement), and per sensitive feature the
lowest `fairness_ratio` of its judged groups (the rule's value, from the same audit).

Feature label values are limited to the features monitor.toml configures for the model
(`configured_features`): a log line cannot add series.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.core.catalog import ModelInfo, Window
from monitor.core.config import ModelConfig, Settings
from monitor.core.errors import MonitorError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.findings.signals import Measurer, fairness_series
from monitor.findings.status import ModelStatus, model_status
from monitor.metrics.performance.report import ReferenceFit
from monitor.queries.health import version_health
from monitor.queries.performance_reference import fit_reference


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    method: str
    score: float
    drifted: bool


@dataclass(frozen=True)
class ScopeFigures:
    """One model's figures over one window, for all versions or for one."""

    model_id: str
    version: str | None
    """None: all versions together."""
    status: ModelStatus
    realized: float | None = None
    """The headline metric from labels (None without labels)."""
    estimated: float | None = None
    """The headline metric estimated from the scores (None where there is no estimate)."""
    drift: tuple[FeatureDrift, ...] = ()
    missing: Mapping[str, float] = field(default_factory=dict)
    """Configured feature -> share of the predictions without a value for it."""
    fairness: Mapping[str, float] = field(default_factory=dict)
    """Sensitive feature -> lowest folded ratio of a judged group to the reference group."""

    @property
    def window(self) -> Window:
        return self.status.window

    @property
    def throughput(self) -> float:
        """Predictions per second over the window."""
        seconds = (self.window.end - self.window.start).total_seconds()
        return self.status.health.predictions / seconds if seconds > 0 else 0.0


def configured_features(model: ModelConfig) -> frozenset[str]:
    """The features monitor.toml names for the model (ranges, categories, kinds and
    sensitive features)."""
    return frozenset(
        (*model.feature_ranges, *model.feature_categories, *model.feature_kinds)
    ) | frozenset(model.sensitive_features)


def model_figures(store: LogStore, settings: Settings, info: ModelInfo) -> tuple[ScopeFigures, ...]:
    """All versions together first, then each version with predictions in the window."""
    model = settings.model(info.model_id)
    window = Window.ending_at(info.last_seen)
    fit = _fit(store, model)
    measurer = Measurer(store, settings)
    versions = [v.version for v in version_health(store, Scope(model.id, window)) if v.predictions]
    return tuple(
        _figures(store, settings, measurer, model, window, version, fit)
        for version in (None, *versions)
    )


def _fit(store: LogStore, model: ModelConfig) -> ReferenceFit | None:
    """The model's baseline and calibrator, once for all its scopes; None when the
    reference cannot be read (each status then says why)."""
    try:
        return fit_reference(store, model)
    except MonitorError:
        return None


def _figures(
    store: LogStore,
    settings: Settings,
    measurer: Measurer,
    model: ModelConfig,
    window: Window,
    version: str | None,
    fit: ReferenceFit | None,
) -> ScopeFigures:
    versions = () if version is None else (version,)
    status = model_status(store, settings, model.id, window, versions, reference=fit)
    named = configured_features(model)
    realized = estimated = None
    overall = status.performance_report.overall() if status.performance_report else None
    if overall is not None and status.headline is not None:
        found = overall.metrics.get(status.headline.metric)
        realized = found.value if found is not None else None
        guess = overall.estimated.metrics.get(status.headline.metric) if overall.estimated else None
        estimated = guess.value if guess is not None else None
    drift = tuple(
        FeatureDrift(f.feature, f.method, f.score, f.drifted)
        for f in (status.drift_report.features if status.drift_report else ())
        if f.feature in named and f.method is not None and f.score is not None
    )
    missing: dict[str, float] = {}
    if status.health.predictions:
        for series in measurer.measure("missing_share", Scope(model.id, window, versions)):
            feature = series.labels.get("feature", "")
            if feature in named and series.value is not None:
                missing[feature] = series.value
    fairness: dict[str, float] = {}
    for feature, report in status.fairness_reports.items():
        ratios = [s.value for s in fairness_series({}, report) if s.value is not None]
        if ratios:
            fairness[feature] = min(ratios)
    return ScopeFigures(model.id, version, status, realized, estimated, drift, missing, fairness)
