"""The alert types, their identity (fingerprint) and order, and their plain-text and
JSON forms; shared by the evaluation (`evaluation`, `state_machine`) and the reads and
human actions (`actions`, the public facade that re-exports them). Their stored form
is `rows`. See docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from monitor.core.errors import MonitorError
from monitor.core.state import to_text, utc_now
from monitor.findings.rules import SEVERITIES, Severity
from monitor.ops.notify import Delivery

AlertState = Literal["pending", "firing", "resolved", "nodata"]
StateFilter = Literal[
    "firing", "pending", "nodata", "acknowledged", "silenced", "resolved", "active", "all"
]
STATE_FILTERS: Final[tuple[StateFilter, ...]] = (
    "firing",
    "pending",
    "nodata",
    "acknowledged",
    "silenced",
    "resolved",
    "active",
    "all",
)
SEVERITY_RANK: Final[dict[str, int]] = {s: i for i, s in enumerate(SEVERITIES)}
"""info 0, warning 1, critical 2."""


@dataclass(frozen=True)
class Alert:
    """One episode of one fingerprint, with the human axis (ack, silence) attached."""

    alert_id: int
    fingerprint: str
    episode: int
    rule: str
    severity: Severity
    state: AlertState
    value: float | None
    threshold: float
    comparator: str
    labels: Mapping[str, str]
    summary: str
    page: str
    """URL path of the dashboard page that explains it (drift, performance, ...)."""
    pending_since: dt.datetime | None
    started_at: dt.datetime | None
    """When it started firing (None: it never fired)."""
    resolved_at: dt.datetime | None
    last_evaluated_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_verified: bool
    acknowledged_at: dt.datetime | None
    note: str | None
    """The acknowledgement's note: plain text from a person, never render it as HTML."""
    silenced_until: dt.datetime | None
    """The end of the fingerprint's silence in force when the alert was read."""
    silence_reason: str | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_by is not None

    def silenced(self, now: dt.datetime | None = None) -> bool:
        return self.silenced_until is not None and self.silenced_until > (now or utc_now())

    @property
    def model_id(self) -> str | None:
        return self.labels.get("model")


@dataclass(frozen=True)
class Silence:
    id: int
    fingerprint: str
    until: dt.datetime
    reason: str
    created_by: str
    created_verified: bool
    created_at: dt.datetime
    expired_at: dt.datetime | None
    """Set when it was lifted early or replaced by a newer silence."""


@dataclass(frozen=True)
class Transition:
    alert_id: int
    fingerprint: str
    before: AlertState | None
    """None: a new episode."""
    after: AlertState
    rule: str = ""


@dataclass(frozen=True)
class EvaluationResult:
    evaluated_at: dt.datetime
    """The evaluation's time: `now`, else the wall clock (with `clock = "data"` each
    model's windows end at its newest prediction instead: see each alert's
    last_evaluated_at)."""
    alerts: tuple[Alert, ...]
    """Every open episode after the evaluation, plus those it resolved."""
    transitions: tuple[Transition, ...]
    notifications: tuple[Delivery, ...]
    errors: tuple[str, ...]
    """Rules whose metric could not be computed (their alerts were left as they were)."""


class AlreadyAcknowledged(MonitorError):
    """Someone else acknowledged the alert first."""

    def __init__(self, alert_id: int, by: str, at: dt.datetime) -> None:
        super().__init__(f"alert {alert_id} was already acknowledged by {by} at {shown(at)}")
        self.alert_id = alert_id
        self.by = by
        self.at = at


def sort_alerts(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    """Firing, nodata, pending, resolved; the most severe first, then by rule and id."""
    order = {"firing": 0, "nodata": 1, "pending": 2, "resolved": 3}
    return tuple(
        sorted(
            alerts,
            key=lambda a: (order[a.state], -SEVERITY_RANK[a.severity], a.rule, a.alert_id),
        )
    )


# -- formatting ------------------------------------------------------------------------------


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A naive time is taken as UTC; an aware one is converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def parse_time(text: str) -> dt.datetime:
    """A stored (non-NULL) time."""
    return dt.datetime.fromisoformat(text)


def time_text(moment: dt.datetime | None) -> str | None:
    """A time as stored (None stays NULL)."""
    return None if moment is None else to_text(moment)


def shown(moment: dt.datetime) -> str:
    """`2024-05-01 09:00:00 UTC`, for messages."""
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def finite(value: float | None) -> float | None:
    """The value, or None for NaN and infinities (JSON has no place for them)."""
    return value if value is not None and math.isfinite(value) else None


def alert_document(alert: Alert, now: dt.datetime | None = None) -> dict[str, Any]:
    """The JSON form of an alert (`monitor alerts list --json`, `monitor check --json`)."""
    return {
        "alert_id": alert.alert_id,
        "fingerprint": alert.fingerprint,
        "episode": alert.episode,
        "rule": alert.rule,
        "severity": alert.severity,
        "state": alert.state,
        "value": finite(alert.value),
        "threshold": alert.threshold,
        "comparator": alert.comparator,
        "labels": dict(alert.labels),
        "summary": alert.summary,
        "page": alert.page,
        "pending_since": time_text(alert.pending_since),
        "started_at": time_text(alert.started_at),
        "resolved_at": time_text(alert.resolved_at),
        "last_evaluated_at": time_text(alert.last_evaluated_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_verified": alert.acknowledged_verified,
        "acknowledged_at": time_text(alert.acknowledged_at),
        "note": alert.note,
        "silenced": alert.silenced(now),
        "silenced_until": time_text(alert.silenced_until),
        "silence_reason": alert.silence_reason,
    }


def alert_line(alert: Alert, now: dt.datetime | None = None) -> str:
    """One alert as a line of plain text (the CLI's listing)."""
    flags = []
    if alert.acknowledged:
        flags.append(f"acknowledged by {alert.acknowledged_by}")
    if alert.silenced(now) and alert.silenced_until is not None:
        flags.append(f"silenced until {shown(alert.silenced_until)}")
    since = alert.started_at or alert.pending_since or alert.resolved_at or alert.last_evaluated_at
    extra = f" [{'; '.join(flags)}]" if flags else ""
    return (
        f"#{alert.alert_id} {alert.state.upper()} {alert.severity} {alert.rule}: {alert.summary}"
        f" (since {shown(since)}, fingerprint {alert.fingerprint}){extra}"
    )
