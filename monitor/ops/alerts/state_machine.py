"""The alert state machine: what one evaluation measured moves each fingerprint's open
episode to its next state, inside the caller's write transaction.

The condition holds -> `pending` (since `pending_since`) -> `firing` once it has held
for the rule's `for` (at once when `for` is 0); it no longer holds -> `resolved` (a
pending episode resolves without having fired: nothing is notified). A series without
data is `nodata`. A fingerprint with no open episode opens a new one (episode + 1).
Open episodes that nothing measured any more are resolved, unless their rule failed
to measure. Every change is audited in the same transaction. See `evaluation` for
the run around it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Final

from monitor.core.state import SYSTEM_ACTOR, dumps, from_text, loads, record_audit, to_text
from monitor.findings.model import Finding, Findings, Series
from monitor.findings.rules import AlertsConfig
from monitor.ops.alerts.types import (
    AlertState,
    Transition,
    finite,
    time_text,
)
from monitor.ops.notify import Event

_OPEN_SQL: Final = "SELECT * FROM alerts WHERE state <> 'resolved'"


def apply(
    tx: sqlite3.Connection,
    config: AlertsConfig,
    run: Findings,
    moment: dt.datetime,
    transitions: list[Transition],
    events: list[tuple[int, Event]],
    touched: set[int],
) -> None:
    """The state machine, inside one write transaction."""
    open_rows = {row["fingerprint"]: row for row in tx.execute(_OPEN_SQL)}
    findings = list(run.found)
    for (rule_id, model_id), empty in run.empty.items():
        # A model with no predictions in the window: its open series turn nodata; without
        # any, one model-level nodata alert says so.
        series = [
            row
            for row in open_rows.values()
            if row["rule_id"] == rule_id and row["model_id"] == model_id
        ]
        if not series:
            findings.append(empty)
        for row in series:
            labels = loads(row["labels"])
            findings.append(
                Finding(
                    empty.rule,
                    model_id,
                    Series(labels, None, empty.series.note),
                    empty.at,
                    empty.window,
                )
            )
    seen: set[str] = set()
    for finding in findings:
        seen.add(finding.fingerprint)
        row = open_rows.get(finding.fingerprint)
        change = _step(tx, finding, row, moment)
        if change is None:
            continue
        alert_id, before, after, notify_event = change
        touched.add(alert_id)
        if before != after:
            transitions.append(
                Transition(alert_id, finding.fingerprint, before, after, finding.rule.id)
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
    finding: Finding,
    row: sqlite3.Row | None,
    moment: dt.datetime,
) -> tuple[int, AlertState | None, AlertState, Event | None] | None:
    """Move one fingerprint's open episode (or none) to its next state; returns
    (alert_id, before, after, event to notify) or None when nothing is open or opened."""
    rule, at, value = finding.rule, finding.at, finding.series.value
    holds = value is not None and rule.holds(value)
    if row is None:
        if value is not None and not holds:
            return None
        target: AlertState = "nodata" if value is None else "pending"
        pending_since = at if target == "pending" else None
        if target == "pending" and rule.for_ <= dt.timedelta(0):
            target = "firing"
        alert_id = _insert(tx, finding, target, pending_since, moment)
        return alert_id, None, target, "firing" if target == "firing" else None
    alert_id, before = int(row["id"]), row["state"]
    if value is not None and not holds:
        _resolve(tx, row, at, "the condition no longer holds", finding)
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
            finding.severity or rule.severity,
            rule.threshold,
            rule.comparator,
            rule.info.page,
            finding.summary,
            time_text(pending_since),
            time_text(started_at),
            to_text(at),
            alert_id,
        ),
    )
    if after != before:
        _audit_transition(tx, alert_id, before, after, row["value"], value, finding)
    return alert_id, before, after, "firing" if after == "firing" and before != "firing" else None


def _insert(
    tx: sqlite3.Connection,
    finding: Finding,
    state: AlertState,
    pending_since: dt.datetime | None,
    moment: dt.datetime,
) -> int:
    rule, at, series = finding.rule, finding.at, finding.series
    fp = finding.fingerprint
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
            finding.severity or rule.severity,
            finding.model_id,
            dumps(dict(series.labels)),
            state,
            series.value,
            rule.threshold,
            rule.comparator,
            rule.info.page,
            finding.summary,
            time_text(pending_since),
            to_text(at) if state == "firing" else None,
            to_text(at),
        ),
    )
    alert_id = int(cursor.lastrowid or 0)
    _audit_transition(tx, alert_id, None, state, None, series.value, finding)
    return alert_id


def _resolve(
    tx: sqlite3.Connection,
    row: sqlite3.Row,
    at: dt.datetime,
    why: str,
    finding: Finding | None = None,
) -> None:
    value = finding.series.value if finding is not None else row["value"]
    summary = finding.summary if finding is not None else row["summary"]
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
        before={"state": row["state"], "value": finite(row["value"])},
        after={"state": "resolved", "value": finite(value), "evaluated_at": at},
        note=why,
    )


def _audit_transition(
    tx: sqlite3.Connection,
    alert_id: int,
    before: str | None,
    after: str,
    old_value: float | None,
    value: float | None,
    finding: Finding,
) -> None:
    record_audit(
        tx,
        actor=SYSTEM_ACTOR,
        action=after,
        entity="alert",
        entity_id=alert_id,
        before=None if before is None else {"state": before, "value": finite(old_value)},
        after={"state": after, "value": finite(value), "evaluated_at": finding.at},
        note=finding.summary,
    )
