"""Column names made safe, and the tables of several files joined into one.

Names become unique (ignoring letter case, as SQL compares them), non-empty, trimmed and
free of control characters; files uploaded together must have one format and the same
columns (in any order). Every repair is a sentence in the upload's report.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Final

import pyarrow as pa

from monitor.ops.datasets.formats import FORMAT_NAMES, Parsed
from monitor.ops.datasets.text import UploadError, show

MAX_NAME_CHARS: Final = 1000
"""Longer column names are cut (a header cell of a megabyte is not a name)."""


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
        shown = ", ".join(show(n) for n in trimmed[:3])
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
            notes.append(f"{same} column {show(name)} renamed to {show(candidate)}")
    return tuple(final), tuple(notes)


def combine(
    parts: Sequence[Parsed], names: Sequence[str]
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
                f"{name} is {FORMAT_NAMES[part.format]} but {names[0]} is "
                f"{FORMAT_NAMES[first.format]}: upload files of one format together"
            )
        missing = [c for c in repaired[0] if c not in columns]
        extra = [c for c in columns if c not in repaired[0]]
        if missing or extra:
            differences = []
            if missing:
                differences.append("no column " + ", ".join(show(c) for c in missing[:5]))
            if extra:
                differences.append("extra column " + ", ".join(show(c) for c in extra[:5]))
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
