"""Which columns of a comparison are features, and which are left out and why.

Roles name columns that are not features: the label, prediction and score are the
targets (compared as label and prediction drift, never as features); id, timestamp and
ignored columns are left out. A role not named keeps its default: the model's column
from monitor.toml, else a column literally named `label`, `prediction` or `probability`.

A column no role names is a feature, unless its type is not analysed (dates, lists) or
it looks like an identifier: a text or integer column whose values are **unique per
row** (as many distinct values as rows, none missing) in a reference of at least
`ID_MIN_ROWS` rows, and either the reference has at least `ID_REFERENCE_ROWS` rows or
the column is unique per row in the current data too. Uniqueness is counted in DuckDB
(`count(DISTINCT col)` against `count(*)`), so no rows leave the database. Naming the
column as a feature (or turning detection off) analyses it.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from monitor.core.config import ModelConfig
from monitor.core.errors import InputError
from monitor.core.tabular import Relation, Runner, TabColumn, select_sql
from monitor.core.tabular_reconcile import reconcile

TargetRole = Literal["label", "prediction", "score"]
TARGET_ROLES: Final[tuple[TargetRole, ...]] = ("label", "prediction", "score")
_DEFAULTS: Final = ModelConfig(id="defaults")
DEFAULT_NAMES: Final[dict[TargetRole, str]] = {
    "label": _DEFAULTS.label_column,
    "prediction": _DEFAULTS.prediction_column,
    "score": _DEFAULTS.score_column or "probability",
}
"""The columns that are the targets when no role names them (and no model does)."""
NO_COLUMN: Final = "\x00none"
"""A column name no table has (names never hold control characters): the stand-in for a
role that is not set, where `tabular.file_relation` wants a name."""
ID_MIN_ROWS: Final = 100
"""Fewer reference rows cannot tell an identifier from a sparse feature."""
ID_REFERENCE_ROWS: Final = 1000
"""From this many reference rows, unique per row in the reference alone is an identifier."""
_INTEGER_TYPES: Final = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)

Reason = Literal["id", "timestamp", "ignore", "identifier", "unsupported"]


@dataclass(frozen=True)
class RoleNames:
    """The columns each role names (None / empty: not named)."""

    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    ids: tuple[str, ...] = ()
    timestamp: str | None = None
    ignore: tuple[str, ...] = ()

    def target(self, role: TargetRole) -> str | None:
        found: str | None = getattr(self, role)
        return found

    def named(self) -> list[tuple[str, str]]:
        """(role, column) for every column a role names, in role order."""
        pairs: list[tuple[str, str | None]] = [(r, self.target(r)) for r in TARGET_ROLES]
        pairs += [("id", name) for name in self.ids]
        pairs += [("timestamp", self.timestamp)]
        pairs += [("ignore", name) for name in self.ignore]
        return [(role, name) for role, name in pairs if name is not None]

    def left_out(self) -> list[tuple[Reason, str]]:
        """(role, column) of the id, timestamp and ignored columns."""
        pairs: list[tuple[Reason, str]] = [("id", name) for name in self.ids]
        if self.timestamp is not None:
            pairs.append(("timestamp", self.timestamp))
        return pairs + [("ignore", name) for name in self.ignore]


@dataclass(frozen=True)
class Excluded:
    """A column that is not analysed as a feature, and why (`detail`, in words)."""

    column: str
    reason: Reason
    detail: str


@dataclass(frozen=True)
class ColumnUse:
    """What the columns of a comparison were used for."""

    roles: RoleNames
    """The targets found in a table, and the id, timestamp and ignored columns."""
    defaults: tuple[TargetRole, ...] = ()
    """Target roles that were not named (flags, saved roles) and took the default."""
    excluded: tuple[Excluded, ...] = ()

    def document(self) -> dict[str, object]:
        """The `columns` object of the CLI's JSON documents."""
        return {
            "label": self.roles.label,
            "prediction": self.roles.prediction,
            "score": self.roles.score,
            "id": list(self.roles.ids),
            "timestamp": self.roles.timestamp,
            "ignore": list(self.roles.ignore),
            "defaults": list(self.defaults),
            "excluded": [dataclasses.asdict(e) for e in self.excluded],
        }


# -- names ------------------------------------------------------------------------------


def closest(name: str, names: Iterable[str]) -> str | None:
    """The existing name most like `name` (ignoring letter case), if any is close."""
    by_fold = {n.casefold(): n for n in names}
    found = difflib.get_close_matches(name.casefold(), list(by_fold), n=1, cutoff=0.5)
    return by_fold[found[0]] if found else None


def unknown_column(flag: str, name: str, names: Collection[str], where: str) -> InputError:
    """`--flag: column 'x' not found in WHERE (closest: 'y')`: one line, naming the
    nearest column (or the first columns, when none is close)."""
    near = closest(name, names)
    if near is not None:
        hint = f"closest: {near!r}"
    else:
        shown = sorted(names)
        hint = "columns: " + ", ".join(repr(n) for n in shown[:8]) + (", ..." * (len(shown) > 8))
    return InputError(f"{flag}: column {name!r} not found in {where} ({hint})")


def check_names(roles: RoleNames, columns: Collection[str], where: str) -> None:
    """Every named column exists in `columns` (else the flag, the name and the closest
    column, `where` naming the tables), and no column has two roles."""
    seen: dict[str, str] = {}
    for role, name in roles.named():
        if name not in columns:
            raise unknown_column("--" + role, name, columns, where)
        if name in seen and seen[name] != role:
            raise InputError(f"column {name!r} is both the {seen[name]} and the {role} column")
        seen[name] = role


def target_model(
    roles: RoleNames, base: ModelConfig | None, *, skip: Collection[str] = ()
) -> tuple[ModelConfig, tuple[TargetRole, ...]]:
    """The model configuration `tabular.file_relation` reads a file with, so that the
    roles' columns become its targets: a named role; else the base model's column or the
    default name, unless `skip` (columns asked for as features) or another role names it.
    Returns it with the roles left to a default. Without a base model the targets keep
    their own types (task regression): their drift kinds are detected from the values."""
    taken = {name for _, name in roles.named()}
    chosen: dict[TargetRole, str | None] = {}
    defaults: list[TargetRole] = []
    for role in TARGET_ROLES:
        name = roles.target(role)
        if name is None:
            fallback = _base_column(base, role) if base is not None else DEFAULT_NAMES[role]
            if fallback is not None and fallback not in skip and fallback not in taken:
                name = fallback
                defaults.append(role)
        chosen[role] = name
    model = base if base is not None else ModelConfig(id="files", task="regression")
    model = dataclasses.replace(
        model,
        label_column=chosen["label"] or NO_COLUMN,
        prediction_column=chosen["prediction"] or NO_COLUMN,
        score_column=chosen["score"],
    )
    return model, tuple(defaults)


def _base_column(model: ModelConfig, role: TargetRole) -> str | None:
    return {
        "label": model.label_column,
        "prediction": model.prediction_column,
        "score": model.score_column,
    }[role]


def column_names(relation: Relation) -> list[str]:
    """Every column the relation read: features, targets and unsupported columns."""
    names = [c.name for c in relation.features]
    names += [c.name for c in relation.targets.values()]
    return names + [name for name, _ in relation.unsupported]


def found_targets(roles: RoleNames, *relations: Relation) -> RoleNames:
    """`roles` with the targets replaced by the columns that are targets in a relation."""
    found: dict[str, str] = {}
    for relation in relations:
        for role, column in relation.targets.items():
            found.setdefault(role, column.name)
    return dataclasses.replace(
        roles,
        label=found.get("label"),
        prediction=found.get("prediction"),
        score=found.get("score"),
    )


# -- features ---------------------------------------------------------------------------


def with_features(relation: Relation, features: Sequence[TabColumn]) -> Relation:
    """The relation with only `features` analysed (its cache key says which: cached
    reference profiles are per key)."""
    if tuple(features) == relation.features:
        return relation
    kept = ",".join(c.alias for c in features)
    digest = hashlib.sha1(kept.encode(), usedforsecurity=False).hexdigest()[:12]
    return dataclasses.replace(
        relation, features=tuple(features), cache_key=f"{relation.cache_key}|features {digest}"
    )


def only_features(relation: Relation, wanted: Sequence[str]) -> Relation:
    """Only the features named in `wanted` (each must be a column of the relation)."""
    names = {c.name for c in relation.features}
    for name in wanted:
        if name not in names:
            targets = {c.name: role for role, c in relation.targets.items()}
            if name in targets:
                raise InputError(
                    f"--features: {name!r} is the {targets[name]} column of {relation.label}, "
                    "not a feature"
                )
            raise unknown_column("--features", name, column_names(relation), relation.label)
    return dataclasses.replace(
        with_features(relation, [c for c in relation.features if c.name in wanted]),
        unsupported=tuple(u for u in relation.unsupported if u[0] in wanted),
    )


def leave_out(relation: Relation, names: Collection[str]) -> Relation:
    """The relation without the features named in `names`."""
    return with_features(relation, [c for c in relation.features if c.name not in names])


_ROLE_DETAILS: Final[dict[Reason, str]] = {
    "id": "an identifier (id role)",
    "timestamp": "the timestamp (timestamp role)",
    "ignore": "ignored (ignore role)",
}


def split_roles(roles: RoleNames) -> tuple[Excluded, ...]:
    """The id, timestamp and ignored columns, as left out."""
    found = {name: Excluded(name, role, _ROLE_DETAILS[role]) for role, name in roles.left_out()}
    return tuple(found.values())


def split_columns(
    runner: Runner,
    reference: Relation,
    current: Relation,
    roles: RoleNames,
    *,
    detect: bool = True,
    keep: Collection[str] = (),
) -> tuple[Relation, Relation, tuple[Excluded, ...]]:
    """Both relations without the id, timestamp and ignored columns, and (with `detect`,
    when neither side is a log window) without the identifier-like columns not in
    `keep`; with the excluded columns and why, unsupported types included. With one id
    column, it is the relation's id column (duplicate ids in data quality). The features
    left are reconciled: one type per column on both sides
    (`monitor.core.tabular_reconcile`)."""
    excluded = {e.column: e for e in split_roles(roles)}
    reference, current = without_roles(reference, roles), without_roles(current, roles)
    found: tuple[Excluded, ...] = ()
    if detect and reference.time_alias is None and current.time_alias is None:
        found = identifiers(runner, reference, current, skip=keep)
        names = [e.column for e in found]
        reference, current = leave_out(reference, names), leave_out(current, names)
    reference, current = reconcile(runner, reference, current)
    for relation in (reference, current):
        for name, source_type in relation.unsupported:
            detail = f"type {source_type} is not analysed"
            excluded.setdefault(name, Excluded(name, "unsupported", detail))
    excluded |= {e.column: e for e in found}
    return reference, current, tuple(excluded.values())


def without_roles(relation: Relation, roles: RoleNames) -> Relation:
    """The relation without its id, timestamp and ignored columns. A file's one id
    column becomes its id column (duplicate ids in data quality): it stays in the SELECT,
    only the features analysed lose it."""
    column = relation.feature(roles.ids[0]) if len(roles.ids) == 1 else None
    if column is not None and relation.time_alias is None:
        relation = dataclasses.replace(relation, id_alias=column.alias)
    return leave_out(relation, [name for _, name in roles.left_out()])


# -- identifiers ------------------------------------------------------------------------


def id_like(column: TabColumn) -> bool:
    """Text, or integers (not decimals, floats or booleans)."""
    source = column.source_type.upper()
    return column.sql_type == "VARCHAR" or (
        column.sql_type == "DOUBLE" and source in _INTEGER_TYPES
    )


def _unique_counts(
    runner: Runner, relation: Relation, columns: Sequence[TabColumn]
) -> tuple[int, dict[str, int]]:
    """(rows, distinct non-missing values per column), in one scan."""
    parts = ["count(*)"] + [f"count(DISTINCT {c.alias})" for c in columns]
    row = runner.execute(select_sql(parts, relation.sql), relation.params)[0]
    return int(row[0]), {c.name: int(n) for c, n in zip(columns, row[1:], strict=True)}


def identifiers(
    runner: Runner, reference: Relation, current: Relation, *, skip: Collection[str] = ()
) -> tuple[Excluded, ...]:
    """The reference's features that look like identifiers (the rule: module docstring)."""
    candidates = [c for c in reference.features if id_like(c) and c.name not in skip]
    if not candidates:
        return ()
    rows, distinct = _unique_counts(runner, reference, candidates)
    if rows < ID_MIN_ROWS:
        return ()
    unique = [c for c in candidates if distinct[c.name] == rows]
    if not unique:
        return ()
    both_sides = rows < ID_REFERENCE_ROWS
    if both_sides:
        on_current = [c for c in current.features if c.name in {u.name for u in unique}]
        cur_rows, cur_distinct = _unique_counts(runner, current, on_current)
        kept = {c.name for c in on_current if cur_rows and cur_distinct[c.name] == cur_rows}
        unique = [c for c in unique if c.name in kept]
    where = "in both tables" if both_sides else f"in the reference ({rows:,} rows)"
    detail = f"unique per row {where}: treated as an identifier"
    return tuple(Excluded(c.name, "identifier", detail) for c in unique)
