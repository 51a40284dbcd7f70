"""The stored form of alerts: the SQL that reads the `alerts` and `silences` tables (an
alert always with the silence in force at a time), and their rows as `Alert` and
`Silence`. Times are ISO 8601 UTC text in the database (`monitor.core.state.to_text`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from typing import Final

from monitor.core.state import StateStore, from_text, loads, to_text
from monitor.ops.alerts.types import Alert, Silence, parse_time

SELECT_ALERTS: Final = """
SELECT a.*, s.until AS silenced_until, s.reason AS silence_reason
FROM alerts AS a
LEFT JOIN silences AS s ON s.id = (
    SELECT id FROM silences
    WHERE fingerprint = a.fingerprint AND expired_at IS NULL AND until > :now
    ORDER BY until DESC LIMIT 1
)
"""
"""Alerts (`a`) with the silence in force at :now (`s`, NULL when none)."""
_BY_IDS_SQL: Final = (
    SELECT_ALERTS + "WHERE a.id IN (SELECT value FROM json_each(:ids)) ORDER BY a.id"  # noqa: S608
)
LIST_SQL: Final = (
    SELECT_ALERTS
    + """
WHERE (:model IS NULL OR a.model_id = :model)
  AND (:filter = 'all'
    OR (:filter = 'active' AND a.state <> 'resolved')
    OR (:filter = 'resolved' AND a.state = 'resolved')
    OR (:filter IN ('firing', 'pending', 'nodata') AND a.state = :filter
        AND a.acknowledged_by IS NULL AND s.id IS NULL)
    OR (:filter = 'acknowledged' AND a.state <> 'resolved' AND a.acknowledged_by IS NOT NULL
        AND s.id IS NULL)
    OR (:filter = 'silenced' AND a.state <> 'resolved' AND s.id IS NOT NULL))
ORDER BY
    CASE a.state WHEN 'firing' THEN 0 WHEN 'nodata' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END,
    CASE a.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
    coalesce(a.resolved_at, '') DESC, a.id DESC
LIMIT :limit
"""
)
_SILENCED: Final = """EXISTS (
    SELECT 1 FROM silences
    WHERE fingerprint = a.fingerprint AND expired_at IS NULL AND until > :now)"""
"""Alert `a` is silenced at :now (the condition of `s.id IS NOT NULL` in SELECT_ALERTS)."""
_OPEN_WITH_SILENCE: Final = (
    "SELECT a.*, " + _SILENCED + " AS silenced FROM alerts AS a"  # noqa: S608 (constants)
    " WHERE :model IS NULL OR a.model_id = :model"
)
"""The alerts of :model (all when NULL), each with whether it is silenced at :now."""
COUNT_SQL: Final = (
    """
SELECT
    count(*) FILTER (WHERE a.state = 'firing' AND a.acknowledged_by IS NULL AND NOT silenced)
        AS firing,
    count(*) FILTER (WHERE a.state = 'pending' AND a.acknowledged_by IS NULL AND NOT silenced)
        AS pending,
    count(*) FILTER (WHERE a.state = 'nodata' AND a.acknowledged_by IS NULL AND NOT silenced)
        AS nodata,
    count(*) FILTER (WHERE a.state <> 'resolved' AND a.acknowledged_by IS NOT NULL
        AND NOT silenced) AS acknowledged,
    count(*) FILTER (WHERE a.state <> 'resolved' AND silenced) AS silenced,
    count(*) FILTER (WHERE a.state = 'resolved') AS resolved,
    count(*) FILTER (WHERE a.state <> 'resolved') AS active,
    count(*) AS "all"
FROM ("""
    + _OPEN_WITH_SILENCE
    + """) AS a
"""
)
NEEDING_SOMEONE_SQL: Final = (
    """
SELECT a.severity, count(*) AS n
FROM alerts AS a
WHERE (:model IS NULL OR a.model_id = :model)
  AND a.state <> 'resolved' AND a.acknowledged_by IS NULL AND NOT """
    + _SILENCED
    + """
GROUP BY a.severity
"""
)


def alerts_by_ids(state: StateStore, ids: Sequence[int], moment: dt.datetime) -> tuple[Alert, ...]:
    """These alerts as of `moment` (for their silences), by id."""
    if not ids:
        return ()
    rows = state.read(_BY_IDS_SQL, {"now": to_text(moment), "ids": json.dumps(list(ids))})
    return tuple(alert_from_row(row) for row in rows)


def alert_from_row(row: sqlite3.Row) -> Alert:
    """An `alerts` row joined with its silence (SELECT_ALERTS)."""
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
        last_evaluated_at=parse_time(row["last_evaluated_at"]),
        acknowledged_by=row["acknowledged_by"],
        acknowledged_verified=bool(row["acknowledged_verified"]),
        acknowledged_at=from_text(row["acknowledged_at"]),
        note=row["note"],
        silenced_until=from_text(row["silenced_until"]),
        silence_reason=row["silence_reason"],
    )


def silence_from_row(row: sqlite3.Row) -> Silence:
    return Silence(
        id=int(row["id"]),
        fingerprint=row["fingerprint"],
        until=parse_time(row["until"]),
        reason=row["reason"],
        created_by=row["created_by"],
        created_verified=bool(row["created_verified"]),
        created_at=parse_time(row["created_at"]),
        expired_at=from_text(row["expired_at"]),
    )
