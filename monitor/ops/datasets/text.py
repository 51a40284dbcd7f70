"""Text uploads: the encoding, the delimiter, and CSV or JSON Lines parsed into strings.

Everything here returns columns of *strings* (or nulls); `monitor.ingest_types` decides
what each column holds afterwards, the same way for CSV and JSONL.

- Encoding: a byte-order mark wins (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); UTF-16 without
  a mark is recognised by its NUL bytes; otherwise the whole file is checked as UTF-8
  (strict, in chunks); a file that is not UTF-8 is read as Latin-1 / Windows-1252, or,
  when it is UTF-8 with a few damaged bytes, as UTF-8 with those bytes replaced.
- CSV: the delimiter is the one of `,` `;` tab `|` that splits the first records into
  the same number of fields (quotes respected); pyarrow parses the whole file with
  quoted newlines allowed and every column as text. Rows with more or fewer fields
  than the header are refused with their row numbers (nothing is guessed).
- JSON Lines: every non-empty line one JSON object; nested objects are flattened to
  dotted names (`address.city`), lists are kept as JSON text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from monitor.core.errors import InputError

DELIMITERS: Final = (",", ";", "\t", "|")
SAMPLE_BYTES: Final = 64 * 1024
CHUNK_BYTES: Final = 4 * 1024 * 1024
JSONL_CHUNK_ROWS: Final = 20_000
MAX_REPORTED_ROWS: Final = 5

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
_CP1252_UNDEFINED: Final = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_C1_BYTES: Final = re.compile(rb"[\x80-\x9f]")
_CONTROL_BYTES: Final = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_NON_SPACE: Final = re.compile(rb"[^ \t\r\n\x0b\x0c]")


class UploadError(InputError):
    """An upload that cannot be read; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Decoding:
    codec: str
    """A Python codec name (what pyarrow and `bytes.decode` get)."""
    label: str
    """How the encoding is shown to people."""
    start: int
    """Bytes to skip (the byte-order mark)."""
    note: str | None
    """The repair sentence, when the encoding was not plain UTF-8."""
    replaced: bool = False
    """UTF-8 with damaged bytes: decode with errors='replace'."""

    @property
    def eight_bit(self) -> bool:
        return not self.codec.startswith(("utf-16", "utf-32"))


def detect_encoding(data: bytes) -> Decoding:
    """The encoding of a text upload (see the module docstring); refuses binary data."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return Decoding(codec, label, len(bom), f"encoding: {label} (byte-order mark removed)")
    utf16 = _utf16_without_bom(data[:SAMPLE_BYTES])
    if utf16 is not None:
        codec, label = utf16
        return Decoding(codec, label, 0, f"encoding: {label} without a byte-order mark")
    if b"\x00" in data:
        raise UploadError(
            "this looks like a binary file (it contains NUL bytes), not CSV, Parquet or "
            "JSON Lines text: export the data as CSV (UTF-8) and upload that"
        )
    sample = data[:SAMPLE_BYTES]
    if len(_CONTROL_BYTES.findall(sample)) > max(8, len(sample) // 50):
        raise UploadError(
            "this looks like a binary file (many control characters), not CSV, Parquet or "
            "JSON Lines text: export the data as CSV (UTF-8) and upload that"
        )
    bad = _first_invalid_utf8(data)
    if bad is None:
        return Decoding("utf-8", "UTF-8", 0, None)
    line = data.count(b"\n", 0, bad) + 1
    where = f"byte 0x{data[bad]:02X} on line {line}"
    valid, replaced = _utf8_damage(data)
    if valid >= 10 * replaced:
        return Decoding(
            "utf-8",
            "UTF-8",
            0,
            f"encoding: UTF-8 with {replaced:,} invalid byte sequence(s) replaced by '\ufffd' "
            f"(first at {where})",
            replaced=True,
        )
    if _C1_BYTES.search(data) and not _CP1252_UNDEFINED.search(data):
        codec, label = "cp1252", "Windows-1252"
    else:
        codec, label = "latin-1", "Latin-1 (ISO-8859-1)"
    return Decoding(codec, label, 0, f"encoding: {label}, not UTF-8 (first non-UTF-8 {where})")


def _utf16_without_bom(sample: bytes) -> tuple[str, str] | None:
    """UTF-16 text of mostly ASCII characters has a NUL in every other byte."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sample[0 : pairs * 2 : 2].count(0)
    odd = sample[1 : pairs * 2 : 2].count(0)
    if odd >= 0.3 * pairs and even <= 0.05 * pairs:
        return "utf-16-le", "UTF-16 LE"
    if even >= 0.3 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be", "UTF-16 BE"
    return None


def _first_invalid_utf8(data: bytes) -> int | None:
    """The offset of the first invalid UTF-8 byte, or None (checked in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    for start in range(0, len(data), CHUNK_BYTES):
        chunk = view[start : start + CHUNK_BYTES]
        final = start + CHUNK_BYTES >= len(data)
        held = len(decoder.getstate()[0])  # bytes of a character split across chunks
        try:
            decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            return start - held + exc.start
    return None


def _utf8_damage(data: bytes) -> tuple[int, int]:
    """(valid non-ASCII characters, replaced sequences) when read as UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    valid = replaced = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK_BYTES):
        text = decoder.decode(view[start : start + CHUNK_BYTES], start + CHUNK_BYTES >= len(data))
        bad = text.count("\ufffd")
        replaced += bad
        valid += len(text) - len(text.encode("ascii", "ignore")) - bad
    return valid, replaced


def decoded_sample(data: bytes, decoding: Decoding, size: int = SAMPLE_BYTES) -> tuple[str, bool]:
    """The first `size` bytes as text, and whether that is the whole file."""
    body = memoryview(data)[decoding.start :]
    decoder = codecs.getincrementaldecoder(decoding.codec)("replace")
    whole = len(body) <= size
    return decoder.decode(body[:size], whole), whole


def is_blank(data: bytes, decoding: Decoding) -> bool:
    """True when the file holds nothing but whitespace (after the byte-order mark)."""
    if decoding.eight_bit:
        return _NON_SPACE.search(data, decoding.start) is None
    return not str(memoryview(data)[decoding.start :], decoding.codec, "replace").strip()


def text_buffer(data: bytes, decoding: Decoding) -> tuple[pa.Buffer, str]:
    """The bytes pyarrow reads and the encoding it is told (no copy for UTF-8)."""
    if decoding.replaced:
        return pa.py_buffer(data.decode("utf-8", "replace").encode("utf-8")), "utf8"
    buffer = pa.py_buffer(data).slice(decoding.start)
    return buffer, ("utf8" if decoding.codec == "utf-8" else decoding.codec)


# -- CSV ------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class TextTable:
    names: tuple[str, ...]
    """Column names as written in the file (not yet repaired)."""
    table: pa.Table
    """Every column a string column; blank cells are empty strings or nulls."""
    notes: tuple[str, ...] = ()


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


# -- JSON Lines -----------------------------------------------------------------------


def looks_like_json(sample: str) -> str | None:
    """'jsonl', 'array' (a JSON document holding an array), 'document' (one object
    spread over lines), or None (not JSON: read it as CSV)."""
    first = next((line.strip() for line in sample.splitlines() if line.strip()), "")
    if first.startswith("["):
        rest = first[1:].lstrip()
        return "array" if rest[:1] in ("", "{", "[", '"') else None
    if not first.startswith("{"):
        return None
    if first == "{":
        return "document"
    try:
        value = json.loads(first)
    except ValueError:
        if first.endswith("}"):
            return "jsonl"  # meant as JSON Lines: parsing reports the line
        return "document" if first.startswith('{"') else None
    return "jsonl" if isinstance(value, dict) else None


def parse_jsonl(data: bytes, decoding: Decoding) -> TextTable:
    """Every non-empty line one flat (or flattened) JSON object; values kept as text."""
    fast = _jsonl_with_arrow(data, decoding)
    return fast if fast is not None else _jsonl_line_by_line(data, decoding)


def _jsonl_with_arrow(data: bytes, decoding: Decoding) -> TextTable | None:
    """pyarrow's JSON reader (fast) when it reads the file as the line-by-line reader
    would: UTF-8, consistent types, objects without lists; else None."""
    if decoding.codec != "utf-8" or decoding.replaced:
        return None
    buffer, _ = text_buffer(data, decoding)
    try:
        table = pa_json.read_json(
            pa.BufferReader(buffer), read_options=pa_json.ReadOptions(block_size=4 * 1024 * 1024)
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    structs: list[str] = []
    while True:
        nested = [f for f in table.schema if pa.types.is_struct(f.type)]
        if not nested:
            break
        if any(f.type.num_fields == 0 for f in nested):
            return None  # {} is kept as JSON text by the line-by-line reader
        structs.extend(f.name for f in nested)
        table = table.flatten()
    simple = (pa.types.is_boolean, pa.types.is_integer, pa.types.is_floating, pa.types.is_string)
    others = (pa.types.is_null, pa.types.is_timestamp)
    if not all(any(check(f.type) for check in (*simple, *others)) for f in table.schema):
        return None
    names = tuple(table.column_names)
    columns = [column.cast(pa.string()) for column in table.columns]
    flattened = [n for n in names if any(n.startswith(s + ".") for s in structs)]
    notes = []
    if flattened:
        shown = ", ".join(map(repr, flattened[:3]))
        notes.append(
            f"nested objects flattened into {len(flattened)} column(s) named with dots ({shown})"
        )
    strings = pa.table(columns, names=[f"f{i}" for i in range(len(names))])
    return TextTable(names, strings, tuple(notes))


@dataclass
class _Keys:
    """What the line-by-line reader learns about the keys across all lines."""

    seen: dict[str, int] = field(default_factory=dict)
    """Each key path (e.g. "who.name") and the order in which it first appeared."""
    paths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Each column and the first-seen order of its path's parts: columns sort by it, so
    an object's fields stand where the object first appeared (as pyarrow orders them)."""
    lists: dict[str, None] = field(default_factory=dict)
    flattened: dict[str, None] = field(default_factory=dict)

    def column(self, name: str, trail: tuple[int, ...]) -> None:
        self.paths.setdefault(name, trail)


def _jsonl_line_by_line(data: bytes, decoding: Decoding) -> TextTable:
    chunks: list[dict[str, pa.Array]] = []
    lengths: list[int] = []
    keys = _Keys()
    rows: list[dict[str, str | None]] = []
    for number, line in _lines(data, decoding):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            message = str(exc).split(":")[0]
            raise UploadError(
                f"line {number} is not valid JSON ({message}): JSON Lines needs one complete "
                "object per line; fix or remove that line"
            ) from None
        if not isinstance(value, dict):
            raise UploadError(
                f"line {number} is not a JSON object but {_json_kind(value)}: JSON Lines needs "
                'one object per line, e.g. {"age": 41, "sex": "F"}'
            )
        row: dict[str, str | None] = {}
        _flatten(value, "", (), row, keys)
        rows.append(row)
        if len(rows) >= JSONL_CHUNK_ROWS:
            chunks.append(_chunk(rows, keys.paths))
            lengths.append(len(rows))
            rows = []
    if rows:
        chunks.append(_chunk(rows, keys.paths))
        lengths.append(len(rows))
    total = sum(lengths)
    names = sorted(keys.paths, key=keys.paths.__getitem__)
    columns = {
        name: pa.chunked_array(
            [
                chunk.get(name, pa.nulls(n, pa.string()))
                for chunk, n in zip(chunks, lengths, strict=True)
            ],
            type=pa.string(),
        )
        for name in names
    }
    # a key that is null in some objects and an object in others is that object's fields
    parents = {n for n in names if any(f.startswith(n + ".") for f in keys.flattened)}
    names = [n for n in names if n not in parents or columns[n].null_count < total]
    table = pa.table([columns[n] for n in names], names=[f"f{i}" for i in range(len(names))])
    notes = []
    if keys.flattened:
        flattened = [n for n in names if n in keys.flattened]
        notes.append(
            f"nested objects flattened into {len(flattened)} column(s) named with dots "
            f"({', '.join(map(repr, flattened[:3]))})"
        )
    if keys.lists:
        shown = ", ".join(map(repr, list(keys.lists)[:3]))
        notes.append(f"lists kept as JSON text in {len(keys.lists)} column(s) ({shown})")
    return TextTable(tuple(names), table, tuple(notes))


def _lines(data: bytes, decoding: Decoding) -> Iterator[tuple[int, str]]:
    raw = io.BytesIO(memoryview(data)[decoding.start :])
    errors = "replace" if decoding.replaced else "strict"
    with io.TextIOWrapper(raw, encoding=decoding.codec, errors=errors, newline=None) as text:
        yield from enumerate(text, 1)


def _flatten(
    value: dict[str, Any],
    prefix: str,
    trail: tuple[int, ...],
    row: dict[str, str | None],
    keys: _Keys,
) -> None:
    for key, item in value.items():
        name = prefix + str(key)
        here = (*trail, keys.seen.setdefault(name, len(keys.seen)))
        if isinstance(item, dict) and item:
            _flatten(item, name + ".", here, row, keys)
            continue
        keys.column(name, here)
        if prefix:
            keys.flattened.setdefault(name, None)
        if isinstance(item, (list, dict)):
            keys.lists.setdefault(name, None)
            row[name] = json.dumps(item, ensure_ascii=False)
        else:
            row[name] = _json_text(item)


def _json_text(item: Any) -> str | None:
    if item is None:
        return None
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, float):
        return repr(item)
    return str(item)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _chunk(rows: list[dict[str, str | None]], order: Mapping[str, object]) -> dict[str, pa.Array]:
    return {name: pa.array([row.get(name) for row in rows], type=pa.string()) for name in order}
