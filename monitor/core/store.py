"""The log store: one in-memory DuckDB connection per process with views over the log files.

Views: `predictions`, `feedback`, `system` and `labeled` (predictions with the latest
feedback label, else the inline label). `refresh()` rebuilds them when the set of files
changes (a cheap directory listing decides). Parquet files are read in place, with
filters pushed into the scan. JSONL files (the recent, still-growing logs) are parsed
once into in-memory tables, incrementally per changed file, so a query never re-parses
JSON. What each file holds (feature types, invalid lines, model versions) is worked out
once per file version and kept. Queries run on a fresh cursor per call, so any number
of threads can query at once. Analytic queries live as .sql files in `monitor/sql/`
and run through `fetch()`, with values always bound as parameters.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from monitor.core import logfiles, views
from monitor.core.logfiles import LogFile, ParquetFooter, VersionSlice
from monitor.core.schema import FEATURE_PREFIX, RECORD_KINDS, RecordKind
from monitor.core.sqlutil import quote_literal
from monitor.core.views import FeatureColumn

T = TypeVar("T")
FileKey = tuple[Path, int, int]


@dataclass(frozen=True)
class InvalidRecords:
    """Invalid records found in one log file (or a file that cannot be read at all)."""

    path: Path
    kind: RecordKind
    day: dt.date | None
    count: int
    by_model: Mapping[str, int] = field(default_factory=dict)
    unreadable: str | None = None


@dataclass(frozen=True)
class _JsonlFacts:
    feature_types: Mapping[str, Mapping[str, int]]
    """feature key -> JSON type -> number of values (predictions only)."""
    invalid: int
    invalid_by_model: Mapping[str, int]


@dataclass(frozen=True)
class _Snapshot:
    version: str
    files: Mapping[RecordKind, tuple[LogFile, ...]]
    features: tuple[FeatureColumn, ...]
    unreadable: tuple[InvalidRecords, ...]


@dataclass(frozen=True)
class _Materialized:
    features: tuple[FeatureColumn, ...]
    files: frozenset[FileKey]


def _key(log_file: LogFile) -> FileKey:
    return (log_file.path, log_file.size, log_file.mtime_ns)


class LogStore:
    """Views over `<data_dir>/logs`. Create one per process and share it between threads."""

    def __init__(self, data_dir: Path, *, memory_limit: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET GLOBAL TimeZone = 'UTC'")
        if memory_limit:
            if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory_limit):
                raise ValueError(f"memory_limit must look like '1GB', got {memory_limit!r}")
            self._con.execute("SET GLOBAL memory_limit = " + quote_literal(memory_limit))
        self._con.execute(views.MACROS)
        self._lock = threading.Lock()
        self._footers: dict[FileKey, ParquetFooter] = {}
        self._jsonl_facts: dict[FileKey, _JsonlFacts] = {}
        self._scanned_slices: dict[FileKey, tuple[VersionSlice, ...]] = {}
        self._materialized: dict[RecordKind, _Materialized] = {}
        self._per_version: dict[str, Any] = {}
        self._snapshot = _Snapshot("", {k: () for k in RECORD_KINDS}, (), ())
        self.refresh()

    # -- state -----------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """Changes whenever a log file is added, removed or modified (a cache key)."""
        return self._snapshot.version

    @property
    def features(self) -> tuple[FeatureColumn, ...]:
        return self._snapshot.features

    def files(self, kind: RecordKind) -> tuple[LogFile, ...]:
        return self._snapshot.files[kind]

    def refresh(self, *, force: bool = False) -> bool:
        """Rebuild the views if the log files changed since the last build. Returns True if so."""
        with self._lock:
            listing = {kind: logfiles.list_log_files(self.data_dir, kind) for kind in RECORD_KINDS}
            version = logfiles.signature([f for kind in RECORD_KINDS for f in listing[kind]])
            if version == self._snapshot.version and not force:
                return False
            if force:
                self._materialized.clear()
            self._snapshot = self._build(version, listing)
            self._per_version.clear()
            return True

    # -- queries ---------------------------------------------------------------------------

    def fetch(self, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a named query from monitor/sql/<query>.sql with named parameters."""
        return self.execute(load_sql(query), params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL with bound parameters on a fresh cursor; retried once after a refresh
        if a file vanished underneath (compaction retiring a JSONL file)."""
        rows: list[tuple[Any, ...]] = self._run(
            lambda cur: cur.execute(sql, dict(params or {})).fetchall()
        )
        return rows

    def fetch_arrays(self, sql: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Like `execute`, but columns as numpy arrays (NULLs masked): for bounded samples
        of raw values (a statistic that needs them), never for whole tables."""
        arrays: dict[str, Any] = self._run(
            lambda cur: cur.execute(sql, dict(params or {})).fetchnumpy()
        )
        return arrays

    def fetch_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Like `execute`, but as an Arrow table: for aggregates with many rows (rollups)."""
        table: pa.Table = self._run(
            lambda cur: cur.sql(sql, params=dict(params or {})).to_arrow_table()
        )
        return table

    def _run(self, action: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        for attempt in range(2):
            cursor = self._con.cursor()
            try:
                return action(cursor)
            except duckdb.IOException:
                if attempt == 1:
                    raise
                self.refresh(force=True)
            finally:
                cursor.close()
        raise AssertionError("unreachable")

    def invalid_records(self) -> tuple[InvalidRecords, ...]:
        """Invalid records per file: JSONL lines that are not valid records, counts carried
        over by compaction in Parquet footers, and Parquet files that cannot be read."""
        snapshot = self._snapshot
        found: list[InvalidRecords] = list(snapshot.unreadable)
        for kind in RECORD_KINDS:
            for log_file in snapshot.files[kind]:
                if log_file.format == "jsonl":
                    facts = self._jsonl_facts[_key(log_file)]
                    count, by_model = facts.invalid, facts.invalid_by_model
                else:
                    footer = self._footers[_key(log_file)]
                    count, by_model = footer.invalid_records, footer.invalid_by_model
                if count:
                    found.append(InvalidRecords(log_file.path, kind, log_file.day, count, by_model))
        return tuple(sorted(found, key=lambda r: str(r.path)))

    def version_slices(self) -> tuple[VersionSlice, ...]:
        """Predictions per model version and file, from Parquet statistics where they
        suffice, else from one scan per file version, kept; JSONL from its table."""
        snapshot = self._snapshot
        cached = self._per_version.get(snapshot.version)
        if cached is not None:
            result: tuple[VersionSlice, ...] = cached
            return result
        slices: list[VersionSlice] = []
        unscanned: list[LogFile] = []
        for log_file in snapshot.files["predictions"]:
            if log_file.format != "parquet":
                continue
            footer_slice = self._footers[_key(log_file)].slice
            if footer_slice is not None:
                slices.append(footer_slice)
            elif _key(log_file) in self._scanned_slices:
                slices += self._scanned_slices[_key(log_file)]
            else:
                unscanned.append(log_file)
        if unscanned:
            by_file: dict[str, list[VersionSlice]] = {str(f.path): [] for f in unscanned}
            for source, *fields in self.execute(
                views.slices_sql("predictions", only_files=True), {"files": list(by_file)}
            ):
                by_file[source].append(VersionSlice(*fields))
            for log_file in unscanned:
                found = tuple(by_file[str(log_file.path)])
                self._scanned_slices[_key(log_file)] = found
                slices += found
        if any(f.format == "jsonl" for f in snapshot.files["predictions"]):
            relation = views.jsonl_table("predictions")
            for _, *fields in self.execute(views.slices_sql(relation, only_files=False)):
                slices.append(VersionSlice(*fields))
        result = tuple(slices)
        self._per_version[snapshot.version] = result
        return result

    def close(self) -> None:
        self._con.close()

    # -- building the views ---------------------------------------------------------------

    def _footer(self, log_file: LogFile) -> ParquetFooter:
        key = _key(log_file)
        footer = self._footers.get(key)
        if footer is None:
            footer = logfiles.read_footer(log_file.path)
            self._footers[key] = footer
        return footer

    def _build(self, version: str, listing: Mapping[RecordKind, list[LogFile]]) -> _Snapshot:
        unreadable: list[InvalidRecords] = []
        readable: dict[RecordKind, tuple[LogFile, ...]] = {}
        for kind in RECORD_KINDS:
            keep: list[LogFile] = []
            for log_file in listing[kind]:
                footer = self._footer(log_file) if log_file.format == "parquet" else None
                if footer is not None and footer.error is not None:
                    unreadable.append(
                        InvalidRecords(log_file.path, kind, log_file.day, 0, {}, footer.error)
                    )
                else:
                    keep.append(log_file)
            readable[kind] = tuple(keep)
            self._learn_jsonl(kind, [f for f in keep if f.format == "jsonl"])
        features = self._discover_features(readable["predictions"])
        cursor = self._con.cursor()
        try:
            cursor.execute("BEGIN")
            for kind in RECORD_KINDS:
                jsonl = [f for f in readable[kind] if f.format == "jsonl"]
                kind_features = features if kind == "predictions" else []
                self._materialize(cursor, kind, jsonl, kind_features)
                cursor.execute(self._view_sql(kind, readable[kind], kind_features))
            cursor.execute(views.LABELED_VIEW)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            self._materialized.clear()
            raise
        finally:
            cursor.close()
        return _Snapshot(version, readable, tuple(features), tuple(unreadable))

    def _learn_jsonl(self, kind: RecordKind, files: Sequence[LogFile]) -> None:
        """Work out feature types and invalid lines of JSONL files not seen in this version."""
        new = [f for f in files if _key(f) not in self._jsonl_facts]
        if not new:
            return
        paths = [str(f.path) for f in new]
        types: dict[str, dict[str, dict[str, int]]] = {p: {} for p in paths}
        if kind == "predictions":
            for source, key, json_type, n in self.execute(views.feature_keys_sql(paths)):
                views.add_type_count(types[source], key, json_type, n)
        invalid: dict[str, tuple[int, dict[str, int]]] = {}
        for source, count, named, models in self.execute(views.invalid_counts_sql(kind, paths)):
            invalid[source] = (int(count), views.attribute_invalid(int(count), named, models))
        for log_file, path in zip(new, paths, strict=True):
            count, by_model = invalid.get(path, (0, {}))
            self._jsonl_facts[_key(log_file)] = _JsonlFacts(types[path], count, by_model)

    def _discover_features(self, files: Sequence[LogFile]) -> list[FeatureColumn]:
        types: dict[str, str] = {}
        for log_file in files:
            if log_file.format == "parquet":
                for name, arrow_type in self._footer(log_file).columns.items():
                    if name.startswith(FEATURE_PREFIX):
                        key = name[len(FEATURE_PREFIX) :]
                        types[key] = views.unify_types(types.get(key), _arrow_sql_type(arrow_type))
        counts: dict[str, dict[str, int]] = {}
        for log_file in files:
            if log_file.format == "jsonl":
                for key, by_type in self._jsonl_facts[_key(log_file)].feature_types.items():
                    for json_type, n in by_type.items():
                        views.add_type_count(counts, key, json_type, n)
        for key, type_counts in counts.items():
            types[key] = views.unify_types(types.get(key), views.feature_type(type_counts))
        return views.feature_columns(types)

    def _materialize(
        self,
        cursor: duckdb.DuckDBPyConnection,
        kind: RecordKind,
        files: Sequence[LogFile],
        features: Sequence[FeatureColumn],
    ) -> None:
        """Bring the kind's JSONL table up to date: re-parse only new or changed files,
        unless the feature columns changed, which rebuilds the table."""
        keys = frozenset(_key(f) for f in files)
        previous = self._materialized.get(kind)
        if previous is None or previous.features != tuple(features):
            cursor.execute(
                views.create_jsonl_table_sql(kind, [str(f.path) for f in files], features)
            )
        else:
            stale = sorted({str(k[0]) for k in previous.files - keys})
            fresh = [str(f.path) for f in files if _key(f) not in previous.files]
            if stale:
                cursor.execute(views.delete_from_jsonl_table_sql(kind), {"files": stale})
            if fresh:
                cursor.execute(views.insert_into_jsonl_table_sql(kind, fresh, features))
        self._materialized[kind] = _Materialized(tuple(features), keys)

    def _view_sql(
        self, kind: RecordKind, files: Sequence[LogFile], features: Sequence[FeatureColumn]
    ) -> str:
        parquet = [f for f in files if f.format == "parquet"]
        parts = [views.jsonl_table_select(kind)]
        if parquet:
            types: dict[str, set[str | None]] = {}
            spelling: dict[str, str] = {}
            for log_file in parquet:
                for name, arrow_type in self._footer(log_file).columns.items():
                    spelling.setdefault(name.lower(), name)
                    types.setdefault(name.lower(), set()).add(_arrow_exact_type(arrow_type))
            available = {
                key: views.ParquetColumn(spelling[key], next(iter(t)) if len(t) == 1 else None)
                for key, t in types.items()
            }
            parts.append(
                views.parquet_select(kind, [str(f.path) for f in parquet], available, features)
            )
        return views.view_sql(kind, parts)


def _arrow_sql_type(arrow_type: pa.DataType) -> str:
    """The feature column type (DOUBLE / BOOLEAN / VARCHAR) for a Parquet column."""
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "DOUBLE"
    return "VARCHAR"


def _arrow_exact_type(arrow_type: pa.DataType) -> str | None:
    """The DuckDB type a Parquet column of this Arrow type reads as, for the types we use."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    if pa.types.is_float64(arrow_type):
        return "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz is not None:
        return "TIMESTAMPTZ"
    return None


def load_sql(name: str) -> str:
    """The text of monitor/sql/<name>.sql (a package resource)."""
    return (
        resources.files("monitor.core").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    )
