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

from monitor import schema
from monitor.schema import RecordKind

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
class ParquetFooter:
    """What a Parquet log file's footer says, or why it could not be read."""

    columns: dict[str, pa.DataType]
    rows: int
    invalid_records: int
    invalid_by_model: dict[str, int] = field(default_factory=dict)
    error: str | None = None


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
    return ParquetFooter(columns, meta.num_rows, invalid, by_model)
