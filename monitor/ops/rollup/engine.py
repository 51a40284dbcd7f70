"""What the rollup job needs of an engine (DuckDB in process, or Spark): the input files,
the logs' feature columns, which days late labels touch, and one day's aggregates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

from monitor.core.schema import RecordKind
from monitor.core.tabular import Runner
from monitor.core.views import FeatureColumn
from monitor.ops.rollup.manifest import Fingerprint
from monitor.ops.rollup.tables import TableName
from monitor.queries.rollup import ModelSpec


@dataclass(frozen=True)
class InputFile:
    path: str
    """A local path or a URI (s3a://...), as the engine reads it."""
    day: dt.date | None
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> Fingerprint:
        return (self.path, self.size, self.mtime_ns)


@dataclass(frozen=True)
class DayResult:
    tables: Mapping[TableName, pa.Table]
    """Normalised (monitor.ops.rollup.tables.normalize) aggregates of the requested tables."""
    label_files: frozenset[str] = field(default_factory=frozenset)
    """The feedback files that hold the latest label of one of the day's predictions."""


@dataclass(frozen=True)
class Work:
    """One day to compute: its prediction files and the tables wanted."""

    files: Sequence[InputFile]
    tables: Collection[TableName]


class Specs(Protocol):
    def get(self, model_id: str) -> ModelSpec: ...


class Engine(Protocol):
    name: str

    def list_files(self, kind: RecordKind) -> list[InputFile]:
        """The kind's log files (JSONL left out where a Parquet file replaced it)."""
        ...

    def open(self, files: Mapping[RecordKind, Sequence[InputFile]]) -> None:
        """Read these files from now on (called once, after listing)."""
        ...

    def log_features(self) -> tuple[FeatureColumn, ...]:
        """The feature columns of all prediction files and their types (as the store's)."""
        ...

    def reference_runner(self) -> Runner:
        """Where reference datasets are profiled (DuckDB, on the driver for Spark)."""
        ...

    def prediction_days(self, feedback: Collection[str]) -> set[dt.date]:
        """Partition days of the predictions labeled by records of these feedback files."""
        ...

    def compute(
        self, work: Mapping[dt.date, Work], specs: Specs
    ) -> Iterator[tuple[dt.date, DayResult]]:
        """Per day (oldest first), the requested tables over the predictions of its files."""
        ...

    def problems(self) -> list[str]:
        """Input that could not be read (unreadable files, invalid lines), as sentences."""
        ...

    def close(self) -> None: ...
