"""Alerts: rules evaluated over the logs, an alert state machine in the state store, and
the human actions on it (acknowledge, silence), each one audited.

Identity: an alert instance is a fingerprint (a hash of the rule id and the series'
labels). Each run of trouble of one fingerprint is an *episode* with its own `alert_id`;
at most one episode per fingerprint is open (not resolved), which a unique index enforces.

States (Prometheus semantics): the condition holds -> `pending` (since `pending_since`)
-> `firing` once it has held for the rule's `for` (at once when `for` is 0); it no longer
holds -> `resolved`. A pending episode whose condition clears is resolved without having
fired (`started_at` stays empty, nothing is notified). A series without data in its
window is `nodata`, never healthy. A resolved fingerprint that fires again opens a new
episode (episode + 1, a new alert_id). Re-evaluation updates the open episode in place.

Human axis, orthogonal to the state: an episode is *acknowledged* (who, when, note; a
compare-and-set, so a second person gets AlreadyAcknowledged) and a fingerprint is
*silenced* until a time, with a reason. Silenced alerts are still evaluated and updated
but not notified and do not gate `monitor check`; a silence past its end stops applying
by itself. Every transition and action appends to the audit table in the same
transaction. See docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from monitor.alert_rules import (
    SEVERITIES,
    AlertsConfig,
    Rule,
    Severity,
    alerts_config,
    format_duration,
)
from monitor.config import Settings
from monitor.errors import InputError, MonitorError
from monitor.notify import Delivery, Event, deliver_all, record
from monitor.state import (
    SYSTEM_ACTOR,
    Actor,
    AuditEntry,
    StateStore,
    dumps,
    from_text,
    loads,
    record_audit,
    to_text,
    utc_now,
)

if TYPE_CHECKING:  # the metric engines (scipy, fairlearn) load only when rules are evaluated
    from monitor.alert_metrics import Series
    from monitor.catalog import Window
    from monitor.store import LogStore

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
        super().__init__(f"alert {alert_id} was already acknowledged by {by} at {_shown(at)}")
        self.alert_id = alert_id
        self.by = by
        self.at = at


_SEVERITY_RANK: Final[dict[str, int]] = {s: i for i, s in enumerate(SEVERITIES)}
_OPEN_SQL: Final = "SELECT * FROM alerts WHERE state <> 'resolved'"
_SELECT: Final = """
SELECT a.*, s.until AS silenced_until, s.reason AS silence_reason
FROM alerts AS a
LEFT JOIN silences AS s ON s.id = (
    SELECT id FROM silences
    WHERE fingerprint = a.fingerprint AND expired_at IS NULL AND until > :now
    ORDER BY until DESC LIMIT 1
)
"""
_LIST_SQL: Final = (
    _SELECT
    + """
WHERE (:model IS NULL OR a.model_id = :model)
  AND (:filter = 'all'
    OR (:filter = 'active' AND a.state <> 'resolved')
    OR (:filter IN ('firing', 'pending', 'nodata', 'resolved') AND a.state = :filter)
    OR (:filter = 'acknowledged' AND a.state <> 'resolved' AND a.acknowledged_by IS NOT NULL)
    OR (:filter = 'silenced' AND a.state <> 'resolved' AND s.id IS NOT NULL))
ORDER BY
    CASE a.state WHEN 'firing' THEN 0 WHEN 'nodata' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
    CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
    coalesce(a.resolved_at, '') DESC, a.id DESC
LIMIT :limit
"""
)
_BY_IDS_SQL: Final = (
    _SELECT + "WHERE a.id IN (SELECT value FROM json_each(:ids)) ORDER BY a.id"  # noqa: S608
)


def fingerprint(rule_id: str, labels: Mapping[str, str]) -> str:
    """Stable identity of a rule's series: a hash of the rule id and the sorted labels."""
    text = json.dumps([rule_id, sorted(labels.items())], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Observation:
    rule: Rule
    model_id: str
    series: Series
    at: dt.datetime
    window: Window

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule.id, self.series.labels)


@dataclass
class _Run:
    """What one evaluation measured, before it is written."""

    observations: list[_Observation] = field(default_factory=list)
    empty: dict[tuple[str, str], _Observation] = field(default_factory=dict)
    """(rule, model) -> the no-predictions observation of a model with an empty window."""
    failed: set[tuple[str, str]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    times: dict[str, dt.datetime] = field(default_factory=dict)
    """model -> the time its windows ended at."""


def evaluate(
    store: LogStore,
    settings: Settings,
    state: StateStore,
    *,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> EvaluationResult:
    """Evaluate every rule for every model, update the alerts, then notify.

    `now` fixes the evaluation time (for windows and silences); without it the wall clock
    is used, or with `[alerts] clock = "data"` each model's newest prediction."""
    config = alerts_config(settings)
    moment = _utc(now) if now is not None else utc_now()
    store.refresh()
    run = _measure(store, settings, config, moment, explicit=now is not None)
    transitions: list[Transition] = []
    events: list[tuple[int, Event]] = []
    touched: set[int] = set()
    with state.transaction() as tx:
        _apply(tx, config, run, moment, transitions, events, touched)
        open_ids = [
            int(r[0]) for r in tx.execute("SELECT id FROM alerts WHERE state <> 'resolved'")
        ]
    alerts = _by_ids(state, sorted(touched | set(open_ids)), moment)
    deliveries: tuple[Delivery, ...] = ()
    if notify and config.webhook is not None and events:
        by_id = {a.alert_id: a for a in alerts}
        wanted = [(by_id[i], e) for i, e in events if not by_id[i].silenced(moment)]
        deliveries = deliver_all(config.webhook, wanted)
        if deliveries:
            with state.transaction() as tx:
                for delivery in deliveries:
                    record(tx, delivery)
    return EvaluationResult(
        moment, _sorted(alerts), tuple(transitions), deliveries, tuple(run.errors)
    )


def _measure(
    store: LogStore,
    settings: Settings,
    config: AlertsConfig,
    moment: dt.datetime,
    *,
    explicit: bool,
) -> _Run:
    from monitor import catalog
    from monitor.alert_metrics import Measurer
    from monitor.catalog import Window

    run = _Run()
    measurer = Measurer(store, settings)
    newest = {m.model_id: m.last_seen for m in catalog.inventory(store)}
    model_ids = list(dict.fromkeys([*(m.id for m in settings.models), *newest]))
    for model_id in model_ids:
        model = settings.model(model_id)
        at = moment
        if not explicit and config.clock == "data" and model_id in newest:
            at = newest[model_id]
        run.times[model_id] = at
        for rule in config.rules:
            if not rule.applies_to_model(model_id) or not measurer.applies(rule.metric, model):
                continue
            window = Window(at - rule.window, at)
            try:
                found = measurer.measure(rule.metric, model_id, window)
            except Exception as exc:  # one broken metric must not stop the others
                run.failed.add((rule.id, model_id))
                message = " ".join(str(exc).split()) or type(exc).__name__
                run.errors.append(f"rule {rule.id}, model {model_id}: {message}")
                continue
            for series in found:
                observation = _Observation(rule, model_id, series, at, window)
                if series.empty_window:
                    run.empty[(rule.id, model_id)] = observation
                elif rule.matches(series.labels):
                    run.observations.append(observation)
    return run


def _apply(
    tx: sqlite3.Connection,
    config: AlertsConfig,
    run: _Run,
    moment: dt.datetime,
    transitions: list[Transition],
    events: list[tuple[int, Event]],
    touched: set[int],
) -> None:
    """The state machine, inside one write transaction."""
    from monitor.alert_metrics import Series

    open_rows = {row["fingerprint"]: row for row in tx.execute(_OPEN_SQL)}
    observations = list(run.observations)
    for (rule_id, model_id), empty in run.empty.items():
        # A model with no predictions in the window: its open series turn nodata; without
        # any, one model-level nodata alert says so.
        series = [
            row
            for row in open_rows.values()
            if row["rule_id"] == rule_id and row["model_id"] == model_id
        ]
        if not series:
            observations.append(empty)
        for row in series:
            labels = loads(row["labels"])
            observations.append(
                _Observation(
                    empty.rule,
                    model_id,
                    Series(labels, None, empty.series.note),
                    empty.at,
                    empty.window,
                )
            )
    seen: set[str] = set()
    for observation in observations:
        seen.add(observation.fingerprint)
        row = open_rows.get(observation.fingerprint)
        change = _step(tx, observation, row, moment)
        if change is None:
            continue
        alert_id, before, after, notify_event = change
        touched.add(alert_id)
        if before != after:
            transitions.append(
                Transition(alert_id, observation.fingerprint, before, after, observation.rule.id)
            )
        if notify_event is not None:
            events.append((alert_id, notify_event))
    rules = {r.id for r in config.rules}
    for fp, row in open_rows.items():
        if fp in seen or (row["rule_id"], row["model_id"]) in run.failed:
            continue
        why = (
            "the rule is no longer configured"
            if row["rule_id"] not in rules
            else "the series is no longer measured (e.g. a version without traffic)"
        )
        _resolve(tx, row, run.times.get(row["model_id"], moment), why)
        touched.add(int(row["id"]))
        transitions.append(
            Transition(int(row["id"]), fp, row["state"], "resolved", str(row["rule_id"]))
        )
        if row["started_at"] is not None:
            events.append((int(row["id"]), "resolved"))


def _step(
    tx: sqlite3.Connection,
    observation: _Observation,
    row: sqlite3.Row | None,
    moment: dt.datetime,
) -> tuple[int, AlertState | None, AlertState, Event | None] | None:
    """Move one fingerprint's open episode (or none) to its next state; returns
    (alert_id, before, after, event to notify) or None when nothing is open or opened."""
    rule, at, value = observation.rule, observation.at, observation.series.value
    holds = value is not None and rule.holds(value)
    if row is None:
        if value is not None and not holds:
            return None
        target: AlertState = "nodata" if value is None else "pending"
        pending_since = at if target == "pending" else None
        if target == "pending" and rule.for_ <= dt.timedelta(0):
            target = "firing"
        alert_id = _insert(tx, observation, target, pending_since, moment)
        return alert_id, None, target, "firing" if target == "firing" else None
    alert_id, before = int(row["id"]), row["state"]
    if value is not None and not holds:
        _resolve(tx, row, at, "the condition no longer holds", observation)
        return alert_id, before, "resolved", "resolved" if row["started_at"] else None
    pending_since = from_text(row["pending_since"])
    started_at = from_text(row["started_at"])
    if value is None:
        after: AlertState = "nodata"
        pending_since = None
    elif before == "firing":
        after = "firing"
    else:
        if before == "nodata" or pending_since is None:
            pending_since = at
        held = at - pending_since
        after = "firing" if held >= rule.for_ else "pending"
        if after == "firing" and started_at is None:
            started_at = at
    tx.execute(
        "UPDATE alerts SET state = ?, value = ?, severity = ?, threshold = ?, comparator = ?,"
        " page = ?, summary = ?, pending_since = ?, started_at = ?, last_evaluated_at = ?"
        " WHERE id = ?",
        (
            after,
            value,
            rule.severity,
            rule.threshold,
            rule.comparator,
            rule.info.page,
            _summary(observation),
            _text(pending_since),
            _text(started_at),
            to_text(at),
            alert_id,
        ),
    )
    if after != before:
        _audit_transition(tx, alert_id, before, after, row["value"], value, observation)
    return alert_id, before, after, "firing" if after == "firing" and before != "firing" else None


def _insert(
    tx: sqlite3.Connection,
    observation: _Observation,
    state: AlertState,
    pending_since: dt.datetime | None,
    moment: dt.datetime,
) -> int:
    rule, at, series = observation.rule, observation.at, observation.series
    fp = observation.fingerprint
    episode = tx.execute(
        "SELECT coalesce(max(episode), 0) + 1 FROM alerts WHERE fingerprint = ?", (fp,)
    ).fetchone()[0]
    cursor = tx.execute(
        "INSERT INTO alerts (fingerprint, episode, rule_id, severity, model_id, labels, state,"
        " value, threshold, comparator, page, summary, pending_since, started_at,"
        " last_evaluated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            fp,
            episode,
            rule.id,
            rule.severity,
            observation.model_id,
            dumps(dict(series.labels)),
            state,
            series.value,
            rule.threshold,
            rule.comparator,
            rule.info.page,
            _summary(observation),
            _text(pending_since),
            to_text(at) if state == "firing" else None,
            to_text(at),
        ),
    )
    alert_id = int(cursor.lastrowid or 0)
    _audit_transition(tx, alert_id, None, state, None, series.value, observation)
    return alert_id


def _resolve(
    tx: sqlite3.Connection,
    row: sqlite3.Row,
    at: dt.datetime,
    why: str,
    observation: _Observation | None = None,
) -> None:
    value = observation.series.value if observation is not None else row["value"]
    summary = _summary(observation) if observation is not None else row["summary"]
    tx.execute(
        "UPDATE alerts SET state = 'resolved', value = ?, summary = ?, resolved_at = ?,"
        " last_evaluated_at = ? WHERE id = ?",
        (value, summary, to_text(at), to_text(at), row["id"]),
    )
    record_audit(
        tx,
        actor=SYSTEM_ACTOR,
        action="resolved",
        entity="alert",
        entity_id=row["id"],
        before={"state": row["state"], "value": _finite(row["value"])},
        after={"state": "resolved", "value": _finite(value), "evaluated_at": at},
        note=why,
    )


def _audit_transition(
    tx: sqlite3.Connection,
    alert_id: int,
    before: str | None,
    after: str,
    old_value: float | None,
    value: float | None,
    observation: _Observation,
) -> None:
    record_audit(
        tx,
        actor=SYSTEM_ACTOR,
        action=after,
        entity="alert",
        entity_id=alert_id,
        before=None if before is None else {"state": before, "value": _finite(old_value)},
        after={"state": after, "value": _finite(value), "evaluated_at": observation.at},
        note=_summary(observation),
    )


def _summary(observation: _Observation) -> str:
    rule, series = observation.rule, observation.series
    info = rule.info
    where = describe_labels(series.labels)
    span = format_duration(rule.window)
    if series.value is None:
        return f"no data for {info.title} of {where} over {span}: {series.note}"
    text = (
        f"{info.title} {format_value(series.value, info.unit)} {rule.comparator} "
        f"{format_value(rule.threshold, info.unit)} for {where} over {span}"
    )
    return f"{text} ({series.note})" if series.note else text


def describe_labels(labels: Mapping[str, str]) -> str:
    """'credit-risk, version v3, gender = female' from a series' labels."""
    parts = [labels.get("model", "?")]
    if "version" in labels:
        parts.append(f"version {labels['version'] or '(none)'}")
    if "feature" in labels and "group" in labels:
        parts.append(f"{labels['feature']} = {labels['group']}")
    elif "feature" in labels:
        parts.append(f"feature {labels['feature']}")
    return ", ".join(parts)


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "per_min":
        return f"{value:.3g}/min"
    return f"{value:.3g}"


# -- reading ---------------------------------------------------------------------------------


def list_alerts(
    state: StateStore,
    *,
    state_filter: StateFilter = "active",
    model_id: str | None = None,
    now: dt.datetime | None = None,
    limit: int = 1000,
) -> tuple[Alert, ...]:
    """Alerts by state or human axis, firing first, then by severity, newest first.

    firing / pending / nodata / resolved: that state. active: every unresolved episode.
    acknowledged / silenced: unresolved episodes acknowledged / silenced at `now`."""
    if state_filter not in STATE_FILTERS:
        raise InputError(f"unknown alert state {state_filter!r} (use {', '.join(STATE_FILTERS)})")
    moment = _utc(now) if now is not None else utc_now()
    rows = state.read(
        _LIST_SQL,
        {"now": to_text(moment), "model": model_id, "filter": state_filter, "limit": int(limit)},
    )
    return tuple(_alert(row) for row in rows)


def get_alert(state: StateStore, alert_id: int, *, now: dt.datetime | None = None) -> Alert:
    found = _by_ids(state, [alert_id], _utc(now) if now is not None else utc_now())
    if not found:
        raise InputError(f"no alert with id {alert_id} (see 'monitor alerts list --state all')")
    return found[0]


def active_counts(
    state: StateStore, *, model_id: str | None = None, now: dt.datetime | None = None
) -> Mapping[Severity, int]:
    """Alerts that need someone, per severity: unresolved (pending, firing or nodata),
    not acknowledged and not silenced at `now`. Every severity is a key (0 when none)."""
    counts: dict[Severity, int] = {s: 0 for s in SEVERITIES}
    for alert in list_alerts(state, state_filter="active", model_id=model_id, now=now):
        if not alert.acknowledged and not alert.silenced(now):
            counts[alert.severity] += 1
    return counts


def blocking(
    alerts: Iterable[Alert], *, fail_on: Severity = "critical", now: dt.datetime | None = None
) -> tuple[Alert, ...]:
    """The alerts that fail `monitor check`: firing, at or above `fail_on`, neither
    acknowledged nor silenced."""
    floor = _SEVERITY_RANK[fail_on]
    return tuple(
        a
        for a in alerts
        if a.state == "firing"
        and _SEVERITY_RANK[a.severity] >= floor
        and not a.acknowledged
        and not a.silenced(now)
    )


def alert_history(state: StateStore, alert_id: int) -> tuple[AuditEntry, ...]:
    """The audit entries of one alert and of its fingerprint's silences, newest first."""
    alert = get_alert(state, alert_id)
    entries = state.audit_log(entity="alert", entity_id=str(alert_id)) + state.audit_log(
        entity="fingerprint", entity_id=alert.fingerprint
    )
    return tuple(sorted(entries, key=lambda e: e.id, reverse=True))


def deliveries(state: StateStore, alert_id: int) -> tuple[Delivery, ...]:
    """The webhook deliveries of one alert, oldest first."""
    rows = state.read("SELECT * FROM notifications WHERE alert_id = ? ORDER BY id", (alert_id,))
    return tuple(
        Delivery(
            int(r["alert_id"]),
            r["event"],
            r["url"],
            int(r["attempts"]),
            r["status"] == "delivered",
            r["http_status"],
            r["error"],
            _when(r["at"]),
        )
        for r in rows
    )


def alert_document(alert: Alert, now: dt.datetime | None = None) -> dict[str, Any]:
    """The JSON form of an alert (`monitor alerts list --json`, `monitor check --json`)."""
    return {
        "alert_id": alert.alert_id,
        "fingerprint": alert.fingerprint,
        "episode": alert.episode,
        "rule": alert.rule,
        "severity": alert.severity,
        "state": alert.state,
        "value": _finite(alert.value),
        "threshold": alert.threshold,
        "comparator": alert.comparator,
        "labels": dict(alert.labels),
        "summary": alert.summary,
        "page": alert.page,
        "pending_since": _text(alert.pending_since),
        "started_at": _text(alert.started_at),
        "resolved_at": _text(alert.resolved_at),
        "last_evaluated_at": _text(alert.last_evaluated_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_verified": alert.acknowledged_verified,
        "acknowledged_at": _text(alert.acknowledged_at),
        "note": alert.note,
        "silenced": alert.silenced(now),
        "silenced_until": _text(alert.silenced_until),
        "silence_reason": alert.silence_reason,
    }


def alert_line(alert: Alert, now: dt.datetime | None = None) -> str:
    """One alert as a line of plain text (the CLI's listing)."""
    flags = []
    if alert.acknowledged:
        flags.append(f"acknowledged by {alert.acknowledged_by}")
    if alert.silenced(now) and alert.silenced_until is not None:
        flags.append(f"silenced until {_shown(alert.silenced_until)}")
    since = alert.started_at or alert.pending_since or alert.resolved_at or alert.last_evaluated_at
    extra = f" [{'; '.join(flags)}]" if flags else ""
    return (
        f"#{alert.alert_id} {alert.state.upper()} {alert.severity} {alert.rule}: {alert.summary}"
        f" (since {_shown(since)}, fingerprint {alert.fingerprint}){extra}"
    )


# -- human actions ---------------------------------------------------------------------------


def acknowledge(state: StateStore, alert_id: int, actor: Actor, note: str | None = None) -> Alert:
    """Acknowledge an unresolved alert: a compare-and-set inside one write transaction,
    so of two people acting at once exactly one succeeds; the other gets
    AlreadyAcknowledged (who and when)."""
    note = _clean_note(note)
    moment = utc_now()
    with state.transaction() as tx:
        row = _row(tx, alert_id)
        if row["acknowledged_by"] is not None:
            raise AlreadyAcknowledged(alert_id, _who(row), _when(row["acknowledged_at"]))
        if row["state"] == "resolved":
            raise InputError(f"alert {alert_id} is resolved: there is nothing to acknowledge")
        tx.execute(
            "UPDATE alerts SET acknowledged_by = ?, acknowledged_verified = ?,"
            " acknowledged_at = ?, note = ? WHERE id = ? AND acknowledged_by IS NULL",
            (actor.name, int(actor.verified), to_text(moment), note, alert_id),
        )
        record_audit(
            tx,
            actor=actor,
            action="acknowledge",
            entity="alert",
            entity_id=alert_id,
            before={"acknowledged_by": None},
            after={"acknowledged_by": actor.name, "acknowledged_at": moment},
            note=note,
            at=moment,
        )
    return get_alert(state, alert_id)


def unacknowledge(state: StateStore, alert_id: int, actor: Actor, note: str | None = None) -> Alert:
    """Take an acknowledgement back (the audit keeps who had acknowledged it)."""
    note = _clean_note(note)
    moment = utc_now()
    with state.transaction() as tx:
        row = _row(tx, alert_id)
        if row["acknowledged_by"] is None:
            raise InputError(f"alert {alert_id} is not acknowledged")
        tx.execute(
            "UPDATE alerts SET acknowledged_by = NULL, acknowledged_verified = NULL,"
            " acknowledged_at = NULL, note = NULL WHERE id = ?",
            (alert_id,),
        )
        record_audit(
            tx,
            actor=actor,
            action="unacknowledge",
            entity="alert",
            entity_id=alert_id,
            before={
                "acknowledged_by": row["acknowledged_by"],
                "acknowledged_at": row["acknowledged_at"],
                "note": row["note"],
            },
            after={"acknowledged_by": None},
            note=note,
            at=moment,
        )
    return get_alert(state, alert_id)


def silence(
    state: StateStore,
    fingerprint: str,
    *,
    until: dt.datetime,
    actor: Actor,
    reason: str,
    now: dt.datetime | None = None,
) -> Silence:
    """Silence a fingerprint (all its episodes) until a time in the future, with a reason.
    A newer silence replaces the one in force."""
    moment = _utc(now) if now is not None else utc_now()
    until = _utc(until)
    reason = (reason or "").strip()
    if not reason:
        raise InputError("give a reason for the silence (it is shown to everyone)")
    if until <= moment:
        raise InputError(
            f"a silence must end in the future: {_shown(until)} is not after {_shown(moment)}"
        )
    with state.transaction() as tx:
        _require_fingerprint(tx, fingerprint)
        current = _silences(tx, fingerprint, moment)
        tx.execute(
            "UPDATE silences SET expired_at = ? WHERE fingerprint = ? AND expired_at IS NULL"
            " AND until > ?",
            (to_text(moment), fingerprint, to_text(moment)),
        )
        cursor = tx.execute(
            "INSERT INTO silences (fingerprint, until, reason, created_by, created_verified,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (fingerprint, to_text(until), reason, actor.name, int(actor.verified), to_text(moment)),
        )
        record_audit(
            tx,
            actor=actor,
            action="silence",
            entity="fingerprint",
            entity_id=fingerprint,
            before={"until": current[0].until, "reason": current[0].reason} if current else None,
            after={"until": until, "reason": reason},
            note=reason,
            at=moment,
        )
        silence_id = int(cursor.lastrowid or 0)
    return Silence(silence_id, fingerprint, until, reason, actor.name, actor.verified, moment, None)


def unsilence(
    state: StateStore, fingerprint: str, actor: Actor, *, now: dt.datetime | None = None
) -> None:
    """Lift the silence in force on a fingerprint before its end."""
    moment = _utc(now) if now is not None else utc_now()
    with state.transaction() as tx:
        _require_fingerprint(tx, fingerprint)
        current = _silences(tx, fingerprint, moment)
        if not current:
            raise InputError(f"fingerprint {fingerprint} is not silenced")
        tx.execute(
            "UPDATE silences SET expired_at = ? WHERE fingerprint = ? AND expired_at IS NULL"
            " AND until > ?",
            (to_text(moment), fingerprint, to_text(moment)),
        )
        record_audit(
            tx,
            actor=actor,
            action="unsilence",
            entity="fingerprint",
            entity_id=fingerprint,
            before={"until": current[0].until, "reason": current[0].reason},
            after=None,
            at=moment,
        )


def active_silences(state: StateStore, now: dt.datetime | None = None) -> tuple[Silence, ...]:
    """Silences in force at `now`, the soonest to end first."""
    moment = _utc(now) if now is not None else utc_now()
    rows = state.read(
        "SELECT * FROM silences WHERE expired_at IS NULL AND until > ? ORDER BY until, id",
        (to_text(moment),),
    )
    return tuple(_silence(row) for row in rows)


# -- helpers ---------------------------------------------------------------------------------


def _row(tx: sqlite3.Connection, alert_id: int) -> sqlite3.Row:
    row: sqlite3.Row | None = tx.execute(
        "SELECT * FROM alerts WHERE id = ?", (int(alert_id),)
    ).fetchone()
    if row is None:
        raise InputError(f"no alert with id {alert_id} (see 'monitor alerts list --state all')")
    return row


def _require_fingerprint(tx: sqlite3.Connection, fingerprint: str) -> None:
    if tx.execute("SELECT 1 FROM alerts WHERE fingerprint = ? LIMIT 1", (fingerprint,)).fetchone():
        return
    raise InputError(
        f"no alert has fingerprint {fingerprint!r} (see 'monitor alerts list --state all')"
    )


def _silences(tx: sqlite3.Connection, fingerprint: str, moment: dt.datetime) -> list[Silence]:
    rows = tx.execute(
        "SELECT * FROM silences WHERE fingerprint = ? AND expired_at IS NULL AND until > ?"
        " ORDER BY until DESC",
        (fingerprint, to_text(moment)),
    ).fetchall()
    return [_silence(row) for row in rows]


def _silence(row: sqlite3.Row) -> Silence:
    return Silence(
        id=int(row["id"]),
        fingerprint=row["fingerprint"],
        until=_when(row["until"]),
        reason=row["reason"],
        created_by=row["created_by"],
        created_verified=bool(row["created_verified"]),
        created_at=_when(row["created_at"]),
        expired_at=from_text(row["expired_at"]),
    )


def _by_ids(state: StateStore, ids: Sequence[int], moment: dt.datetime) -> tuple[Alert, ...]:
    if not ids:
        return ()
    rows = state.read(_BY_IDS_SQL, {"now": to_text(moment), "ids": json.dumps(list(ids))})
    return tuple(_alert(row) for row in rows)


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        alert_id=int(row["id"]),
        fingerprint=row["fingerprint"],
        episode=int(row["episode"]),
        rule=row["rule_id"],
        severity=row["severity"],
        state=row["state"],
        value=row["value"],
        threshold=float(row["threshold"]),
        comparator=row["comparator"],
        labels=loads(row["labels"]),
        summary=row["summary"],
        page=row["page"],
        pending_since=from_text(row["pending_since"]),
        started_at=from_text(row["started_at"]),
        resolved_at=from_text(row["resolved_at"]),
        last_evaluated_at=_when(row["last_evaluated_at"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_verified=bool(row["acknowledged_verified"]),
        acknowledged_at=from_text(row["acknowledged_at"]),
        note=row["note"],
        silenced_until=from_text(row["silenced_until"]),
        silence_reason=row["silence_reason"],
    )


def _sorted(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    order = {"firing": 0, "nodata": 1, "pending": 2, "resolved": 3}
    return tuple(
        sorted(
            alerts,
            key=lambda a: (order[a.state], -_SEVERITY_RANK[a.severity], a.rule, a.alert_id),
        )
    )


def _who(row: sqlite3.Row) -> str:
    name = str(row["acknowledged_by"])
    return name if row["acknowledged_verified"] else f"{name} (unverified)"


def _clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    note = note.strip()
    return note or None


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _text(moment: dt.datetime | None) -> str | None:
    return None if moment is None else to_text(moment)


def _shown(moment: dt.datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
