"""`monitor rollup`: bring the hourly rollups up to date with the logs, incrementally.

1. List the log files (before reading any, so a file that grows meanwhile is recorded
   with an older fingerprint and recomputed next time, never the other way round).
2. Plan (monitor.ops.rollup.plan): the days and tables whose inputs or spec changed.
3. Per day, oldest first: remove the day's entries from the manifest (written), write the
   day's files (each atomically), add the new entries (written). See manifest.py for why
   this keeps the manifest consistent with the files at every moment.
4. Days whose prediction files are gone lose their entries, then their files.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from monitor.core.config import Settings
from monitor.core.schema import RecordKind
from monitor.core.views import FeatureColumn
from monitor.ops.rollup import manifest as mf
from monitor.ops.rollup import plan as planning
from monitor.ops.rollup.engine import Engine, InputFile, Work
from monitor.ops.rollup.manifest import DayEntry
from monitor.ops.rollup.storage import Storage, parquet_bytes
from monitor.ops.rollup.tables import LABEL_TABLES, TABLES, relative_path
from monitor.queries.rollup import ModelSpec, model_spec, spec_digest


@dataclass(frozen=True)
class RollupReport:
    engine: str
    days: int
    """Days with prediction files."""
    written: tuple[str, ...]
    """Rollup files written (relative to the data directory)."""
    removed: tuple[str, ...]
    rows: int
    """Rows in the files written."""
    seconds: float
    problems: tuple[str, ...] = ()
    """Input left out (unreadable files, invalid lines) and models without reference bins."""
    rebuilt_tables: tuple[str, ...] = field(default_factory=tuple)
    """Tables rebuilt in full because their spec changed (or --full)."""


class SpecBook:
    """Each model's spec, made once per run (configured models up front: they make the
    digest; models seen only in the logs on first use, with default settings)."""

    def __init__(self, engine: Engine, settings: Settings, features: Sequence[FeatureColumn]):
        self._engine = engine
        self._settings = settings
        self._features = tuple(features)
        self._specs: dict[str, ModelSpec] = {}
        for model in settings.models:
            self.get(model.id)

    def get(self, model_id: str) -> ModelSpec:
        found = self._specs.get(model_id)
        if found is None:
            model = self._settings.model(model_id)
            found = model_spec(self._engine.reference_runner(), model, self._features)
            self._specs[model_id] = found
        return found

    def digest(self) -> str:
        configured = [self._specs[m.id] for m in self._settings.models]
        features = [[f.key, f.sql_type] for f in self._features]
        return spec_digest(configured) + "|" + repr(features)

    def problems(self) -> list[str]:
        return [
            f"model {s.model_id!r}: numeric features without reference bins: {s.reference_problem}"
            for s in self._specs.values()
            if s.reference_problem
        ]


def run_rollup(
    engine: Engine, settings: Settings, storage: Storage, *, full: bool = False
) -> RollupReport:
    """Update the rollups under `storage` from the logs `engine` reads (module docstring)."""
    started = time.perf_counter()
    listing: dict[RecordKind, list[InputFile]] = {
        kind: engine.list_files(kind) for kind in ("predictions", "feedback")
    }
    engine.open(listing)
    try:
        return _run(engine, settings, storage, listing, full=full, started=started)
    finally:
        engine.close()


def _run(
    engine: Engine,
    settings: Settings,
    storage: Storage,
    listing: Mapping[RecordKind, list[InputFile]],
    *,
    full: bool,
    started: float,
) -> RollupReport:
    specs = SpecBook(engine, settings, engine.log_features())
    digest = specs.digest()
    current = mf.load(storage)
    by_day = planning.files_by_day(listing["predictions"])
    plan = planning.make_plan(
        current, by_day, listing["feedback"], digest, engine.prediction_days, full=full
    )
    written: list[str] = []
    removed: list[str] = []
    rows = 0
    manifest = current
    for table in plan.rebuilt:
        manifest = manifest.with_spec(table, digest)
    work = {day: Work(by_day[day], sorted(tables)) for day, tables in plan.dirty.items()}
    for day, result in engine.compute(work, specs):
        tables = work[day].tables
        key = day.isoformat()
        if any(key in manifest.table(t).days for t in tables) or manifest is not current:
            for table in tables:
                manifest = manifest.without_days(table, {key})
            manifest = mf.save(storage, manifest, engine.name)
            current = manifest
        fingerprints = tuple(f.fingerprint for f in by_day[day])
        feedback = tuple(f.fingerprint for f in listing["feedback"] if f.path in result.label_files)
        for table in tables:
            found = result.tables[table]
            data = parquet_bytes(found)
            path = relative_path(table, day)
            storage.write_bytes(path, data)
            written.append(path)
            rows += found.num_rows
            entry = DayEntry(
                fingerprints,
                feedback if table in LABEL_TABLES else (),
                path,
                found.num_rows,
                len(data),
            )
            manifest = manifest.with_entry(table, key, entry, digest)
        manifest = mf.save(storage, manifest, engine.name)
        current = manifest
    for table, stale_day in plan.stale:
        manifest = manifest.without_days(table, {stale_day})
    feedback_now = tuple(sorted(f.fingerprint for f in listing["feedback"]))
    if plan.stale or manifest.feedback != feedback_now or manifest is not current:
        manifest = mf.save(storage, replace(manifest, feedback=feedback_now), engine.name)
    for table, stale_day in plan.stale:
        path = relative_path(table, dt.date.fromisoformat(stale_day))
        storage.delete(path)
        removed.append(path)
    return RollupReport(
        engine.name,
        len(by_day),
        tuple(written),
        tuple(removed),
        rows,
        time.perf_counter() - started,
        tuple(engine.problems() + specs.problems()),
        tuple(t for t in TABLES if t in plan.rebuilt),
    )
