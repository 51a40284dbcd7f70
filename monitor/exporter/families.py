"""The exporter's metric families over the logs: name, help, labels, and how each value
is read from a model's figures (`monitor.exporter.figures`). docs/operations.md lists them.

Every family has the labels `model` and `version`; `version=""` (no version label in
Prometheus) is all versions together, the figures `monitor summary` prints, and
predictions logged without a version are `version="(unversioned)"`. Units are base
units (seconds, ratios in [0, 1]); a value that cannot be computed is left out rather
than exported as NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from prometheus_client.core import GaugeMetricFamily

from monitor.exporter.figures import ScopeFigures

UNVERSIONED: Final = "(unversioned)"
QUANTILES: Final = (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99"))

Values = Iterable[tuple[tuple[str, ...], float | None]]
"""(values of the family's own labels, value) pairs."""


@dataclass(frozen=True)
class Family:
    name: str
    help: str
    labels: tuple[str, ...]
    """Labels beyond model and version."""
    values: Callable[[ScopeFigures], Values]


def _one(read: Callable[[ScopeFigures], float | None]) -> Callable[[ScopeFigures], Values]:
    return lambda figures: [((), read(figures))]


def _headline(read: Callable[[ScopeFigures], float | None]) -> Callable[[ScopeFigures], Values]:
    """A value labeled with the headline metric's name (accuracy, mae)."""

    def values(figures: ScopeFigures) -> Values:
        found = figures.status.headline
        return [] if found is None else [((found.metric,), read(figures))]

    return values


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def _latency(figures: ScopeFigures) -> Values:
    latency = figures.status.health.latency
    return [((q,), _seconds(getattr(latency, name))) for q, name in QUANTILES]


def _headline_flag(figures: ScopeFigures) -> float | None:
    found = figures.status.headline
    return None if found is None or found.value is None else float(found.estimated)


FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        "monitor_window_predictions",
        "Predictions logged in the window (the day ending at the model's newest prediction).",
        (),
        _one(lambda f: f.status.health.predictions),
    ),
    Family(
        "monitor_window_errors",
        "Predictions with status error in the window.",
        (),
        _one(lambda f: f.status.health.errors),
    ),
    Family(
        "monitor_error_ratio",
        "Error rate: predictions with status error / predictions, in the window.",
        (),
        _one(lambda f: f.status.health.error_rate),
    ),
    Family(
        "monitor_throughput_predictions_per_second",
        "Predictions per second, averaged over the window.",
        (),
        _one(lambda f: f.throughput),
    ),
    Family(
        "monitor_latency_seconds",
        "Latency quantiles (p50, p95, p99; linear interpolation) over the window.",
        ("quantile",),
        _latency,
    ),
    Family(
        "monitor_window_end_timestamp_seconds",
        "End of the window the figures cover (the model's newest prediction), Unix time.",
        (),
        _one(lambda f: f.window.end.timestamp()),
    ),
    Family(
        "monitor_performance_headline",
        "The headline metric the Overview shows: realized from labels, or estimated with "
        "fewer than 100 labels.",
        ("metric",),
        _headline(lambda f: f.status.headline.value if f.status.headline else None),
    ),
    Family(
        "monitor_performance_headline_estimated",
        "1 when the headline metric is an estimate, 0 when it is realized from labels.",
        (),
        _one(_headline_flag),
    ),
    Family(
        "monitor_performance_realized",
        "The headline metric realized from the labels in the window.",
        ("metric",),
        _headline(lambda f: f.realized),
    ),
    Family(
        "monitor_performance_estimated",
        "The headline metric estimated from the scores (binary models with a reference).",
        ("metric",),
        _headline(lambda f: f.estimated),
    ),
    Family(
        "monitor_performance_baseline",
        "The headline metric's baseline (monitor.toml or the reference dataset).",
        ("metric",),
        _headline(lambda f: f.status.headline.baseline if f.status.headline else None),
    ),
    Family(
        "monitor_label_coverage_ratio",
        "Share of the window's predictions that have a label.",
        (),
        _one(lambda f: f.status.headline.coverage if f.status.headline else None),
    ),
    Family(
        "monitor_dataset_drift_ratio",
        "Share of the features drifted against the reference (the Drift page's verdict).",
        (),
        _one(lambda f: f.status.drift_share),
    ),
    Family(
        "monitor_feature_drift_score",
        "Drift score of a configured feature against the reference, by its method.",
        ("feature", "method"),
        lambda f: [((d.feature, d.method), d.score) for d in f.drift],
    ),
    Family(
        "monitor_feature_drifted",
        "1 when the feature drifted against the reference, else 0.",
        ("feature",),
        lambda f: [((d.feature,), float(d.drifted)) for d in f.drift],
    ),
    Family(
        "monitor_feature_missing_ratio",
        "Share of the window's predictions without a value for a configured feature.",
        ("feature",),
        lambda f: [((name,), share) for name, share in sorted(f.missing.items())],
    ),
    Family(
        "monitor_fairness_ratio",
        "Lowest ratio of a judged group's screen metric to the reference group's, folded "
        "to min(r, 1/r), per sensitive feature: below 0.8 fails the four-fifths screen.",
        ("feature",),
        lambda f: [((name,), ratio) for name, ratio in sorted(f.fairness.items())],
    ),
)


def families(figures: Sequence[ScopeFigures]) -> list[GaugeMetricFamily]:
    """Every family, with one sample per scope and label values where it has a value."""
    found = []
    for spec in FAMILIES:
        family = GaugeMetricFamily(spec.name, spec.help, labels=("model", "version", *spec.labels))
        for scope in figures:
            version = "" if scope.version is None else scope.version or UNVERSIONED
            for extra, value in spec.values(scope):
                if value is not None and math.isfinite(value):
                    family.add_metric((scope.model_id, version, *extra), float(value))
        found.append(family)
    return found
