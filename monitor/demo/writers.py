"""Writing batches as compacted Parquet or live JSONL files, with a few planned bad lines."""

from __future__ import annotations

import json
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.core.schema import RecordKind, format_timestamp, partition_dir
from monitor.demo.batch import Batch
from monitor.demo.manifest import InvalidLine, WrittenFile
from monitor.demo.timeline import Scenario

JSONL_CAP = 20_000  # records per JSONL file; older records of that day go to Parquet
GARBAGE_LINE = "<<< not JSON: bytes from a crashed log rotation >>>"
BAD_TIMESTAMP = "2026-13-45T25:61:00"

Style = Literal["garbage", "missing_id", "bad_timestamp", "truncated"]


@dataclass(frozen=True)
class Corruption:
    """A malformed line to add to one JSONL file (`day` is the day index)."""

    kind: RecordKind
    model_id: str
    day: int
    style: Style
    reason: str


_UNIQUE_COLUMNS = frozenset({"prediction_id", "request_id"})


def write_parquet(table: pa.Table, path: Path) -> None:
    """Fixed settings so that equal tables give equal bytes; written via a .tmp name.

    Dictionary encoding only for text columns with few distinct values: trying it on
    ids and floats costs time and then falls back to plain encoding anyway.
    """
    dictionary = [
        field.name
        for field in table.schema
        if pa.types.is_string(field.type) and field.name not in _UNIQUE_COLUMNS
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", write_statistics=True, use_dictionary=dictionary)
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)


def _bad_line(style: Style, valid: list[str], fallback: dict[str, Any]) -> str:
    """The malformed line of `style`, modelled on the file's valid records."""
    if style == "garbage":
        return GARBAGE_LINE
    if style == "truncated":
        last = valid[-1] if valid else json.dumps(fallback, separators=(",", ":"))
        return last[: len(last) // 2]
    template = json.loads(valid[len(valid) // 2]) if valid else dict(fallback)
    if style == "missing_id":
        template.pop("prediction_id", None)
    else:
        template["timestamp"] = BAD_TIMESTAMP
    return json.dumps(template, separators=(",", ":"), ensure_ascii=False)


class LogWriter:
    """Writes each (kind, model, day) batch as one Parquet and/or one JSONL file.

    Parquet encoding runs on one background thread (pyarrow releases the GIL), so the
    next day is generated while the last one is written; at most MAX_IN_FLIGHT tables
    wait, which keeps memory bounded. Use as a context manager: leaving it waits for
    every write and re-raises a failed one.
    """

    MAX_IN_FLIGHT = 2

    def __init__(
        self,
        data_dir: Path,
        scenario: Scenario,
        jsonl_days: frozenset[int],
        corruptions: tuple[Corruption, ...],
    ) -> None:
        self._data_dir = data_dir
        self._scenario = scenario
        self._jsonl_days = jsonl_days
        self._corruptions = corruptions
        self.files: list[WrittenFile] = []
        self.invalid_lines: list[InvalidLine] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-parquet")
        self._in_flight: deque[Future[None]] = deque()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            while self._in_flight:
                self._in_flight.popleft().result()
        finally:
            self._pool.shutdown(wait=True)

    def _write_parquet_later(self, table: pa.Table, path: Path) -> None:
        while len(self._in_flight) >= self.MAX_IN_FLIGHT:
            self._in_flight.popleft().result()
        self._in_flight.append(self._pool.submit(write_parquet, table, path))

    def write(self, kind: RecordKind, model_id: str, day: int, batch: Batch) -> None:
        directory = partition_dir(self._data_dir, kind, self._scenario.day(day))
        n = len(batch)
        as_json = min(n, JSONL_CAP) if day in self._jsonl_days else 0
        planned = [
            c for c in self._corruptions if (c.kind, c.model_id, c.day) == (kind, model_id, day)
        ]
        if n - as_json > 0:
            path = directory / f"part-{model_id}.parquet"
            self._write_parquet_later(batch.select(slice(0, n - as_json)).to_table(), path)
            self._record(path, kind, model_id, day, "parquet", n - as_json, 0)
        if as_json > 0 or planned:
            path = directory / f"demo-{model_id}.jsonl"
            self._write_jsonl(
                path, kind, model_id, day, batch.select(slice(n - as_json, n)), planned
            )

    def _write_jsonl(
        self,
        path: Path,
        kind: RecordKind,
        model_id: str,
        day: int,
        batch: Batch,
        planned: list[Corruption],
    ) -> None:
        valid = batch.to_lines()
        fallback = {
            "prediction_id": f"{model_id}-unknown",
            "timestamp": format_timestamp(self._scenario.day_start(day) / 1_000_000),
            "model_id": model_id,
        }
        lines = list(valid)
        placed: list[tuple[int, Corruption]] = []
        # Bad lines go in the middle; a truncated line (no newline after it) goes last.
        for corruption in planned:
            if corruption.style != "truncated":
                position = len(lines) // 2
                lines.insert(position, _bad_line(corruption.style, valid, fallback))
                placed = [(n + 1 if n > position else n, c) for n, c in placed]
                placed.append((position + 1, corruption))
        truncated = [c for c in planned if c.style == "truncated"]
        for corruption in truncated[:1]:
            lines.append(_bad_line("truncated", valid, fallback))
            placed.append((len(lines), corruption))
        for number, corruption in sorted(placed, key=lambda item: item[0]):
            self.invalid_lines.append(
                InvalidLine(self._relative(path), number, kind, model_id, corruption.reason)
            )
        write_text(path, "\n".join(lines) + ("" if truncated else "\n"))
        self._record(path, kind, model_id, day, "jsonl", len(valid), len(placed))

    def _relative(self, path: Path) -> str:
        return path.relative_to(self._data_dir).as_posix()

    def _record(
        self, path: Path, kind: str, model_id: str, day: int, fmt: str, records: int, invalid: int
    ) -> None:
        date = self._scenario.day(day).isoformat()
        self.files.append(
            WrittenFile(self._relative(path), kind, model_id, fmt, date, records, invalid)
        )
