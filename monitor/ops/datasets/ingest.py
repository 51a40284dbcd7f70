"""Uploaded datasets, read by their content, not by their file name.

`read_upload` (bytes from the dashboard), `read_uploads` (several files that make one
dataset), `read_path` / `read_paths` (the CLI) all end in one `Ingested`: an Arrow
table with safe, unique column names and a typed column each, plus a report of what
was repaired, in sentences a person can act on. Anything that cannot be read is an
`UploadError` whose message says what is wrong and what to do. Nothing is written
here: `storage.save_dataset` stores the result.

The steps: each file's bytes to raw columns (`formats`: the format from the content,
`text` / `csv_text` / `jsonl_text` for encodings and delimiters), names repaired and
files joined (`repairs`), then each column typed (`column_types`) and reported here.
docs/datasets.md lists every rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pyarrow as pa

from monitor.ops.datasets import column_types as types
from monitor.ops.datasets.column_types import COLUMN_TYPES, ColumnType
from monitor.ops.datasets.formats import FileFormat, Parsed, parse
from monitor.ops.datasets.repairs import combine
from monitor.ops.datasets.text import UploadError, show

__all__ = [
    "COLUMN_TYPES",
    "ColumnReport",
    "ColumnType",
    "Ingested",
    "SchemaComparison",
    "UploadError",
    "compare_schemas",
    "read_path",
    "read_paths",
    "read_upload",
    "read_uploads",
]

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ColumnReport:
    name: str
    """The column's name in the stored dataset (repaired: unique, trimmed, non-empty)."""
    original_name: str
    """The name as the file had it."""
    inferred_type: ColumnType
    """numeric, categorical, boolean, datetime or text (after any override)."""
    missing: int
    problems: tuple[str, ...] = ()
    """What was repaired or noticed in this column, as sentences."""


@dataclass(frozen=True)
class Ingested:
    table: pa.Table
    source_name: str
    format: FileFormat
    encoding: str | None
    """How the text was decoded (e.g. "UTF-8", "Latin-1 (ISO-8859-1)"); None for Parquet."""
    delimiter: str | None
    sha256: str
    """Of the file's bytes; of the sorted per-file digests when several files were read."""
    size_bytes: int
    rows: int
    columns: tuple[ColumnReport, ...]
    repairs: tuple[str, ...] = ()
    """File-level repairs and notices, as sentences (encoding, renamed columns, ...)."""
    source_files: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> ColumnReport:
        for report in self.columns:
            if report.name == name:
                return report
        raise UploadError(f"no column {name!r} in {self.source_name}")


@dataclass(frozen=True)
class SchemaComparison:
    shared: tuple[str, ...]
    only_in_reference: tuple[str, ...]
    only_in_current: tuple[str, ...]
    type_changes: tuple[tuple[str, str, str], ...]
    """(name, reference type, current type); categorical and text count as one type."""

    @property
    def identical(self) -> bool:
        return not (self.only_in_reference or self.only_in_current or self.type_changes)


# -- entry points ---------------------------------------------------------------------


def read_upload(
    data: bytes,
    source_name: str,
    *,
    max_bytes: int,
    type_overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Ingested:
    """One uploaded file (see the module docstring)."""
    return read_uploads(
        [(source_name, data)],
        max_bytes=max_bytes,
        type_overrides=type_overrides,
        progress=progress,
    )


def read_uploads(
    files: Sequence[tuple[str, bytes]],
    *,
    max_bytes: int,
    type_overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Ingested:
    """Several files that make one dataset: the same format and the same columns (in any
    order) are required; their rows are concatenated in the order given."""
    report = progress or _no_progress
    if not files:
        raise UploadError("no file was given: choose a CSV, Parquet or JSONL file")
    total = sum(len(data) for _, data in files)
    _check_size(total, max_bytes, files[0][0] if len(files) == 1 else None)
    parts: list[Parsed] = []
    for index, (name, data) in enumerate(files):
        report(0.05 + 0.45 * index / len(files), f"reading {name}")
        try:
            parts.append(parse(data))
        except UploadError as exc:
            raise UploadError(f"{name}: {exc}") from None
    names = [name for name, _ in files]
    report(0.5, "checking columns and types")
    combined, originals, repairs = combine(parts, names)
    raw = [combined]
    del combined
    first, typed = parts[0].format, parts[0].typed
    comma = all(p.delimiter == ";" for p in parts)
    encoding = _joined(p.encoding for p in parts)
    delimiter = _joined(p.delimiter for p in parts)
    del parts  # the text columns are let go one by one as they are converted
    table, columns, notes = _typed(raw, originals, typed, comma, type_overrides or {}, report)
    repairs.extend(notes)
    digests = [hashlib.sha256(data).hexdigest() for _, data in files]
    digest = digests[0] if len(digests) == 1 else _combined(digests)
    report(1.0, "done")
    return Ingested(
        table=table,
        source_name=_source_name(names),
        format=first,
        encoding=encoding,
        delimiter=delimiter,
        sha256=digest,
        size_bytes=total,
        rows=table.num_rows,
        columns=columns,
        repairs=tuple(repairs),
        source_files=tuple(names),
    )


def read_path(
    path: Path,
    *,
    max_bytes: int,
    type_overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Ingested:
    """A file on disk; its size is checked before it is read."""
    return read_paths([path], max_bytes=max_bytes, type_overrides=type_overrides, progress=progress)


def read_paths(
    paths: Sequence[Path],
    *,
    max_bytes: int,
    type_overrides: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Ingested:
    """Several files on disk that make one dataset (see `read_uploads`)."""
    total = 0
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise UploadError(f"{path}: no such file")
        total += path.stat().st_size
    _check_size(total, max_bytes, Path(paths[0]).name if len(paths) == 1 else None)
    files = []
    for path in paths:
        try:
            files.append((Path(path).name, Path(path).read_bytes()))
        except OSError as exc:
            raise UploadError(f"{path}: cannot read it ({exc.strerror})") from None
    return read_uploads(
        files, max_bytes=max_bytes, type_overrides=type_overrides, progress=progress
    )


def compare_schemas(
    reference: Sequence[ColumnReport | tuple[str, str]],
    current: Sequence[ColumnReport | tuple[str, str]],
) -> SchemaComparison:
    """Which columns the two sides share, which only one has, and type changes."""
    ref, cur = _types_of(reference), _types_of(current)
    shared = tuple(name for name in ref if name in cur)
    changes = tuple(
        (name, ref[name], cur[name]) for name in shared if _family(ref[name]) != _family(cur[name])
    )
    return SchemaComparison(
        shared=shared,
        only_in_reference=tuple(name for name in ref if name not in cur),
        only_in_current=tuple(name for name in cur if name not in ref),
        type_changes=changes,
    )


def _types_of(columns: Sequence[ColumnReport | tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in columns:
        if isinstance(column, ColumnReport):
            found[column.name] = column.inferred_type
        else:
            found[column[0]] = column[1]
    return found


def _family(kind: str) -> str:
    return "categorical" if kind == "text" else kind


def _no_progress(fraction: float, message: str) -> None:
    del fraction, message


def _megabytes(size: int) -> str:
    value = size / 2**20
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _check_size(total: int, max_bytes: int, name: str | None) -> None:
    if max_bytes > 0 and total > max_bytes:
        what = f"{name}: the file is" if name else "the files are together"
        raise UploadError(
            f"{what} {_megabytes(total)} MB, above the upload limit of {_megabytes(max_bytes)} "
            "MB: upload a smaller file (or a sample), or raise [uploads] max_mb in monitor.toml"
        )


# -- column types and reports ---------------------------------------------------------


def _typed(
    raw: list[pa.Table],
    originals: Mapping[str, str],
    typed: bool,
    decimal_comma: bool,
    overrides: Mapping[str, str],
    report: Progress,
) -> tuple[pa.Table, tuple[ColumnReport, ...], list[str]]:
    """Each column converted to its type; the reports; sentences on columns left out.
    `raw` holds the one table of text columns, taken out so that each column can be
    freed once it is converted (peak memory)."""
    names = raw[0].column_names
    rows = raw[0].num_rows
    pending: list[pa.ChunkedArray | None] = list(raw.pop().columns)
    if not names:
        raise UploadError("no usable columns: the file names no column")
    for name, kind in overrides.items():
        if name not in names:
            raise UploadError(
                f"cannot set the type of {show(name)}: there is no such column "
                f"(columns: {', '.join(show(n, 30) for n in names[:10])})"
            )
        if kind not in COLUMN_TYPES:
            raise UploadError(
                f"unknown type {kind!r} for column {show(name)}: use one of "
                + ", ".join(COLUMN_TYPES)
            )
    arrays: list[pa.ChunkedArray] = []
    reports: list[ColumnReport] = []
    left_out: list[str] = []
    for index, name in enumerate(names):
        report(0.5 + 0.45 * index / len(names), f"reading column {index + 1} of {len(names)}")
        column = pending[index]
        pending[index] = None
        assert column is not None
        converted: types.Converted | None
        if name in overrides:
            kind = cast(ColumnType, overrides[name])
            converted = types.convert(column, kind, name=name, decimal_comma_first=decimal_comma)
        elif typed:
            converted = types.from_typed(column)
        else:
            converted = types.infer_text(column, decimal_comma_first=decimal_comma)
        if converted is None:
            left_out.append(f"{show(name)} ({column.type})")
            continue
        arrays.append(converted.array)
        reports.append(
            ColumnReport(
                name, originals[name], converted.type, converted.missing, converted.problems
            )
        )
    if not reports:
        raise UploadError(
            "no usable columns: none holds numbers, text, booleans or dates "
            f"({', '.join(left_out[:5])}); save the data with plain columns"
        )
    if all(r.missing == rows for r in reports):
        raise UploadError(
            "no usable columns: every value in the file is empty; choose the file that holds "
            "the data"
        )
    notes = [
        f"column {column} left out: its type is not supported (numbers, text, booleans and "
        "dates are)"
        for column in left_out
    ]
    table = pa.Table.from_arrays(arrays, names=[r.name for r in reports])
    return table, tuple(reports), notes


def _combined(digests: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest()


def _joined(values: Iterable[str | None]) -> str | None:
    found = [v for v in dict.fromkeys(values) if v is not None]
    return ", ".join(found) if found else None


def _source_name(names: Sequence[str]) -> str:
    joined = ", ".join(names)
    if len(joined) <= 200:
        return joined
    return f"{names[0]} and {len(names) - 1} more files"
