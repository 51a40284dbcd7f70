"""Registered datasets: their records in the state store (the `datasets` table, every
change audited), the validation of names and column roles, and reading them back.

The Parquet files and the save and delete that pair a file with its record are in
`storage`; the uploaded references applied to the settings in `references`; datasets
read for drift, data quality and fairness in `analysis`.

Names are any text of 1 to 100 characters without control characters, unique (letter
case counts). The same file (same sha256) uploaded twice in the same role is refused
with the name and date of the first upload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from monitor.core.errors import InputError
from monitor.core.state import (
    Actor,
    StateError,
    StateStore,
    dumps,
    loads,
    record_audit,
    to_text,
    utc_now,
)
from monitor.ops.datasets.ingest import ColumnReport, Ingested

Role = Literal["reference", "current"]
ROLES: Final[tuple[Role, ...]] = ("reference", "current")
MAX_NAME_LENGTH: Final = 100
ENTITY: Final = "dataset"


@dataclass(frozen=True)
class ColumnRoles:
    """Targets (label, prediction, score), sensitive features, and the identifier and
    ignored columns drift and data quality leave out (with identifier-like columns
    unless `keep_ids`)."""

    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    sensitive: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    keep_ids: bool = False

    def named(self) -> tuple[str, ...]:
        """Every column a role names, once."""
        names = [self.label, self.prediction, self.score, *self.sensitive, *self.ids]
        return tuple(dict.fromkeys(n for n in [*names, *self.ignore] if n is not None))


@dataclass(frozen=True)
class Dataset:
    id: int
    name: str
    role: Role
    path: Path
    source_name: str
    sha256: str
    rows: int
    columns: tuple[tuple[str, str], ...]
    """(name, type) in file order; type: numeric, categorical, boolean, datetime, text."""
    column_roles: ColumnRoles
    model_id: str | None
    details: Mapping[str, Any]
    """format, encoding, delimiter, repairs, size_bytes, source_files and the column
    reports (name, original_name, type, missing, problems)."""
    created_by: str
    created_verified: bool
    created_at: dt.datetime

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def column_reports(self) -> tuple[ColumnReport, ...]:
        """The per-column report saved with the upload."""
        return tuple(
            ColumnReport(
                c["name"], c["original_name"], c["type"], int(c["missing"]), tuple(c["problems"])
            )
            for c in self.details.get("columns", ())
        )


class DuplicateDataset(InputError):
    """The same file (sha256) was already uploaded in the same role."""

    def __init__(self, existing: Dataset) -> None:
        self.existing = existing
        when = existing.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        super().__init__(
            f"this file was already uploaded as {existing.name!r} ({existing.role}) on {when} "
            "by " + existing.created_by + ": use that dataset, or remove it first"
        )


# -- validation -----------------------------------------------------------------------


def validate_name(name: str) -> str:
    """The name as stored (surrounding spaces removed), or InputError saying why not."""
    cleaned = name.strip()
    if not cleaned:
        raise InputError("give the dataset a name (it must not be empty)")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InputError(
            f"the dataset name is {len(cleaned)} characters long: use at most {MAX_NAME_LENGTH}"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in cleaned):
        raise InputError("the dataset name must not contain control characters (tabs, newlines)")
    return cleaned


def validate_roles(
    columns: Sequence[ColumnReport] | Sequence[tuple[str, str]], roles: ColumnRoles
) -> None:
    """Every column a role names exists (else an error with near matches), the label,
    prediction and score are different columns, the score is numeric, and no column
    has two roles (a sensitive feature may not be an identifier or ignored)."""
    types = {
        (c.name if isinstance(c, ColumnReport) else c[0]): (
            c.inferred_type if isinstance(c, ColumnReport) else c[1]
        )
        for c in columns
    }
    for role, name in (
        ("label", roles.label),
        ("prediction", roles.prediction),
        ("score", roles.score),
        *(("sensitive", s) for s in roles.sensitive),
        *(("identifier", s) for s in roles.ids),
        *(("ignored", s) for s in roles.ignore),
    ):
        if name is not None and name not in types:
            raise InputError(f"{role} column {name!r} is not in the dataset{_near(name, types)}")
    outputs = [n for n in (roles.label, roles.prediction, roles.score) if n is not None]
    if len(set(outputs)) < len(outputs):
        raise InputError("the label, prediction and score must be different columns")
    if len(set(roles.sensitive)) < len(roles.sensitive):
        raise InputError("a sensitive column is named twice")
    taken = {*outputs, *roles.sensitive}
    for role, names in (("an identifier", roles.ids), ("ignored", roles.ignore)):
        for name in (n for n in names if n in taken):
            raise InputError(f"column {name!r} cannot be {role}: it has another role")
        taken |= set(names)
    if roles.score is not None and types[roles.score] != "numeric":
        raise InputError(
            f"score column {roles.score!r} is {types[roles.score]}, not numeric: "
            "choose a column of probabilities or scores"
        )


def _near(name: str, types: Mapping[str, str]) -> str:
    by_fold = {n.casefold(): n for n in types}
    close = difflib.get_close_matches(name.casefold(), list(by_fold), n=3, cutoff=0.6)
    if close:
        return " (did you mean " + ", ".join(repr(by_fold[c]) for c in close) + "?)"
    shown = ", ".join(repr(n) for n in list(types)[:12])
    return f" (columns: {shown}{', ...' if len(types) > 12 else ''})"


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"the role must be reference or current (got {role!r})")
    return role


# -- writing --------------------------------------------------------------------------


def register(
    state: StateStore,
    ingested: Ingested,
    path: str,
    *,
    name: str,
    role: Role,
    actor: Actor,
    column_roles: ColumnRoles,
    model_id: str | None,
) -> None:
    """Insert the row and its audit row in one transaction, once the file is in place
    at `path` (relative to the state database's directory)."""
    columns = [(c.name, c.inferred_type) for c in ingested.columns]
    details = {
        "format": ingested.format,
        "encoding": ingested.encoding,
        "delimiter": ingested.delimiter,
        "repairs": list(ingested.repairs),
        "size_bytes": ingested.size_bytes,
        "source_files": list(ingested.source_files),
        "columns": [
            {
                "name": c.name,
                "original_name": c.original_name,
                "type": c.inferred_type,
                "missing": c.missing,
                "problems": list(c.problems),
            }
            for c in ingested.columns
        ],
    }
    now = utc_now()
    try:
        with state.transaction() as tx:
            check_free(state, name, ingested.sha256, role, tx)
            cursor = tx.execute(
                "INSERT INTO datasets (name, role, path, source_name, sha256, row_count,"
                " column_count, columns, column_roles, model_id, details, created_by,"
                " created_verified, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    role,
                    path,
                    ingested.source_name,
                    ingested.sha256,
                    ingested.rows,
                    len(columns),
                    dumps(columns),
                    dumps(dataclasses.asdict(column_roles)),
                    model_id,
                    dumps(details),
                    actor.name,
                    int(actor.verified),
                    to_text(now),
                ),
            )
            dataset_id = int(cursor.lastrowid or 0)
            record_audit(
                tx,
                actor=actor,
                action="create",
                entity=ENTITY,
                entity_id=dataset_id,
                after={
                    "name": name,
                    "role": role,
                    "source_name": ingested.source_name,
                    "sha256": ingested.sha256,
                    "rows": ingested.rows,
                    "columns": len(columns),
                    "model_id": model_id,
                },
                at=now,
            )
    except sqlite3.Error as exc:
        raise StateError(f"could not register the dataset: {exc}") from None


def check_free(
    state: StateStore,
    name: str,
    sha256: str,
    role: Role,
    tx: sqlite3.Connection | None = None,
) -> None:
    """Refuse a taken name or the same file in the same role (read inside `tx` when
    given, so the check and the insert are one transaction)."""

    def rows(sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        if tx is not None:
            return list(tx.execute(sql, params).fetchall())
        return state.read(sql, params)

    if rows("SELECT 1 FROM datasets WHERE name = ?", (name,)):
        raise InputError(
            f"a dataset named {name!r} already exists: choose another name or remove that one"
        )
    same = rows(
        "SELECT * FROM datasets WHERE sha256 = ? AND role = ? ORDER BY id LIMIT 1", (sha256, role)
    )
    if same:
        raise DuplicateDataset(_dataset(state, same[0]))


# -- reading --------------------------------------------------------------------------


def _dataset(state: StateStore, row: sqlite3.Row) -> Dataset:
    roles = loads(row["column_roles"]) or {}
    created = dt.datetime.fromisoformat(row["created_at"])
    return Dataset(
        id=int(row["id"]),
        name=row["name"],
        role=row["role"],
        path=state.path.parent / row["path"],
        source_name=row["source_name"],
        sha256=row["sha256"],
        rows=int(row["row_count"]),
        columns=tuple((str(n), str(t)) for n, t in loads(row["columns"])),
        column_roles=ColumnRoles(
            label=roles.get("label"),
            prediction=roles.get("prediction"),
            score=roles.get("score"),
            sensitive=tuple(roles.get("sensitive") or ()),
            ids=tuple(roles.get("ids") or ()),
            ignore=tuple(roles.get("ignore") or ()),
            keep_ids=bool(roles.get("keep_ids", False)),
        ),
        model_id=row["model_id"],
        details=loads(row["details"]) or {},
        created_by=row["created_by"],
        created_verified=bool(row["created_verified"]),
        created_at=created,
    )


def find_duplicate(state: StateStore, sha256: str, role: Role | None = None) -> Dataset | None:
    """The first dataset uploaded from the same bytes (in `role`, when given)."""
    rows = state.read(
        "SELECT * FROM datasets WHERE sha256 = ? AND (? IS NULL OR role = ?) ORDER BY id LIMIT 1",
        (sha256, role, role),
    )
    return _dataset(state, rows[0]) if rows else None


def list_datasets(state: StateStore, *, role: Role | None = None) -> tuple[Dataset, ...]:
    """Every dataset, newest first (optionally of one role)."""
    rows = state.read(
        "SELECT * FROM datasets WHERE (? IS NULL OR role = ?) ORDER BY created_at DESC, id DESC",
        (role, role),
    )
    return tuple(_dataset(state, row) for row in rows)


def get_dataset(state: StateStore, name: str) -> Dataset:
    """The dataset of that name, or InputError (with near matches)."""
    rows = state.read("SELECT * FROM datasets WHERE name = ?", (name,))
    if not rows:
        raise _unknown(state, name)
    return _dataset(state, rows[0])


def _unknown(state: StateStore, name: str) -> InputError:
    known = [row["name"] for row in state.read("SELECT name FROM datasets ORDER BY name")]
    hint = _near(name, dict.fromkeys(known, "")) if known else " (no dataset is stored yet)"
    return InputError(f"no dataset named {name!r}{hint}")


# -- changing -------------------------------------------------------------------------


def rename_dataset(state: StateStore, name: str, new_name: str, actor: Actor) -> Dataset:
    """Give a dataset another name (audited); its file stays where it is."""
    new_name = validate_name(new_name)
    with state.transaction() as tx:
        row = tx.execute("SELECT id FROM datasets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise _unknown(state, name)
        if new_name != name:
            taken = tx.execute("SELECT 1 FROM datasets WHERE name = ?", (new_name,)).fetchone()
            if taken:
                raise InputError(
                    f"a dataset named {new_name!r} already exists: choose another name"
                )
            tx.execute("UPDATE datasets SET name = ? WHERE id = ?", (new_name, row["id"]))
            record_audit(
                tx,
                actor=actor,
                action="rename",
                entity=ENTITY,
                entity_id=row["id"],
                before={"name": name},
                after={"name": new_name},
            )
    return get_dataset(state, new_name)


def remove_record(tx: sqlite3.Connection, dataset: Dataset, actor: Actor) -> None:
    """Delete the dataset's row and audit it, inside the caller's transaction."""
    deleted = tx.execute("DELETE FROM datasets WHERE id = ?", (dataset.id,)).rowcount
    if not deleted:
        raise InputError(f"no dataset named {dataset.name!r} (it was just removed)")
    record_audit(
        tx,
        actor=actor,
        action="delete",
        entity=ENTITY,
        entity_id=dataset.id,
        before={
            "name": dataset.name,
            "role": dataset.role,
            "sha256": dataset.sha256,
            "rows": dataset.rows,
            "source_name": dataset.source_name,
        },
    )
