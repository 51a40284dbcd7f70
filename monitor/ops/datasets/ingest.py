"""Uploaded datasets, read by their content, not by their file name.

`read_upload` (bytes from the dashboard), `read_uploads` (several files that make one
dataset), `read_path` / `read_paths` (the CLI) all end in one `Ingested`: an Arrow
table with safe, unique column names and a typed column each, plus a report of what
was repaired, in sentences a person can act on. Anything that cannot be read is an
`UploadError` whose message says what is wrong and what to do. Nothing is written
here: `monitor.datasets` stores the result.

The format comes from the bytes: Parquet by its `PAR1` head and tail; ZIP (Excel
workbooks), gzip, PDF, images, executables and other binaries are refused by their
signatures or their NUL bytes; text is JSON Lines when its first line is a JSON object,
else CSV (see `monitor.ingest_text` for encodings and delimiters and
`monitor.ingest_types` for column types). docs/datasets.md lists every rule.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal, cast

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.ops.datasets import column_types as types
from monitor.ops.datasets import text
from monitor.ops.datasets.column_types import COLUMN_TYPES, ColumnType
from monitor.ops.datasets.text import UploadError

__all__ = [
    "COLUMN_TYPES",
    "ColumnReport",
    "ColumnType",
    "FileFormat",
    "Ingested",
    "SchemaComparison",
    "UploadError",
    "compare_schemas",
    "read_path",
    "read_paths",
    "read_upload",
    "read_uploads",
]

FileFormat = Literal["csv", "parquet", "jsonl"]
Progress = Callable[[float, str], None]
MAX_NAME_CHARS: Final = 1000
"""Longer column names are cut (a header cell of a megabyte is not a name)."""

_FORMAT_NAMES: Final = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines"}
_NUMBER_NAME: Final = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (
        b"\x1f\x8b",
        "this file is gzip-compressed: decompress it (e.g. gunzip) and upload the file inside",
    ),
    (b"\xfd7zXZ\x00", "this file is xz-compressed: decompress it and upload the file inside"),
    (b"\x28\xb5\x2f\xfd", "this file is zstd-compressed: decompress it and upload the file inside"),
    (b"BZh", "this file is bzip2-compressed: decompress it and upload the file inside"),
    (b"7z\xbc\xaf\x27\x1c", "this is a 7-Zip archive: extract it and upload the file inside"),
    (b"Rar!\x1a\x07", "this is a RAR archive: extract it and upload the file inside"),
    (b"%PDF-", "this is a PDF document, not a data table: export the data as CSV"),
    (
        b"\x89PNG\r\n\x1a\n",
        "this is a PNG image, not a data table: upload a CSV, Parquet or JSONL file",
    ),
    (
        b"\xff\xd8\xff",
        "this is a JPEG image, not a data table: upload a CSV, Parquet or JSONL file",
    ),
    (b"GIF8", "this is a GIF image, not a data table: upload a CSV, Parquet or JSONL file"),
    (b"\x7fELF", "this is a program (ELF executable), not a data table"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "this is an old Microsoft Office file (e.g. an .xls workbook): open it and save the "
        "sheet as CSV (UTF-8)",
    ),
    (b"SQLite format 3\x00", "this is an SQLite database: export the table as CSV or Parquet"),
    (b"ARROW1", "this is an Arrow IPC (Feather) file: save it as Parquet instead"),
    (b"{\\rtf", "this is a Rich Text (RTF) document: export the data as CSV"),
)


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
    parts: list[_Parsed] = []
    for index, (name, data) in enumerate(files):
        report(0.05 + 0.45 * index / len(files), f"reading {name}")
        try:
            parts.append(_parse(data))
        except UploadError as exc:
            raise UploadError(f"{name}: {exc}") from None
    names = [name for name, _ in files]
    report(0.5, "checking columns and types")
    combined, originals, repairs = _combine(parts, names)
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


# -- one file -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    format: FileFormat
    names: tuple[str, ...]
    """As written in the file."""
    table: pa.Table
    """Columns f0, f1, ... in the order of `names`."""
    typed: bool
    """True for Parquet (columns keep their types); False for text (all strings)."""
    encoding: str | None = None
    delimiter: str | None = None
    notes: tuple[str, ...] = ()


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


def _parse(data: bytes) -> _Parsed:
    if not data:
        raise UploadError("the file is empty (0 bytes): choose the file that holds the data")
    _refuse_signatures(data)
    if data[:4] == b"PAR1":
        return _parse_parquet(data)
    decoding = text.detect_encoding(data)
    notes = [decoding.note] if decoding.note else []
    if text.is_blank(data, decoding):
        raise UploadError(
            "the file holds only whitespace (blank lines or spaces), no data: choose the file "
            "that holds the data"
        )
    sample, whole = text.decoded_sample(data, decoding)
    _refuse_markup(sample)
    kind = text.looks_like_json(sample)
    if kind == "array":
        raise UploadError(
            "this is a JSON array, not JSON Lines: write one object per line (e.g. pandas "
            "DataFrame.to_json(orient='records', lines=True)) or save it as CSV"
        )
    if kind == "document":
        raise UploadError(
            "this is one JSON document spread over several lines, not JSON Lines: write one "
            "object per line"
        )
    if kind == "jsonl":
        parsed = text.parse_jsonl(data, decoding)
        return _Parsed(
            "jsonl", parsed.names, parsed.table, False, decoding.label, None,
            (*notes, *parsed.notes),
        )  # fmt: skip
    layout = text.sniff_csv(sample, whole)
    parsed = text.parse_csv(data, decoding, layout)
    if parsed.table.num_rows == 0:
        raise UploadError(
            "the file has a header line but no data rows: upload a file with at least one row"
        )
    if not any(name.strip() for name in parsed.names):
        raise UploadError(
            f"the header line has no column names (all {len(parsed.names)} are empty): add a "
            "first line that names the columns"
        )
    notes.extend(_header_notes(parsed.names))
    return _Parsed(
        "csv", parsed.names, parsed.table, False, decoding.label, layout.delimiter, tuple(notes)
    )


def _refuse_signatures(data: bytes) -> None:
    head = data[:8192]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        if b"xl/" in head or b"xl/" in data[-65536:]:
            raise UploadError(
                "this is an Excel workbook (.xlsx, a ZIP archive), not CSV: open it in Excel or "
                "LibreOffice and save the sheet as CSV (UTF-8), then upload that"
            )
        if b"opendocument.spreadsheet" in head:
            raise UploadError(
                "this is an OpenDocument spreadsheet (.ods, a ZIP archive): save the sheet as "
                "CSV (UTF-8), then upload that"
            )
        raise UploadError(
            "this is a ZIP archive (maybe an Excel workbook), not CSV: extract it, or export "
            "the sheet as CSV, and upload the CSV, Parquet or JSONL file"
        )
    for signature, message in _SIGNATURES:
        if head.startswith(signature):
            if signature == b"BZh" and head[4:10] != b"1AY&SY":
                continue
            raise UploadError(message)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        raise UploadError("this is a WebP image, not a data table")


def _refuse_markup(sample: str) -> None:
    start = sample.lstrip().lower()
    if start.startswith(("<!doctype html", "<html")):
        raise UploadError(
            "this is a web page (HTML), not a data table: if it came from a download link, "
            "download the data file itself"
        )
    if start.startswith("<?xml"):
        raise UploadError("this is an XML document, not a data table: export the data as CSV")


def _parse_parquet(data: bytes) -> _Parsed:
    if len(data) < 12 or data[-4:] != b"PAR1":
        raise UploadError(
            "this Parquet file is truncated or damaged (its footer is missing): write or "
            "download it again"
        )
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise UploadError(
            f"cannot read this Parquet file ({message}): write or download it again"
        ) from None
    if table.num_columns == 0:
        raise UploadError("the Parquet file has no columns: no usable data")
    if table.num_rows == 0:
        raise UploadError("the Parquet file holds no rows: upload a file with at least one row")
    names = tuple(table.column_names)
    renamed = table.rename_columns([f"f{i}" for i in range(len(names))])
    return _Parsed("parquet", names, renamed, True)


def _header_notes(names: Sequence[str]) -> list[str]:
    notes = []
    filled = [n.strip() for n in names if n.strip()]
    if filled and all(_NUMBER_NAME.match(n) for n in filled):
        shown = ", ".join(repr(n) for n in filled[:3])
        notes.append(
            f"the first line holds only numbers ({shown}) and was read as the column names: "
            "if the file has no header line, add one"
        )
    if len(names) == 1 and re.search(r"[,;\t|:]", names[0]):
        notes.append(
            f"only one column was found ({_show(names[0])}): if the file has more, separate "
            "the values with commas, semicolons, tabs or |"
        )
    return notes


# -- names ----------------------------------------------------------------------------


def _show(name: str, limit: int = 60) -> str:
    return repr(name if len(name) <= limit else name[: limit - 1] + "…")


def repair_names(raw: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Unique, non-empty names without control characters or surrounding spaces, and the
    sentences that say what changed. Names are compared ignoring letter case (SQL does)."""
    notes: list[str] = []
    cleaned: list[str] = []
    trimmed: list[str] = []
    for position, name in enumerate(raw, 1):
        without = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in name)
        if without != name:
            notes.append(f"control characters removed from the name of column {position}")
        stripped = without.strip()
        if stripped != without and stripped:
            trimmed.append(name)
        if len(stripped) > MAX_NAME_CHARS:
            notes.append(f"the name of column {position} was cut to {MAX_NAME_CHARS:,} characters")
            stripped = stripped[:MAX_NAME_CHARS]
        cleaned.append(stripped)
    if trimmed:
        shown = ", ".join(_show(n) for n in trimmed[:3])
        notes.append(f"spaces around {len(trimmed)} column name(s) removed ({shown})")
    reserved = {name.casefold() for name in cleaned if name}
    used: set[str] = set()
    final: list[str] = []
    for position, name in enumerate(cleaned, 1):
        if name and name.casefold() not in used:
            final.append(name)
            used.add(name.casefold())
            continue
        if not name:
            candidate = base = f"column_{position}"
            suffix = 1
        else:
            base, suffix = name, 2
            candidate = f"{base}_{suffix}"
        while candidate.casefold() in used or candidate.casefold() in reserved:
            suffix += 1
            candidate = f"{base}_{suffix}"
        final.append(candidate)
        used.add(candidate.casefold())
        if not name:
            notes.append(f"empty column name at position {position} named {candidate!r}")
        else:
            same = "duplicate" if name in final[:-1] else "duplicate (ignoring letter case)"
            notes.append(f"{same} column {_show(name)} renamed to {_show(candidate)}")
    return tuple(final), tuple(notes)


# -- several files, then types --------------------------------------------------------


def _combine(
    parts: Sequence[_Parsed], names: Sequence[str]
) -> tuple[pa.Table, dict[str, str], list[str]]:
    """One table of all parts, columns named by their repaired names; the original name
    of each (as the first file had it); the repair sentences."""
    several = len(parts) > 1
    repairs: list[str] = []
    repaired: list[tuple[str, ...]] = []
    for part, name in zip(parts, names, strict=True):
        columns, notes = repair_names(part.names)
        prefix = f"{name}: " if several else ""
        repairs.extend(prefix + note for note in (*part.notes, *notes))
        repaired.append(columns)
    first = parts[0]
    for part, name, columns in zip(parts[1:], names[1:], repaired[1:], strict=True):
        if part.format != first.format:
            raise UploadError(
                f"{name} is {_FORMAT_NAMES[part.format]} but {names[0]} is "
                f"{_FORMAT_NAMES[first.format]}: upload files of one format together"
            )
        missing = [c for c in repaired[0] if c not in columns]
        extra = [c for c in columns if c not in repaired[0]]
        if missing or extra:
            differences = []
            if missing:
                differences.append("no column " + ", ".join(_show(c) for c in missing[:5]))
            if extra:
                differences.append("extra column " + ", ".join(_show(c) for c in extra[:5]))
            raise UploadError(
                f"{name} does not have the columns of {names[0]} ({'; '.join(differences)}): "
                "files uploaded together must have the same columns"
            )
    originals = dict(zip(repaired[0], first.names, strict=True))
    tables = []
    for part, columns in zip(parts, repaired, strict=True):
        renamed = part.table.rename_columns(list(columns))
        tables.append(renamed.select(list(repaired[0])))
    if len(tables) == 1:
        return tables[0], originals, repairs
    return _concat(tables), originals, repairs


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    """Rows of all tables; a column whose type differs between files becomes text."""
    arrays = []
    for name in tables[0].column_names:
        columns = [t.column(name) for t in tables]
        if len({str(c.type) for c in columns}) > 1:
            columns = [c.cast(pa.string()) for c in columns]
        arrays.append(
            pa.chunked_array([chunk for c in columns for chunk in c.chunks], columns[0].type)
        )
    return pa.Table.from_arrays(arrays, names=tables[0].column_names)


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
                f"cannot set the type of {_show(name)}: there is no such column "
                f"(columns: {', '.join(_show(n, 30) for n in names[:10])})"
            )
        if kind not in COLUMN_TYPES:
            raise UploadError(
                f"unknown type {kind!r} for column {_show(name)}: use one of "
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
            left_out.append(f"{_show(name)} ({column.type})")
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
