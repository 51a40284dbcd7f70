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

The column is prepared once (`column_text`) and its values read as numbers or dates by
`value_parsing`; this module decides the type from what they read.

Blank cells are missing in every type. A type chosen by the user (an override) is
applied with the same readers; values that do not convert become missing and are
reported, and a column none of whose values converts is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, cast

import pyarrow as pa
import pyarrow.compute as pc

from monitor.ops.datasets.column_text import (
    TextColumn,
    chunked,
    count,
    dropped,
    examples,
    matches,
    prepare,
)
from monitor.ops.datasets.text import UploadError, short
from monitor.ops.datasets.value_parsing import (
    Numbers,
    plain_datetimes,
    read_datetimes,
    read_numbers,
)

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

_MAX_EXACT = 2.0**53


@dataclass(frozen=True)
class Converted:
    array: pa.ChunkedArray
    type: ColumnType
    missing: int
    problems: tuple[str, ...] = ()


def _numeric(text: TextColumn, numbers: Numbers) -> Converted:
    problems: list[str] = []
    with_separators = 0 if numbers.separators is None else text.count(numbers.separators)
    if with_separators and numbers.separators is not None:
        example = examples(text, numbers.separators, 1)
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
    problems.extend(dropped(text, numbers.read, "non-numeric"))
    values = numbers.values
    finite = pc.filter(values, pc.fill_null(pc.is_finite(values), False))
    if len(finite) and pc.all(pc.equal(pc.floor(finite), finite)).as_py():
        bounds = pc.min_max(finite)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low > -_MAX_EXACT and high < _MAX_EXACT:
            values = pc.cast(values, pa.int64())
    return _finish(text.expand(values), "numeric", problems)


def _maybe_dates(text: TextColumn) -> bool:
    """Enough values start like an ISO date to be worth reading as dates."""
    starts = matches(text.trimmed, r"^\d{4}-\d{2}-\d{2}")
    return text.count(starts) >= NUMERIC_SHARE * text.candidates


# -- inference and overrides ----------------------------------------------------------


def _finish(array: pa.ChunkedArray | pa.Array, kind: ColumnType, problems: list[str]) -> Converted:
    array = chunked(array)
    missing = array.null_count
    if pa.types.is_floating(array.type):
        missing += count(pc.is_nan(array))
    if missing == len(array) and len(array):
        problems.append("all values missing")
    return Converted(array, kind, missing, tuple(problems))


def _strings(
    text: TextColumn, kind: ColumnType | None, problems: list[str] | None = None
) -> Converted:
    """The text values, blanks as missing; `kind` None: categorical or text by the
    number of distinct values."""
    values = pc.if_else(text.blank, pa.scalar(None, pa.string()), text.values)
    if kind is None:
        distinct = (
            len(text.values) - count(text.blank)
            if text.weights is not None
            else int(pc.count_distinct(values).as_py() or 0)
        )
        many = distinct > TEXT_MIN_DISTINCT and distinct > text.filled / 2
        kind = "text" if many else "categorical"
    return _finish(text.expand(values), kind, problems or [])


def infer_text(column: pa.ChunkedArray, *, decimal_comma_first: bool = False) -> Converted:
    """The type of a column of strings (see the module docstring) and its values."""
    text = prepare(column)
    if text.candidates == 0:
        problems = []
        if text.filled:
            problems.append(f"{text.filled:,} missing marker(s) ({examples(text, text.marker)})")
        return _finish(pa.nulls(len(text.original), pa.string()), "text", problems)
    if text.weights is not None or len(text.values) <= 1000:  # few values: maybe booleans
        lower = pc.utf8_lower(text.trimmed)
        booleans = pc.fill_null(pc.is_in(lower, pa.array(["true", "false"])), False)
        if text.count(booleans) == text.candidates:
            problems = list(dropped(text, booleans, "non-boolean"))
            values = pc.if_else(booleans, pc.equal(lower, "true"), pa.scalar(None, pa.bool_()))
            return _finish(text.expand(values), "boolean", problems)
    numbers = read_numbers(text, decimal_comma_first, quick=True)
    share = numbers.count / text.candidates
    if numbers.count and share >= NUMERIC_SHARE:
        return _numeric(text, numbers)
    plain = plain_datetimes(text)
    if plain is not None:
        return _finish(text.expand(plain), "datetime", [])
    if _maybe_dates(text):
        moments, read = read_datetimes(text)
        if text.count(read) >= NUMERIC_SHARE * text.candidates:
            problems = list(dropped(text, read, "non-date"))
            return _finish(text.expand(moments), "datetime", problems)
    problems = []
    if share >= 0.5:
        others = pc.invert(pc.or_(pc.fill_null(numbers.read, False), text.blank))
        problems.append(
            f"mixed values: {share:.0%} are numbers, the rest text "
            f"(e.g. {examples(text, others)}); read as text (choose numeric to keep the "
            "numbers and drop the rest)"
        )
    return _strings(text, None, problems)


def convert(
    column: pa.ChunkedArray, kind: ColumnType, *, name: str, decimal_comma_first: bool = False
) -> Converted:
    """A column read as the type the user chose; refuses when no value converts."""
    column = chunked(column)
    current = natural_type(column.type)
    if kind in ("categorical", "text"):
        if current == "boolean":
            column = chunked(pc.if_else(column, "true", "false"))
        return _strings(prepare(column), kind)
    if current == kind:
        return _finish(column, kind, [])
    if current == "boolean" and kind == "numeric":
        return _finish(pc.cast(column, pa.int64()), "numeric", [])
    if current == "datetime" or (current == "numeric" and kind == "datetime"):
        raise UploadError(
            f"column {short(name, 60)!r} holds {current} values: it cannot be read as {kind}"
        )
    text = prepare(column)
    anything = pc.invert(text.blank)
    if kind == "numeric":
        numbers = read_numbers(text, decimal_comma_first)
        if not numbers.count and text.filled:
            raise UploadError(
                f"column {short(name, 60)!r} cannot be read as numeric: none of its values is a "
                f"number (e.g. {examples(text, anything, 1)})"
            )
        return _numeric(text, numbers)
    if kind == "boolean":
        lower = pc.utf8_lower(text.trimmed)
        read = pc.fill_null(pc.is_in(lower, pa.array(list(BOOLEAN_WORDS))), False)
        if not text.count(read) and text.filled:
            raise UploadError(
                f"column {short(name, 60)!r} cannot be read as boolean: use true/false, yes/no "
                f"or 1/0 (found e.g. {examples(text, anything, 1)})"
            )
        truthy = [word for word, flag in BOOLEAN_WORDS.items() if flag]
        values = pc.if_else(read, pc.is_in(lower, pa.array(truthy)), pa.scalar(None, pa.bool_()))
        return _finish(text.expand(values), "boolean", list(dropped(text, read, "non-boolean")))
    moments, read = read_datetimes(text)
    if not text.count(read) and text.filled:
        raise UploadError(
            f"column {short(name, 60)!r} cannot be read as datetime: write dates as ISO 8601 "
            "(2024-05-01 or 2024-05-01T13:45:00)"
        )
    return _finish(text.expand(moments), "datetime", list(dropped(text, read, "non-date")))


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
    column = chunked(column)
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
        return _strings(prepare(column), None)
    return _finish(column, kind, [])
