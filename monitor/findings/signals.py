"""What alert rules measure: each metric's value per series (model, version, feature,
group) over a window, from the same engines the dashboard pages use.

One `Measurer` serves one evaluation: rules of one family (see
`alert_rules.MetricInfo.family`) share one aggregate per scope (one health query, one
performance report, one pair of drift profiles for the drift report and the new
categories, one missing-values query, one fairness table per sensitive feature), and the
reference fit of a model is made once. The aggregates come
from `monitor.queries` (and the metric engines); this module holds no SQL.

A series without a value (`value is None`) becomes a `nodata` alert: the window holds no
predictions, no labels and no estimate, too few values to compare... the `note` says
which. A metric that does not apply (a regression metric on a classifier, drift without
a reference dataset, fairness without sensitive features) yields no series at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from monitor.core import tabular
from monitor.core.catalog import Window
from monitor.core.config import ModelConfig, Settings, missing_reference
from monitor.core.errors import InputError
from monitor.core.scope import Scope
from monitor.core.store import LogStore
from monitor.core.views import FeatureColumn
from monitor.findings.model import Series
from monitor.findings.rules import METRICS
from monitor.metrics.drift.profile import Profile, ReferenceProfile
from monitor.metrics.drift.report import DriftReport, compare
from monitor.metrics.fairness import audit as fairness
from monitor.metrics.health.service import ModelHealth
from monitor.metrics.performance.report import MIN_LABELS, PerformanceReport, ReferenceFit
from monitor.metrics.quality import new_category_shares
from monitor.queries.drift_profile import profiles
from monitor.queries.fairness import log_slices
from monitor.queries.features import logged_features, present_counts
from monitor.queries.health import model_health, version_health
from monitor.queries.performance_reference import fit_reference
from monitor.queries.performance_report import performance

_FITS: dict[str, ReferenceFit] = {}
_MAX_FITS: Final = 32


class Measurer:
    """Measures metrics for one evaluation, sharing aggregates between rules."""

    def __init__(self, store: LogStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._cache: dict[tuple[str, Scope], Any] = {}
        self._features: dict[str, tuple[FeatureColumn, ...]] = {}

    def applies(self, metric: str, model: ModelConfig) -> bool:
        """Whether the metric can be measured for this model at all (config, not data)."""
        info = METRICS[metric]
        if model.task not in info.tasks:
            return False
        if info.family in ("drift", "quality"):
            return model.reference is not None
        if info.family == "fairness":
            return bool(model.sensitive_features)
        return True

    def measure(self, metric: str, scope: Scope) -> tuple[Series, ...]:
        """Every series of `metric` for the scope's model over its window (all versions
        unless the scope names some). Raises MonitorError when the metric cannot be
        computed at all (the caller records it; it is not fatal)."""
        model_id = scope.model_id
        model = self.settings.model(model_id)
        family = METRICS[metric].family
        health = self._health(scope)
        if health.predictions == 0:
            if metric == "throughput":
                return (Series({"model": model_id}, 0.0, "no predictions"),)
            return (
                Series({"model": model_id}, None, _no_predictions(scope.window), empty_window=True),
            )
        missing = missing_reference(model) if _needs_reference(metric, model) else None
        if missing is not None:  # a rule that is unknown, not a nodata alert or silence
            raise InputError(missing)
        if family == "health":
            return (_health_series(metric, health, scope.window),)
        if family == "performance":
            return _performance_series(metric, model_id, self._performance(model, scope))
        if family == "drift":
            return _drift_series(metric, model_id, self._drift(model, scope))
        if family == "missing":
            return self._missing(scope, health.predictions)
        if family == "quality":
            return self._new_categories(model, scope)
        return self._fairness(model, scope)

    # -- shared aggregates ---------------------------------------------------------------

    def _cached(self, kind: str, scope: Scope, compute: Any) -> Any:
        key = (kind, scope)
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _health(self, scope: Scope) -> ModelHealth:
        found: ModelHealth = self._cached("health", scope, lambda: model_health(self.store, scope))
        return found

    def _fit(self, model: ModelConfig) -> ReferenceFit:
        """The model's baseline and calibrator, kept between evaluations while neither
        the model's config nor its reference file changes."""
        key = repr(model)
        if model.reference is not None and model.reference.is_file():
            stat = model.reference.stat()
            key += f"|{stat.st_mtime_ns}|{stat.st_size}"
        found = _FITS.get(key)
        if found is None:
            found = fit_reference(self.store, model)
            if len(_FITS) >= _MAX_FITS:
                _FITS.pop(next(iter(_FITS)))
            _FITS[key] = found
        return found

    def _performance(self, model: ModelConfig, scope: Scope) -> PerformanceReport:
        report: PerformanceReport = self._cached(
            "performance",
            scope,
            lambda: performance(self.store, model, scope, bucket=None, reference=self._fit(model)),
        )
        return report

    def _profiles(self, model: ModelConfig, scope: Scope) -> tuple[ReferenceProfile, Profile]:
        """The reference's and the window's drift profiles (drift and new categories)."""
        found: tuple[ReferenceProfile, Profile] = self._cached(
            "profiles",
            scope,
            lambda: profiles(
                self.store,
                tabular.reference_relation(self.store, model),
                tabular.log_relation(self.store, model, scope.window),
            ),
        )
        return found

    def _drift(self, model: ModelConfig, scope: Scope) -> DriftReport:
        def compute() -> DriftReport:
            thresholds = self.settings.thresholds
            return compare(
                *self._profiles(model, scope),
                drift_share=thresholds.drift_share,
                thresholds={"psi": thresholds.psi},
            )

        report: DriftReport = self._cached("drift", scope, compute)
        return report

    def _new_categories(self, model: ModelConfig, scope: Scope) -> tuple[Series, ...]:
        """Per categorical feature: values in neither the reference nor the config."""
        reference, current = self._profiles(model, scope)
        return tuple(
            Series(
                {"model": model.id, "feature": found.feature},
                found.share,
                f"{found.new_values:,} of {found.values:,} values: "
                + (", ".join(k for k, _ in found.new[:3]) or "none")
                if found.values
                else "no values",
            )
            for found in new_category_shares(reference.profile, current, model.feature_categories)
        )

    def _model_features(self, model_id: str) -> tuple[FeatureColumn, ...]:
        """The features this model ever logged a value for."""
        if model_id not in self._features:
            self._features[model_id] = logged_features(self.store, model_id)
        return self._features[model_id]

    def _missing(self, scope: Scope, rows: int) -> tuple[Series, ...]:
        """Missing shares of all the model's features among the scope's `rows` predictions
        (one query)."""
        features = self._model_features(scope.model_id)
        present = present_counts(self.store, scope, features)
        return tuple(
            Series(
                {"model": scope.model_id, "feature": f.key},
                (rows - n) / rows if rows else None,
                f"{rows - n:,} of {rows:,} predictions" if rows else "no predictions",
            )
            for f, n in zip(features, present, strict=True)
        )

    def _fairness(self, model: ModelConfig, scope: Scope) -> tuple[Series, ...]:
        """Per version and sensitive feature: each judged group's ratio to the reference
        group (the Fairness page's four-fifths screen on the labeled predictions)."""
        versions = [
            v.version
            for v in self._cached("versions", scope, lambda: version_health(self.store, scope))
        ]
        tau = self.settings.thresholds.fairness_tau
        found: list[Series] = []
        for feature in model.sensitive_features:
            slices = {
                s.version: s.data
                for s in log_slices(
                    self.store,
                    model,
                    sensitive=[feature],
                    window=scope.window,
                    versions=scope.versions,
                    by_version=True,
                )
            }
            for version in versions:
                base = {"model": model.id, "version": version, "feature": feature}
                data = slices.get(version)
                if data is None or data.total_rows == 0:
                    found.append(Series(base, None, "no labeled predictions"))
                    continue
                found += fairness_series(base, fairness.audit(data, tau=tau))
        return tuple(found)


def _no_predictions(window: Window) -> str:
    return f"no predictions between {window.start:%Y-%m-%d %H:%M} and {window.end:%H:%M} UTC"


def _health_series(metric: str, health: ModelHealth, window: Window) -> Series:
    labels = {"model": health.model_id}
    note = f"{health.predictions:,} predictions"
    if metric == "latency_p95_ms":
        p95 = health.latency.p95
        return Series(labels, p95, note if p95 is not None else "no latency logged")
    if metric == "error_rate":
        return Series(labels, health.error_rate, f"{health.errors:,} errors in {note}")
    minutes = (window.end - window.start).total_seconds() / 60
    return Series(labels, health.predictions / minutes, note)


_PERFORMANCE: Mapping[str, tuple[str, bool]] = {
    "accuracy": ("accuracy", False),
    "accuracy_drop": ("accuracy", True),
    "f1": ("f1", False),
    "f1_drop": ("f1", True),
    "mae": ("mae", False),
    "mae_increase": ("mae", True),
}
"""metric -> (performance metric, compared with the baseline)."""
_TITLES: Final[Mapping[str, str]] = {"accuracy": "accuracy", "f1": "F1"}


def _performance_series(
    metric: str, model_id: str, report: PerformanceReport
) -> tuple[Series, ...]:
    """Per version, as the Overview's headline: realized from labels, else (fewer than
    MIN_LABELS labels) estimated from the scores where the model has an estimate."""
    name, relative = _PERFORMANCE[metric]
    base = report.baseline.metrics.get(name)
    baseline = base.value if base is not None else None
    found: list[Series] = []
    for group in sorted(
        (g for g in report.groups if g.start is None and g.version is not None),
        key=lambda g: g.version or "",
    ):
        labels = {"model": model_id, "version": group.version or ""}
        realized = group.metrics.get(name)
        estimate = group.estimated.metrics.get(name) if group.estimated is not None else None
        use_estimate = (
            estimate is not None and estimate.value is not None and group.labeled < MIN_LABELS
        )
        chosen = estimate if use_estimate else realized
        value = chosen.value if chosen is not None else None
        note = (
            f"estimated from {group.predictions:,} scores"
            if use_estimate
            else f"from {group.labeled:,} labels"
        )
        if value is None:
            found.append(
                Series(labels, None, f"no labels and no estimate ({group.labeled} labels)")
            )
        elif not relative:
            found.append(Series(labels, value, note))
        elif baseline is None:
            found.append(
                Series(labels, None, f"no baseline {name} ({report.baseline.note or 'none'})")
            )
        elif name == "mae":
            drop = (value - baseline) / baseline if baseline else None
            found.append(
                Series(
                    labels,
                    drop,
                    f"{note}; MAE {value:.4g} vs baseline {baseline:.4g}",
                    metric="MAE",
                    observed=value,
                    baseline=baseline,
                )
            )
        else:
            found.append(
                Series(
                    labels,
                    baseline - value,
                    f"{note}; {value:.3f} vs baseline {baseline:.3f}",
                    metric=_TITLES.get(name, name),
                    observed=value,
                    baseline=baseline,
                )
            )
    return tuple(found)


def _needs_reference(metric: str, model: ModelConfig) -> bool:
    """Drift and new categories compare with the reference dataset; a drop against the
    baseline needs it unless monitor.toml gives that baseline."""
    family = METRICS[metric].family
    name, relative = _PERFORMANCE.get(metric, (metric, False))
    return family in ("drift", "quality") or (relative and name not in model.baseline)


def _drift_series(metric: str, model_id: str, report: DriftReport) -> tuple[Series, ...]:
    if metric == "drift_share":
        drifted = ", ".join(f.feature for f in report.drifted[:5]) or "none"
        note = f"{len(report.drifted)} of {len(report.evaluated)} features drifted: {drifted}"
        if report.share_drifted is None:
            note = "no feature could be compared"
        return (Series({"model": model_id}, report.share_drifted, note),)
    found = []
    for feature in report.features:
        psi = feature.stats.get("psi")
        note = f"{feature.current_count:,} values" if psi is not None else feature.status
        found.append(Series({"model": model_id, "feature": feature.feature}, psi, note))
    return tuple(found)


def fairness_series(base: Mapping[str, str], report: fairness.FairnessReport) -> list[Series]:
    """The `fairness_ratio` value of each judged group of `report` (labels: `base` plus
    the group), or one series without a value saying why there is none."""
    if report.reference_group is None:
        return [Series(base, None, "no group large enough to compare with")]
    reference = "/".join(report.reference_group)
    found = []
    for group in report.groups:
        if group.small or group.key == report.reference_group:
            continue  # too small to judge (as on the Fairness page), or the yardstick itself
        ratio = group.disparity.get(report.metric)
        labels = {**base, "group": group.label}
        if ratio is None:
            found.append(Series(labels, None, f"{report.metric} undefined for {reference}"))
            continue
        folded = min(ratio, 1 / ratio) if ratio > 0 else 0.0
        metric = report.metric.replace("_", " ")
        found.append(
            Series(
                labels,
                folded,
                f"{metric} {ratio:.3g}x the {reference} group's",
                metric=metric,
                ratio=ratio,
                reference=reference,
            )
        )
    if not found:
        return [Series(base, None, "no group large enough to judge besides the reference")]
    return found
