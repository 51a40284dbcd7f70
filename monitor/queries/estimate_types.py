"""The request and the result of a label-free estimate of a file (`monitor estimate`, the
Performance page on uploaded datasets): what to estimate (`EstimateSpec`), and per chunk
each metric's estimate, band and realized value (`FileEstimate`). The estimators of the
three tasks (monitor.queries.estimate_files, estimate_multiclass, estimate_regression)
take the one and return the other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from monitor.core.buckets import Bucket
from monitor.core.config import Task
from monitor.core.errors import InputError
from monitor.metrics.intervals import CONFIDENCE
from monitor.metrics.performance.estimation import Method
from monitor.queries.column_roles import Excluded, RoleNames

DEFAULT_CHUNKS: Final = 10
"""Without a chunk size or period, the current file is cut into this many equal chunks
(NannyML's default)."""


@dataclass(frozen=True)
class Chunking:
    """Chunks of `size` rows in file order, or one per UTC `period` of the time column
    (`RoleNames.timestamp`); neither: DEFAULT_CHUNKS equal chunks."""

    size: int | None = None
    period: Bucket | None = None

    def describe(self, column: str | None, size: int) -> str:
        """In words, `size` being the rows per chunk used."""
        if self.period is not None:
            return f"one per {self.period} of {column!r} (UTC)"
        equal = "" if self.size else f" ({DEFAULT_CHUNKS} equal chunks)"
        return f"{size:,} rows{equal}"


@dataclass(frozen=True)
class EstimateSpec:
    """What to estimate: the columns of both files (`roles`: label, score, prediction,
    timestamp, ids and ignored columns; `current_roles` when the current file names them
    differently), the task, the chunks, and how predictions, the calibrator and the bands
    are made.

    Multiclass: `roles.score` is the score columns, a comma list or a glob
    (`y_pred_proba_*`), one per class; the classes are `classes`, else the names' suffixes
    after their common prefix. Regression: the features are the columns no role names,
    less the identifier-like ones unless `keep_ids`."""

    roles: RoleNames
    current_roles: RoleNames | None = None
    task: Task = "binary"
    chunking: Chunking = Chunking()
    threshold: float = 0.5
    """Predicted positive when score >= threshold (binary, no prediction column)."""
    positive: str | None = None
    """The positive label (binary; None: '1', 'true', 'yes' or 'positive', whichever is a
    value)."""
    method: Method = "isotonic"
    confidence: float = CONFIDENCE
    classes: tuple[str, ...] | None = None
    """Multiclass: the class of each score column, in their order."""
    keep_ids: bool = False
    """Regression: analyse columns unique per row as features."""

    @property
    def current(self) -> RoleNames:
        return self.roles if self.current_roles is None else self.current_roles


@dataclass(frozen=True)
class MetricEstimate:
    value: float | None
    lower: float | None
    upper: float | None
    realized: float | None
    """The metric on the chunk's labeled rows (None: no labels)."""


@dataclass(frozen=True)
class ChunkEstimate:
    index: int
    start: int | dt.datetime
    """First row (0-based) of a chunk of rows; start of the period of a time chunk."""
    end: int | dt.datetime
    """Last row of a chunk of rows; end of the period (exclusive) of a time chunk."""
    rows: int
    labeled: int
    metrics: Mapping[str, MetricEstimate]
    warnings: tuple[str, ...] = ()
    """About this chunk (scores that moved away from the reference's, a class never
    predicted here, a category the reference did not have, nothing to estimate)."""


@dataclass(frozen=True)
class FileEstimate:
    task: Task
    method: str
    """The calibration (binary: isotonic or platt; multiclass: isotonic per class) or,
    for regression, "dle" (direct loss estimation)."""
    confidence: float
    positive: str | None
    """Binary: the positive label."""
    prediction: str | None
    """The prediction column, or None: score >= threshold (binary), the class with the
    highest score (multiclass)."""
    threshold: float | None
    chunking: str
    reference: tuple[str, int]
    """(path, rows)."""
    current: tuple[str, int]
    chunks: tuple[ChunkEstimate, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Once per estimate: the fit's (a calibration or loss model that fits badly) and the
    input's (rows left out, a short last chunk)."""
    classes: tuple[tuple[str, str], ...] = ()
    """Multiclass: (class, score column)."""
    features: tuple[str, ...] = ()
    """Regression: the loss model's input columns."""
    excluded: tuple[Excluded, ...] = ()
    """Regression: the columns left out of the features, and why."""


def check_spec(spec: EstimateSpec) -> None:
    """One-line InputErrors for requests no file can satisfy."""
    if not 0 <= spec.threshold <= 1:
        raise InputError(f"--threshold must be between 0 and 1 (got {spec.threshold:g})")
    if not 0 < spec.confidence < 1:
        raise InputError(f"--confidence must be between 0 and 1 (got {spec.confidence:g})")
    if spec.chunking.size is not None and spec.chunking.size < 1:
        raise InputError(f"--chunk-size must be at least 1 (got {spec.chunking.size})")
    if spec.chunking.period is not None and spec.current.timestamp is None:
        raise InputError("chunks by time need the time column: --chunk-by COL:PERIOD")
    if spec.roles.label is None:
        raise InputError("--label is required: the reference's label column")
    if spec.task != "binary" and spec.method != "isotonic":
        raise InputError(f"--method {spec.method} applies to binary models only")
    if spec.classes is not None and spec.task != "multiclass":
        raise InputError("--classes applies to multiclass models only")
    for roles in (spec.roles, spec.current):
        if spec.task != "regression" and (roles.ids or roles.ignore):
            raise InputError(
                "--id and --ignore choose the features of a regression estimate: "
                f"{spec.task} estimates read the scores only"
            )
        seen: dict[str, str] = {}
        for role, name in roles.named():
            if seen.setdefault(name, role) != role:
                raise InputError(f"column {name!r} is both the {seen[name]} and the {role} column")
