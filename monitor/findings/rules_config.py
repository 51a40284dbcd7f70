"""The `[alerts]` table of monitor.toml, validated into an `AlertsConfig`.

The default rules come from `[thresholds]` (`rules.default_rules`); `[[alerts.rules]]`
adds rules, and a rule with the id of a default changes only the keys it names
(`enabled = false` drops it). Every problem is one ConfigError naming the key, e.g.
``monitor.toml: alerts.rules[2].severity must be one of info, warning, critical (got 'x')``.
See docs/alerts.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from monitor.core.config import DEFAULT_CONFIG_NAME, Settings, Thresholds, _reject_unknown
from monitor.core.errors import ConfigError
from monitor.findings.rules import (
    CLOCKS,
    COMPARATORS,
    METRICS,
    SEVERITIES,
    AlertsConfig,
    MetricInfo,
    Rule,
    SeverityPolicy,
    Webhook,
    default_critical,
    default_rules,
    parse_duration,
)

_TOP_KEYS: Final = {
    "default_rules",
    "clock",
    "webhook_url",
    "webhook_timeout_s",
    "webhook_retries",
    "webhook_backoff_s",
    "dashboard_url",
    "alertmanager",
    "rules",
    "severity",
}
_SEVERITY_KEYS: Final = {"factor", "error_rate_factor", "disparity_ratio"}
_ALERTMANAGER_KEYS: Final = {"url", "timeout_s", "retries", "backoff_s"}
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
    "critical",
}
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
    policy = _parse_policy(raw.get("severity", {}), where)
    defaults = {r.id: r for r in default_rules(settings.thresholds, policy)} if use_defaults else {}
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise ConfigError(f"{where}: alerts.rules must be an array of tables ([[alerts.rules]])")
    rules = dict(defaults)
    seen: set[str] = set()
    for i, item in enumerate(rules_raw):
        key = f"alerts.rules[{i}]"
        rule_id, rule = _parse_rule(item, defaults, policy, where, key)
        if rule_id in seen:
            raise ConfigError(f"{where}: {key}.id {rule_id!r} is defined twice")
        seen.add(rule_id)
        if rule is None:
            rules.pop(rule_id, None)
        else:
            rules[rule_id] = rule
    return AlertsConfig(
        tuple(rules.values()), clock, _parse_webhook(raw, where), _parse_alertmanager(raw, where)
    )


def _parse_policy(raw: Any, where: str) -> SeverityPolicy:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: alerts.severity must be a table")
    _reject_unknown(raw, _SEVERITY_KEYS, where, "alerts.severity.")
    found: dict[str, float] = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigError(f"{where}: alerts.severity.{name} must be a positive number")
        found[name] = float(value)
    return SeverityPolicy(**found)


def _parse_rule(
    raw: Any, defaults: Mapping[str, Rule], policy: SeverityPolicy, where: str, key: str
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
    critical = _critical(raw, base, same_metric, rule_id, float(threshold), policy, where, key)
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
        critical,
    )


def _critical(
    raw: Mapping[str, Any],
    base: Rule | None,
    same_metric: bool,
    rule_id: str,
    threshold: float,
    policy: SeverityPolicy,
    where: str,
    key: str,
) -> float | None:
    """`critical = X` (false: never escalate); a default rule keeps the policy's
    escalation, moved with its threshold."""
    if "critical" in raw:
        value = raw["critical"]
        if value is False:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key}.critical must be a number or false")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {key}.critical must be a finite number")
        return float(value)
    if base is None or not same_metric or base.critical is None:
        return None
    return default_critical(rule_id, threshold, policy)


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


def _parse_webhook(raw: Mapping[str, Any], where: str) -> Webhook | None:
    url = raw.get("webhook_url")
    dashboard = raw.get("dashboard_url")
    for name, value in (("webhook_url", url), ("dashboard_url", dashboard)):
        if value is not None:
            _check_url(value, where, f"alerts.{name}")
    if url is None:
        for name in ("webhook_timeout_s", "webhook_retries", "webhook_backoff_s"):
            if name in raw:
                raise ConfigError(f"{where}: alerts.{name} needs alerts.webhook_url")
        return None
    webhook = Webhook(url, dashboard_url=dashboard.rstrip("/") if dashboard else None)
    return _delivery_options(webhook, raw, where, "alerts.webhook_")


def _parse_alertmanager(raw: Mapping[str, Any], where: str) -> Webhook | None:
    """`[alerts.alertmanager]`: url (required; the base URL, without /api/v2/alerts),
    timeout_s, retries and backoff_s as for the webhook; messages link to dashboard_url."""
    table = raw.get("alertmanager")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: alerts.alertmanager must be a table ([alerts.alertmanager])")
    _reject_unknown(table, _ALERTMANAGER_KEYS, where, "alerts.alertmanager.")
    url = table.get("url")
    if url is None:
        raise ConfigError(f"{where}: alerts.alertmanager.url is required")
    _check_url(url, where, "alerts.alertmanager.url")
    dashboard = raw.get("dashboard_url")
    manager = Webhook(url.rstrip("/"), dashboard_url=dashboard.rstrip("/") if dashboard else None)
    return _delivery_options(manager, table, where, "alerts.alertmanager.")


def _check_url(value: Any, where: str, key: str) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: {key} must be an http:// or https:// URL")


def _delivery_options(
    endpoint: Webhook, raw: Mapping[str, Any], where: str, prefix: str
) -> Webhook:
    """Timeout, retries and backoff from `raw`, whose keys are `prefix` (as shown in
    errors, e.g. "alerts.webhook_") without the part up to the last dot."""
    key = prefix.rsplit(".", 1)[-1]
    timeout = raw.get(f"{key}timeout_s", endpoint.timeout_s)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 60:
        raise ConfigError(f"{where}: {prefix}timeout_s must be a number of seconds in (0, 60]")
    retries = raw.get(f"{key}retries", endpoint.retries)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise ConfigError(f"{where}: {prefix}retries must be a whole number from 0 to 10")
    backoff = raw.get(f"{key}backoff_s", endpoint.backoff_s)
    if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not 0 <= backoff <= 60:
        raise ConfigError(f"{where}: {prefix}backoff_s must be a number of seconds in [0, 60]")
    return dataclasses.replace(
        endpoint, timeout_s=float(timeout), retries=retries, backoff_s=float(backoff)
    )


def rule_threshold(settings: Settings, metric: str, model_id: str) -> float | None:
    """The threshold a page draws for `metric`: that of the rule the alerts use for this
    model (the first configured rule of the metric whose labels admit the model), so a
    chart's line and an alert never disagree; None when no rule watches it."""
    for rule in alerts_config(settings).rules:
        if rule.metric == metric and rule.applies_to_model(model_id):
            return rule.threshold
    return None


RULE_THRESHOLDS: Final = ("drift_share", "psi", "missing_share", "new_category_share")
"""Thresholds pages and commands measure with that alert rules also use (metric =
Thresholds field)."""


def model_thresholds(settings: Settings, model_id: str | None) -> Thresholds:
    """`[thresholds]` with the values this model's alert rules use instead (a configured
    rule wins), so a page's table, a command's verdict and the model's findings draw the
    same line; `[thresholds]` alone without a model."""
    if model_id is None:
        return settings.thresholds
    changes = {
        metric: found
        for metric in RULE_THRESHOLDS
        if (found := rule_threshold(settings, metric, model_id)) is not None
    }
    return dataclasses.replace(settings.thresholds, **changes)
