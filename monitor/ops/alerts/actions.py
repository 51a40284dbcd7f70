"""Alerts: rules evaluated over the logs, an alert state machine in the state store, and
the human actions on it (acknowledge, silence), each one audited.

This module is the public facade: the types (`Alert`, `Silence`, ...) live in `types`
and the evaluation (`evaluate`, the states pending -> firing -> resolved and nodata,
episodes of a fingerprint) in `evaluation`; both are re-exported here. The reads (their
SQL in `rows`) and the human actions are here; webhook deliveries are read back with
`monitor.ops.notify.deliveries`.

Human axis, orthogonal to the state: an episode is *acknowledged* (who, when, note; a
compare-and-set, so a second person gets AlreadyAcknowledged) and a fingerprint is
*silenced* until a time, with a reason. Silenced alerts are still evaluated and updated
but not notified and do not gate `monitor check`; a silence past its end stops applying
by itself. Every transition and action appends to the audit table in the same
transaction. See docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping

from monitor.core.errors import InputError
from monitor.core.state import Actor, AuditEntry, StateStore, record_audit, to_text, utc_now
from monitor.findings.rules import SEVERITIES, Severity
from monitor.findings.text import describe_labels, fingerprint, format_value
from monitor.ops.alerts.evaluation import EVALUATION_ENTITY, evaluate, last_evaluation
from monitor.ops.alerts.rows import (
    COUNT_SQL,
    LIST_SQL,
    NEEDING_SOMEONE_SQL,
    alert_from_row,
    alerts_by_ids,
    silence_from_row,
)
from monitor.ops.alerts.types import (
    SEVERITY_RANK,
    STATE_FILTERS,
    Alert,
    AlertState,
    AlreadyAcknowledged,
    EvaluationResult,
    Silence,
    StateFilter,
    Transition,
    alert_document,
    alert_line,
    as_utc,
    parse_time,
    shown,
)

__all__ = [
    "EVALUATION_ENTITY",
    "SEVERITIES",
    "STATE_FILTERS",
    "Alert",
    "AlertState",
    "AlreadyAcknowledged",
    "EvaluationResult",
    "Severity",
    "Silence",
    "StateFilter",
    "Transition",
    "acknowledge",
    "active_counts",
    "active_silences",
    "alert_document",
    "alert_history",
    "alert_line",
    "blocking",
    "count_alerts",
    "describe_labels",
    "evaluate",
    "fingerprint",
    "format_value",
    "get_alert",
    "last_evaluation",
    "list_alerts",
    "silence",
    "unacknowledge",
    "unsilence",
]

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
    moment = as_utc(now) if now is not None else utc_now()
    rows = state.read(
        LIST_SQL,
        {"now": to_text(moment), "model": model_id, "filter": state_filter, "limit": int(limit)},
    )
    return tuple(alert_from_row(row) for row in rows)


def get_alert(state: StateStore, alert_id: int, *, now: dt.datetime | None = None) -> Alert:
    found = alerts_by_ids(state, [alert_id], as_utc(now) if now is not None else utc_now())
    if not found:
        raise InputError(f"no alert with id {alert_id} (see 'monitor alerts list --state all')")
    return found[0]


def count_alerts(
    state: StateStore, *, model_id: str | None = None, now: dt.datetime | None = None
) -> Mapping[StateFilter, int]:
    """How many alerts `list_alerts` would give for each state filter (without its
    limit), counted in SQL: every filter is a key."""
    moment = as_utc(now) if now is not None else utc_now()
    row = state.read(COUNT_SQL, {"now": to_text(moment), "model": model_id})[0]
    return {name: int(row[name]) for name in STATE_FILTERS}


def active_counts(
    state: StateStore, *, model_id: str | None = None, now: dt.datetime | None = None
) -> Mapping[Severity, int]:
    """Alerts that need someone, per severity: unresolved (pending, firing or nodata),
    not acknowledged and not silenced at `now`. Every severity is a key (0 when none)."""
    moment = as_utc(now) if now is not None else utc_now()
    rows = state.read(NEEDING_SOMEONE_SQL, {"now": to_text(moment), "model": model_id})
    counts: dict[Severity, int] = {s: 0 for s in SEVERITIES}
    counts.update({row["severity"]: int(row["n"]) for row in rows})
    return counts


def blocking(
    alerts: Iterable[Alert], *, fail_on: Severity = "critical", now: dt.datetime | None = None
) -> tuple[Alert, ...]:
    """The alerts that fail `monitor check`: firing, at or above `fail_on`, neither
    acknowledged nor silenced."""
    floor = SEVERITY_RANK[fail_on]
    return tuple(
        a
        for a in alerts
        if a.state == "firing"
        and SEVERITY_RANK[a.severity] >= floor
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
            raise AlreadyAcknowledged(alert_id, _who(row), parse_time(row["acknowledged_at"]))
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
    moment = as_utc(now) if now is not None else utc_now()
    until = as_utc(until)
    reason = (reason or "").strip()
    if not reason:
        raise InputError("give a reason for the silence (it is shown to everyone)")
    if until <= moment:
        raise InputError(
            f"a silence must end in the future: {shown(until)} is not after {shown(moment)}"
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
    moment = as_utc(now) if now is not None else utc_now()
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
    moment = as_utc(now) if now is not None else utc_now()
    rows = state.read(
        "SELECT * FROM silences WHERE expired_at IS NULL AND until > ? ORDER BY until, id",
        (to_text(moment),),
    )
    return tuple(silence_from_row(row) for row in rows)


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
    return [silence_from_row(row) for row in rows]


def _who(row: sqlite3.Row) -> str:
    name = str(row["acknowledged_by"])
    return name if row["acknowledged_verified"] else f"{name} (unverified)"


def _clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    note = note.strip()
    return note or None
