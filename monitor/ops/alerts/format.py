"""How alerts read in the dashboard: numbers with units, times, label sets, changes
in the audit trail. Pure functions, no Streamlit (the Alerts page draws them via
monitor.ui.alert_cards)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from monitor.core.config import Settings
from monitor.core.errors import MonitorError
from monitor.core.state import AuditEntry, actor_label
from monitor.findings.rules_config import alerts_config
from monitor.ops.alerts import actions as alerts
from monitor.ops.alerts.actions import Alert

SILENCE_PRESETS: Final[dict[str, dt.timedelta | None]] = {
    "1 hour": dt.timedelta(hours=1),
    "4 hours": dt.timedelta(hours=4),
    "24 hours": dt.timedelta(hours=24),
    "7 days": dt.timedelta(days=7),
    "Until the date below": None,
}
AUDIT_ROWS: Final = 200
_COMPARATORS: Final = {">=": "≥", "<=": "≤"}
_UNSHOWN_CHANGES: Final = frozenset({"evaluated_at", "acknowledged_at"})
_ISO_TIME: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def format_number(value: float) -> str:
    """A number without a known unit: big ones grouped, small ones to 4 digits."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def comparison(alert: Alert, unit: str | None) -> str:
    """`value 612 ms > 500 ms`: the value, the rule's condition and its threshold, in the
    metric's unit (None: the rule is no longer configured, plain numbers)."""
    symbol = _COMPARATORS.get(alert.comparator, alert.comparator)

    def shown(value: float) -> str:
        return format_number(value) if unit is None else alerts.format_value(value, unit)

    if alert.value is None:
        return f"no data (the rule fires when {symbol} {shown(alert.threshold)})"
    return f"value {shown(alert.value)} {symbol} {shown(alert.threshold)}"


def rule_units(settings: Settings) -> dict[str, str]:
    """Rule id -> the unit its metric is shown in (empty when the rules do not load:
    the check reports that problem)."""
    try:
        return {rule.id: rule.info.unit for rule in alerts_config(settings).rules}
    except MonitorError:
        return {}


def format_utc(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def ago(moment: dt.datetime, now: dt.datetime) -> str:
    """`3 h 12 min ago`; `just now` under a minute; `in 2 h` for the future."""
    seconds = int((now - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    else:
        text = f"{minutes} min"
    return f"in {text}" if future else f"{text} ago"


def when(moment: dt.datetime, now: dt.datetime) -> str:
    """Relative and absolute: `3 h ago (2024-05-01 09:00 UTC)`."""
    return f"{ago(moment, now)} ({format_utc(moment)})"


def since(alert: Alert) -> tuple[str, dt.datetime | None]:
    """What the alert's age is counted from, and the moment."""
    if alert.state == "resolved":
        return "resolved", alert.resolved_at
    if alert.state == "pending":
        return "pending since", alert.pending_since
    if alert.state == "nodata":
        return "no data as of", alert.last_evaluated_at
    return "firing since", alert.started_at or alert.pending_since


def episode_age(alert: Alert) -> str | None:
    """`firing since 2026-11-12 00:00 UTC (for 8 d 23 h at the last check)`. The age is
    counted to the alert's last evaluation, on the clock its times were taken with (the
    data clock of historical logs, else the wall clock), never mixing the two."""
    label, moment = since(alert)
    if moment is None:
        return None
    if alert.state in ("resolved", "nodata"):
        return f"{label} {format_utc(moment)}"
    held = ago(moment, alert.last_evaluated_at)
    age = "new" if held == "just now" else f"for {held.removesuffix(' ago')}"
    return f"{label} {format_utc(moment)} ({age} at the last check)"


def format_labels(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(labels.items()))


def silence_until(
    choice: str, date: dt.date | None, time: dt.time | None, now: dt.datetime
) -> dt.datetime:
    """The end of a silence from a preset, or from a UTC date and time (monitor.ops.alerts.actions
    refuses an end that has passed)."""
    if choice not in SILENCE_PRESETS:
        raise MonitorError(f"unknown silence duration {choice!r}; pick one of the options")
    span = SILENCE_PRESETS[choice]
    if span is not None:
        return now + span
    if date is None or time is None:
        raise MonitorError("pick the date and time (UTC) the silence ends")
    return dt.datetime.combine(date, time, tzinfo=dt.UTC)


def change(before: Any, after: Any) -> str:
    """An audit row's before -> after, only what changed: `state: pending -> firing`.

    The evaluation and acknowledgement times are left out: the row's own time says it."""
    if not isinstance(before, Mapping | None) or not isinstance(after, Mapping | None):
        return f"{_short(before)} -> {_short(after)}"
    old, new = before or {}, after or {}
    parts = [
        f"{key}: {_short(old.get(key))} -> {_short(new.get(key))}"
        for key in sorted(set(old) | set(new))
        if key not in _UNSHOWN_CHANGES and old.get(key) != new.get(key)
    ]
    return "; ".join(parts) if parts else "no change"


def _short(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, Mapping):
        return format_labels({str(k): str(v) for k, v in value.items()})
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            return format_utc(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


@dataclass(frozen=True)
class AuditRow:
    when: dt.datetime
    who: str
    action: str
    alert: str
    """`alert 7`, or `silence <fingerprint>` for silences (they apply to a fingerprint)."""
    rule: str
    """The rule and labels, when the alert (fingerprint) is known."""
    change: str
    note: str | None


def audit_rows(
    entries: Sequence[AuditEntry], known: Sequence[Alert], limit: int = AUDIT_ROWS
) -> tuple[AuditRow, ...]:
    """The newest `limit` entries, newest first, named after the alerts in `known`."""
    by_id = {str(a.alert_id): a for a in known}
    by_fingerprint = {a.fingerprint: a for a in known}
    rows = []
    for entry in sorted(entries, key=lambda e: e.id, reverse=True)[:limit]:
        if entry.entity == "fingerprint":
            subject, alert = f"silence {entry.entity_id}", by_fingerprint.get(entry.entity_id)
        else:
            subject, alert = f"{entry.entity} {entry.entity_id}", by_id.get(entry.entity_id)
        rows.append(
            AuditRow(
                when=entry.at,
                who=actor_label(entry.actor, entry.actor_verified),
                action=entry.action,
                alert=subject,
                rule="" if alert is None else f"{alert.rule}: {describe(alert)}",
                change=change(entry.before, entry.after),
                note=entry.note,
            )
        )
    return tuple(rows)


def describe(alert: Alert) -> str:
    """`credit-risk, version v3, gender = female`."""
    return alerts.describe_labels(alert.labels)
