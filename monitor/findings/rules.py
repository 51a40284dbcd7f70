"""Alert rules: the metrics they watch, the rule and config types, the defaults, and
the durations rules are written in.

A rule says: for every series of `metric` (a model, and where the metric has them a
version, feature or group) whose labels match `labels`, measured over the last `window`,
the condition `value <comparator> threshold` must hold for `for_` before the alert fires.
The defaults come from `[thresholds]`; the `[alerts]` table of monitor.toml is read by
`config.alerts_config`. See docs/alerts.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from monitor.core.config import Task, Thresholds

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical")
Comparator = Literal[">", ">=", "<", "<="]
COMPARATORS: Final[tuple[Comparator, ...]] = (">", ">=", "<", "<=")
Clock = Literal["wall", "data"]
CLOCKS: Final[tuple[Clock, ...]] = ("wall", "data")
Family = Literal["health", "performance", "drift", "missing", "quality", "fairness"]
LABEL_KEYS: Final = ("model", "version", "feature", "group")
"""Label names, in the order they are shown."""

_ALL_TASKS: Final[tuple[Task, ...]] = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class MetricInfo:
    """What a metric measures, over which series, and where the dashboard explains it."""

    name: str
    title: str
    family: Family
    """Which aggregate measures it (rules of one family share one query per window)."""
    dimensions: tuple[str, ...]
    """Labels beyond `model` that split it into series."""
    tasks: tuple[Task, ...]
    page: str
    """URL path of the dashboard page that explains it."""
    unit: str
    """How values are printed: "ms", "share" (as %), "per_min" or "" (plain number)."""
    comparator: Comparator
    """The usual direction of a problem (the default comparator of a new rule)."""
    description: str


METRICS: Final[dict[str, MetricInfo]] = {
    m.name: m
    for m in (
        MetricInfo(
            "accuracy",
            "accuracy",
            "performance",
            ("version",),
            ("binary", "multiclass"),
            "performance",
            "",
            "<",
            "accuracy per version: realized from labels, or estimated from the scores "
            "when fewer than 100 predictions are labeled (binary models with a reference)",
        ),
        MetricInfo(
            "accuracy_drop",
            "accuracy drop",
            "performance",
            ("version",),
            ("binary", "multiclass"),
            "performance",
            "",
            ">",
            "baseline accuracy minus accuracy (realized or estimated, as `accuracy`), in points",
        ),
        MetricInfo(
            "f1",
            "F1",
            "performance",
            ("version",),
            ("binary",),
            "performance",
            "",
            "<",
            "F1 of the positive label per version (realized, or estimated as `accuracy`)",
        ),
        MetricInfo(
            "f1_drop",
            "F1 drop",
            "performance",
            ("version",),
            ("binary",),
            "performance",
            "",
            ">",
            "baseline F1 minus F1 (as `f1`)",
        ),
        MetricInfo(
            "mae",
            "MAE",
            "performance",
            ("version",),
            ("regression",),
            "performance",
            "",
            ">",
            "mean absolute error per version, from labels",
        ),
        MetricInfo(
            "mae_increase",
            "MAE increase",
            "performance",
            ("version",),
            ("regression",),
            "performance",
            "share",
            ">",
            "(MAE - baseline MAE) / baseline MAE",
        ),
        MetricInfo(
            "drift_share",
            "share of drifted features",
            "drift",
            (),
            _ALL_TASKS,
            "drift",
            "share",
            ">=",
            "share of the features drifted against the reference (the Drift page's verdict)",
        ),
        MetricInfo(
            "psi",
            "PSI",
            "drift",
            ("feature",),
            _ALL_TASKS,
            "drift",
            "",
            ">",
            "population stability index of a feature against the reference",
        ),
        MetricInfo(
            "missing_share",
            "missing share",
            "missing",
            ("feature",),
            _ALL_TASKS,
            "data_quality",
            "share",
            ">",
            "share of the predictions without a value for the feature",
        ),
        MetricInfo(
            "new_category_share",
            "new-category share",
            "quality",
            ("feature",),
            _ALL_TASKS,
            "data_quality",
            "share",
            ">",
            "share of a categorical feature's values in neither the reference nor the "
            "config's feature_categories (the Data quality page's 'new categories')",
        ),
        MetricInfo(
            "latency_p95_ms",
            "p95 latency",
            "health",
            (),
            _ALL_TASKS,
            "system_health",
            "ms",
            ">",
            "95th percentile of latency_ms over all predictions (linear interpolation)",
        ),
        MetricInfo(
            "error_rate",
            "error rate",
            "health",
            (),
            _ALL_TASKS,
            "system_health",
            "share",
            ">",
            "predictions with status error / predictions",
        ),
        MetricInfo(
            "throughput",
            "throughput",
            "health",
            (),
            _ALL_TASKS,
            "system_health",
            "per_min",
            "<=",
            "predictions per minute over the window (0 when nothing was logged)",
        ),
        MetricInfo(
            "fairness_ratio",
            "fairness ratio",
            "fairness",
            ("version", "feature", "group"),
            ("binary", "regression"),
            "fairness",
            "",
            "<",
            "a group's screen metric (selection rate; MAE for regression) divided by the "
            "reference group's, folded to min(r, 1/r): below tau fails the four-fifths screen",
        ),
    )
}


@dataclass(frozen=True)
class Rule:
    id: str
    metric: str
    comparator: Comparator
    threshold: float
    window: dt.timedelta
    for_: dt.timedelta
    """How long the condition must hold before the alert fires (0: at once)."""
    severity: Severity
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Only series whose label has one of these values (e.g. model = credit-risk)."""
    description: str = ""
    critical: float | None = None
    """Past this threshold (same comparator) a breach is critical whatever `severity`
    says; None: never escalated."""

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    def holds(self, value: float) -> bool:
        """Whether the alert condition is true for `value`."""
        return _compare(value, self.comparator, self.threshold)

    def severity_of(self, value: float) -> Severity:
        """The severity of a breach by `value` (see `critical`)."""
        if self.critical is not None and _compare(value, self.comparator, self.critical):
            return "critical"
        return self.severity

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a series with these labels is watched (a label it lacks never matches)."""
        return all(labels.get(key) in allowed for key, allowed in self.labels.items())

    def applies_to_model(self, model_id: str) -> bool:
        allowed = self.labels.get("model")
        return allowed is None or model_id in allowed


def _compare(value: float, comparator: Comparator, threshold: float) -> bool:
    if comparator == ">":
        return value > threshold
    if comparator == ">=":
        return value >= threshold
    if comparator == "<":
        return value < threshold
    return value <= threshold


@dataclass(frozen=True)
class SeverityPolicy:
    """When a breach of a default rule is critical rather than a warning (`[alerts.severity]`):
    where the effect is large, not merely past the line."""

    factor: float = 2.0
    """Accuracy, F1 and MAE drops, p95 latency and missing shares past `factor` times
    their threshold."""
    error_rate_factor: float = 5.0
    """Error rates past this many times their threshold."""
    disparity_ratio: float = 0.5
    """Fairness ratios (four-fifths screen) below this."""


@dataclass(frozen=True)
class Webhook:
    url: str
    timeout_s: float = 5.0
    retries: int = 2
    """Attempts after the first (on connection errors, timeouts, HTTP 429 and 5xx)."""
    backoff_s: float = 0.5
    """Wait before retry n: backoff_s * 2**(n-1)."""
    dashboard_url: str | None = None
    """Base URL of the dashboard: messages link to the page that explains the alert."""


@dataclass(frozen=True)
class AlertsConfig:
    rules: tuple[Rule, ...]
    clock: Clock = "wall"
    """wall: windows end now; data: each model's windows end at its newest prediction."""
    webhook: Webhook | None = None
    alertmanager: Webhook | None = None
    """`[alerts.alertmanager]`: its base URL, with the webhook's delivery options."""

    def rule(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None


def default_rules(
    thresholds: Thresholds, policy: SeverityPolicy = SeverityPolicy()
) -> tuple[Rule, ...]:
    """The rules every installation starts with, from `[thresholds]`; the severity
    policy says where a breach turns critical."""
    hour, day, week = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=7)
    five = dt.timedelta(minutes=5)
    zero = dt.timedelta(0)
    t = thresholds
    rules = (
        Rule("accuracy_drop", "accuracy_drop", ">", t.accuracy_drop, day, zero, "warning",
             description="accuracy (or estimated accuracy) below the baseline by accuracy_drop"),
        Rule("f1_drop", "f1_drop", ">", t.accuracy_drop, week, zero, "warning",
             description="F1 below the baseline's by accuracy_drop"),
        Rule("mae_increase", "mae_increase", ">", t.accuracy_drop, week, zero, "warning",
             description="MAE above the baseline's by the share accuracy_drop"),
        Rule("dataset_drift", "drift_share", ">=", t.drift_share, day, zero, "warning",
             description="dataset drift: the share of drifted features reaches drift_share"),
        Rule("feature_psi", "psi", ">", t.psi, day, zero, "warning",
             description="PSI of a feature above psi"),
        Rule("missing_share", "missing_share", ">", t.missing_share, hour, zero, "warning",
             description="share of missing values of a feature above missing_share"),
        Rule("new_categories", "new_category_share", ">", t.new_category_share, day, zero,
             "warning", description="share of unknown categories of a feature above "
             "new_category_share"),
        Rule("latency_p95", "latency_p95_ms", ">", t.latency_p95_ms, hour, five, "warning",
             description="p95 latency above latency_p95_ms"),
        Rule("error_rate", "error_rate", ">", t.error_rate, hour, five, "warning",
             description="error rate above error_rate"),
        Rule("no_traffic", "throughput", "<=", 0.0, hour, zero, "critical",
             description="no predictions at all in the last hour"),
        Rule("fairness_ratio", "fairness_ratio", "<", t.fairness_tau, week, zero, "warning",
             description="a group's selection rate (MAE) ratio below fairness_tau"),
    )  # fmt: skip
    return tuple(
        dataclasses.replace(r, critical=default_critical(r.id, r.threshold, policy))
        if r.severity != "critical"
        else r
        for r in rules
    )


def default_critical(rule_id: str, threshold: float, policy: SeverityPolicy) -> float | None:
    """Where a default rule's breach turns critical, for its (possibly configured)
    threshold; None for rules that stay warnings (drift: a cause, not yet an effect)."""
    if rule_id in ("accuracy_drop", "f1_drop", "mae_increase", "missing_share", "latency_p95"):
        return policy.factor * threshold
    if rule_id == "error_rate":
        return policy.error_rate_factor * threshold
    if rule_id == "fairness_ratio":
        return min(policy.disparity_ratio, threshold)
    return None


_DURATION: Final = re.compile(r"(\d+)([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: Any) -> dt.timedelta:
    """'90s', '15m', '1h', '7d', '2w' or a sum such as '1h30m'."""
    if not isinstance(text, str) or not text or _DURATION.sub("", text.strip()):
        raise ValueError(f"must be a duration such as 15m, 1h, 24h or 7d (got {text!r})")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    return dt.timedelta(seconds=seconds)


def format_duration(span: dt.timedelta) -> str:
    """The shortest spelling parse_duration reads back ('1h', '7d', '90m', '0m')."""
    seconds = int(span.total_seconds())
    if seconds == 0:
        return "0m"
    for unit in ("d", "h", "m", "s"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    raise AssertionError("unreachable: every whole number of seconds divides by 1")
