# ruff: noqa: S608  (SQL built from constants and the relations' safe aliases)
"""Two relations with one type per column (the decision: `monitor.core.reconcile`).

`reconcile(runner, reference, current)` counts, in one aggregate scan per side, the facts
the decision needs about the columns that are text on a side or read as different types
(never the rows themselves), decides each column from both sides, and wraps each
relation's SELECT so that its columns hold the resolved type
(`SELECT * REPLACE (<cast> AS c0) FROM (...)`). Columns left as dates on one side leave
the other side's features too; incomparable columns leave both (the drift queries give
them a status). Both relations carry the notes (`Relation.schema`) and are marked
reconciled, so a second call is free.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from monitor.core import reconcile as rc
from monitor.core.sqlutil import literal_list
from monitor.core.tabular import Relation, Runner, TabColumn, select_sql

_SNIFFED: Final = literal_list([*rc.SNIFFED_TRUE, *rc.SNIFFED_FALSE])
_WORDS: Final = literal_list([*rc.TRUE_WORDS, *rc.FALSE_WORDS])
_TRUE: Final = literal_list(list(rc.TRUE_WORDS))
_FALSE: Final = literal_list(list(rc.FALSE_WORDS))
_CACHE_SIZE: Final = 32

Side = tuple[str, TabColumn | None]
"""A column as one side has it: (type as read, the analysed column or None)."""


def reconcile(runner: Runner, reference: Relation, current: Relation) -> tuple[Relation, Relation]:
    """Both relations with one type per shared feature, and the notes of the columns read
    two ways (module docstring)."""
    if reference.reconciled and current.reconciled:
        return reference, current
    ref_sides, cur_sides = _sides(reference), _sides(current)
    analysed = {c.name for c in (*reference.features, *current.features)}
    shared = [n for n in ref_sides if n in cur_sides and n in analysed]
    wanted = [n for n in shared if _needs_facts(ref_sides[n], cur_sides[n])]
    ref_facts = _facts(runner, reference, [ref_sides[n] for n in wanted])
    cur_facts = _facts(runner, current, [cur_sides[n] for n in wanted])
    labels = (reference.label, current.label)
    decisions: dict[str, tuple[rc.Decision, rc.Facts, rc.Facts]] = {}
    notes: list[rc.Reconciled] = []
    for name in shared:
        ref = ref_facts.get(name) or _plain(ref_sides[name])
        cur = cur_facts.get(name) or _plain(cur_sides[name])
        decision = rc.decide(ref, cur, labels)
        decisions[name] = (decision, ref, cur)
        if rc.needs_note(ref, cur, decision):
            notes.append(rc.reconciled(name, ref, cur, decision, labels))
    return (
        _apply(reference, decisions, 0, tuple(notes)),
        _apply(current, decisions, 1, tuple(notes)),
    )


def _sides(relation: Relation) -> dict[str, Side]:
    """Features first (the order of the notes), then the columns not analysed."""
    found: dict[str, Side] = {c.name: (c.source_type, c) for c in relation.features}
    return found | {name: (read_as, None) for name, read_as in relation.unsupported}


def _needs_facts(ref: Side, cur: Side) -> bool:
    """Counts are needed where a side is text, or the analysed types differ."""
    types = {side[1].sql_type for side in (ref, cur) if side[1] is not None}
    return "VARCHAR" in types or len(types) > 1


def _plain(side: Side) -> rc.Facts:
    return rc.Facts(side[0], None if side[1] is None else side[1].sql_type)


def _expressions(column: TabColumn) -> list[str]:
    """The facts of one column, as aggregates (in `_read` order)."""
    a = column.alias
    if column.sql_type == "DOUBLE":
        return [f"count({a})", f"count(*) FILTER (WHERE {a} IN (0, 1))"]
    if column.sql_type == "BOOLEAN":
        return [f"count({a})"]
    word = f"lower(trim({a}))"
    return [
        f"count({a})",
        f"count(*) FILTER (WHERE list_contains({_SNIFFED}, {word}))",
        f"count(*) FILTER (WHERE list_contains({_WORDS}, {word}))",
        f"count(TRY_CAST({a} AS DOUBLE))",
        f"count(*) FILTER (WHERE TRY_CAST({a} AS DOUBLE) IN (0, 1))",
        f"count(TRY_CAST({a} AS TIMESTAMPTZ))",
        f"list(DISTINCT {a} ORDER BY {a}) FILTER (WHERE list_contains({_WORDS}, {word}))",
        f"min({a}) FILTER (WHERE TRY_CAST({a} AS DOUBLE) IS NULL)",
    ]


def _read(read_as: str, column: TabColumn, row: Sequence[Any]) -> rc.Facts:
    if column.sql_type == "DOUBLE":
        return rc.Facts(read_as, "DOUBLE", values=int(row[0]), zero_one=int(row[1]))
    if column.sql_type == "BOOLEAN":
        return rc.Facts(read_as, "BOOLEAN", values=int(row[0]))
    values, sniffed, words, numbers, zero_one, dates, spellings, example = row
    return rc.Facts(
        read_as,
        "VARCHAR",
        values=int(values),
        sniffed=int(sniffed),
        words=int(words),
        numbers=int(numbers),
        zero_one=int(zero_one),
        dates=int(dates),
        spellings=tuple(str(s) for s in spellings or ()),
        example=None if example is None else str(example),
    )


def _facts(runner: Runner, relation: Relation, sides: Sequence[Side]) -> dict[str, rc.Facts]:
    """The facts of the analysed columns among `sides`, in one scan (cached per relation)."""
    columns = [(read_as, column) for read_as, column in sides if column is not None]
    if not columns:
        return {}
    key = (relation.cache_key, relation.sql, tuple(column for _, column in columns))
    with _LOCK:
        cached = _CACHE.get(key) if relation.cache_key else None
    if cached is not None:
        return cached
    parts = [_expressions(column) for _, column in columns]
    flat = [part for found in parts for part in found]
    row = runner.execute(select_sql(flat, relation.sql), relation.params)[0]
    facts: dict[str, rc.Facts] = {}
    start = 0
    for (read_as, column), found in zip(columns, parts, strict=True):
        facts[column.name] = _read(read_as, column, row[start : start + len(found)])
        start += len(found)
    if relation.cache_key:
        with _LOCK:
            _CACHE[key] = facts
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return facts


def _convert(column: TabColumn, to: str, canonical: bool) -> str:
    """The SQL that reads the column's alias as `to` (boolean words mapped when
    `canonical`)."""
    a, word = column.alias, f"lower(trim({column.alias}))"
    source = column.sql_type
    number = a if source == "DOUBLE" else f"TRY_CAST({a} AS DOUBLE)"
    if to == "BOOLEAN" and source == "VARCHAR":
        return (
            f"CASE WHEN list_contains({_TRUE}, {word}) OR {number} = 1 THEN true "
            f"WHEN list_contains({_FALSE}, {word}) OR {number} = 0 THEN false END"
        )
    if to == "BOOLEAN" and source == "DOUBLE":
        return f"CASE {a} WHEN 1 THEN true WHEN 0 THEN false END"
    if to == "VARCHAR" and source == "VARCHAR" and canonical:
        return (
            f"CASE WHEN list_contains({_TRUE}, {word}) THEN 'true' "
            f"WHEN list_contains({_FALSE}, {word}) THEN 'false' ELSE {a} END"
        )
    if to == "VARCHAR" and source == "DOUBLE":
        return f"monitor_number_text({a})"
    if to == source:
        return a
    return f"TRY_CAST({a} AS {to})"


def _apply(
    relation: Relation,
    decisions: Mapping[str, tuple[rc.Decision, rc.Facts, rc.Facts]],
    index: int,
    notes: tuple[rc.Reconciled, ...],
) -> Relation:
    """One side cast to the decided types (`index`: 0 reference, 1 current)."""
    casts: list[str] = []
    features: list[TabColumn] = []
    unsupported = [u for u in relation.unsupported if u[0] not in decisions]
    for name, read_as in relation.unsupported:
        if name in decisions and decisions[name][0].resolved != "incomparable":
            unsupported.append((name, read_as))
    for column in relation.features:
        found = decisions.get(column.name)
        if found is None:
            features.append(column)
            continue
        decision, other = found[0], found[2] if index == 0 else found[1]
        to = decision.sql_type
        if to is None:
            if decision.resolved != "incomparable":
                shown = other.read_as if other.sql_type is None else f"{column.source_type} (dates)"
                unsupported.append((column.name, shown))
            continue
        expression = _convert(column, to, decision.canonical_booleans)
        if expression != column.alias:
            casts.append(f"{expression} AS {column.alias}")
        features.append(dataclasses.replace(column, sql_type=to))
    sql = relation.sql
    if casts:
        sql = "SELECT * REPLACE (" + ", ".join(casts) + ") FROM (" + relation.sql + ")"
    return dataclasses.replace(
        relation,
        sql=sql,
        features=tuple(features),
        unsupported=tuple(unsupported),
        schema=notes,
        reconciled=True,
    )


_CACHE: OrderedDict[tuple[Any, ...], dict[str, rc.Facts]] = OrderedDict()
_LOCK = threading.Lock()


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
