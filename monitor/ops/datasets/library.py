"""Uploaded datasets: stored as Parquet under `<data_dir>/uploads/`, registered in the
state store, and read back as relations for drift, data quality and fairness.

Saving is all or nothing: the Parquet file is written under a temporary name, flushed
to disk (fsync) and renamed into place (atomic on one file system); only then is the
row inserted, with its audit row, in one `BEGIN IMMEDIATE` transaction. If that fails,
the file is removed again, so a refused or failed save leaves the data directory as it
was. Deleting renames the file aside inside the transaction that deletes the row and
removes it after the commit (or puts it back if the commit fails).

Names are any text of 1 to 100 characters without control characters, unique (letter
case counts). The same file (same sha256) uploaded twice in the same role is refused
with the name and date of the first upload.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import os
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import pyarrow.parquet as pq

from monitor.core.config import TASKS, ModelConfig, Settings
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

if TYPE_CHECKING:
    from monitor.core.tabular import Relation, Runner
    from monitor.metrics.fairness.groups import GroupData

Role = Literal["reference", "current"]
ROLES: Final[tuple[Role, ...]] = ("reference", "current")
UPLOADS_DIR: Final = "uploads"
MAX_NAME_LENGTH: Final = 100
ENTITY: Final = "dataset"
_NO_COLUMN: Final = "\x00none"
"""A column name no dataset has (names never hold control characters): the stand-in for
a role that is not set, where `tabular.file_relation` wants a name."""


@dataclass(frozen=True)
class ColumnRoles:
    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    sensitive: tuple[str, ...] = ()

    def named(self) -> tuple[str, ...]:
        """Every column a role names, once."""
        names = [self.label, self.prediction, self.score, *self.sensitive]
        return tuple(dict.fromkeys(n for n in names if n is not None))


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
    prediction and score are different columns, and the score is numeric."""
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
    ):
        if name is not None and name not in types:
            raise InputError(f"{role} column {name!r} is not in the dataset{_near(name, types)}")
    outputs = [n for n in (roles.label, roles.prediction, roles.score) if n is not None]
    if len(set(outputs)) < len(outputs):
        raise InputError("the label, prediction and score must be different columns")
    if len(set(roles.sensitive)) < len(roles.sensitive):
        raise InputError("a sensitive column is named twice")
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


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise InputError(f"the role must be reference or current (got {role!r})")
    return role


# -- saving ---------------------------------------------------------------------------


def uploads_dir(data_dir: Path) -> Path:
    return Path(data_dir) / UPLOADS_DIR


def save_dataset(
    state: StateStore,
    data_dir: Path,
    ingested: Ingested,
    *,
    name: str,
    role: Role,
    actor: Actor,
    column_roles: ColumnRoles = ColumnRoles(),
    model_id: str | None = None,
) -> Dataset:
    """Store the upload as Parquet and register it (see the module docstring)."""
    name = validate_name(name)
    role = _check_role(role)
    validate_roles(ingested.columns, column_roles)
    if model_id is not None and not model_id.strip():
        raise InputError("the model id must not be empty")
    _check_free(state, name, ingested.sha256, role)
    folder = uploads_dir(data_dir)
    sweep_orphans(state, data_dir)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{_slug(name)}-{ingested.sha256[:8]}-{secrets.token_hex(3)}.parquet"
    try:
        _write_parquet(ingested, final)
        _register(state, ingested, final, name, role, actor, column_roles, model_id)
    except BaseException:
        final.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: the directory is as it was
        raise
    return get_dataset(state, name)


ORPHAN_AGE: Final = dt.timedelta(hours=1)
"""How old an unregistered file in uploads/ must be before a save removes it: older
than any save or delete still in flight."""


def sweep_orphans(
    state: StateStore, data_dir: Path, *, older_than: dt.timedelta = ORPHAN_AGE
) -> tuple[Path, ...]:
    """Remove files in uploads/ that no dataset row names and that are older than
    `older_than`: what a process killed between writing a file and committing its row
    (or between a delete's commit and its unlink) left behind. Returns what was removed."""
    folder = uploads_dir(data_dir)
    if not folder.is_dir():
        return ()
    known = {Path(row["path"]).name for row in state.read("SELECT path FROM datasets")}
    cutoff = utc_now().timestamp() - older_than.total_seconds()
    removed: list[Path] = []
    for path in folder.iterdir():
        if not path.is_file() or path.name in known:
            continue
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
    return tuple(removed)


def _register(
    state: StateStore,
    ingested: Ingested,
    final: Path,
    name: str,
    role: Role,
    actor: Actor,
    column_roles: ColumnRoles,
    model_id: str | None,
) -> None:
    """Insert the row and its audit row in one transaction (the file is in place)."""
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
            _check_free(state, name, ingested.sha256, role, tx)
            cursor = tx.execute(
                "INSERT INTO datasets (name, role, path, source_name, sha256, row_count,"
                " column_count, columns, column_roles, model_id, details, created_by,"
                " created_verified, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    role,
                    f"{UPLOADS_DIR}/{final.name}",
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


def _check_free(
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


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return slug or "dataset"


def _write_parquet(ingested: Ingested, final: Path) -> None:
    temporary = final.with_name(final.name + ".tmp")
    try:
        with temporary.open("wb") as handle:
            pq.write_table(ingested.table, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        _fsync_dir(final.parent)
    except OSError as exc:
        raise StateError(f"could not write {final}: {exc.strerror or exc}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


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


def attached_references(state: StateStore) -> dict[str, Dataset]:
    """The newest reference dataset attached to each model (model id -> dataset): one
    read of the state database."""
    rows = state.read(
        "SELECT * FROM datasets WHERE role = ? AND model_id IS NOT NULL"
        " ORDER BY created_at DESC, id DESC",
        ("reference",),
    )
    found: dict[str, Dataset] = {}
    for row in rows:
        found.setdefault(str(row["model_id"]), _dataset(state, row))
    return found


def apply_references(settings: Settings, references: Mapping[str, Dataset]) -> Settings:
    """`settings` with each model's reference replaced by its attached upload (see
    `with_uploaded_references`)."""
    if not references:
        return settings

    def attach(model: ModelConfig, dataset: Dataset) -> ModelConfig:
        roles = dataset.column_roles
        return dataclasses.replace(
            model,
            reference=dataset.path,
            label_column=roles.label or model.label_column,
            prediction_column=roles.prediction or model.prediction_column,
            score_column=roles.score or model.score_column,
        )

    configured = {m.id for m in settings.models}
    models = [attach(m, references[m.id]) if m.id in references else m for m in settings.models]
    models += [
        attach(ModelConfig(id=model_id), references[model_id])
        for model_id in sorted(references)
        if model_id not in configured
    ]
    return dataclasses.replace(settings, models=tuple(models))


def with_uploaded_references(settings: Settings, state: StateStore) -> Settings:
    """Settings in which every model with an uploaded reference dataset attached (the
    newest one) uses it as `reference`, with its label, prediction and score columns
    where the upload names them (the configured names otherwise). It takes precedence
    over monitor.toml's `reference`: attaching is the user's later, explicit act. A model
    known only from the logs gets a ModelConfig (defaults plus the reference)."""
    return apply_references(settings, attached_references(state))


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


def delete_dataset(state: StateStore, data_dir: Path, name: str, actor: Actor) -> None:
    """Remove a dataset's row (audited) and its Parquet file."""
    dataset = get_dataset(state, name)
    path = Path(data_dir) / dataset.path.relative_to(state.path.parent)
    aside = path.with_name(path.name + ".deleting")
    moved = False
    try:
        with state.transaction() as tx:
            deleted = tx.execute("DELETE FROM datasets WHERE id = ?", (dataset.id,)).rowcount
            if not deleted:
                raise InputError(f"no dataset named {name!r} (it was just removed)")
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
            if path.exists():
                os.replace(path, aside)
                moved = True
    except BaseException:
        if moved:
            os.replace(aside, path)
        raise
    aside.unlink(missing_ok=True)


# -- analysis -------------------------------------------------------------------------


def dataset_relation(runner: Runner, dataset: Dataset, task: str | None = None) -> Relation:
    """The stored Parquet as a relation for drift and data quality: the label,
    prediction and score columns are the targets (as a model's are), every other
    supported column a feature. `task` (binary, multiclass, regression; default binary)
    decides whether targets compare as classes or as numbers."""
    from monitor.core import tabular

    task = task or "binary"
    if task not in TASKS:
        raise InputError(f"task must be one of {', '.join(TASKS)} (got {task!r})")
    if not dataset.path.is_file():
        raise InputError(
            f"the stored file of dataset {dataset.name!r} is missing ({dataset.path}): "
            "remove the dataset and upload it again"
        )
    roles = dataset.column_roles
    model = ModelConfig(
        id=f"dataset {dataset.name}",
        task=cast(Any, task),
        label_column=roles.label or _NO_COLUMN,
        prediction_column=roles.prediction or _NO_COLUMN,
        score_column=roles.score,
    )
    relation = tabular.file_relation(runner, dataset.path, model=model)
    return dataclasses.replace(relation, label=f"dataset {dataset.name!r}")


def fairness_data(
    dataset: Dataset,
    *,
    sensitive: Sequence[str] | None = None,
    threshold: float | None = None,
    task: Literal["binary", "regression"] = "binary",
    positive_label: str = "1",
) -> GroupData:
    """The fairness engine's input from a stored dataset and its column roles (the
    sensitive columns default to the saved ones; a score needs a threshold)."""
    from monitor.queries.fairness import load_file

    roles = dataset.column_roles
    if roles.label is None:
        raise InputError(f"dataset {dataset.name!r} has no label column: set one to judge fairness")
    chosen = list(sensitive) if sensitive else list(roles.sensitive)
    if not chosen:
        raise InputError(f"dataset {dataset.name!r} has no sensitive columns: choose at least one")
    use_score = roles.prediction is None
    if use_score and roles.score is None:
        raise InputError(
            f"dataset {dataset.name!r} has no prediction or score column: set one to judge fairness"
        )
    return load_file(
        dataset.path,
        label=roles.label,
        sensitive=chosen,
        prediction=None if use_score else roles.prediction,
        score=roles.score if use_score else None,
        threshold=threshold if use_score else None,
        task=task,
        positive_label=positive_label,
    )
