# ruff: noqa: S608  (SQL built only from monitor.core.views, quote_literal and constants)
"""`monitor compact`: rewrite closed JSONL log files as Parquet without losing or doubling a record.

For each JSONL file `X.jsonl` of a past day that nobody has written to for `min_age`:

1. write its valid records to `.X.parquet.tmp` (hidden, ignored by the store), with the
   number of invalid lines in the footer metadata, fsync it and check the row count;
2. rename it to `X.parquet` (atomic). From this moment the store reads `X.parquet` and
   ignores `X.jsonl`, so the records are never seen twice;
3. retire `X.jsonl`: delete it, or move it to `logs/quarantine/` when it held invalid
   lines, so their raw bytes are kept.

A crash before 2 leaves the JSONL file in charge (the temp file is replaced next run);
a crash between 2 and 3 leaves a JSONL file that the next run retires. Running it
twice does nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from monitor.core import logfiles, schema, views
from monitor.core.schema import RECORD_KINDS, RecordKind
from monitor.core.sqlutil import quote_literal


@dataclass(frozen=True)
class CompactionReport:
    compacted: tuple[Path, ...]
    """JSONL files now replaced by Parquet files."""
    records: int
    """Valid records written to Parquet."""
    invalid_records: int
    """Invalid lines kept in quarantine (and counted in the Parquet footers)."""
    skipped_recent: int
    """JSONL files left alone because they are from today or were written to recently."""


def compact(
    data_dir: Path, *, min_age: dt.timedelta = dt.timedelta(hours=1), now: dt.datetime | None = None
) -> CompactionReport:
    moment = schema.to_utc(now) if now is not None else dt.datetime.now(dt.UTC)
    compacted: list[Path] = []
    records = invalid = skipped = 0
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET threads = 1")  # one small file at a time; keeps row order stable
        con.execute(views.MACROS)
        for kind in RECORD_KINDS:
            for jsonl in _jsonl_files(data_dir, kind):
                target = jsonl.with_suffix(".parquet")
                if target.exists():
                    footer = logfiles.read_footer(target)
                    if footer.error is None:  # interrupted after the rename: finish the job
                        _retire(data_dir, kind, jsonl, footer.invalid_records)
                        compacted.append(jsonl)
                        continue
                if not _is_closed(jsonl, moment, min_age):
                    skipped += 1
                    continue
                written, bad = _rewrite(con, kind, jsonl, target)
                _retire(data_dir, kind, jsonl, bad)
                compacted.append(jsonl)
                records += written
                invalid += bad
    finally:
        con.close()
    return CompactionReport(tuple(compacted), records, invalid, skipped)


def _jsonl_files(data_dir: Path, kind: RecordKind) -> list[Path]:
    root = schema.kind_dir(data_dir, kind)
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.glob("date=*/*.jsonl") if p.is_file() and not p.name.startswith(".")
    )


def _is_closed(path: Path, now: dt.datetime, min_age: dt.timedelta) -> bool:
    day = schema.partition_date(path)
    if day is None or day >= now.date():
        return False
    age = now.timestamp() - path.stat().st_mtime
    return age >= min_age.total_seconds()


def _rewrite(
    con: duckdb.DuckDBPyConnection, kind: RecordKind, source: Path, target: Path
) -> tuple[int, int]:
    """Write the valid records of `source` to `target`; return (records, invalid lines)."""
    files = [str(source)]
    features: list[views.FeatureColumn] = []
    if kind == "predictions":
        counts: dict[str, dict[str, int]] = {}
        for _, key, json_type, n in con.execute(views.feature_keys_sql(files)).fetchall():
            views.add_type_count(counts, key, json_type, n)
        features = views.feature_columns({k: views.feature_type(c) for k, c in counts.items()})
    invalid, by_model = 0, {}
    for _, count, named, models in con.execute(views.invalid_counts_sql(kind, files)).fetchall():
        invalid, by_model = int(count), views.attribute_invalid(int(count), named, models)
    select = (
        "SELECT * EXCLUDE (source_file) FROM (" + views.jsonl_select(kind, files, features) + ")"
    )
    temp = target.with_name("." + target.name + ".tmp")
    metadata = (
        "{"
        + quote_literal(schema.KV_INVALID_RECORDS)
        + ": "
        + quote_literal(str(invalid))
        + ", "
        + quote_literal(schema.KV_INVALID_BY_MODEL)
        + ": "
        + quote_literal(json.dumps(dict(sorted(by_model.items()))))
        + ", "
        + quote_literal(schema.KV_SOURCE_FILE)
        + ": "
        + quote_literal(source.name)
        + "}"
    )
    con.execute(
        "COPY ("
        + select
        + ") TO "
        + quote_literal(str(temp))
        + " (FORMAT parquet, COMPRESSION zstd, KV_METADATA "
        + metadata
        + ")"
    )
    written = logfiles.read_footer(temp).rows
    expected = con.execute("SELECT count(*) FROM (" + select + ")").fetchone()
    if expected is None or written != expected[0]:
        temp.unlink(missing_ok=True)
        raise RuntimeError(f"compaction of {source} wrote {written} rows, expected {expected}")
    _fsync(temp)
    os.replace(temp, target)
    _fsync(target.parent)
    return written, invalid


def _retire(data_dir: Path, kind: RecordKind, jsonl: Path, invalid: int) -> None:
    if invalid == 0:
        jsonl.unlink(missing_ok=True)
        return
    day_dir = jsonl.parent.name
    destination = data_dir / schema.LOGS_DIR / schema.QUARANTINE_DIR / kind / day_dir / jsonl.name
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists():
        destination = destination.with_name(f"{jsonl.stem}-{time.time_ns()}.jsonl")
    os.replace(jsonl, destination)


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
