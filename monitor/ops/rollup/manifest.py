"""The rollup manifest (`<data_dir>/rollups/manifest.json`): which rollup files are valid and
what they were computed from.

For each table and day it holds the fingerprints (path, size, mtime_ns) of the day's
prediction files, for the label tables also of the feedback files that hold a latest label
of those predictions, and the file written (path relative to the data directory, rows,
bytes). Besides: per table the spec its files were computed with, and every feedback file
seen by the last run (a new one may label old hours).

The manifest is the commit point. Before a day's files are replaced their entries are
removed (manifest written), then the files are written (each atomically), then the new
entries are added (manifest written). A reader uses a file only when the manifest has an
entry for it, so at every moment each entry describes the file on disk; a file without
an entry (a run stopped half-way) is ignored and rewritten by the next run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from monitor.core.errors import InputError
from monitor.ops.rollup.storage import Storage
from monitor.ops.rollup.tables import FORMAT_VERSION, ROLLUPS_DIR, TABLES, TableName

MANIFEST_PATH: Final = f"{ROLLUPS_DIR}/manifest.json"

Fingerprint = tuple[str, int, int]
"""(path, size in bytes, mtime in ns) of an input file."""


@dataclass(frozen=True)
class DayEntry:
    predictions: tuple[Fingerprint, ...]
    feedback: tuple[Fingerprint, ...]
    file: str
    rows: int
    bytes: int


@dataclass(frozen=True)
class TableState:
    spec: str = ""
    days: Mapping[str, DayEntry] = field(default_factory=dict)
    """ISO date -> entry."""


@dataclass(frozen=True)
class Manifest:
    tables: Mapping[TableName, TableState] = field(default_factory=dict)
    feedback: tuple[Fingerprint, ...] = ()
    updated_at: str = ""
    engine: str = ""

    def table(self, name: TableName) -> TableState:
        return self.tables.get(name, TableState())

    def without_days(self, name: TableName, days: set[str]) -> Manifest:
        state = self.table(name)
        kept = {d: e for d, e in state.days.items() if d not in days}
        return replace(self, tables={**self.tables, name: replace(state, days=kept)})

    def with_entry(self, name: TableName, day: str, entry: DayEntry, spec: str) -> Manifest:
        state = self.table(name)
        days = {**state.days, day: entry}
        return replace(self, tables={**self.tables, name: TableState(spec, days)})

    def with_spec(self, name: TableName, spec: str) -> Manifest:
        """The table computed with another spec: none of its files counts any more."""
        return replace(self, tables={**self.tables, name: TableState(spec, {})})


def _fingerprints(raw: Any) -> tuple[Fingerprint, ...]:
    return tuple((str(p), int(s), int(m)) for p, s, m in raw)


def load(storage: Storage) -> Manifest:
    """The manifest, or an empty one when there is none yet (or it is of another format:
    everything is rebuilt). InputError when it cannot be read."""
    data = storage.read_bytes(MANIFEST_PATH)
    if data is None:
        return Manifest()
    try:
        raw = json.loads(data)
        if raw.get("format") != FORMAT_VERSION:
            return Manifest()
        tables: dict[TableName, TableState] = {}
        for name in TABLES:
            state = raw["tables"].get(name)
            if state is None:
                continue
            days = {
                day: DayEntry(
                    _fingerprints(e["predictions"]),
                    _fingerprints(e["feedback"]),
                    str(e["file"]),
                    int(e["rows"]),
                    int(e["bytes"]),
                )
                for day, e in state["days"].items()
            }
            tables[name] = TableState(str(state["spec"]), days)
        return Manifest(
            tables, _fingerprints(raw["feedback"]), str(raw["updated_at"]), str(raw["engine"])
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{storage.describe(MANIFEST_PATH)} is not a rollup manifest ({exc}); delete the "
            "rollups folder and run `monitor rollup` again"
        ) from None


def document(manifest: Manifest) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "updated_at": manifest.updated_at,
        "engine": manifest.engine,
        "feedback": [list(f) for f in manifest.feedback],
        "tables": {
            name: {
                "spec": state.spec,
                "days": {
                    day: {
                        "predictions": [list(f) for f in e.predictions],
                        "feedback": [list(f) for f in e.feedback],
                        "file": e.file,
                        "rows": e.rows,
                        "bytes": e.bytes,
                    }
                    for day, e in sorted(state.days.items())
                },
            }
            for name, state in sorted(manifest.tables.items())
        },
    }


def save(storage: Storage, manifest: Manifest, engine: str) -> Manifest:
    """Write the manifest atomically; returns it as written (time and engine set)."""
    stamped = replace(
        manifest,
        updated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        engine=engine,
    )
    text = json.dumps(document(stamped), indent=1, sort_keys=True)
    storage.write_bytes(MANIFEST_PATH, text.encode("utf-8"))
    return stamped
