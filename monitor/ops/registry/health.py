"""One version judged on its own traffic, and the healthy version to roll back to.

A version is measured over its own window (`own_window`: the window when it served
there, else a span as long ending at its last prediction), on its own predictions only,
and checked against the model's baseline and the `[thresholds]` of monitor.toml:

- headline metric (accuracy; MAE for regression) not worse than the model's baseline by
  more than `accuracy_drop` (points for accuracy, a share of the baseline for MAE); when
  it is unknown (no labels and no estimate, too few labels, no baseline) the version
  cannot be judged: inconclusive;
- error rate at most `error_rate`, latency p95 at most `latency_p95_ms`;
- fairness: no sensitive feature fails the four-fifths screen (`fairness_tau`) on its
  traffic while passing on the reference dataset (failing on both is a note: the gap is
  in the data the model learned from, not new with this version).

Verdict: `reject` (a check failed), `inconclusive` (none failed, the headline metric is
unknown) or `healthy`. The task's other metrics (F1, precision...) are evidence shown
beside their baseline, not checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from monitor.core.catalog import ModelInfo, Window
from monitor.core.config import Settings, Thresholds
from monitor.core.store import LogStore
from monitor.metrics.performance.report import ReferenceFit
from monitor.ops.registry.compare import allowed_drop, worse_by
from monitor.ops.registry.version_fairness import FeatureScreen
from monitor.ops.registry.version_metrics import (
    VersionMetrics,
    amount_text,
    measure,
    metric_text,
    model_info,
    own_window,
    require_version,
    unknown_metric_text,
)
from monitor.queries.performance_reference import fit_reference

Outcome = Literal["passed", "failed", "missing", "note"]
"""`missing`: could not be judged, so the version cannot be called healthy; `note`: not
judged (or not held against the version), said so."""
VersionVerdict = Literal["reject", "inconclusive", "healthy"]


@dataclass(frozen=True)
class Check:
    """One check of a version: what was measured, the bound, the outcome and why."""

    name: str
    outcome: Outcome
    value: str
    limit: str
    finding: str = ""
    """The sentence a person reads (empty when the check passed)."""

    def to_document(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class VersionCheck:
    """A version judged on its own traffic (see the module docstring)."""

    metrics: VersionMetrics
    checks: tuple[Check, ...]

    @property
    def version(self) -> str:
        return self.metrics.version

    @property
    def failed(self) -> tuple[str, ...]:
        return self._findings("failed")

    @property
    def missing(self) -> tuple[str, ...]:
        return self._findings("missing")

    @property
    def notes(self) -> tuple[str, ...]:
        return self._findings("note")

    @property
    def problems(self) -> tuple[str, ...]:
        """Why the version is not healthy, in check order; empty when it is."""
        return tuple(c.finding for c in self.checks if c.outcome in ("failed", "missing"))

    @property
    def verdict(self) -> VersionVerdict:
        if self.failed:
            return "reject"
        return "inconclusive" if self.missing else "healthy"

    @property
    def summary(self) -> str:
        """One line: "v3: reject — accuracy 0.762 of v3 is 5.8 points worse ..."."""
        if self.verdict == "healthy":
            return f"{self.version}: healthy — every check passed on its own traffic"
        reasons = self.failed if self.verdict == "reject" else self.missing
        return f"{self.version}: {self.verdict} — " + "; ".join(reasons)

    def to_document(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "verdict": self.verdict,
            "summary": self.summary,
            "failed": list(self.failed),
            "missing": list(self.missing),
            "notes": list(self.notes),
            "checks": [c.to_document() for c in self.checks],
            "metrics": self.metrics.to_document(),
        }

    def _findings(self, outcome: Outcome) -> tuple[str, ...]:
        return tuple(c.finding for c in self.checks if c.outcome == outcome)


@dataclass(frozen=True)
class HealthyVersion:
    """The result of looking for the last healthy version before a given one."""

    found: VersionMetrics | None
    rejected: tuple[tuple[str, tuple[str, ...]], ...]
    """Newer versions that were checked first, each with why it is not healthy."""


def check_version(metrics: VersionMetrics, thresholds: Thresholds) -> VersionCheck:
    """The checks of a version's metrics (pure; see the module docstring)."""
    if metrics.predictions == 0:
        served = Check(
            "predictions", "missing", "0", "at least 1", f"{metrics.version} served no predictions"
        )
        return VersionCheck(metrics, (served,))
    checks = [_headline(metrics, thresholds)]
    rate = metrics.error_rate or 0.0
    checks.append(
        Check(
            "error rate",
            "failed" if rate > thresholds.error_rate else "passed",
            f"{rate:.2%}",
            f"at most {thresholds.error_rate:.2%}",
            f"error rate {rate:.2%} is above {thresholds.error_rate:.2%}"
            if rate > thresholds.error_rate
            else "",
        )
    )
    checks.append(_latency(metrics, thresholds))
    checks += [_fairness(metrics.version, s) for s in metrics.screens]
    return VersionCheck(metrics, tuple(checks))


def health_problems(metrics: VersionMetrics, thresholds: Thresholds) -> tuple[str, ...]:
    """Why a version is not healthy in its window; empty when it is."""
    return check_version(metrics, thresholds).problems


def check(
    store: LogStore,
    settings: Settings,
    model_id: str,
    version: str,
    window: Window,
    *,
    reference: ReferenceFit | None = None,
    info: ModelInfo | None = None,
) -> VersionCheck:
    """One version measured over its own window (`own_window`) and checked."""
    info = info or model_info(store, model_id)
    require_version(info, version)
    fit = reference or fit_reference(store, settings.model(model_id))
    own = own_window(store, info, version, window)
    metrics = measure(store, settings, model_id, version, own, reference=fit)
    return check_version(metrics, settings.thresholds)


def check_all(
    store: LogStore,
    settings: Settings,
    model_id: str,
    window: Window,
    *,
    reference: ReferenceFit | None = None,
) -> tuple[VersionCheck, ...]:
    """Every version of the model, oldest first, each checked over its own window."""
    info = model_info(store, model_id)
    fit = reference or fit_reference(store, settings.model(model_id))
    return tuple(
        check(store, settings, model_id, v.version, window, reference=fit, info=info)
        for v in info.versions
    )


def last_healthy(
    store: LogStore,
    settings: Settings,
    model_id: str,
    current_version: str,
    window: Window,
    *,
    reference: ReferenceFit | None = None,
) -> HealthyVersion:
    """The newest version that first served before `current_version` and is healthy,
    each checked over its own window; the older ones are not measured."""
    info = model_info(store, model_id)
    require_version(info, current_version)
    order = [v.version for v in info.versions]  # oldest first
    older = order[: order.index(current_version)]
    fit = reference or fit_reference(store, settings.model(model_id))
    checked = (
        check(store, settings, model_id, v, window, reference=fit, info=info)
        for v in reversed(older)
    )
    return _first_healthy(checked)


def healthy_before(checks: Sequence[VersionCheck], version: str) -> HealthyVersion:
    """`last_healthy` from checks already made (`check_all`, oldest first)."""
    order = [c.version for c in checks]
    return _first_healthy(reversed(checks[: order.index(version)]))


def worst_version(checks: Sequence[VersionCheck], *, current: str, serving: Iterable[str]) -> str:
    """The version to roll back by default: of the versions `serving` now, the one
    rejected with the most failed checks (ties: the newest); else `current`."""
    now = set(serving)
    order = {c.version: i for i, c in enumerate(checks)}
    rejected = [c for c in checks if c.verdict == "reject" and c.version in now]
    if not rejected:
        return current
    return max(rejected, key=lambda c: (len(c.failed), order[c.version])).version


def _first_healthy(checks: Iterator[VersionCheck]) -> HealthyVersion:
    rejected: list[tuple[str, tuple[str, ...]]] = []
    for found in checks:
        if found.verdict == "healthy":
            return HealthyVersion(found.metrics, tuple(rejected))
        rejected.append((found.version, found.problems))
    return HealthyVersion(None, tuple(rejected))


def _headline(metrics: VersionMetrics, thresholds: Thresholds) -> Check:
    name = metrics.metric
    if not metrics.metric_known or metrics.value is None:
        shown = "n/a" if metrics.value is None else f"{metrics.value:.3f}"
        return Check(name, "missing", shown, "", unknown_metric_text(metrics))
    kind = "estimated" if metrics.estimated else f"{metrics.labeled:,} labels"
    shown = f"{metrics.value:.3f} ({kind})"
    base = metrics.model_baseline
    if base is None:
        return Check(
            name, "missing", shown, "no baseline", f"{name} has no baseline to judge it against"
        )
    worse = worse_by(metrics.value, base, higher_is_better=metrics.higher_is_better)
    allowed = allowed_drop(name, base, thresholds.accuracy_drop)
    limit = f"baseline {base:.3f}, at most {amount_text(name, allowed)} worse"
    if worse <= allowed:
        return Check(name, "passed", shown, limit)
    return Check(
        name,
        "failed",
        shown,
        limit,
        f"{metric_text(metrics)} is {amount_text(name, worse)} worse than the baseline "
        f"{base:.3f} (allowed: {amount_text(name, allowed)})",
    )


def _latency(metrics: VersionMetrics, thresholds: Thresholds) -> Check:
    p95, bound = metrics.latency_p95_ms, thresholds.latency_p95_ms
    limit = f"at most {bound:,.0f} ms"
    if p95 is None:
        return Check(
            "latency p95", "note", "n/a", limit, "latency p95 not judged: no latency logged"
        )
    if p95 <= bound:
        return Check("latency p95", "passed", f"{p95:,.0f} ms", limit)
    finding = f"latency p95 {p95:,.0f} ms is above {bound:,.0f} ms"
    return Check("latency p95", "failed", f"{p95:,.0f} ms", limit, finding)


def _fairness(version: str, screen: FeatureScreen) -> Check:
    own, reference = screen.version, screen.reference
    name = f"fairness ({screen.feature})"
    on_reference = (
        f"reference dataset {reference.fairness_ratio:.2f}"
        if reference.fairness_ratio is not None
        else "reference dataset not screened"
    )
    limit = f"at least {screen.tau:.2f}; {on_reference}"
    if own.passed is None or own.ratio is None or own.fairness_ratio is None:
        why = own.note or "no group to compare"
        return Check(name, "note", "n/a", limit, f"fairness ({screen.feature}) not judged: {why}")
    metric = "MAE" if own.metric == "mae" else own.metric.replace("_", " ")
    shown = (
        f"{own.fairness_ratio:.2f} ({metric} of {own.group} {own.ratio:.2f}x "
        f"{own.reference_group}'s)"
    )
    if own.passed:
        return Check(name, "passed", shown, limit)
    finding = (
        f"fairness ratio {own.fairness_ratio:.2f} for {screen.feature}: the {metric} of "
        f"{own.group} is {own.ratio:.2f}x {own.reference_group}'s on {version}'s traffic "
        f"(at least {screen.tau:.2f} needed"
    )
    if reference.passed is False:
        return Check(
            name,
            "note",
            shown,
            limit,
            f"{finding}), but the reference dataset fails the screen too "
            f"({reference.fairness_ratio:.2f}): not new with {version}",
        )
    if reference.passed is None:
        finding += f"; the reference dataset could not be screened: {reference.note})"
    else:
        finding += f"; {on_reference})"
    return Check(name, "failed", shown, limit, finding)
