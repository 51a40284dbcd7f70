"""Finding log files on disk and reading what their Parquet footers say.

Pure file-system work, no SQL: the store builds its views from the `LogFile` list this
module returns, and compaction uses the same listing so both agree on which file
replaces which.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.core import schema
from monitor.core.schema import RecordKind

FileFormat = Literal["jsonl", "parquet"]
_SUFFIXES: dict[str, FileFormat] = {".jsonl": "jsonl", ".parquet": "parquet"}


@dataclass(frozen=True)
class LogFile:
    path: Path
    kind: RecordKind
    format: FileFormat
    day: dt.date | None
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class VersionSlice:
    """The predictions of one model version in one file (or, summed up, in the logs)."""

    model_id: str
    version: str
    """'' when predictions were logged without a version."""
    predictions: int
    first_seen: dt.datetime
    last_seen: dt.datetime


@dataclass(frozen=True)
class ParquetFooter:
    """What a Parquet log file's footer says, or why it could not be read."""

    columns: dict[str, pa.DataType]
    rows: int
    invalid_records: int
    invalid_by_model: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    slice: VersionSlice | None = None
    """Set when the statistics show one model version in the whole file: the inventory
    then needs no scan (true for compacted per-writer files and the demo)."""


def list_log_files(data_dir: Path, kind: RecordKind) -> list[LogFile]:
    """Every JSONL/Parquet file of `kind`, sorted by path, skipping temp and hidden files.

    A JSONL file whose Parquet replacement (same name, .parquet) exists is left out: a
    compaction that was interrupted after the rename must not show records twice.
    """
    root = schema.kind_dir(data_dir, kind)
    found: list[LogFile] = []
    try:
        partitions = sorted(os.scandir(root), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    for partition in partitions:
        if not partition.is_dir() or partition.name.startswith("."):
            continue
        try:
            entries = sorted(os.scandir(partition.path), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            fmt = _SUFFIXES.get(Path(entry.name).suffix)
            if fmt is None or entry.name.startswith(".") or not entry.is_file():
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:  # removed while we looked (compaction)
                continue
            path = Path(entry.path)
            found.append(
                LogFile(
                    path, kind, fmt, schema.partition_date(path), stat.st_size, stat.st_mtime_ns
                )
            )
    parquet_stems = {f.path.with_suffix("") for f in found if f.format == "parquet"}
    return [
        f for f in found if f.format == "parquet" or f.path.with_suffix("") not in parquet_stems
    ]


def signature(files: list[LogFile]) -> str:
    """A short digest that changes whenever a file is added, removed or modified."""
    digest = hashlib.blake2b(digest_size=12)
    for f in files:
        digest.update(f"{f.path}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()


def read_footer(path: Path) -> ParquetFooter:
    """Schema, row count and our invalid-record count from a Parquet footer.

    Never raises: a truncated or non-Parquet file comes back with `error` set so the
    store can leave it out and report it instead of failing every query.
    """
    try:
        meta = pq.read_metadata(path)
        arrow_schema = meta.schema.to_arrow_schema()
    except (OSError, pa.ArrowException, ValueError) as exc:
        return ParquetFooter({}, 0, 0, error=f"unreadable Parquet file: {exc}")
    kv = meta.metadata or {}
    raw_invalid = kv.get(schema.KV_INVALID_RECORDS.encode(), b"0")
    try:
        invalid = int(raw_invalid.decode())
    except ValueError:
        invalid = 0
    try:
        raw_by_model = json.loads(kv.get(schema.KV_INVALID_BY_MODEL.encode(), b"{}"))
        by_model = {str(k): int(v) for k, v in raw_by_model.items()}
    except (ValueError, TypeError, AttributeError):
        by_model = {}
    columns = {f.name: f.type for f in arrow_schema}
    return ParquetFooter(
        columns, meta.num_rows, invalid, by_model, slice=_single_slice(meta, arrow_schema)
    )


_UNITS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _single_slice(meta: pq.FileMetaData, arrow_schema: pa.Schema) -> VersionSlice | None:
    """One model version's slice from row-group statistics, if the file holds just one.

    Timestamps are read from the raw int64 statistics: pyarrow's conversion of each
    min/max to a datetime costs milliseconds per value."""
    names = arrow_schema.names
    if meta.num_rows == 0 or "model_id" not in names or "timestamp" not in names:
        return None
    stamp_type = arrow_schema.field("timestamp").type
    if not pa.types.is_timestamp(stamp_type) or stamp_type.tz is None:
        return None
    per_second = _UNITS_PER_SECOND[stamp_type.unit]
    index = {
        name: names.index(name)
        for name in ("model_id", "model_version", "timestamp")
        if name in names
    }
    models: set[object] = set()
    versions: set[object] = set()
    firsts: list[int] = []
    lasts: list[int] = []
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        if group.num_rows == 0:
            continue
        model = group.column(index["model_id"]).statistics
        stamp = group.column(index["timestamp"]).statistics
        if model is None or stamp is None or not (model.has_min_max and stamp.has_min_max):
            return None
        if model.null_count or stamp.null_count:
            return None
        models |= {model.min, model.max}
        firsts.append(stamp.min_raw)
        lasts.append(stamp.max_raw)
        if "model_version" in index:
            version = group.column(index["model_version"]).statistics
            if version is None:
                return None
            if version.null_count == group.num_rows:
                versions.add("")
            elif version.null_count or not version.has_min_max:
                return None
            else:
                versions |= {version.min, version.max}
        else:
            versions.add("")
    if len(models) != 1 or len(versions) != 1 or not firsts:
        return None
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def moment(raw: int) -> dt.datetime:
        seconds, fraction = divmod(raw, per_second)
        return epoch + dt.timedelta(
            seconds=seconds, microseconds=fraction * 1_000_000 // per_second
        )

    return VersionSlice(
        str(models.pop()),
        str(versions.pop()),
        meta.num_rows,
        moment(min(firsts)),
        moment(max(lasts)),
    )
