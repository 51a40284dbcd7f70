"""Two versions of a model side by side and the canary verdict.

Each version's metrics (`version_metrics.measure`) come from the same engines as the
Overview, restricted to that version; this module judges them.

The canary verdict compares a candidate with a baseline version over the period both
served: label shift or a latency spike then hits both alike. It is
`promote`, `reject` (a check failed) or `inconclusive` (not enough data; never promote).
See docs/models.md for the checks and their defaults. One version judged on its own
traffic, and healthy versions: `monitor.ops.registry.health`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from monitor.core.catalog import Window
from monitor.core.config import Settings, Thresholds
from monitor.core.errors import InputError
from monitor.core.store import LogStore
from monitor.metrics.performance.report import ReferenceFit
from monitor.ops.registry.version_metrics import (
    VersionMetrics,
    amount_text,
    json_number,
    measure,
    metric_text,
    model_info,
    own_window,
    require_version,
    shared_window,
    unknown_metric_text,
    window_document,
)
from monitor.queries.performance_reference import fit_reference

Verdict = Literal["promote", "reject", "inconclusive"]
VERDICTS: Final[tuple[Verdict, ...]] = ("promote", "reject", "inconclusive")


@dataclass(frozen=True)
class CanaryThresholds:
    """When a candidate must not be promoted (defaults: `from_settings`)."""

    accuracy_drop: float = 0.05
    """Largest drop of the headline metric below the baseline version's: points for
    accuracy, a relative share for error metrics (MAE)."""
    accuracy_floor: float | None = None
    """Absolute bound for the headline metric (a ceiling for MAE); None: the model's
    baseline (reference or config) worsened by `accuracy_drop`."""
    latency_increase: float = 0.20
    """Largest relative increase of latency p95 over the baseline version's."""
    error_factor: float = 2.0
    """The error rate may not exceed the baseline version's times this factor..."""
    error_margin: float = 0.005
    """...by more than this many (absolute) points, so a handful of errors on a small
    canary does not block it."""
    min_predictions: int = 100
    """Fewer predictions of either version in the period: inconclusive."""

    @classmethod
    def from_settings(cls, thresholds: Thresholds) -> CanaryThresholds:
        return cls(accuracy_drop=thresholds.accuracy_drop)


@dataclass(frozen=True)
class Comparison:
    model_id: str
    window: Window
    """The window asked for; each version's own window is in its metrics."""
    same_period: bool
    """Both measured over the same period (the part of the window both served in)."""
    baseline: VersionMetrics
    candidate: VersionMetrics
    thresholds: CanaryThresholds
    verdict: Verdict
    reasons: tuple[str, ...]
    """Why not promote: failed checks (reject) or missing data (inconclusive)."""
    notes: tuple[str, ...] = field(default=())
    """What was not judged and why, when the verdict stands without it."""

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready snapshot (times as ISO text; the rollback evidence)."""
        return {
            "model_id": self.model_id,
            "window": window_document(self.window),
            "same_period": self.same_period,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "thresholds": {k: json_number(v) for k, v in vars(self.thresholds).items()},
            "baseline": self.baseline.to_document(),
            "candidate": self.candidate.to_document(),
        }


def compare(
    store: LogStore,
    settings: Settings,
    model_id: str,
    baseline_version: str,
    candidate_version: str,
    window: Window,
    *,
    thresholds: CanaryThresholds | None = None,
    reference: ReferenceFit | None = None,
    apart: Literal["inconclusive", "own_windows"] = "inconclusive",
) -> Comparison:
    """Baseline and candidate side by side with the canary verdict.

    Both are measured over the part of `window` in which both served. When they did not
    serve at the same time, `apart` decides: "inconclusive" (a canary verdict needs the
    same traffic), or "own_windows": each is measured over `window`, or, when it served
    nothing there, over a span as long ending at its last prediction (rollback
    evidence: the target may have stopped serving long ago)."""
    info = model_info(store, model_id)
    require_version(info, baseline_version)
    require_version(info, candidate_version)
    if baseline_version == candidate_version:
        raise InputError(f"compare two different versions (both are {baseline_version!r})")
    limits = thresholds or CanaryThresholds.from_settings(settings.thresholds)
    fit = reference or fit_reference(store, settings.model(model_id))
    period = shared_window(store, model_id, baseline_version, candidate_version, window)
    windows = (
        (period, period)
        if period is not None
        else (
            own_window(store, info, baseline_version, window),
            own_window(store, info, candidate_version, window),
        )
    )
    base = measure(store, settings, model_id, baseline_version, windows[0], reference=fit)
    cand = measure(store, settings, model_id, candidate_version, windows[1], reference=fit)
    if period is None:
        different = (
            f"{baseline_version} and {candidate_version} did not serve at the same time in "
            "this window"
        )
        if apart == "inconclusive":  # different traffic, different days: no fair verdict
            return Comparison(
                model_id, window, False, base, cand, limits, "inconclusive", (different,)
            )
        verdict, reasons, notes = judge(base, cand, limits)
        notes = (f"{different}: each is measured over its own window", *notes)
        return Comparison(model_id, window, False, base, cand, limits, verdict, reasons, notes)
    verdict, reasons, notes = judge(base, cand, limits)
    return Comparison(model_id, window, True, base, cand, limits, verdict, reasons, notes)


def judge(
    baseline: VersionMetrics, candidate: VersionMetrics, limits: CanaryThresholds
) -> tuple[Verdict, tuple[str, ...], tuple[str, ...]]:
    """The verdict, its reasons, and notes on what could not be judged."""
    failed: list[str] = []
    missing: list[str] = []
    notes: list[str] = []
    for metrics in (baseline, candidate):
        if metrics.predictions < limits.min_predictions:
            missing.append(
                f"{metrics.version} has {metrics.predictions:,} predictions in the period "
                f"(at least {limits.min_predictions:,} needed)"
            )
    if not missing:
        failed += _latency(baseline, candidate, limits, notes)
        failed += _errors(baseline, candidate, limits)
    failed += _accuracy(baseline, candidate, limits, missing)
    failed += _fairness(baseline, candidate, notes)
    if failed:
        return "reject", (*failed, *missing), tuple(notes)
    if missing:
        return "inconclusive", tuple(missing), tuple(notes)
    return "promote", (), tuple(notes)


def worse_by(value: float, reference: float, *, higher_is_better: bool) -> float:
    """How much worse `value` is than `reference` (negative: better)."""
    return reference - value if higher_is_better else value - reference


def allowed_drop(metric: str, reference: float, drop: float) -> float:
    """The drop allowed, as monitor.findings.status judges it: points for accuracy, a relative
    share of the reference for error metrics."""
    return drop if metric == "accuracy" else drop * abs(reference)


def _accuracy(
    baseline: VersionMetrics,
    candidate: VersionMetrics,
    limits: CanaryThresholds,
    missing: list[str],
) -> list[str]:
    failed: list[str] = []
    for metrics in (baseline, candidate):
        if not metrics.metric_known:
            missing.append(unknown_metric_text(metrics))
    if not candidate.metric_known or candidate.value is None:
        return failed
    value, name, better = candidate.value, candidate.metric, candidate.higher_is_better
    shown = metric_text(candidate)
    floor = limits.accuracy_floor
    if floor is None and candidate.model_baseline is not None:
        base = candidate.model_baseline
        floor = base - allowed_drop(name, base, limits.accuracy_drop) * (1 if better else -1)
    if floor is not None and worse_by(value, floor, higher_is_better=better) > 0:
        side = "below the floor" if better else "above the ceiling"
        failed.append(f"{shown} is {side} {floor:.3f}")
    if baseline.metric_known and baseline.value is not None:
        worse = worse_by(value, baseline.value, higher_is_better=better)
        allowed = allowed_drop(name, baseline.value, limits.accuracy_drop)
        if worse > allowed:
            failed.append(
                f"{shown} is {amount_text(name, worse)} worse than {baseline.version}'s "
                f"{baseline.value:.3f} (allowed: {amount_text(name, allowed)})"
            )
    return failed


def _latency(
    baseline: VersionMetrics, candidate: VersionMetrics, limits: CanaryThresholds, notes: list[str]
) -> list[str]:
    base, cand = baseline.latency_p95_ms, candidate.latency_p95_ms
    if base is None or cand is None or base <= 0:
        notes.append("latency p95 not compared: no latency logged")
        return []
    increase = cand / base - 1
    if increase > limits.latency_increase:
        return [
            f"latency p95 {cand:,.0f} ms is {increase:.0%} above {baseline.version}'s "
            f"{base:,.0f} ms (allowed: {limits.latency_increase:.0%})"
        ]
    return []


def _errors(
    baseline: VersionMetrics, candidate: VersionMetrics, limits: CanaryThresholds
) -> list[str]:
    base, cand = baseline.error_rate, candidate.error_rate
    if base is None or cand is None:
        return []
    if cand > base * limits.error_factor and cand - base > limits.error_margin:
        factor = "" if base == 0 else f"{cand / base:.1f}x "
        return [
            f"error rate {cand:.2%} is {factor}{baseline.version}'s {base:.2%} (allowed: "
            f"{limits.error_factor:g}x, or {limits.error_margin:.1%} points more)"
        ]
    return []


def _fairness(baseline: VersionMetrics, candidate: VersionMetrics, notes: list[str]) -> list[str]:
    if candidate.fairness.state != "alert":
        return []
    if baseline.fairness.state == "alert":
        notes.append(
            f"fairness: both versions fail the four-fifths screen ({baseline.version}: "
            f"{baseline.fairness.summary})"
        )
        return []
    return [
        f"fairness: {candidate.fairness.summary} ({baseline.version}: {baseline.fairness.summary})"
    ]
