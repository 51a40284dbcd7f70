"""One uploaded file's bytes read into a table of raw columns, by its content.

The format comes from the bytes: Parquet by its `PAR1` head and tail; ZIP (Excel
workbooks), gzip, PDF, images, executables and other binaries are refused by their
signatures (or, in `text.detect_encoding`, by their NUL bytes); HTML and XML are refused;
text is JSON Lines when its first line is a JSON object (`jsonl_text`), else CSV
(`csv_text`). Column names stay as the file has them: `repairs` makes them safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from monitor.ops.datasets import csv_text, jsonl_text, text
from monitor.ops.datasets.text import UploadError, show

FileFormat = Literal["csv", "parquet", "jsonl"]
FORMAT_NAMES: Final = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines"}
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
class Parsed:
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


def parse(data: bytes) -> Parsed:
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
    kind = jsonl_text.looks_like_json(sample)
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
        parsed = jsonl_text.parse_jsonl(data, decoding)
        return Parsed(
            "jsonl", parsed.names, parsed.table, False, decoding.label, None,
            (*notes, *parsed.notes),
        )  # fmt: skip
    layout = csv_text.sniff_csv(sample, whole)
    parsed = csv_text.parse_csv(data, decoding, layout)
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
    return Parsed(
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


def _parse_parquet(data: bytes) -> Parsed:
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
    return Parsed("parquet", names, renamed, True)


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
            f"only one column was found ({show(names[0])}): if the file has more, separate "
            "the values with commas, semicolons, tabs or |"
        )
    return notes
