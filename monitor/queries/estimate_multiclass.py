# ruff: noqa: S608  (SQL built only from constants and the relations' aliases; values are parameters)
"""Label-free estimates of a multiclass model's file (`monitor estimate --task multiclass`):
one score column per class, named by a comma list or a glob (`y_pred_proba_*`); the class
of each column is its name's suffix after the columns' common prefix (cut back to the
last `_`, `-`, `.`, space, `:` or `/` in it), or given (`EstimateSpec.classes`).

The reference's usable rows (every score, the prediction if a column is named, and the
label) fit the per-class calibration (`estimation_multiclass.fit_multiclass_calibrator`;
above REFERENCE_SAMPLE_ROWS, a deterministic sample, in file order). Each chunk of the
current file is then fetched on its own, scores, prediction and label only
(`estimate_chunks`), and estimated (`estimate_multiclass`); its labeled rows give the
realized values (`realized_multiclass`). Rows without every score (or without a
prediction, when a column is named) are left out, with a warning.

Bad input ends in a one-line InputError: a score column that is not numbers in [0, 1],
a label or prediction value that is not a class, a class without reference labels.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from monitor.core import tabular
from monitor.core.errors import InputError
from monitor.core.tabular import Relation, Runner
from monitor.metrics.performance.estimation_multiclass import (
    estimate_multiclass,
    fit_multiclass_calibrator,
    realized_multiclass,
)
from monitor.queries import estimate_chunks as chunked
from monitor.queries import estimate_inputs as inputs
from monitor.queries.column_roles import TargetRole, column_names, unknown_column
from monitor.queries.estimate_types import Chunking, EstimateSpec, FileEstimate

GLOB_CHARACTERS: Final = "*?["
SEPARATORS: Final = "_-. :/"
NOTHING: Final = "no scored predictions, nothing to estimate"


def estimate_multiclass_files(
    runner: Runner,
    reference: Path,
    current: Path,
    spec: EstimateSpec,
    names: tuple[str | None, str | None],
) -> FileEstimate:
    """The multiclass estimate of `current` per chunk (module docstring)."""
    if spec.positive is not None:
        raise InputError("--positive applies to binary models only")
    ref_rel, cur_rel = _relations(runner, reference, current, spec, names)
    ref_columns = score_columns(spec.roles.score, ref_rel)
    classes = spec.classes or class_names(ref_columns)
    if len(classes) != len(ref_columns):
        raise InputError(
            f"--classes names {len(classes)} classes for {len(ref_columns)} score columns "
            f"({', '.join(ref_columns)}): give one class per column, in their order"
        )
    cur_columns = _current_columns(score_columns(spec.current.score, cur_rel), classes, spec)
    ref = _source(ref_rel, ref_columns, Chunking(), rows=0)
    cur = _source(cur_rel, cur_columns, spec.chunking, rows=tabular.rows(runner, cur_rel))
    ref_counts = _profile(runner, ref_rel, ref, ref_columns)
    cur_counts = _profile(runner, cur_rel, cur, cur_columns)
    for relation, source in ((ref_rel, ref), (cur_rel, cur)):
        _check_values(runner, relation, source, "label", classes)
        _check_values(runner, relation, source, "predicted", classes)
    _check_reference_classes(runner, ref_rel, ref, classes, ref_columns)
    names_used = [*(f"s{i}" for i in range(len(classes))), "label", "predicted"]
    fitted = chunked.reference_rows(runner, ref, names_used, "usable AND label IS NOT NULL")
    calibrator = fit_multiclass_calibrator(
        _scores(fitted, len(classes)),
        fitted["label"],
        classes,
        predicted=fitted["predicted"] if "prediction" in ref_rel.targets else None,
    )
    predicted = "prediction" in cur_rel.targets
    warnings = [
        *calibrator.warnings,
        *chunked.left_out(
            cur_rel.label,
            cur_counts[0],
            cur_counts[1],
            cur_counts[2],
            "score in every score column" + (" or no prediction" * predicted),
            spec.current.timestamp,
        ),
    ]

    def one_chunk(found: dict[str, Any]) -> chunked.Found:
        scores = _scores(found, len(classes))
        hat = found["predicted"] if predicted else None
        result = estimate_multiclass(scores, hat, calibrator, confidence=spec.confidence)
        labeled = np.array([v is not None for v in found["label"]], dtype=np.bool_)
        if not labeled.any():
            return result.metrics, None, result.warnings
        labels = found["label"][labeled]
        chosen = None if hat is None else hat[labeled]
        realized = realized_multiclass(scores[labeled], chosen, labels, classes)
        return result.metrics, (int(labeled.sum()), realized), result.warnings

    period = spec.chunking.period
    chunks = chunked.estimate_each(runner, cur, names_used, period, one_chunk, NOTHING)
    files = ((ref_rel.label, ref_counts[0]), (cur_rel.label, cur_counts[0]))
    result = chunked.file_estimate(
        spec, "multiclass", "isotonic", files, chunks, cur.size, warnings
    )
    return dataclasses.replace(result, classes=tuple(zip(classes, ref_columns, strict=True)))


def _relations(
    runner: Runner,
    reference: Path,
    current: Path,
    spec: EstimateSpec,
    names: tuple[str | None, str | None],
) -> tuple[Relation, Relation]:
    """Both files, label and prediction as targets (as text), the scores as features."""
    if spec.roles.score is None or spec.current.score is None:
        raise InputError(
            "--score is required: the score columns, one per class (COL,COL,... or PREFIX*)"
        )
    return inputs.read_pair(runner, (reference, current), spec, names)


def score_columns(pattern: str | None, relation: Relation) -> tuple[str, ...]:
    """The columns a comma list or a glob names (a glob: in file order), at least two."""
    assert pattern is not None
    targets = {c.name for c in relation.targets.values()}
    names = [n for n in column_names(relation) if n not in targets]
    if any(ch in pattern for ch in GLOB_CHARACTERS):
        found = tuple(n for n in names if fnmatch.fnmatchcase(n, pattern))
        if not found:
            raise unknown_column("--score", pattern, names, relation.label)
    else:
        found = tuple(dict.fromkeys(p.strip() for p in pattern.split(",") if p.strip()))
        for name in found:
            if name not in names:
                raise unknown_column("--score", name, column_names(relation), relation.label)
    if len(found) < 2:
        raise InputError(
            f"--score {pattern!r} names one column of {relation.label} ({found[0]!r}): a "
            "multiclass model has one score column per class (COL,COL,... or PREFIX*)"
        )
    return found


def class_names(columns: Sequence[str]) -> tuple[str, ...]:
    """Each column's suffix after the columns' common prefix (cut back to its last
    separator, if it has one)."""
    prefix = columns[0]
    for name in columns[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    cut = max(prefix.rfind(ch) for ch in SEPARATORS) + 1 or len(prefix)
    classes = tuple(name[cut:] for name in columns)
    if not all(classes):
        raise InputError(
            f"cannot tell the classes from the score columns {', '.join(columns)}: name them "
            "with --classes a,b,c (in the columns' order)"
        )
    return classes


def _current_columns(
    columns: tuple[str, ...], classes: tuple[str, ...], spec: EstimateSpec
) -> tuple[str, ...]:
    """The current file's score columns in the order of the reference's classes."""
    found = spec.classes or class_names(columns)
    if len(found) != len(classes) or set(found) != set(classes):
        raise InputError(
            f"--score: the current file's score columns are for the classes {list(found)}, "
            f"the reference's for {list(classes)}: give both files the same classes"
        )
    by_class = dict(zip(found, columns, strict=True))
    return tuple(by_class[c] for c in classes)


def _source(
    relation: Relation, columns: Sequence[str], chunking: Chunking, *, rows: int
) -> chunked.RowSource:
    """Rows with the scores (s0, s1, ...), label, predicted and `usable` (every score and,
    with a prediction column, the prediction)."""
    aliases = []
    for name in columns:
        column = relation.feature(name)
        if column is None or column.sql_type != "DOUBLE":
            read_as = column.source_type if column else dict(relation.unsupported).get(name)
            raise InputError(
                f"--score: column {name!r} of {relation.label} holds {read_as} values, not "
                "numbers in [0, 1]"
            )
        aliases.append(column.alias)
    targets = relation.targets
    usable = " AND ".join(f"{a} IS NOT NULL" for a in aliases)
    if "prediction" in targets:
        usable += f" AND {targets['prediction'].alias} IS NOT NULL"
    expressions = {f"s{i}": alias for i, alias in enumerate(aliases)} | {
        "label": targets["label"].alias if "label" in targets else "NULL::VARCHAR",
        "predicted": targets["prediction"].alias if "prediction" in targets else "NULL::VARCHAR",
        "usable": usable,
    }
    return chunked.row_source(relation, expressions, chunking, rows)


def _profile(
    runner: Runner, relation: Relation, source: chunked.RowSource, columns: Sequence[str]
) -> tuple[int, int, int]:
    """(rows, usable rows, rows without a time) in one scan; scores outside [0, 1] are an
    error."""
    parts = [
        "count(*)",
        "count(*) FILTER (WHERE usable)",
        "count(*) FILTER (WHERE timestamp IS NULL)",
    ]
    for i in range(len(columns)):
        s = f"s{i}"
        parts += [
            f"count(*) FILTER (WHERE {s} < 0 OR {s} > 1 OR isnan({s}))",
            f"min({s})",
            f"max({s})",
        ]
    row = runner.execute(
        "WITH " + source.ctes + " SELECT " + ", ".join(parts) + " FROM _file", source.params
    )[0]
    for i, name in enumerate(columns):
        outside, low, high = row[3 + 3 * i : 6 + 3 * i]
        if outside:
            raise InputError(
                f"--score: {outside:,} values of column {name!r} in {relation.label} are "
                f"outside [0, 1] (min {low:g}, max {high:g}): scores must be probabilities"
            )
    untimed = int(row[2]) if relation.time_alias is not None else 0
    return int(row[0]), int(row[1]), untimed


def _check_values(
    runner: Runner,
    relation: Relation,
    source: chunked.RowSource,
    column: str,
    classes: Sequence[str],
) -> None:
    """The usable rows' labels (or predictions) must be classes."""
    found = runner.execute(
        "WITH " + source.ctes + f" SELECT {column} FROM _file WHERE usable AND {column} IS NOT "
        f"NULL AND NOT list_contains($e_classes, {column}) GROUP BY 1 ORDER BY count(*) DESC, 1 "
        "LIMIT 3",
        {**source.params, "e_classes": list(classes)},
    )
    if found:
        role: TargetRole = "label" if column == "label" else "prediction"
        name = relation.targets[role].name
        shown = ", ".join(repr(str(r[0])) for r in found)
        raise InputError(
            f"--{role}: column {name!r} of {relation.label} holds values that are not classes "
            f"({shown}): the classes are {', '.join(classes)} (from the score columns' names; "
            "--classes names them)"
        )


def _check_reference_classes(
    runner: Runner,
    relation: Relation,
    source: chunked.RowSource,
    classes: Sequence[str],
    columns: Sequence[str],
) -> None:
    """Every class must have labeled reference rows (else its calibration is empty)."""
    found = runner.execute(
        "WITH " + source.ctes + " SELECT DISTINCT label FROM _file WHERE usable AND label IS "
        "NOT NULL",
        source.params,
    )
    present = {str(r[0]) for r in found}
    for name, column in zip(classes, columns, strict=True):
        if name not in present:
            raise InputError(
                f"class {name!r} (score column {column!r}) has no labeled rows in "
                f"{relation.label}: the calibration needs reference labels of every class"
            )


def _scores(found: dict[str, Any], classes: int) -> Any:
    """The score matrix (rows x classes) of fetched rows."""
    return np.column_stack([np.asarray(found[f"s{i}"], dtype=np.float64) for i in range(classes)])


def class_columns(
    columns: Sequence[tuple[str, str]], classes: Sequence[str]
) -> tuple[tuple[str, str], ...] | None:
    """(class, score column) for every class, in the columns' order: numeric columns
    (`columns`: (name, kind) in file order) named one prefix followed by the class; None
    when no prefix gives every class a column."""
    numeric = [name for name, kind in columns if kind == "numeric"]
    if len(classes) < 2 or not classes[0]:
        return None
    prefixes = [n[: -len(classes[0])] for n in numeric if n.endswith(classes[0])]
    for prefix in prefixes:
        wanted = {prefix + c: c for c in classes}
        if set(wanted) <= set(numeric):
            return tuple((wanted[n], n) for n in numeric if n in wanted)
    return None
