"""Text values read as numbers or as dates and times, over whole columns (pyarrow
compute, never row by row in Python unless a date does not exist, e.g. 2024-02-30).

Numbers: plain ones in one cast; else with thousands separators (`1,234`, `1 234`,
`1'234`) and a decimal point, or with a decimal comma (`1,5`, `1.234,5`), whichever
reads more of the values (see `column_types` for the tie rule). Dates: ISO 8601 dates or
times, naive unless some value has an offset (then every value is UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from monitor.ops.datasets.column_text import TextColumn, cast_all, count, matches

_SPACES = r"[ \x{00A0}\x{202F}']"
_POINT_NUMBER = (  # 1.5, 1e3, 1,234.5, 1 234.5
    r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
    r"|^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
    r"|^[+-]?\d{1,3}(" + _SPACES + r"\d{3})+(\.\d+)?$"
)
_COMMA_NUMBER = (  # 12, 1,5, 1.234,5, 1 234,5
    r"^[+-]?\d+$"
    r"|^[+-]?\d+,\d+$"
    r"|^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"
    r"|^[+-]?\d{1,3}(" + _SPACES + r"\d{3})+(,\d+)?$"
)
_NUMBER_LIKE = r"^[+-]?[\d.,' \x{00A0}\x{202F}]*\d[\d.,' \x{00A0}\x{202F}]*([eE][+-]?\d+)?$"
_ISO = (
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_ZONE = r"(Z|[+-]\d{2}:?\d{2})$"


@dataclass(frozen=True)
class Numbers:
    values: pa.Array | pa.ChunkedArray
    """float64 over the judged values, null where a value did not read as a number."""
    read: pa.Array | pa.ChunkedArray
    count: int
    """Cells read as numbers."""
    separators: pa.Array | pa.ChunkedArray | None
    """Values read thanks to thousands separators or a decimal comma."""
    decimal_comma: bool


def _to_float(values: pa.Array | pa.ChunkedArray, mask: Any) -> pa.Array | pa.ChunkedArray:
    return pc.cast(pc.if_else(mask, values, pa.scalar(None, pa.string())), pa.float64())


def _plain_numbers(text: TextColumn) -> Numbers | None:
    """Every non-blank value is a plain number: one cast, no regex (the common case)."""
    floats = cast_all(text.nonblank(), pa.float64())
    if floats is None:
        return None
    read = pc.and_(pc.invert(text.blank), pc.invert(pc.fill_null(pc.is_nan(floats), False)))
    kept = pc.if_else(read, floats, pa.scalar(None, pa.float64()))
    return Numbers(kept, read, text.count(read), None, False)


def read_numbers(text: TextColumn, decimal_comma_first: bool, *, quick: bool = False) -> Numbers:
    """The values read as numbers (see the module docstring). With `quick`, a column
    where fewer than half the values even start like a number is not read at all."""
    if not decimal_comma_first:
        plain = _plain_numbers(text)
        if plain is not None:
            return plain
    values = text.trimmed
    if quick and text.count(matches(values, _NUMBER_LIKE)) < 0.5 * text.candidates:
        none = pc.and_not(text.blank, text.blank)  # false everywhere
        return Numbers(_to_float(values, none), none, 0, None, False)
    point = matches(values, _POINT_NUMBER)
    point_count = text.count(point)
    use_comma = False
    if decimal_comma_first or point_count < text.candidates:
        comma = matches(values, _COMMA_NUMBER)
        comma_count = text.count(comma)
        use_comma = comma_count > point_count or (
            comma_count == point_count and decimal_comma_first and comma_count > 0
        )
    if use_comma:
        stripped = _without(values, ".", " ", "\u00a0", "\u202f", "'")
        normal = pc.replace_substring(stripped, ",", ".")
        separators = pc.and_(comma, pc.not_equal(normal, values))
        return Numbers(_to_float(normal, comma), comma, comma_count, separators, True)
    stripped = _without(values, ",", " ", "\u00a0", "\u202f", "'")
    separators = pc.and_(point, pc.not_equal(stripped, values))
    return Numbers(_to_float(stripped, point), point, point_count, separators, False)


def _without(values: pa.Array | pa.ChunkedArray, *characters: str) -> Any:
    """`values` with these characters removed (literal searches: faster than a regex)."""
    for character in characters:
        if pc.any(pc.match_substring(values, character)).as_py():
            values = pc.replace_substring(values, character, "")
    return values


def read_datetimes(
    text: TextColumn,
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """(timestamps, read mask) over the judged values: naive values stay naive unless
    some value has an offset, in which case every value is UTC (naive ones taken as UTC)."""
    fast = plain_datetimes(text)
    if fast is not None:
        return fast, pc.invert(text.blank)
    values = text.trimmed
    iso = matches(values, _ISO)
    zoned = pc.and_(iso, matches(values, _ZONE))
    naive = pc.and_(iso, pc.invert(zoned))
    none = pa.scalar(None, pa.string())
    try:
        plain = pc.cast(pc.if_else(naive, values, none), pa.timestamp("us"))
        if not count(zoned):
            return plain, iso
        offset = pc.cast(pc.if_else(zoned, values, none), pa.timestamp("us", tz="UTC"))
        utc = pc.assume_timezone(plain, "UTC")
        return pc.if_else(zoned, offset, utc), iso
    except pa.ArrowInvalid:  # e.g. 2024-02-30: read value by value
        return _datetimes_slowly(values, iso, bool(count(zoned)))


def plain_datetimes(text: TextColumn) -> pa.Array | pa.ChunkedArray | None:
    """Every non-blank value a naive ISO date or time: one cast (the common case)."""
    result: pa.Array | pa.ChunkedArray | None = cast_all(text.nonblank(), pa.timestamp("us"))
    return result


def _datetimes_slowly(
    values: pa.Array | pa.ChunkedArray, iso: pa.Array | pa.ChunkedArray, zoned: bool
) -> tuple[pa.Array, pa.Array]:
    parsed: list[dt.datetime | None] = []
    for value, ok in zip(values.to_pylist(), iso.to_pylist(), strict=True):
        moment = None
        if ok:
            try:
                moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                moment = None
        if moment is not None and zoned:
            aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
            moment = aware.astimezone(dt.UTC)
        elif moment is not None and moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        parsed.append(moment)
    unit = pa.timestamp("us", tz="UTC") if zoned else pa.timestamp("us")
    array = pa.array(parsed, type=unit)
    return array, pc.is_valid(array)
