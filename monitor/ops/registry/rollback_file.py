"""rollbacks.json: the open rollback marks, next to the state database, for a deploy
pipeline to read.

Every change to the marks rewrites it inside the change's write transaction (temp file,
fsync, then an atomic rename), so concurrent writers export in commit order; should the
commit fail after the file was written, it is written again from what is stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from monitor.core.errors import MonitorError
from monitor.core.state import StateStore
from monitor.ops.registry.rollback_marks import mark_from_row, marks_document

EXPORT_NAME: Final = "rollbacks.json"
T = TypeVar("T")


def export_path(state: StateStore) -> Path:
    return state.path.parent / EXPORT_NAME


def export(state: StateStore) -> Path:
    """Rewrite rollbacks.json from what is stored (normally done by every change)."""
    path = export_path(state)
    with state.transaction() as tx:  # the write lock orders this with other writers
        _export(tx, path)
    return path


def write(state: StateStore, change: Callable[[sqlite3.Connection], T]) -> T:
    """One transaction: the change, then the export of the open marks while the write
    lock is held (so concurrent writers export in commit order). Should the commit fail
    after the file was written, it is written again from what is stored."""
    path = export_path(state)
    exported = False
    try:
        with state.transaction() as tx:
            result = change(tx)
            _export(tx, path)
            exported = True
        return result
    except BaseException:
        if exported:
            with contextlib.suppress(MonitorError, OSError):
                export(state)
        raise


def _export(tx: sqlite3.Connection, path: Path) -> None:
    rows = tx.execute("SELECT * FROM rollbacks WHERE status = 'requested' ORDER BY id DESC")
    text = json.dumps(marks_document(mark_from_row(r) for r in rows), indent=2, allow_nan=False)
    handle, temp = tempfile.mkstemp(prefix=f".{EXPORT_NAME}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
