"""A rollback mark as stored and as exported: the `RollbackMark` record, its row in the
`rollbacks` table, and the JSON document `monitor rollback list --json` prints and
rollbacks.json holds."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from monitor.core.state import loads, to_text

Status = Literal["requested", "applied", "cancelled"]
STATUSES: Final[tuple[Status, ...]] = ("requested", "applied", "cancelled")


@dataclass(frozen=True)
class RollbackMark:
    id: int
    model_id: str
    from_version: str
    to_version: str
    reason: str
    alert_ids: tuple[int, ...]
    evidence: Mapping[str, Any]
    """`rollback_evidence.RollbackEvidence.to_document()` when the mark was made: the
    `from` version judged on its own traffic, the target, the two side by side."""
    requested_by: str
    requested_verified: bool
    requested_at: dt.datetime
    status: Status
    closed_by: str | None
    closed_verified: bool | None
    closed_at: dt.datetime | None
    close_note: str | None

    @property
    def is_open(self) -> bool:
        return self.status == "requested"

    def to_document(self) -> dict[str, Any]:
        """One mark as `monitor rollback list --json` prints it (and rollbacks.json holds)."""
        return {
            "id": self.id,
            "model_id": self.model_id,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "reason": self.reason,
            "alert_ids": list(self.alert_ids),
            "requested_by": self.requested_by,
            "requested_verified": self.requested_verified,
            "requested_at": to_text(self.requested_at),
            "status": self.status,
            "closed_by": self.closed_by,
            "closed_verified": self.closed_verified,
            "closed_at": None if self.closed_at is None else to_text(self.closed_at),
            "close_note": self.close_note,
            "evidence": dict(self.evidence),
        }


def marks_document(marks: Iterable[RollbackMark]) -> dict[str, Any]:
    return {"rollbacks": [m.to_document() for m in marks]}


def mark_from_row(row: sqlite3.Row) -> RollbackMark:
    """A `rollbacks` row as a mark."""
    closed_at = row["closed_at"]
    verified = row["closed_verified"]
    return RollbackMark(
        id=row["id"],
        model_id=row["model_id"],
        from_version=row["from_version"],
        to_version=row["to_version"],
        reason=row["reason"],
        alert_ids=tuple(int(a) for a in loads(row["alert_ids"]) or ()),
        evidence=loads(row["evidence"]) or {},
        requested_by=row["requested_by"],
        requested_verified=bool(row["requested_verified"]),
        requested_at=dt.datetime.fromisoformat(row["requested_at"]),
        status=row["status"],
        closed_by=row["closed_by"],
        closed_verified=None if verified is None else bool(verified),
        closed_at=None if closed_at is None else dt.datetime.fromisoformat(closed_at),
        close_note=row["close_note"],
    )
