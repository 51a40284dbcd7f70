"""Label-free performance estimates of a current file against a labeled reference file,
per chunk: `monitor estimate` and the Performance page on uploaded datasets.

`estimate_files` checks the request and hands it to the task's estimator: binary here,
multiclass (`estimate_multiclass`) and regression (`estimate_regression`) in their own
modules; the request and the result are `estimate_types`'.

Binary: each file is read as a relation (`tabular.file_relation`) whose label, score and
prediction columns are its targets, in file order (`row_index`, from 0). The current
file is split into chunks of N consecutive rows, or by its time column into UTC days,
hours or weeks. Its rows then take the shape of the logs' (`performance.window_rows`),
the chunk riding in `model_version`, so the product's own `classification_cells` SQL
bins the scores and `task_groups` gives each chunk, from the same cells, the estimate
(`estimate_binary`, with a calibrator fitted on a deterministic sample of the
reference, as `performance_reference` does) and the realized metrics of its labeled
rows. Without a prediction column, a row is predicted positive when its score is at
least the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Final

from monitor.core.config import ModelConfig, Task
from monitor.core.errors import InputError
from monitor.core.tabular import Runner
from monitor.metrics.performance.groups import GroupPerformance, task_groups
from monitor.metrics.performance.report import BINNING
from monitor.queries import estimate_inputs as inputs
from monitor.queries import performance as sql
from monitor.queries.estimate_chunks import bounds, chunk_warnings
from monitor.queries.estimate_multiclass import estimate_multiclass_files
from monitor.queries.estimate_regression import estimate_regression_files
from monitor.queries.estimate_types import (
    DEFAULT_CHUNKS,
    ChunkEstimate,
    EstimateSpec,
    FileEstimate,
    MetricEstimate,
    check_spec,
)

Names = tuple[str | None, str | None]


def estimate_files(
    runner: Runner,
    reference: Path,
    current: Path,
    spec: EstimateSpec,
    *,
    names: tuple[str, str] | None = None,
) -> FileEstimate:
    """Per chunk of `current`, each metric's estimate, its band and the realized value
    (raises InputError with a one-line reason on bad input). `names`: what messages and
    the result call the two files (default: their paths)."""
    check_spec(spec)
    found: Names = names if names is not None else (None, None)
    return _ESTIMATORS[spec.task](runner, reference, current, spec, found)


# -- the estimate -----------------------------------------------------------------------


def _binary(
    runner: Runner, reference: Path, current: Path, spec: EstimateSpec, names: Names
) -> FileEstimate:
    chunking = spec.chunking
    if spec.roles.score is None:
        raise InputError("--score is required: the positive class's score column")
    ref = inputs.open_side(runner, reference, spec.roles, name=names[0])
    time = chunking.period is not None
    cur = inputs.open_side(runner, current, spec.current, time=time, name=names[1])
    inputs.require(ref, "label")
    inputs.require(ref, "score")
    inputs.require(cur, "score")
    inputs.require(cur, "prediction")
    outcome = inputs.outcomes(runner, ref, spec.positive)
    calibrator = inputs.file_calibrator(runner, ref, outcome[0], spec.method, spec.threshold)
    warnings = [*calibrator.warnings, *inputs.input_warnings(runner, cur, outcome)]
    size = chunking.size or max(1, math.ceil(cur.rows / DEFAULT_CHUNKS))
    rows, params = inputs.rows_source(
        cur, size=size, period=chunking.period, threshold=spec.threshold, outcome=outcome
    )
    cells = runner.execute(
        sql.classification_cells("binary", None, rows=rows),
        params | sql.binning_params(BINNING, "binary", outcome[0]),
    )
    groups = task_groups(
        ModelConfig(id="files", task="binary", positive_label=outcome[0]),
        cells,
        bucketed=False,
        binning=BINNING,
        confidence=spec.confidence,
        calibrator=calibrator,
    )
    by_chunk = {g.version: g for g in groups if g.version is not None}
    fitted = set(calibrator.warnings)
    chunks = []
    for index, (key, count, first, last) in enumerate(inputs.chunk_extents(runner, rows, params)):
        group = by_chunk.get(key)
        start, end = bounds(key, first, last, chunking.period)
        labeled = group.labeled if group is not None else 0
        chunks.append(
            ChunkEstimate(
                index, start, end, count, labeled, _metrics(group), _window_warnings(group, fitted)
            )
        )
    warnings += chunk_warnings(chunks, chunking, size)
    return FileEstimate(
        task="binary",
        method=spec.method,
        confidence=spec.confidence,
        positive=outcome[0],
        prediction=cur.roles.prediction,
        threshold=None if cur.roles.prediction else spec.threshold,
        chunking=chunking.describe(cur.roles.timestamp, size),
        reference=(ref.where, ref.rows),
        current=(cur.where, cur.rows),
        chunks=tuple(chunks),
        warnings=tuple(warnings),
    )


def _metrics(group: GroupPerformance | None) -> dict[str, MetricEstimate]:
    """Each estimated metric with its band and, where the chunk has labels, the realized
    value (the same metric on the labeled rows, from the same cells)."""
    if group is None or group.estimated is None:
        return {}
    found: dict[str, MetricEstimate] = {}
    for name, metric in group.estimated.metrics.items():
        realized = group.metrics.get(name)
        found[name] = MetricEstimate(
            metric.value, metric.low, metric.high, realized.value if realized else None
        )
    return found


def _window_warnings(group: GroupPerformance | None, fitted: set[str]) -> tuple[str, ...]:
    """The chunk's own warnings: the estimate's, less the calibrator's (shown once)."""
    if group is None or group.estimated is None:
        return ("no scored predictions, nothing to estimate",)
    return tuple(w for w in group.estimated.warnings if w not in fitted)


Estimator = Callable[[Runner, Path, Path, EstimateSpec, Names], FileEstimate]
_ESTIMATORS: Final[dict[Task, Estimator]] = {
    "binary": _binary,
    "multiclass": estimate_multiclass_files,
    "regression": estimate_regression_files,
}
"""The estimator of each task."""
