"""CSV uploads parsed into columns of strings.

The delimiter is the one of `,` `;` tab `|` that splits the first records into the same
number of fields (quotes respected); pyarrow parses the whole file with quoted newlines
allowed and every column as text. Rows with more or fewer fields than the header are
refused with their row numbers (nothing is guessed).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv

from monitor.ops.datasets.text import Decoding, TextTable, UploadError, text_buffer

DELIMITERS: Final = (",", ";", "\t", "|")
MAX_REPORTED_ROWS: Final = 5


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    fields: int
    """Fields in the header record."""


def sniff_csv(sample: str, whole: bool) -> CsvLayout:
    """The delimiter under which the first records agree on their number of fields."""
    best: tuple[tuple[bool, float, int, int], CsvLayout] | None = None
    for rank, delimiter in enumerate(DELIMITERS):
        counts = _field_counts(sample, delimiter, whole)
        if not counts:
            continue
        header, rest = counts[0], counts[1:]
        agree = sum(1 for n in rest if n == header) / len(rest) if rest else 1.0
        score = (header > 1, agree, header, -rank)
        if best is None or score > best[0]:
            best = (score, CsvLayout(delimiter, header))
    if best is None:  # pragma: no cover - a non-blank sample has a record
        raise UploadError("no header line was found: the first line must name the columns")
    return best[1]


def _field_counts(sample: str, delimiter: str, whole: bool, limit: int = 200) -> list[int]:
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    counts: list[int] = []
    try:
        for record in reader:
            if record:
                counts.append(len(record))
            if len(counts) > limit:
                break
    except csv.Error:
        pass
    if not whole and len(counts) > 1 and len(counts) <= limit:
        counts.pop()  # the sample may end inside the last record
    return counts


def parse_csv(data: bytes, decoding: Decoding, layout: CsvLayout) -> TextTable:
    """The whole CSV as text columns; the first record gives the names."""
    buffer, encoding = text_buffer(data, decoding)
    table, invalid = _read_csv(buffer, encoding, layout, use_threads=True)
    if invalid:
        # pyarrow numbers the bad rows only when it parses on one thread
        table, invalid = _read_csv(buffer, encoding, layout, use_threads=False)
        raise _ragged_error(invalid, layout)
    if table.num_rows == 0:  # pragma: no cover - a non-blank file has a first record
        raise UploadError("no header line was found: the first line must name the columns")
    names = tuple("" if v is None else str(v) for v in table.slice(0, 1).to_pylist()[0].values())
    return TextTable(names, table.slice(1))


def _read_csv(
    buffer: pa.Buffer, encoding: str, layout: CsvLayout, *, use_threads: bool
) -> tuple[pa.Table, list[tuple[int | None, int]]]:
    invalid: list[tuple[int | None, int]] = []
    count = [0]

    def handler(row: Any) -> str:
        count[0] += 1
        if len(invalid) < MAX_REPORTED_ROWS:
            invalid.append((row.number, row.actual_columns))
        return "skip"

    keys = [f"f{i}" for i in range(layout.fields)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(buffer),
            read_options=pa_csv.ReadOptions(
                column_names=keys,
                encoding=encoding,
                use_threads=use_threads,
                block_size=4 * 1024 * 1024,  # also the longest row it can read
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=layout.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=handler,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(keys, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        message = " ".join(str(exc).split())[:200]
        raise UploadError(
            f"cannot read it as CSV ({message}): check that it is a comma-, semicolon- or "
            "tab-separated text file"
        ) from None
    if count[0] > len(invalid):
        invalid.append((None, -count[0]))  # marks how many there were in all
    return table, invalid


def _ragged_error(invalid: list[tuple[int | None, int]], layout: CsvLayout) -> UploadError:
    total = -invalid[-1][1] if invalid[-1][1] < 0 else len(invalid)
    shown = [(n, fields) for n, fields in invalid if fields >= 0]
    parts = [
        (f"row {n}" if n is not None else "a row") + f" has {fields}"
        for n, fields in shown[:MAX_REPORTED_ROWS]
    ]
    more = f" and {total - len(shown)} more" if total > len(shown) else ""
    delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "|"}[layout.delimiter]
    return UploadError(
        f"{total:,} row(s) do not have the {layout.fields} fields of the header "
        f"({', '.join(parts)}{more}; rows counted from the header as row 1; "
        f"delimiter: {delimiter}): fix those rows, or quote values that contain the "
        "delimiter, and upload again"
    )
