"""Model versions: what the logs show of each, and what people decided about them.

The logs give each version its first and last prediction, its number of predictions
and, in a window, its traffic share, error rate, latency p95 and headline metric
(`usage`, cacheable by the store's version). The state store adds aliases (MLflow
style: `champion` names the version that should serve) and notes per version, both
audited (`model_versions`, `set_alias`, `add_note`).

The current version of a model is the holder of its `champion` alias; without one,
the version that served most predictions in the last 24 hours of the model's traffic
(a 10% canary that happened to answer the last request is not "current").

Rollback marks: `rollback`. Comparison and verdicts: `compare`.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Final, Literal

from monitor.core.catalog import DEFAULT_SPAN, ModelInfo, Window
from monitor.core.config import Settings
from monitor.core.errors import InputError
from monitor.core.scope import Scope
from monitor.core.state import Actor, AuditEntry, StateStore, record_audit, to_text, utc_now
from monitor.core.store import LogStore
from monitor.metrics.performance.report import HEADLINE_METRIC, ReferenceFit
from monitor.ops.registry.version_metrics import model_info, require_version
from monitor.queries import health
from monitor.queries.performance_reference import fit_reference
from monitor.queries.performance_report import headline

CHAMPION: Final = "champion"
ALIAS_PATTERN: Final = re.compile(r"[a-z][a-z0-9_-]{0,39}")
MAX_NOTE_CHARS: Final = 2000
CURRENT_SPAN: Final = DEFAULT_SPAN
"""Without a champion alias, the busiest version over this span of the newest traffic
is the current one."""
CurrentSource = Literal["alias", "traffic"]


class Conflict(InputError):
    """The action was overtaken: someone else changed the same thing first (the UI shows
    it as a warning; the CLI exits 2 like any refusal)."""


@dataclass(frozen=True)
class VersionUsage:
    """One version as the logs show it: all time, and in the window."""

    version: str
    """'' when predictions were logged without a version."""
    first_seen: dt.datetime
    last_seen: dt.datetime
    predictions: int
    """All predictions ever logged for this version."""
    window_predictions: int
    traffic_share: float
    """Share of the model's predictions in the window (0.0 when it served none there)."""
    error_rate: float | None
    latency_p95_ms: float | None
    metric_value: float | None
    """The headline metric in the window (None without traffic, labels and estimate)."""
    metric_estimated: bool


@dataclass(frozen=True)
class ModelUsage:
    model_id: str
    window: Window
    metric: str
    """The headline metric: accuracy (classifiers) or mae (regression)."""
    versions: tuple[VersionUsage, ...]
    """Oldest first."""
    busiest_recent: str
    """The version with the most predictions in the last CURRENT_SPAN of traffic."""


@dataclass(frozen=True)
class Alias:
    alias: str
    version: str
    set_by: str
    set_at: dt.datetime


@dataclass(frozen=True)
class ModelVersions:
    """A model's versions with the registry's aliases and its current version."""

    usage: ModelUsage
    aliases: tuple[Alias, ...]
    current_version: str
    current_source: CurrentSource

    @property
    def model_id(self) -> str:
        return self.usage.model_id

    def aliases_of(self, version: str) -> tuple[str, ...]:
        return tuple(sorted(a.alias for a in self.aliases if a.version == version))

    def to_document(self) -> dict[str, Any]:
        """What `monitor models list --json` prints for the model."""
        return {
            "model_id": self.model_id,
            "current_version": self.current_version,
            "current_source": self.current_source,
            "window": {
                "start": to_text(self.usage.window.start),
                "end": to_text(self.usage.window.end),
            },
            "metric": self.usage.metric,
            "versions": [
                {
                    "version": v.version,
                    "first_seen": to_text(v.first_seen),
                    "last_seen": to_text(v.last_seen),
                    "predictions": v.predictions,
                    "window_predictions": v.window_predictions,
                    "traffic_share": v.traffic_share,
                    "alias": ", ".join(self.aliases_of(v.version)) or None,
                    "aliases": list(self.aliases_of(v.version)),
                    "error_rate": v.error_rate,
                    "latency_p95_ms": v.latency_p95_ms,
                    self.usage.metric: v.metric_value,
                    f"{self.usage.metric}_estimated": v.metric_estimated,
                }
                for v in self.usage.versions
            ],
        }


@dataclass(frozen=True)
class VersionNote:
    id: int
    model_id: str
    version: str
    note: str
    written_by: str
    written_at: dt.datetime


@dataclass(frozen=True)
class AlertRef:
    """A firing alert of a model, to link to a rollback mark."""

    id: int
    rule: str
    severity: str
    summary: str | None
    acknowledged_by: str | None


def default_window(info: ModelInfo, span: dt.timedelta = DEFAULT_SPAN) -> Window:
    """The `span` ending at the model's newest prediction."""
    return Window.ending_at(info.last_seen, span)


def usage(
    store: LogStore,
    settings: Settings,
    model_id: str,
    window: Window | None = None,
    *,
    metrics: bool = True,
    reference: ReferenceFit | None = None,
) -> ModelUsage:
    """The model's versions from the logs; `window` (default: the last 24 hours of its
    traffic) for traffic share, error rate, p95 and, with `metrics`, the headline metric
    (realized, or estimated with too few labels, as on the Overview)."""
    info = model_info(store, model_id)
    window = window or default_window(info)
    in_window = {v.version: v for v in health.version_health(store, Scope(model_id, window))}
    recent_window = default_window(info, CURRENT_SPAN)
    recent = (
        in_window
        if recent_window == window
        else {v.version: v for v in health.version_health(store, Scope(model_id, recent_window))}
    )
    order = {v.version: i for i, v in enumerate(info.versions)}
    busiest = max(recent.values(), key=lambda v: (v.predictions, order[v.version]), default=None)
    metric = HEADLINE_METRIC[settings.model(model_id).task]
    fit = reference
    rows: list[VersionUsage] = []
    for info_version in info.versions:
        seen = in_window.get(info_version.version)
        value, estimated = None, False
        if metrics and seen is not None:
            model = settings.model(model_id)
            fit = fit or fit_reference(store, model)
            scope = Scope.of(model, window, (info_version.version,))
            found = headline(store, model, scope, reference=fit)
            value, estimated = found.value, found.estimated
        rows.append(
            VersionUsage(
                version=info_version.version,
                first_seen=info_version.first_seen,
                last_seen=info_version.last_seen,
                predictions=info_version.predictions,
                window_predictions=seen.predictions if seen else 0,
                traffic_share=seen.traffic_share if seen else 0.0,
                error_rate=seen.error_rate if seen else None,
                latency_p95_ms=seen.latency.p95 if seen else None,
                metric_value=value,
                metric_estimated=estimated,
            )
        )
    return ModelUsage(
        model_id,
        window,
        metric,
        tuple(rows),
        busiest.version if busiest is not None else info.versions[-1].version,
    )


def aliases(state: StateStore, model_id: str) -> tuple[Alias, ...]:
    rows = state.read(
        "SELECT alias, version, set_by, set_at FROM model_aliases WHERE model_id = ?"
        " ORDER BY alias",
        (model_id,),
    )
    return tuple(
        Alias(r["alias"], r["version"], r["set_by"], dt.datetime.fromisoformat(r["set_at"]))
        for r in rows
    )


def model_versions(state: StateStore, found: ModelUsage) -> ModelVersions:
    """Adds the registry (aliases, current version) to what the logs show."""
    held = aliases(state, found.model_id)
    current, source = current_of(held, found.busiest_recent)
    return ModelVersions(found, held, current, source)


def current_of(held: tuple[Alias, ...], busiest_recent: str) -> tuple[str, CurrentSource]:
    for alias in held:
        if alias.alias == CHAMPION:
            return alias.version, "alias"
    return busiest_recent, "traffic"


def current_version(
    state: StateStore, store: LogStore, settings: Settings, model_id: str
) -> tuple[str, CurrentSource]:
    """The model's current version and why it is current (alias or traffic)."""
    found = usage(store, settings, model_id, metrics=False)
    return current_of(aliases(state, model_id), found.busiest_recent)


def champion_in(tx: sqlite3.Connection, model_id: str) -> str | None:
    """The champion's version, read inside the caller's transaction."""
    row = tx.execute(
        "SELECT version FROM model_aliases WHERE model_id = ? AND alias = ?", (model_id, CHAMPION)
    ).fetchone()
    return None if row is None else str(row[0])


def set_alias(
    state: StateStore,
    store: LogStore,
    model_id: str,
    version: str,
    *,
    actor: Actor,
    alias: str = CHAMPION,
    note: str | None = None,
) -> Alias:
    """Point `alias` at `version` (moving it from whichever version held it); audited."""
    if not ALIAS_PATTERN.fullmatch(alias):
        raise InputError(
            f"alias {alias!r} is not valid: use lowercase letters, digits, '-' or '_', "
            "starting with a letter (e.g. champion)"
        )
    require_version(model_info(store, model_id), version)
    with state.transaction() as tx:
        return move_alias(tx, model_id, alias, version, actor, note=note)


def move_alias(
    tx: sqlite3.Connection,
    model_id: str,
    alias: str,
    version: str,
    actor: Actor,
    *,
    note: str | None = None,
) -> Alias:
    """Inside the caller's transaction: set the alias and audit it."""
    row = tx.execute(
        "SELECT version FROM model_aliases WHERE model_id = ? AND alias = ?", (model_id, alias)
    ).fetchone()
    before = None if row is None else str(row[0])
    if before == version:
        raise Conflict(f"{version} of {model_id} already holds the alias {alias!r}")
    now = utc_now()
    tx.execute(
        "INSERT INTO model_aliases (model_id, alias, version, set_by, set_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (model_id, alias) DO UPDATE SET"
        " version = excluded.version, set_by = excluded.set_by, set_at = excluded.set_at",
        (model_id, alias, version, actor.name, to_text(now)),
    )
    record_audit(
        tx,
        actor=actor,
        action="alias.set",
        entity="model",
        entity_id=model_id,
        before={"alias": alias, "version": before},
        after={"alias": alias, "version": version},
        note=note,
        at=now,
    )
    return Alias(alias, version, actor.name, now)


def add_note(
    state: StateStore, store: LogStore, model_id: str, version: str, text: str, *, actor: Actor
) -> VersionNote:
    """A note on a version (shown as plain text); audited."""
    note = text.strip()
    if not note:
        raise InputError("the note is empty: write what should be known about this version")
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(f"the note is too long ({len(note)} characters, at most {MAX_NOTE_CHARS})")
    require_version(model_info(store, model_id), version)
    now = utc_now()
    with state.transaction() as tx:
        cursor = tx.execute(
            "INSERT INTO version_notes (model_id, version, note, written_by, written_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (model_id, version, note, actor.name, to_text(now)),
        )
        note_id = int(cursor.lastrowid or 0)
        record_audit(
            tx,
            actor=actor,
            action="note.add",
            entity="model",
            entity_id=model_id,
            after={"version": version, "note_id": note_id},
            note=note,
            at=now,
        )
    return VersionNote(note_id, model_id, version, note, actor.name, now)


def notes(state: StateStore, model_id: str) -> tuple[VersionNote, ...]:
    """The model's version notes, newest first."""
    rows = state.read(
        "SELECT * FROM version_notes WHERE model_id = ? ORDER BY id DESC", (model_id,)
    )
    return tuple(
        VersionNote(
            r["id"],
            r["model_id"],
            r["version"],
            r["note"],
            r["written_by"],
            dt.datetime.fromisoformat(r["written_at"]),
        )
        for r in rows
    )


def firing_alerts(state: StateStore, model_id: str) -> tuple[AlertRef, ...]:
    """Alerts of the model (label `model`) that are firing now, acknowledged or not."""
    rows = state.read(
        "SELECT id, rule_id, severity, summary, acknowledged_by FROM alerts"
        " WHERE state = 'firing' AND json_extract(labels, '$.model') = ? ORDER BY id",
        (model_id,),
    )
    return tuple(
        AlertRef(r["id"], r["rule_id"], r["severity"], r["summary"], r["acknowledged_by"])
        for r in rows
    )


def history(state: StateStore, model_id: str, *, limit: int = 200) -> tuple[AuditEntry, ...]:
    """Audit entries of the model (aliases, notes) and of its rollback marks, newest first."""
    found = list(state.audit_log(entity="model", entity_id=model_id, limit=limit))
    marks = state.read(
        "SELECT id FROM rollbacks WHERE model_id = ? ORDER BY id DESC LIMIT ?", (model_id, limit)
    )
    for row in marks:
        found += state.audit_log(entity="rollback", entity_id=str(row["id"]), limit=limit)
    return tuple(sorted(found, key=lambda e: e.id, reverse=True)[:limit])
