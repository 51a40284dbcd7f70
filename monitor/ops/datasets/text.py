"""Text uploads: the encoding, and the table of strings the text readers produce.

The CSV (`csv_text`) and JSON Lines (`jsonl_text`) readers return columns of *strings*
(or nulls) as a `TextTable`; `column_types` decides what each column holds afterwards,
the same way for CSV and JSONL. `UploadError` is the error of every upload reader.

Encoding: a byte-order mark wins (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); UTF-16 without a
mark is recognised by its NUL bytes; otherwise the whole file is checked as UTF-8
(strict, in chunks); a file that is not UTF-8 is read as Latin-1 / Windows-1252, or,
when it is UTF-8 with a few damaged bytes, as UTF-8 with those bytes replaced.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Final

import pyarrow as pa

from monitor.core.errors import InputError

SAMPLE_BYTES: Final = 64 * 1024
CHUNK_BYTES: Final = 4 * 1024 * 1024

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


def short(value: str, limit: int = 30) -> str:
    """`value` cut to `limit` characters (with an ellipsis), for messages."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def show(name: str, limit: int = 60) -> str:
    """A column name quoted for a message, cut when long."""
    return repr(short(name, limit))


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


@dataclass(frozen=True)
class TextTable:
    names: tuple[str, ...]
    """Column names as written in the file (not yet repaired)."""
    table: pa.Table
    """Every column a string column; blank cells are empty strings or nulls."""
    notes: tuple[str, ...] = ()
