"""The state store: what people and `monitor check` decide, kept in SQLite.

Alerts, silences, webhook deliveries, model aliases, rollback marks, uploaded
datasets and the audit trail live in `<data_dir>/state.sqlite`. The dashboard (one
thread per session) and CLI processes (cron, CI) write to it at the same time, so:

- WAL journal (readers never block the writer) and a busy timeout (writers wait
  their turn instead of failing with "database is locked");
- every write is one `BEGIN IMMEDIATE` transaction (`StateStore.transaction`):
  the write lock is taken up front, so a read-then-write (compare-and-set) inside it
  cannot interleave with another writer, and a process killed mid-write leaves the
  database as of the last commit;
- the schema is created idempotently and versioned with `PRAGMA user_version`; each
  concern owns its DDL file in `monitor/sql/state/`.

Every human or automated action appends one row to `audit` in the same transaction
as the change it records (`record_audit`), so the trail and the state never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from monitor.core.errors import MonitorError

STATE_FILE_NAME: Final = "state.sqlite"
BUSY_TIMEOUT_MS: Final = 15_000
SCHEMA_FILES: Final = ("audit.sql", "alerts.sql", "registry.sql", "datasets.sql")
"""DDL applied, in order, for schema version 1 (each file: CREATE ... IF NOT EXISTS)."""
SCHEMA_VERSION: Final = 1
# PRAGMAs take no parameters; these are built from the integer constants above.
_BUSY_TIMEOUT_PRAGMA: Final = "PRAGMA busy_timeout = " + str(int(BUSY_TIMEOUT_MS))
_USER_VERSION_PRAGMA: Final = "PRAGMA user_version = " + str(int(SCHEMA_VERSION))


class StateError(MonitorError):
    """The state database cannot be opened or written (the message says why)."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user (verified) or a name typed by the operator (not)."""

    name: str
    verified: bool = False

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise StateError("say who is acting: the name must not be empty")


def actor_label(name: str, verified: bool) -> str:
    """How an actor is shown: names typed without signing in say "(unverified)"."""
    return name if verified else f"{name} (unverified)"


SYSTEM_ACTOR: Final = Actor("monitor", verified=True)
"""The actor for automatic changes (rule evaluation, notifications)."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    actor_verified: bool
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    note: str | None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_text(moment: dt.datetime) -> str:
    """Times are stored as ISO 8601 UTC text with microseconds (sorts as time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def from_text(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


class StateStore:
    """One SQLite database. Each transaction or read opens its own short-lived connection:
    Streamlit runs every script run on a new thread, so per-thread connections would pile
    up, and opening a SQLite connection costs well under a millisecond."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ensure_schema()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> StateStore:
        return cls(Path(data_dir) / STATE_FILE_NAME)

    # -- connections and transactions -------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            )
            con.row_factory = sqlite3.Row
            con.execute(_BUSY_TIMEOUT_PRAGMA)
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            con.execute("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            raise StateError(f"cannot open the state database {self.path}: {exc}") from None
        return con

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on error."""
        con = self._connect()
        try:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StateError(
                    f"the state database {self.path} is busy or read-only ({exc}); try again"
                ) from None
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            try:
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                con.execute("ROLLBACK")
                raise StateError(f"could not save to {self.path}: {exc}") from None
        finally:
            con.close()

    def read(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read-only query (values always as parameters)."""
        con = self._connect()
        try:
            return con.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise StateError(f"cannot read the state database {self.path}: {exc}") from None
        finally:
            con.close()

    def close(self) -> None:
        """Nothing stays open between calls; kept so callers can treat stores alike."""

    # -- schema ------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        version = self.read("PRAGMA user_version")[0][0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path} was written by a newer version of monitor (schema {version}, "
                f"this one knows {SCHEMA_VERSION}); upgrade monitor"
            )
        with self.transaction() as tx:  # two processes starting at once: one creates
            current = tx.execute("PRAGMA user_version").fetchone()[0]
            if current < SCHEMA_VERSION:
                for name in SCHEMA_FILES:
                    for statement in _statements(name):
                        tx.execute(statement)
                tx.execute(_USER_VERSION_PRAGMA)

    # -- audit -------------------------------------------------------------------------

    def audit_log(
        self, *, entity: str | None = None, entity_id: str | None = None, limit: int = 200
    ) -> tuple[AuditEntry, ...]:
        """The newest audit entries first, optionally for one entity (e.g. "alert", "7")."""
        rows = self.read(
            "SELECT * FROM audit WHERE (:entity IS NULL OR entity = :entity)"
            " AND (:entity_id IS NULL OR entity_id = :entity_id) ORDER BY id DESC LIMIT :limit",
            {"entity": entity, "entity_id": entity_id, "limit": int(limit)},
        )
        return tuple(
            AuditEntry(
                id=row["id"],
                at=dt.datetime.fromisoformat(row["at"]),
                actor=row["actor"],
                actor_verified=bool(row["actor_verified"]),
                action=row["action"],
                entity=row["entity"],
                entity_id=row["entity_id"],
                before=_loads(row["before"]),
                after=_loads(row["after"]),
                note=row["note"],
            )
            for row in rows
        )


def record_audit(
    tx: sqlite3.Connection,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | int,
    before: Any = None,
    after: Any = None,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append one audit row inside the caller's transaction."""
    tx.execute(
        "INSERT INTO audit (at, actor, actor_verified, action, entity, entity_id, before, after,"
        " note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            to_text(at or utc_now()),
            actor.name,
            int(actor.verified),
            action,
            entity,
            str(entity_id),
            dumps(before),
            dumps(after),
            note,
        ),
    )


def dumps(value: Any) -> str | None:
    """JSON text for a stored document (None stays NULL); times become ISO text."""
    if value is None:
        return None
    return json.dumps(value, default=_json_default, sort_keys=True, allow_nan=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return to_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def loads(text: str | None) -> Any:
    """The document `dumps` stored (None for NULL)."""
    return _loads(text)


def _statements(name: str) -> list[str]:
    """The statements of one DDL file (comment lines dropped first; they may hold `;`)."""
    text = (
        resources.files("monitor.core").joinpath("sql", "state", name).read_text(encoding="utf-8")
    )
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in code.split(";") if statement.strip()]
