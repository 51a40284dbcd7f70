"""Uploaded datasets on disk: Parquet files under `<data_dir>/uploads/`, each with its
record in the state store (`library`).

Saving is all or nothing: the Parquet file is written under a temporary name, flushed
to disk (fsync) and renamed into place (atomic on one file system); only then is the
row inserted, with its audit row, in one `BEGIN IMMEDIATE` transaction. If that fails,
the file is removed again, so a refused or failed save leaves the data directory as it
was. Deleting renames the file aside inside the transaction that deletes the row and
removes it after the commit (or puts it back if the commit fails). A save also sweeps
files that no row names (left by a process killed in between).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import Final

import pyarrow.parquet as pq

from monitor.core.errors import InputError
from monitor.core.state import Actor, StateError, StateStore, utc_now
from monitor.ops.datasets.ingest import Ingested
from monitor.ops.datasets.library import (
    ColumnRoles,
    Dataset,
    Role,
    check_free,
    check_role,
    get_dataset,
    register,
    remove_record,
    validate_name,
    validate_roles,
)

UPLOADS_DIR: Final = "uploads"
_NO_ROLES: Final = ColumnRoles()
ORPHAN_AGE: Final = dt.timedelta(hours=1)
"""How old an unregistered file in uploads/ must be before a save removes it: older
than any save or delete still in flight."""


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
    column_roles: ColumnRoles = _NO_ROLES,
    model_id: str | None = None,
) -> Dataset:
    """Store the upload as Parquet and register it (see the module docstring)."""
    name = validate_name(name)
    role = check_role(role)
    validate_roles(ingested.columns, column_roles)
    if model_id is not None and not model_id.strip():
        raise InputError("the model id must not be empty")
    check_free(state, name, ingested.sha256, role)
    folder = uploads_dir(data_dir)
    sweep_orphans(state, data_dir)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{_slug(name)}-{ingested.sha256[:8]}-{secrets.token_hex(3)}.parquet"
    try:
        _write_parquet(ingested, final)
        register(
            state,
            ingested,
            f"{UPLOADS_DIR}/{final.name}",
            name=name,
            role=role,
            actor=actor,
            column_roles=column_roles,
            model_id=model_id,
        )
    except BaseException:
        final.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: the directory is as it was
        raise
    return get_dataset(state, name)


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


def delete_dataset(state: StateStore, data_dir: Path, name: str, actor: Actor) -> None:
    """Remove a dataset's row (audited) and its Parquet file."""
    dataset = get_dataset(state, name)
    path = Path(data_dir) / dataset.path.relative_to(state.path.parent)
    aside = path.with_name(path.name + ".deleting")
    moved = False
    try:
        with state.transaction() as tx:
            remove_record(tx, dataset, actor)
            if path.exists():
                os.replace(path, aside)
                moved = True
    except BaseException:
        if moved:
            os.replace(aside, path)
        raise
    aside.unlink(missing_ok=True)


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
