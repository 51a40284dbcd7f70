"""Rollback marks: "go back from this version to a known-good one", on record.

A mark names the model, the version to roll back (`from_version`, by default the
current one), the target (`to_version`, by default the newest healthy version first seen
before it, see `health.last_healthy`), a reason, the alerts that motivated it and a
snapshot of the evidence at that moment (`rollback_evidence`: the `from` version judged
on its own traffic, the target, the two side by side). It is `requested` until
someone applies it (the deploy pipeline rolled back: the `champion` alias moves to the
target, MLflow style) or cancels it. Both are compare-and-set: only a requested mark
can be closed, so a second click or a second session gets a clear `Conflict`.

At most one mark per model is open. Every change rewrites `rollbacks.json` next to
the state database with the open marks (`rollback_file`), in the same document
`monitor rollback list --json` prints (`rollback_marks`), for a deploy pipeline to read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

from monitor.core.catalog import Window
from monitor.core.config import Settings
from monitor.core.errors import InputError
from monitor.core.state import Actor, StateStore, dumps, record_audit, to_text, utc_now
from monitor.core.store import LogStore
from monitor.metrics.performance.report import ReferenceFit
from monitor.ops.registry import rollback_file
from monitor.ops.registry import versions as registry
from monitor.ops.registry.rollback_evidence import (
    EVIDENCE_SPAN,
    RollbackEvidence,
    default_target,
    gather,
)
from monitor.ops.registry.rollback_marks import STATUSES, RollbackMark, Status, mark_from_row
from monitor.ops.registry.version_metrics import model_info, require_version
from monitor.ops.registry.versions import Conflict
from monitor.queries.performance_reference import fit_reference

MAX_REASON_CHARS: Final = 2000


def marks(
    state: StateStore, *, status: Status | Literal["all"] = "requested", model_id: str | None = None
) -> tuple[RollbackMark, ...]:
    """Marks, newest first; by default the open (requested) ones."""
    if status != "all" and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)} or all (got {status!r})")
    rows = state.read(
        "SELECT * FROM rollbacks WHERE (:status = 'all' OR status = :status)"
        " AND (:model IS NULL OR model_id = :model) ORDER BY id DESC",
        {"status": status, "model": model_id},
    )
    return tuple(mark_from_row(r) for r in rows)


def get(state: StateStore, mark_id: int) -> RollbackMark:
    rows = state.read("SELECT * FROM rollbacks WHERE id = ?", (mark_id,))
    if not rows:
        raise _no_mark(mark_id)
    return mark_from_row(rows[0])


def mark(
    state: StateStore,
    store: LogStore,
    settings: Settings,
    model_id: str,
    *,
    reason: str,
    actor: Actor,
    from_version: str | None = None,
    to_version: str | None = None,
    alert_ids: Sequence[int] = (),
    window: Window | None = None,
    evidence: RollbackEvidence | None = None,
    reference: ReferenceFit | None = None,
) -> RollbackMark:
    """Request a rollback of `from_version` (default: the model's current version) to
    `to_version` (default: the newest healthy version first seen before it). `window`:
    where the evidence comes from (default: the last 7 days of traffic). `evidence`:
    evidence already gathered (what the person saw); used when its versions match, else
    gathered here.

    Refusals (InputError): empty reason, unknown model or version, the target being the
    version rolled back, no healthy version to default to, unknown alert ids, an open
    mark for the model already (Conflict)."""
    text = _reason(reason)
    info = model_info(store, model_id)
    for role, version in (("to roll back", from_version), ("to roll back to", to_version)):
        try:
            if version is not None:
                require_version(info, version)
        except InputError as exc:
            raise InputError(f"the version {role}: {exc}") from None
    if from_version is not None and to_version == from_version:
        raise InputError(
            f"{to_version} is the version to roll back; a rollback needs another version "
            "as its target"
        )
    ids = tuple(sorted({int(a) for a in alert_ids}))
    _refuse_open_mark(state.read, model_id)  # cheap refusals before the evidence is computed
    _require_alerts(state.read, ids)
    source: registry.CurrentSource | None = None  # set when `from` is the current version
    if from_version is None:
        from_version, source = registry.current_version(state, store, settings, model_id)
    window = window or registry.default_window(info, EVIDENCE_SPAN)
    fit = reference or fit_reference(store, settings.model(model_id))
    if to_version is None:
        to_version = default_target(store, settings, model_id, from_version, window, reference=fit)
    if to_version == from_version:  # only when `from` defaulted to the current version
        raise InputError(
            f"{to_version} is the current version of {model_id} ({_source_text(source)}); "
            "a rollback needs another version as its target"
        )
    if evidence is None or evidence.versions != (from_version, to_version):
        evidence = gather(
            store, settings, model_id, from_version, to_version, window, reference=fit
        )
    document = evidence.to_document()
    rolled: str = from_version  # for the transaction below (narrowed)
    now = utc_now()

    def change(tx: sqlite3.Connection) -> RollbackMark:
        holder = registry.champion_in(tx, model_id)
        if (source == "alias" and holder != rolled) or (source == "traffic" and holder):
            raise Conflict(
                f"the champion of {model_id} changed to {holder or 'none'} meanwhile; "
                "look at the versions again"
            )
        query = _query(tx)
        _refuse_open_mark(query, model_id)
        _require_alerts(query, ids)
        try:
            cursor = tx.execute(
                "INSERT INTO rollbacks (model_id, from_version, to_version, reason, alert_ids,"
                " evidence, requested_by, requested_verified, requested_at, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested')",
                (
                    model_id,
                    rolled,
                    to_version,
                    text,
                    dumps(list(ids)),
                    dumps(document),
                    actor.name,
                    int(actor.verified),
                    to_text(now),
                ),
            )
        except sqlite3.IntegrityError:  # the one-open-mark index, should a check miss it
            _refuse_open_mark(query, model_id)
            raise
        mark_id = int(cursor.lastrowid or 0)
        record_audit(
            tx,
            actor=actor,
            action="rollback.mark",
            entity="rollback",
            entity_id=mark_id,
            after={
                "model_id": model_id,
                "from_version": rolled,
                "to_version": to_version,
                "status": "requested",
                "alert_ids": list(ids),
            },
            note=text,
            at=now,
        )
        return _read(tx, mark_id)

    return rollback_file.write(state, change)


def apply(
    state: StateStore, mark_id: int, *, actor: Actor, note: str | None = None
) -> RollbackMark:
    """The rollback was carried out: close the mark and move `champion` to its target."""
    return _close(state, mark_id, "applied", actor, note)


def cancel(
    state: StateStore, mark_id: int, *, actor: Actor, note: str | None = None
) -> RollbackMark:
    """The rollback is not wanted (any more): close the mark; nothing else changes."""
    return _close(state, mark_id, "cancelled", actor, note)


def _close(
    state: StateStore, mark_id: int, status: Status, actor: Actor, note: str | None
) -> RollbackMark:
    remark = (note or "").strip() or None
    now = utc_now()

    def change(tx: sqlite3.Connection) -> RollbackMark:
        found = _read(tx, mark_id)
        if not found.is_open:
            who = found.closed_by or "someone"
            when = "" if found.closed_at is None else f" at {found.closed_at:%Y-%m-%d %H:%M} UTC"
            raise Conflict(f"rollback #{mark_id} was already {found.status} by {who}{when}")
        updated = tx.execute(
            "UPDATE rollbacks SET status = ?, closed_by = ?, closed_verified = ?, closed_at = ?,"
            " close_note = ? WHERE id = ? AND status = 'requested'",
            (status, actor.name, int(actor.verified), to_text(now), remark, mark_id),
        )
        if updated.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; never close twice
            raise Conflict(f"rollback #{mark_id} changed meanwhile; look again")
        record_audit(
            tx,
            actor=actor,
            action=f"rollback.{'apply' if status == 'applied' else 'cancel'}",
            entity="rollback",
            entity_id=mark_id,
            before={"status": "requested"},
            after={"status": status},
            note=remark,
            at=now,
        )
        if status == "applied" and registry.champion_in(tx, found.model_id) != found.to_version:
            registry.move_alias(
                tx,
                found.model_id,
                registry.CHAMPION,
                found.to_version,
                actor,
                note=f"rollback #{mark_id} applied",
            )
        return _read(tx, mark_id)

    return rollback_file.write(state, change)


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InputError("give a reason for the rollback: what is wrong with the version")
    if len(text) > MAX_REASON_CHARS:
        raise InputError(
            f"the reason is too long ({len(text)} characters, at most {MAX_REASON_CHARS})"
        )
    return text


Query = Callable[[str, Sequence[Any]], list[sqlite3.Row]]


def _query(tx: sqlite3.Connection) -> Query:
    return lambda sql, params: tx.execute(sql, params).fetchall()


def _refuse_open_mark(query: Query, model_id: str) -> None:
    rows = query(
        "SELECT id, to_version, requested_by, requested_at FROM rollbacks"
        " WHERE model_id = ? AND status = 'requested'",
        (model_id,),
    )
    for row in rows:
        raise Conflict(
            f"rollback #{row['id']} of {model_id} (to {row['to_version']}, requested by "
            f"{row['requested_by']} at {row['requested_at'][:16].replace('T', ' ')} UTC) is "
            "still open: apply or cancel it first"
        )


def _require_alerts(query: Query, ids: tuple[int, ...]) -> None:
    if not ids:
        return
    rows = query(
        "SELECT id FROM alerts WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),)
    )
    missing = sorted(set(ids) - {int(r[0]) for r in rows})
    if missing:
        raise InputError(
            "no alert with id " + ", ".join(map(str, missing)) + " (see `monitor alerts list`)"
        )


def _read(tx: sqlite3.Connection, mark_id: int) -> RollbackMark:
    row = tx.execute("SELECT * FROM rollbacks WHERE id = ?", (mark_id,)).fetchone()
    if row is None:
        raise _no_mark(mark_id)
    return mark_from_row(row)


def _no_mark(mark_id: int) -> InputError:
    return InputError(
        f"there is no rollback mark #{mark_id} (see `monitor rollback list --status all`)"
    )


def _source_text(source: registry.CurrentSource | None) -> str:
    return "it holds the champion alias" if source == "alias" else "it serves most traffic"
