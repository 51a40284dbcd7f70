"""A text column prepared once for judging its type: the values judged (its distinct
values with their counts when it has few, else every cell), trimmed, and which of them
are blank or a missing marker; plus the small pyarrow helpers the readers share."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from monitor.ops.datasets.text import short

MISSING_MARKERS: Final = ("na", "n/a", "nan", "null", "none", "#n/a", "-", "?", "missing", "nil")
_MARKER_SPELLINGS: Final = sorted(
    {v for m in MISSING_MARKERS for v in (m, m.upper(), m.capitalize(), m.title())} | {"NaN"}
)
"""The markers as they are written (NA, N/A, NaN, Null, ...): matching these spares a
lower-cased copy of every column."""
_SURROUNDING_SPACE: Final = r"^[\s\pZ]|[\s\pZ]$"
DISTINCT_SHARE: Final = 0.5
"""Columns with at most this share of distinct values are judged on their distinct
values (weighted by their counts) and the result mapped back: categorical columns of a
million rows cost a few thousand regex matches."""


@dataclass(frozen=True)
class TextColumn:
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
            return count(mask)
        chosen = pc.if_else(pc.fill_null(mask, False), self.weights, 0)
        return int(pc.sum(chosen).as_py() or 0)

    def expand(self, array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
        """A result over the judged values, one entry per cell."""
        if self.indices is None:
            return chunked(array)
        return chunked(pc.take(array, self.indices))

    def nonblank(self) -> pa.Array | pa.ChunkedArray:
        if self.filled == len(self.original):
            return self.trimmed
        return pc.if_else(self.blank, pa.scalar(None, pa.string()), self.trimmed)


def prepare(column: pa.ChunkedArray) -> TextColumn:
    column = chunked(column)
    if column.type != pa.string():
        column = column.cast(pa.string())
    values: pa.Array | pa.ChunkedArray = column
    weights = indices = None
    head = column.slice(0, 20_000)
    if len(pc.unique(head)) <= DISTINCT_SHARE * len(head):  # worth counting them all
        counts = pc.value_counts(column)
        if len(counts) <= DISTINCT_SHARE * len(column):
            values, weights = counts.field("values"), counts.field("counts")
            indices = chunked(pc.index_in(column, value_set=values))
    trimmed = values
    if pc.any(pc.match_substring_regex(values, _SURROUNDING_SPACE)).as_py():
        trimmed = pc.utf8_trim_whitespace(values)
    blank = pc.fill_null(pc.equal(trimmed, ""), True)
    marker = pc.and_(pc.invert(blank), pc.is_in(trimmed, pa.array(_MARKER_SPELLINGS)))
    text = TextColumn(column, values, weights, indices, trimmed, blank, marker, 0, 0)
    filled = len(column) - text.count(blank)
    return dataclasses.replace(text, filled=filled, candidates=filled - text.count(marker))


def count(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.sum(pc.cast(pc.fill_null(mask, False), pa.int64())).as_py() or 0)


def chunked(array: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])


def examples(text: TextColumn, mask: pa.Array | pa.ChunkedArray, limit: int = 3) -> str:
    found = pc.unique(pc.filter(text.trimmed, pc.fill_null(mask, False))).to_pylist()[:limit]
    return ", ".join(repr(short(str(v))) for v in found)


def dropped(text: TextColumn, read: pa.Array | pa.ChunkedArray, what: str) -> tuple[str, ...]:
    """The sentence about values that did not read as `what` and became missing."""
    lost = pc.and_(pc.invert(text.blank), pc.invert(pc.fill_null(read, False)))
    found = text.count(lost)
    if not found:
        return ()
    return (f"{found:,} {what} value(s) ({examples(text, lost)}) set to missing",)


def matches(values: pa.Array | pa.ChunkedArray, *patterns: str) -> pa.Array | pa.ChunkedArray:
    result = pc.fill_null(pc.match_substring_regex(values, patterns[0]), False)
    for pattern in patterns[1:]:
        result = pc.or_(result, pc.fill_null(pc.match_substring_regex(values, pattern), False))
    return result


def cast_all(values: pa.Array | pa.ChunkedArray, to: pa.DataType) -> Any:
    """`values` cast to `to`, or None when some value does not convert. A failing cast
    costs as much as a full one, so the first values are tried first."""
    try:
        pc.cast(values.slice(0, 2000), to)
        return pc.cast(values, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
