"""What each uploaded column holds: numbers, booleans, dates and times, or text.

Text columns (every CSV and JSONL column) are judged with pyarrow compute over the whole
column, never row by row in Python:

- **numeric** when at least 95% of the values that are neither blank nor a missing
  marker (NA, N/A, null, None, NaN, -, ?, ...) read as numbers. Thousands separators
  (`1,234`, `1 234`, `1'234`) and decimal commas (`1,5`, `1.234,5`) are understood:
  a column is read with a decimal point or with a decimal comma, whichever reads more
  of its values (a tie, e.g. only `1,234`, goes to the decimal comma when the file is
  semicolon-separated, else to the point). The values that are not numbers become
  missing and are reported per column.
- **boolean** when every such value is `true` or `false` (any letter case);
- **datetime** when at least 95% are ISO 8601 dates or times (`2024-05-01`,
  `2024-05-01T13:45:00`, with `Z` or `+02:00`; an offset makes the column UTC);
- otherwise **categorical**, or **text** when it has more than 100 distinct values
  and more distinct values than half its non-missing values (ids, free text).

Blank cells are missing in every type. A type chosen by the user (an override) is
applied with the same readers; values that do not convert become missing and are
reported, and a column none of whose values converts is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import pyarrow as pa
import pyarrow.compute as pc

from monitor.ops.datasets.text import UploadError

ColumnType = Literal["numeric", "categorical", "boolean", "datetime", "text"]
COLUMN_TYPES: Final[tuple[ColumnType, ...]] = (
    "numeric",
    "categorical",
    "boolean",
    "datetime",
    "text",
)
NUMERIC_SHARE: Final = 0.95
"""Share of the non-missing values that must read as numbers (or dates) for the type."""
TEXT_MIN_DISTINCT: Final = 100
MISSING_MARKERS: Final = ("na", "n/a", "nan", "null", "none", "#n/a", "-", "?", "missing", "nil")
_MARKER_SPELLINGS: Final = sorted(
    {v for m in MISSING_MARKERS for v in (m, m.upper(), m.capitalize(), m.title())} | {"NaN"}
)
"""The markers as they are written (NA, N/A, NaN, Null, ...): matching these spares a
lower-cased copy of every column."""
_SURROUNDING_SPACE: Final = r"^[\s\pZ]|[\s\pZ]$"
BOOLEAN_WORDS: Final = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "t": True,
    "f": False,
    "1": True,
    "0": False,
    "1.0": True,
    "0.0": False,
}
"""What a boolean override accepts; inference accepts only true/false."""

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
_MAX_EXACT = 2.0**53


DISTINCT_SHARE: Final = 0.5
"""Columns with at most this share of distinct values are judged on their distinct
values (weighted by their counts) and the result mapped back: categorical columns of a
million rows cost a few thousand regex matches."""


@dataclass(frozen=True)
class Converted:
    array: pa.ChunkedArray
    type: ColumnType
    missing: int
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Text:
    """A text column prepared once: the values judged (the distinct values, or every
    cell), trimmed, and which of them are blank or a missing marker."""

    original: pa.ChunkedArray
    values: pa.Array | pa.ChunkedArray
    weights: pa.Array | None
    """How many cells each judged value stands for (None: one each)."""
    indices: pa.ChunkedArray | None
    """For each cell, the position of its value in `values` (None: values are the cells)."""
    trimmed: pa.Array | pa.ChunkedArray
    blank: pa.Array | pa.ChunkedArray
    """True where the value is empty, whitespace or null."""
    marker: pa.Array | pa.ChunkedArray
    """True where the value is a missing marker (NA, null, ?, ...)."""
    filled: int
    """Cells that are not blank."""
    candidates: int
    """Cells that are neither blank nor a missing marker."""

    def count(self, mask: pa.Array | pa.ChunkedArray) -> int:
        """Cells where `mask` (over the judged values) is true."""
        if self.weights is None:
            return _count(mask)
        chosen = pc.if_else(pc.fill_null(mask, False), self.weights, 0)
        return int(pc.sum(chosen).as_py() or 0)

    def expand(self, array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
        """A result over the judged values, one entry per cell."""
        if self.indices is None:
            return _chunked(array)
        return _chunked(pc.take(array, self.indices))

    def nonblank(self) -> pa.Array | pa.ChunkedArray:
        if self.filled == len(self.original):
            return self.trimmed
        return pc.if_else(self.blank, pa.scalar(None, pa.string()), self.trimmed)


def _prepare(column: pa.ChunkedArray) -> _Text:
    column = _chunked(column)
    if column.type != pa.string():
        column = column.cast(pa.string())
    values: pa.Array | pa.ChunkedArray = column
    weights = indices = None
    head = column.slice(0, 20_000)
    if len(pc.unique(head)) <= DISTINCT_SHARE * len(head):  # worth counting them all
        counts = pc.value_counts(column)
        if len(counts) <= DISTINCT_SHARE * len(column):
            values, weights = counts.field("values"), counts.field("counts")
            indices = _chunked(pc.index_in(column, value_set=values))
    trimmed = values
    if pc.any(pc.match_substring_regex(values, _SURROUNDING_SPACE)).as_py():
        trimmed = pc.utf8_trim_whitespace(values)
    blank = pc.fill_null(pc.equal(trimmed, ""), True)
    marker = pc.and_(pc.invert(blank), pc.is_in(trimmed, pa.array(_MARKER_SPELLINGS)))
    text = _Text(column, values, weights, indices, trimmed, blank, marker, 0, 0)
    filled = len(column) - text.count(blank)
    return dataclasses.replace(text, filled=filled, candidates=filled - text.count(marker))


def _count(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)


def _chunked(array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def _examples(text: _Text, mask: pa.Array | pa.ChunkedArray, limit: int = 3) -> str:
    found = pc.unique(pc.filter(text.trimmed, pc.fill_null(mask, False))).to_pylist()[:limit]
    return ", ".join(repr(_short(str(v))) for v in found)


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dropped(text: _Text, read: pa.Array | pa.ChunkedArray, what: str) -> tuple[str, ...]:
    """The sentence about values that did not read as `what` and became missing."""
    lost = pc.and_(pc.invert(text.blank), pc.invert(pc.fill_null(read, False)))
    count = text.count(lost)
    if not count:
        return ()
    return (f"{count:,} {what} value(s) ({_examples(text, lost)}) set to missing",)


# -- numbers --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Numbers:
    values: pa.Array | pa.ChunkedArray
    """float64 over the judged values, null where a value did not read as a number."""
    read: pa.Array | pa.ChunkedArray
    count: int
    """Cells read as numbers."""
    separators: pa.Array | pa.ChunkedArray | None
    """Values read thanks to thousands separators or a decimal comma."""
    decimal_comma: bool


def _matches(values: pa.Array | pa.ChunkedArray, *patterns: str) -> pa.Array | pa.ChunkedArray:
    result = pc.fill_null(pc.match_substring_regex(values, patterns[0]), False)
    for pattern in patterns[1:]:
        result = pc.or_(result, pc.fill_null(pc.match_substring_regex(values, pattern), False))
    return result


def _to_float(values: pa.Array | pa.ChunkedArray, mask: Any) -> pa.Array | pa.ChunkedArray:
    return pc.cast(pc.if_else(mask, values, pa.scalar(None, pa.string())), pa.float64())


def _cast_all(values: pa.Array | pa.ChunkedArray, to: pa.DataType) -> Any:
    """`values` cast to `to`, or None when some value does not convert. A failing cast
    costs as much as a full one, so the first values are tried first."""
    try:
        pc.cast(values.slice(0, 2000), to)
        return pc.cast(values, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _plain_numbers(text: _Text) -> _Numbers | None:
    """Every non-blank value is a plain number: one cast, no regex (the common case)."""
    floats = _cast_all(text.nonblank(), pa.float64())
    if floats is None:
        return None
    read = pc.and_(pc.invert(text.blank), pc.invert(pc.fill_null(pc.is_nan(floats), False)))
    kept = pc.if_else(read, floats, pa.scalar(None, pa.float64()))
    return _Numbers(kept, read, text.count(read), None, False)


def _numbers(text: _Text, decimal_comma_first: bool, *, quick: bool = False) -> _Numbers:
    """The values read as numbers (see the module docstring). With `quick`, a column
    where fewer than half the values even start like a number is not read at all."""
    if not decimal_comma_first:
        plain = _plain_numbers(text)
        if plain is not None:
            return plain
    values = text.trimmed
    if quick and text.count(_matches(values, _NUMBER_LIKE)) < 0.5 * text.candidates:
        none = pc.and_not(text.blank, text.blank)  # false everywhere
        return _Numbers(_to_float(values, none), none, 0, None, False)
    point = _matches(values, _POINT_NUMBER)
    point_count = text.count(point)
    use_comma = False
    if decimal_comma_first or point_count < text.candidates:
        comma = _matches(values, _COMMA_NUMBER)
        comma_count = text.count(comma)
        use_comma = comma_count > point_count or (
            comma_count == point_count and decimal_comma_first and comma_count > 0
        )
    if use_comma:
        stripped = _without(values, ".", " ", "\u00a0", "\u202f", "'")
        normal = pc.replace_substring(stripped, ",", ".")
        separators = pc.and_(comma, pc.not_equal(normal, values))
        return _Numbers(_to_float(normal, comma), comma, comma_count, separators, True)
    stripped = _without(values, ",", " ", "\u00a0", "\u202f", "'")
    separators = pc.and_(point, pc.not_equal(stripped, values))
    return _Numbers(_to_float(stripped, point), point, point_count, separators, False)


def _without(values: pa.Array | pa.ChunkedArray, *characters: str) -> Any:
    """`values` with these characters removed (literal searches: faster than a regex)."""
    for character in characters:
        if pc.any(pc.match_substring(values, character)).as_py():
            values = pc.replace_substring(values, character, "")
    return values


def _numeric(text: _Text, numbers: _Numbers) -> Converted:
    problems: list[str] = []
    with_separators = 0 if numbers.separators is None else text.count(numbers.separators)
    if with_separators and numbers.separators is not None:
        example = _examples(text, numbers.separators, 1)
        if numbers.decimal_comma:
            problems.append(
                f"{with_separators:,} value(s) written with a decimal comma or thousands "
                f"separators ({example}) were read as numbers"
            )
        else:
            problems.append(
                f"{with_separators:,} value(s) had thousands separators ({example}) and were "
                "read as numbers"
            )
    problems.extend(_dropped(text, numbers.read, "non-numeric"))
    values = numbers.values
    finite = pc.filter(values, pc.fill_null(pc.is_finite(values), False))
    if len(finite) and pc.all(pc.equal(pc.floor(finite), finite)).as_py():
        bounds = pc.min_max(finite)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low > -_MAX_EXACT and high < _MAX_EXACT:
            values = pc.cast(values, pa.int64())
    return _finish(text.expand(values), "numeric", problems)


# -- dates and times ------------------------------------------------------------------


def _datetimes(text: _Text) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray]:
    """(timestamps, read mask) over the judged values: naive values stay naive unless
    some value has an offset, in which case every value is UTC (naive ones taken as UTC)."""
    fast = _plain_datetimes(text)
    if fast is not None:
        return fast, pc.invert(text.blank)
    values = text.trimmed
    iso = _matches(values, _ISO)
    zoned = pc.and_(iso, _matches(values, _ZONE))
    naive = pc.and_(iso, pc.invert(zoned))
    none = pa.scalar(None, pa.string())
    try:
        plain = pc.cast(pc.if_else(naive, values, none), pa.timestamp("us"))
        if not _count(zoned):
            return plain, iso
        offset = pc.cast(pc.if_else(zoned, values, none), pa.timestamp("us", tz="UTC"))
        utc = pc.assume_timezone(plain, "UTC")
        return pc.if_else(zoned, offset, utc), iso
    except pa.ArrowInvalid:  # e.g. 2024-02-30: read value by value
        return _datetimes_slowly(values, iso, bool(_count(zoned)))


def _plain_datetimes(text: _Text) -> pa.Array | pa.ChunkedArray | None:
    """Every non-blank value a naive ISO date or time: one cast (the common case)."""
    result: pa.Array | pa.ChunkedArray | None = _cast_all(text.nonblank(), pa.timestamp("us"))
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


def _maybe_dates(text: _Text) -> bool:
    """Enough values start like an ISO date to be worth reading as dates."""
    starts = _matches(text.trimmed, r"^\d{4}-\d{2}-\d{2}")
    return text.count(starts) >= NUMERIC_SHARE * text.candidates


# -- inference and overrides ----------------------------------------------------------


def _finish(array: pa.ChunkedArray | pa.Array, kind: ColumnType, problems: list[str]) -> Converted:
    array = _chunked(array)
    missing = array.null_count
    if pa.types.is_floating(array.type):
        missing += _count(pc.is_nan(array))
    if missing == len(array) and len(array):
        problems.append("all values missing")
    return Converted(array, kind, missing, tuple(problems))


def _strings(text: _Text, kind: ColumnType | None, problems: list[str] | None = None) -> Converted:
    """The text values, blanks as missing; `kind` None: categorical or text by the
    number of distinct values."""
    values = pc.if_else(text.blank, pa.scalar(None, pa.string()), text.values)
    if kind is None:
        distinct = (
            len(text.values) - _count(text.blank)
            if text.weights is not None
            else int(pc.count_distinct(values).as_py() or 0)
        )
        many = distinct > TEXT_MIN_DISTINCT and distinct > text.filled / 2
        kind = "text" if many else "categorical"
    return _finish(text.expand(values), kind, problems or [])


def infer_text(column: pa.ChunkedArray, *, decimal_comma_first: bool = False) -> Converted:
    """The type of a column of strings (see the module docstring) and its values."""
    text = _prepare(column)
    if text.candidates == 0:
        problems = []
        if text.filled:
            problems.append(f"{text.filled:,} missing marker(s) ({_examples(text, text.marker)})")
        return _finish(pa.nulls(len(text.original), pa.string()), "text", problems)
    if text.weights is not None or len(text.values) <= 1000:  # few values: maybe booleans
        lower = pc.utf8_lower(text.trimmed)
        booleans = pc.fill_null(pc.is_in(lower, pa.array(["true", "false"])), False)
        if text.count(booleans) == text.candidates:
            problems = list(_dropped(text, booleans, "non-boolean"))
            values = pc.if_else(booleans, pc.equal(lower, "true"), pa.scalar(None, pa.bool_()))
            return _finish(text.expand(values), "boolean", problems)
    numbers = _numbers(text, decimal_comma_first, quick=True)
    share = numbers.count / text.candidates
    if numbers.count and share >= NUMERIC_SHARE:
        return _numeric(text, numbers)
    plain = _plain_datetimes(text)
    if plain is not None:
        return _finish(text.expand(plain), "datetime", [])
    if _maybe_dates(text):
        moments, read = _datetimes(text)
        if text.count(read) >= NUMERIC_SHARE * text.candidates:
            problems = list(_dropped(text, read, "non-date"))
            return _finish(text.expand(moments), "datetime", problems)
    problems = []
    if share >= 0.5:
        others = pc.invert(pc.or_(pc.fill_null(numbers.read, False), text.blank))
        problems.append(
            f"mixed values: {share:.0%} are numbers, the rest text "
            f"(e.g. {_examples(text, others)}); read as text (choose numeric to keep the "
            "numbers and drop the rest)"
        )
    return _strings(text, None, problems)


def convert(
    column: pa.ChunkedArray, kind: ColumnType, *, name: str, decimal_comma_first: bool = False
) -> Converted:
    """A column read as the type the user chose; refuses when no value converts."""
    column = _chunked(column)
    current = natural_type(column.type)
    if kind in ("categorical", "text"):
        if current == "boolean":
            column = _chunked(pc.if_else(column, "true", "false"))
        return _strings(_prepare(column), kind)
    if current == kind:
        return _finish(column, kind, [])
    if current == "boolean" and kind == "numeric":
        return _finish(pc.cast(column, pa.int64()), "numeric", [])
    if current == "datetime" or (current == "numeric" and kind == "datetime"):
        raise UploadError(
            f"column {_short(name, 60)!r} holds {current} values: it cannot be read as {kind}"
        )
    text = _prepare(column)
    anything = pc.invert(text.blank)
    if kind == "numeric":
        numbers = _numbers(text, decimal_comma_first)
        if not numbers.count and text.filled:
            raise UploadError(
                f"column {_short(name, 60)!r} cannot be read as numeric: none of its values is a "
                f"number (e.g. {_examples(text, anything, 1)})"
            )
        return _numeric(text, numbers)
    if kind == "boolean":
        lower = pc.utf8_lower(text.trimmed)
        read = pc.fill_null(pc.is_in(lower, pa.array(list(BOOLEAN_WORDS))), False)
        if not text.count(read) and text.filled:
            raise UploadError(
                f"column {_short(name, 60)!r} cannot be read as boolean: use true/false, yes/no "
                f"or 1/0 (found e.g. {_examples(text, anything, 1)})"
            )
        truthy = [word for word, flag in BOOLEAN_WORDS.items() if flag]
        values = pc.if_else(read, pc.is_in(lower, pa.array(truthy)), pa.scalar(None, pa.bool_()))
        return _finish(text.expand(values), "boolean", list(_dropped(text, read, "non-boolean")))
    moments, read = _datetimes(text)
    if not text.count(read) and text.filled:
        raise UploadError(
            f"column {_short(name, 60)!r} cannot be read as datetime: write dates as ISO 8601 "
            "(2024-05-01 or 2024-05-01T13:45:00)"
        )
    return _finish(text.expand(moments), "datetime", list(_dropped(text, read, "non-date")))


def natural_type(arrow_type: pa.DataType) -> ColumnType | None:
    """The column type of an Arrow type, or None when uploads do not support it."""
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "numeric"
    if pa.types.is_decimal(arrow_type):
        return "numeric"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "categorical"
    if pa.types.is_dictionary(arrow_type):
        return natural_type(cast(pa.DictionaryType, arrow_type).value_type)
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "datetime"
    if pa.types.is_null(arrow_type):
        return "text"
    return None


def from_typed(column: pa.ChunkedArray) -> Converted | None:
    """A column of a typed file (Parquet) as it is; None when its type is unsupported."""
    column = _chunked(column)
    kind = natural_type(column.type)
    if kind is None:
        return None
    if pa.types.is_dictionary(column.type):
        column = column.cast(cast(pa.DictionaryType, column.type).value_type)
    if pa.types.is_large_string(column.type) or pa.types.is_null(column.type):
        column = column.cast(pa.string())
    if pa.types.is_float16(column.type):
        column = column.cast(pa.float32())
    if kind == "categorical":
        return _strings(_prepare(column), None)
    return _finish(column, kind, [])
