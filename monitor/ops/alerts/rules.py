"""Alert rules: the metrics they watch, the defaults, and the `[alerts]` table of monitor.toml.

A rule says: for every series of `metric` (a model, and where the metric has them a
version, feature or group) whose labels match `labels`, measured over the last `window`,
the condition `value <comparator> threshold` must hold for `for_` before the alert fires.
The defaults come from `[thresholds]`; `[[alerts.rules]]` adds rules, and a rule with the
id of a default changes only the keys it names (`enabled = false` drops it). Every
problem is one ConfigError naming the key, e.g.
``monitor.toml: alerts.rules[2].severity must be one of info, warning, critical (got 'x')``.
See docs/alerts.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from monitor.core.config import DEFAULT_CONFIG_NAME, Settings, Task, Thresholds, _reject_unknown
from monitor.core.errors import ConfigError

Severity = Literal["info", "warning", "critical"]
SEVERITIES: Final[tuple[Severity, ...]] = ("info", "warning", "critical")
Comparator = Literal[">", ">=", "<", "<="]
COMPARATORS: Final[tuple[Comparator, ...]] = (">", ">=", "<", "<=")
Clock = Literal["wall", "data"]
CLOCKS: Final[tuple[Clock, ...]] = ("wall", "data")
Family = Literal["health", "performance", "drift", "missing", "fairness"]
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

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.metric]

    def holds(self, value: float) -> bool:
        """Whether the alert condition is true for `value`."""
        if self.comparator == ">":
            return value > self.threshold
        if self.comparator == ">=":
            return value >= self.threshold
        if self.comparator == "<":
            return value < self.threshold
        return value <= self.threshold

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a series with these labels is watched (a label it lacks never matches)."""
        return all(labels.get(key) in allowed for key, allowed in self.labels.items())

    def applies_to_model(self, model_id: str) -> bool:
        allowed = self.labels.get("model")
        return allowed is None or model_id in allowed


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

    def rule(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None


def default_rules(thresholds: Thresholds) -> tuple[Rule, ...]:
    """The rules every installation starts with, from `[thresholds]`."""
    hour, day, week = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(days=7)
    five = dt.timedelta(minutes=5)
    zero = dt.timedelta(0)
    t = thresholds
    return (
        Rule("accuracy_drop", "accuracy_drop", ">", t.accuracy_drop, day, zero, "critical",
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
        Rule("latency_p95", "latency_p95_ms", ">", t.latency_p95_ms, hour, five, "warning",
             description="p95 latency above latency_p95_ms"),
        Rule("error_rate", "error_rate", ">", t.error_rate, hour, five, "critical",
             description="error rate above error_rate"),
        Rule("no_traffic", "throughput", "<=", 0.0, hour, zero, "critical",
             description="no predictions at all in the last hour"),
        Rule("fairness_ratio", "fairness_ratio", "<", t.fairness_tau, week, zero, "warning",
             description="a group's selection rate (MAE) ratio below fairness_tau"),
    )  # fmt: skip


_TOP_KEYS: Final = {
    "default_rules",
    "clock",
    "webhook_url",
    "webhook_timeout_s",
    "webhook_retries",
    "webhook_backoff_s",
    "dashboard_url",
    "rules",
}
_RULE_KEYS: Final = {
    "id",
    "metric",
    "comparator",
    "threshold",
    "window",
    "for",
    "severity",
    "labels",
    "enabled",
    "description",
}
_DURATION: Final = re.compile(r"(\d+)([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RULE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}")


def alerts_config(settings: Settings) -> AlertsConfig:
    """Validate `settings.alerts` (the raw `[alerts]` table) into rules and options."""
    where = settings.source.name if settings.source is not None else DEFAULT_CONFIG_NAME
    raw = settings.alerts
    _reject_unknown(raw, _TOP_KEYS, where, "alerts.")
    use_defaults = raw.get("default_rules", True)
    if not isinstance(use_defaults, bool):
        raise ConfigError(f"{where}: alerts.default_rules must be true or false")
    clock = raw.get("clock", "wall")
    if clock not in CLOCKS:
        raise ConfigError(
            f"{where}: alerts.clock must be one of {', '.join(CLOCKS)} (got {clock!r})"
        )
    defaults = {r.id: r for r in default_rules(settings.thresholds)} if use_defaults else {}
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{where}: alerts.rules must be an array of tables ([[alerts.rules]])")
    rules = dict(defaults)
    seen: set[str] = set()
    for i, item in enumerate(rules_raw):
        key = f"alerts.rules[{i}]"
        rule_id, rule = _parse_rule(item, defaults, where, key)
        if rule_id in seen:
            raise ConfigError(f"{where}: {key}.id {rule_id!r} is defined twice")
        seen.add(rule_id)
        if rule is None:
            rules.pop(rule_id, None)
        else:
            rules[rule_id] = rule
    return AlertsConfig(tuple(rules.values()), clock, _parse_webhook(raw, where))


def _parse_rule(
    raw: Any, defaults: Mapping[str, Rule], where: str, key: str
) -> tuple[str, Rule | None]:
    """(id, rule); the rule is None when `enabled = false`."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {key} must be a table")
    _reject_unknown(raw, _RULE_KEYS, where, f"{key}.")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
        raise ConfigError(
            f"{where}: {key}.id is required: letters, digits and _ . : - (up to 80 characters)"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: {key}.enabled must be true or false")
    base = defaults.get(rule_id)
    if not enabled:
        return rule_id, None
    if base is None:
        for required in ("metric", "threshold"):
            if required not in raw:
                raise ConfigError(
                    f"{where}: {key}.{required} is required (rule {rule_id!r} is not a "
                    f"default rule: {', '.join(defaults) or 'default_rules = false'})"
                )
    metric = raw.get("metric", base.metric if base else None)
    if metric not in METRICS:
        raise ConfigError(
            f"{where}: {key}.metric must be one of {', '.join(METRICS)} (got {metric!r})"
        )
    info = METRICS[metric]
    same_metric = base is not None and base.metric == metric
    comparator = raw.get("comparator", base.comparator if same_metric and base else info.comparator)
    if comparator not in COMPARATORS:
        raise ConfigError(
            f"{where}: {key}.comparator must be one of {', '.join(COMPARATORS)} "
            f"(got {comparator!r})"
        )
    threshold = raw.get("threshold", base.threshold if base else None)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ConfigError(f"{where}: {key}.threshold must be a number")
    if not math.isfinite(threshold):
        raise ConfigError(f"{where}: {key}.threshold must be a finite number")
    window = _duration(raw, "window", base.window if base else dt.timedelta(hours=1), where, key)
    if window <= dt.timedelta(0):
        raise ConfigError(f"{where}: {key}.window must be longer than 0 (e.g. 1h)")
    hold = _duration(raw, "for", base.for_ if base else dt.timedelta(0), where, key)
    severity = raw.get("severity", base.severity if base else "warning")
    if severity not in SEVERITIES:
        raise ConfigError(
            f"{where}: {key}.severity must be one of {', '.join(SEVERITIES)} (got {severity!r})"
        )
    labels = (
        _parse_labels(raw["labels"], info, where, key)
        if "labels" in raw
        else (base.labels if same_metric and base else {})
    )
    description = raw.get("description", base.description if base else "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: {key}.description must be a string")
    return rule_id, Rule(
        rule_id,
        metric,
        comparator,
        float(threshold),
        window,
        hold,
        severity,
        labels,
        description,
    )


def _parse_labels(raw: Any, info: MetricInfo, where: str, key: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f'{where}: {key}.labels must be a table, e.g. {{ model = "credit-risk" }}'
        )
    allowed = ("model", *info.dimensions)
    labels: dict[str, tuple[str, ...]] = {}
    for name, value in raw.items():
        if name not in allowed:
            raise ConfigError(
                f"{where}: {key}.labels.{name} does not apply to metric {info.name} "
                f"(its labels: {', '.join(allowed)})"
            )
        values = [value] if isinstance(value, str) else value
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) for v in values)
        ):
            raise ConfigError(
                f"{where}: {key}.labels.{name} must be a string or a non-empty list of strings"
            )
        labels[name] = tuple(values)
    return labels


def _duration(
    raw: Mapping[str, Any], name: str, default: dt.timedelta, where: str, key: str
) -> dt.timedelta:
    if name not in raw:
        return default
    try:
        return parse_duration(raw[name])
    except ValueError as exc:
        raise ConfigError(f"{where}: {key}.{name} {exc}") from None


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


def _parse_webhook(raw: Mapping[str, Any], where: str) -> Webhook | None:
    url = raw.get("webhook_url")
    dashboard = raw.get("dashboard_url")
    for name, value in (("webhook_url", url), ("dashboard_url", dashboard)):
        if value is None:
            continue
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{where}: alerts.{name} must be an http:// or https:// URL")
    if url is None:
        for name in ("webhook_timeout_s", "webhook_retries", "webhook_backoff_s"):
            if name in raw:
                raise ConfigError(f"{where}: alerts.{name} needs alerts.webhook_url")
        return None
    webhook = Webhook(url, dashboard_url=dashboard.rstrip("/") if dashboard else None)
    timeout = raw.get("webhook_timeout_s", webhook.timeout_s)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        raise ConfigError(
            f"{where}: alerts.webhook_timeout_s must be a number of seconds in (0, 60]"
        )
    retries = raw.get("webhook_retries", webhook.retries)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ConfigError(f"{where}: alerts.webhook_retries must be a whole number from 0 to 10")
    backoff = raw.get("webhook_backoff_s", webhook.backoff_s)
    if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not 0 <= backoff <= 60:
        raise ConfigError(
            f"{where}: alerts.webhook_backoff_s must be a number of seconds in [0, 60]"
        )
    return dataclasses.replace(
        webhook, timeout_s=float(timeout), retries=retries, backoff_s=float(backoff)
    )
