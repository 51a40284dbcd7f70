"""Which days of which rollup tables a run must (re)compute, from the manifest and the files.

A day of a table is recomputed when
- it has no entry, or its table's spec changed (every day then), or `full`;
- its prediction files differ from those recorded (a new file: a new hour of
  predictions; a changed one: an appended JSONL file; compaction replacing JSONL by
  Parquet; a file removed);
- label tables (labels, regression, fairness) also when a feedback file that held one of
  its latest labels changed or went away, or when a new or changed feedback file holds a
  label of one of its predictions (late labels: the engine joins the new files' ids to the
  predictions to find their days).
Days whose prediction files are all gone are stale: their entries and files are removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from monitor.ops.rollup.engine import InputFile
from monitor.ops.rollup.manifest import Manifest
from monitor.ops.rollup.tables import LABEL_TABLES, TABLES, TableName


@dataclass(frozen=True)
class Plan:
    dirty: dict[dt.date, set[TableName]]
    stale: tuple[tuple[TableName, str], ...]
    """(table, ISO day) entries to remove."""
    rebuilt: tuple[TableName, ...]
    """Tables recomputed in full (spec changed, or full)."""


def files_by_day(files: Sequence[InputFile]) -> dict[dt.date, list[InputFile]]:
    """Prediction files per partition day (files outside a date= partition are not rolled up)."""
    found: dict[dt.date, list[InputFile]] = {}
    for f in files:
        if f.day is not None:
            found.setdefault(f.day, []).append(f)
    return {day: sorted(fs, key=lambda f: f.path) for day, fs in found.items()}


def make_plan(
    manifest: Manifest,
    by_day: dict[dt.date, list[InputFile]],
    feedback: Sequence[InputFile],
    digest: str,
    prediction_days: Callable[[Collection[str]], set[dt.date]],
    *,
    full: bool = False,
) -> Plan:
    dirty: dict[dt.date, set[TableName]] = {}
    rebuilt = tuple(t for t in TABLES if full or manifest.table(t).spec != digest)
    current_feedback = {f.fingerprint for f in feedback}
    for day, files in by_day.items():
        key = day.isoformat()
        fingerprints = tuple(f.fingerprint for f in files)
        for table in TABLES:
            entry = manifest.table(table).days.get(key)
            changed = (
                table in rebuilt
                or entry is None
                or entry.predictions != fingerprints
                or (table in LABEL_TABLES and not set(entry.feedback) <= current_feedback)
            )
            if changed:
                dirty.setdefault(day, set()).add(table)
    recorded_feedback = set(manifest.feedback)
    new_feedback = sorted(f.path for f in feedback if f.fingerprint not in recorded_feedback)
    clean = [d for d in by_day if not dirty.get(d, set()) >= LABEL_TABLES]
    if new_feedback and clean:  # late labels: which of the other days do they label?
        for day in prediction_days(new_feedback) & set(clean):
            dirty.setdefault(day, set()).update(LABEL_TABLES)
    present = {day.isoformat() for day in by_day}
    stale = tuple(
        (table, day)
        for table in TABLES
        for day in sorted(manifest.table(table).days)
        if day not in present
    )
    return Plan(dirty, stale, rebuilt)
