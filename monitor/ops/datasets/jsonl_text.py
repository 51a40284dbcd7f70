"""JSON Lines uploads parsed into columns of strings.

Every non-empty line is one JSON object; nested objects are flattened to dotted names
(`address.city`), lists are kept as JSON text. pyarrow's JSON reader is used when it
reads the file as the line-by-line reader would (it is much faster).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa
import pyarrow.json as pa_json

from monitor.ops.datasets.text import Decoding, TextTable, UploadError, text_buffer

JSONL_CHUNK_ROWS: Final = 20_000


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
