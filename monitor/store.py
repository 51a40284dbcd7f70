"""The log store: one in-memory DuckDB connection per process with views over the log files.

Views: `predictions`, `feedback`, `system` and `labeled` (predictions with the latest
feedback label, else the inline label). They are rebuilt by `refresh()` when the set
of files changes (a cheap directory listing decides); queries run on a fresh cursor
per call so any number of threads can query at once. Analytic queries live as .sql
files in `monitor/sql/` and run through `fetch()`, with values always bound as
parameters.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from monitor import logfiles, views
from monitor.logfiles import LogFile, ParquetFooter
from monitor.schema import FEATURE_PREFIX, RECORD_KINDS, RecordKind
from monitor.sqlutil import quote_literal
from monitor.views import FeatureColumn


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
class _Snapshot:
    version: str
    files: Mapping[RecordKind, tuple[LogFile, ...]]
    features: tuple[FeatureColumn, ...]
    unreadable: tuple[InvalidRecords, ...]


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
        self._footers: dict[tuple[Path, int, int], ParquetFooter] = {}
        self._invalid_cache: tuple[str, tuple[InvalidRecords, ...]] | None = None
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
            self._snapshot = self._build(version, listing)
            return True

    # -- queries ---------------------------------------------------------------------------

    def fetch(self, query: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a named query from monitor/sql/<query>.sql with named parameters."""
        return self.execute(load_sql(query), params)

    def fetch_arrow(self, query: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Like fetch, as an Arrow table (for aggregates headed to a chart)."""
        sql = load_sql(query)
        return self._run(lambda cur: cur.execute(sql, dict(params or {})).to_arrow_table())

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL with bound parameters on a fresh cursor; retried once after a refresh
        if a file vanished underneath (compaction retiring a JSONL file)."""
        rows: list[tuple[Any, ...]] = self._run(
            lambda cur: cur.execute(sql, dict(params or {})).fetchall()
        )
        return rows

    def _run(self, action: Any) -> Any:
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
        cached = self._invalid_cache
        if cached is not None and cached[0] == snapshot.version:
            return cached[1]
        found: list[InvalidRecords] = list(snapshot.unreadable)
        for kind in RECORD_KINDS:
            jsonl = [f for f in snapshot.files[kind] if f.format == "jsonl"]
            by_path = {str(f.path): f for f in jsonl}
            if jsonl:
                rows = self.execute(views.invalid_counts_sql(kind, list(by_path)))
                for source, invalid, named, models in rows:
                    log_file = by_path[source]
                    by_model = views.attribute_invalid(int(invalid), named, models)
                    found.append(
                        InvalidRecords(log_file.path, kind, log_file.day, int(invalid), by_model)
                    )
            for log_file in snapshot.files[kind]:
                if log_file.format == "parquet":
                    footer = self._footer(log_file)
                    if footer.invalid_records and footer.error is None:
                        found.append(
                            InvalidRecords(
                                log_file.path,
                                kind,
                                log_file.day,
                                footer.invalid_records,
                                footer.invalid_by_model,
                            )
                        )
        result = tuple(sorted(found, key=lambda r: str(r.path)))
        self._invalid_cache = (snapshot.version, result)
        return result

    def close(self) -> None:
        self._con.close()

    # -- building the views ---------------------------------------------------------------

    def _footer(self, log_file: LogFile) -> ParquetFooter:
        key = (log_file.path, log_file.size, log_file.mtime_ns)
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
        features = self._discover_features(readable["predictions"])
        statements = [self._view_sql(kind, readable[kind], features) for kind in RECORD_KINDS] + [
            views.LABELED_VIEW
        ]
        cursor = self._con.cursor()
        try:
            cursor.execute("BEGIN")
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("COMMIT")
        finally:
            cursor.close()
        return _Snapshot(version, readable, tuple(features), tuple(unreadable))

    def _discover_features(self, files: Sequence[LogFile]) -> list[FeatureColumn]:
        types: dict[str, str] = {}
        for log_file in files:
            if log_file.format != "parquet":
                continue
            for name, arrow_type in self._footer(log_file).columns.items():
                if name.startswith(FEATURE_PREFIX):
                    key = name[len(FEATURE_PREFIX) :]
                    types[key] = views.unify_types(types.get(key), _arrow_sql_type(arrow_type))
        jsonl = [str(f.path) for f in files if f.format == "jsonl"]
        if jsonl:
            cursor = self._con.cursor()
            try:
                rows = cursor.execute(views.feature_keys_sql(jsonl)).fetchall()
            finally:
                cursor.close()
            by_key: dict[str, dict[str, int]] = {}
            for key, json_type, count in rows:
                by_key.setdefault(key, {})[json_type] = int(count)
            for key, type_counts in by_key.items():
                types[key] = views.unify_types(types.get(key), views.feature_type(type_counts))
        return views.feature_columns(types)

    def _view_sql(
        self, kind: RecordKind, files: Sequence[LogFile], features: Sequence[FeatureColumn]
    ) -> str:
        jsonl = [str(f.path) for f in files if f.format == "jsonl"]
        parquet = [f for f in files if f.format == "parquet"]
        parts: list[str] = []
        if jsonl:
            parts.append(views.jsonl_select(kind, jsonl, features))
        if parquet:
            available: dict[str, str] = {}
            for log_file in parquet:
                for name in self._footer(log_file).columns:
                    available.setdefault(name.lower(), name)
            parts.append(
                views.parquet_select(kind, [str(f.path) for f in parquet], available, features)
            )
        if not parts:
            parts.append(views.empty_select(kind, features))
        return views.view_sql(kind, parts)


def _arrow_sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "DOUBLE"
    return "VARCHAR"


def load_sql(name: str) -> str:
    """The text of monitor/sql/<name>.sql (a package resource)."""
    return resources.files("monitor").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
