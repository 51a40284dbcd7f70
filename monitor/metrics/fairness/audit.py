"""Fairness by group: per-group metrics, disparity to a reference group, the four-fifths
screen and the summary (monitor.metrics.fairness.summary), with seeded bootstrap intervals.

Per-group (weighted) confusion counts come from fairlearn's MetricFrame over the table's
cells (see `fairness_input`); every rate follows from them (`fairness_rates`). Groups
smaller than `min_group_size` rows, or with fewer than `min_class_count` positive or
negative labels, are flagged small: shown, but left out of the summary's `judged_*`
values, the choice of a `largest`/`best` reference and the screen. The screen is a
screening rule, not a legal verdict: a group fails when its metric divided by the
reference group's is outside [tau, 1/tau] (four-fifths rule at tau = 0.8, two-sided as
in Aequitas).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from monitor.core.errors import InputError
from monitor.metrics.fairness import rates as fr
from monitor.metrics.fairness.bootstrap import MAX_BOOTSTRAP, Interval, bootstrap_binary
from monitor.metrics.fairness.groups import (
    GroupData,
    GroupKey,
    LabeledCells,
    RegressionSums,
    group_label,
)
from monitor.metrics.fairness.summary import FairnessSummary, summary_values

REFERENCE_RULES: Final = ("largest", "best", "overall")
DEFAULT_TAU: Final = 0.8
DEFAULT_MIN_GROUP_SIZE: Final = 50
DEFAULT_MIN_CLASS_COUNT: Final = 10


@dataclass(frozen=True)
class GroupResult:
    key: GroupKey
    """One value per sensitive feature, in the report's feature order."""
    count: int
    """Rows (unweighted)."""
    positives: int
    """Rows whose label is the positive label (binary tasks; 0 for regression)."""
    negatives: int
    metrics: Mapping[str, float | None]
    disparity: Mapping[str, float | None]
    """metric -> this group's value / the reference's (None when undefined)."""
    ci: Mapping[str, Interval | None]
    """metric -> bootstrap interval; empty without bootstrap."""
    small: bool
    small_reason: str | None
    fails_screen: bool

    @property
    def label(self) -> str:
        return group_label(self.key)


@dataclass(frozen=True)
class FairnessReport:
    task: fr.Task
    features: tuple[str, ...]
    rows: int
    unlabeled_rows: int
    skipped_rows: int
    reference: str
    """The rule asked for: largest, best, overall or a group label."""
    reference_group: GroupKey | None
    """The group the disparities divide by; None for `overall` (or when none qualifies)."""
    metric: str
    """The metric the screen and the `best` rule use."""
    tau: float
    min_group_size: int
    min_class_count: int
    bootstrap: int
    ci_level: float
    seed: int
    overall: Mapping[str, float | None]
    overall_ci: Mapping[str, Interval | None]
    groups: tuple[GroupResult, ...]
    summary: FairnessSummary
    notes: tuple[str, ...]

    @property
    def metrics(self) -> tuple[str, ...]:
        return fr.metrics_for(self.task)

    def reference_values(self) -> Mapping[str, float | None]:
        """The values disparities divide by."""
        for group in self.groups:
            if group.key == self.reference_group:
                return group.metrics
        return self.overall if self.reference == "overall" else {}


@dataclass(frozen=True)
class _Groups:
    keys: list[GroupKey]
    counts: list[int]
    positives: list[int]
    negatives: list[int]
    metrics: dict[str, fr.FloatArray]
    overall: dict[str, float | None]


def audit(
    data: GroupData,
    *,
    reference: str = "largest",
    metric: str | None = None,
    tau: float = DEFAULT_TAU,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
    bootstrap: int = 0,
    ci_level: float = 0.95,
    seed: int = 0,
) -> FairnessReport:
    """The fairness report of a labeled table (see the module docstring)."""
    metric = metric or fr.DEFAULT_METRIC[data.task]
    _check_options(data, reference, metric, tau, min_group_size, min_class_count, bootstrap)
    if data.total_rows == 0:
        raise InputError("no labeled rows with a prediction to judge")
    found = _binary_groups(data) if isinstance(data, LabeledCells) else _regression_groups(data)
    notes: list[str] = []
    small = [
        small_reason(n, pos, neg, data.task, min_group_size, min_class_count)
        for n, pos, neg in zip(found.counts, found.positives, found.negatives, strict=True)
    ]
    judged = np.array([reason is None for reason in small], dtype=bool)
    values = [fr.scalars(found.metrics, g) for g in range(len(found.keys))]
    ref_index = _reference_index(reference, metric, found.keys, found.counts, values, judged, notes)
    ref_values = (
        found.overall
        if reference == "overall"
        else (values[ref_index] if ref_index is not None else {})
    )
    disparities = [{m: fr.ratio(v[m], ref_values.get(m)) for m in found.metrics} for v in values]
    fails = [
        bool(judged[g]) and g != ref_index and fr.outside_tolerance(disparities[g][metric], tau)
        for g in range(len(found.keys))
    ]
    compared = [
        g
        for g in range(len(found.keys))
        if judged[g] and g != ref_index and disparities[g][metric] is not None
    ]
    intervals: list[Mapping[str, Interval | None]] = [{} for _ in found.keys]
    overall_ci: Mapping[str, Interval | None] = {}
    summary_ci: Mapping[str, Interval | None] = {}
    if bootstrap and isinstance(data, LabeledCells):
        index = {key: g for g, key in enumerate(found.keys)}
        boot = bootstrap_binary(
            group_index=np.array([index[k] for k in data.groups], dtype=np.intp),
            label=np.array(data.label, dtype=bool),
            prediction=np.array(data.prediction, dtype=bool),
            rows=np.array(data.rows, dtype=np.int64),
            weight=np.array(data.weight, dtype=np.float64),
            groups=len(found.keys),
            judged=judged,
            replicates=bootstrap,
            seed=seed,
            level=ci_level,
        )
        intervals, overall_ci, summary_ci = list(boot.groups), boot.overall, boot.summary
    elif bootstrap:
        notes.append("no bootstrap intervals for regression (errors are summed per group)")
    summary = summary_values(data.task, found.metrics, judged)
    groups = tuple(
        GroupResult(
            key=found.keys[g],
            count=found.counts[g],
            positives=found.positives[g],
            negatives=found.negatives[g],
            metrics=values[g],
            disparity=disparities[g],
            ci=intervals[g],
            small=small[g] is not None,
            small_reason=small[g],
            fails_screen=fails[g],
        )
        for g in range(len(found.keys))
    )
    return FairnessReport(
        task=data.task,
        features=data.features,
        rows=data.total_rows,
        unlabeled_rows=data.unlabeled_rows,
        skipped_rows=data.skipped_rows,
        reference=reference,
        reference_group=None if ref_index is None else found.keys[ref_index],
        metric=metric,
        tau=tau,
        min_group_size=min_group_size,
        min_class_count=min_class_count,
        bootstrap=bootstrap,
        ci_level=ci_level,
        seed=seed,
        overall=found.overall,
        overall_ci=overall_ci,
        groups=groups,
        summary=FairnessSummary(
            **summary,
            four_fifths_passed=None if not compared else not any(fails),
            failing_groups=tuple(found.keys[g] for g in range(len(found.keys)) if fails[g]),
            judged_groups=int(judged.sum()),
            ci=summary_ci,
        ),
        notes=tuple(notes),
    )


def _check_options(
    data: GroupData,
    reference: str,
    metric: str,
    tau: float,
    min_group_size: int,
    min_class_count: int,
    bootstrap: int,
) -> None:
    if metric not in fr.metrics_for(data.task):
        raise InputError(
            f"unknown metric {metric!r} for a {data.task} task "
            f"(choose from {', '.join(fr.metrics_for(data.task))})"
        )
    if not (math.isfinite(tau) and 0 < tau <= 1):
        raise InputError(f"tau must be in (0, 1], got {tau}")
    if min_group_size < 0 or min_class_count < 0:
        raise InputError("minimum group size and class count must be >= 0")
    if not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise InputError(f"bootstrap replicates must be between 0 and {MAX_BOOTSTRAP}")
    if not reference:
        raise InputError("name a reference group (largest, best, overall or a group)")


def _weighted(selector: Any) -> Any:
    """A MetricFrame metric: the sum of sample weights of the rows `selector` picks."""

    def metric(y_true: Any, y_pred: Any, sample_weight: Any) -> float:
        mask = selector(np.asarray(y_true), np.asarray(y_pred))
        return float(np.asarray(sample_weight, dtype=np.float64)[mask].sum())

    return metric


_COUNTS: Final[dict[str, Any]] = {
    "tp": _weighted(lambda y, p: (y == 1) & (p == 1)),
    "fp": _weighted(lambda y, p: (y == 0) & (p == 1)),
    "fn": _weighted(lambda y, p: (y == 1) & (p == 0)),
    "tn": _weighted(lambda y, p: (y == 0) & (p == 0)),
    "rows": _weighted(lambda y, p: np.ones(len(y), dtype=bool)),
    "positives": _weighted(lambda y, p: y == 1),
    "negatives": _weighted(lambda y, p: y == 0),
}


def _binary_groups(cells: LabeledCells) -> _Groups:
    """Per-group confusion counts with MetricFrame over the cells (weights = cell weights,
    row counts for the `rows`/`positives`/`negatives` metrics)."""
    import pandas as pd  # imported here, as fairlearn (scikit-learn takes ~0.5-2 s to load)
    from fairlearn.metrics import MetricFrame

    sensitive = pd.DataFrame(
        {f"s{i}": [key[i] for key in cells.groups] for i in range(len(cells.features))}
    )
    weight, rows = np.array(cells.weight, dtype=np.float64), np.array(cells.rows, np.float64)
    frame = MetricFrame(
        metrics=_COUNTS,
        y_true=np.array(cells.label, dtype=int),
        y_pred=np.array(cells.prediction, dtype=int),
        sensitive_features=sensitive,
        sample_params={
            name: {"sample_weight": weight if name in ("tp", "fp", "fn", "tn") else rows}
            for name in _COUNTS
        },
    )
    by_group = frame.by_group
    by_group = by_group[by_group["rows"].fillna(0) > 0]  # MetricFrame lists every combination
    keys = [
        tuple(str(v) for v in (index if isinstance(index, tuple) else (index,)))
        for index in by_group.index
    ]
    counts = {name: by_group[name].to_numpy(np.float64) for name in ("tp", "fp", "fn", "tn")}
    overall = frame.overall
    predicted = float(overall["tp"] + overall["fp"])  # for ppr: the share of these
    return _Groups(
        keys=keys,
        counts=[round(v) for v in by_group["rows"]],
        positives=[round(v) for v in by_group["positives"]],
        negatives=[round(v) for v in by_group["negatives"]],
        metrics=fr.binary_rates(
            counts["tp"], counts["fp"], counts["fn"], counts["tn"], predicted_total=predicted
        ),
        overall={
            name: fr.scalar(value)
            for name, value in fr.binary_rates(
                overall["tp"],
                overall["fp"],
                overall["fn"],
                overall["tn"],
                predicted_total=predicted,
            ).items()
        },
    )


def _regression_groups(sums: RegressionSums) -> _Groups:
    order = sorted(range(len(sums.groups)), key=lambda i: sums.groups[i])

    def column(values: Sequence[float]) -> fr.FloatArray:
        return np.array([values[i] for i in order], dtype=np.float64)

    weight, abs_error, sq_error = (
        column(sums.weight),
        column(sums.abs_error),
        column(sums.squared_error),
    )
    overall = fr.regression_errors(weight.sum(), abs_error.sum(), sq_error.sum())
    return _Groups(
        keys=[sums.groups[i] for i in order],
        counts=[sums.rows[i] for i in order],
        positives=[0] * len(order),
        negatives=[0] * len(order),
        metrics=fr.regression_errors(weight, abs_error, sq_error),
        overall={name: fr.scalar(value) for name, value in overall.items()},
    )


def small_reason(
    rows: int, positives: int, negatives: int, task: fr.Task, min_rows: int, min_class: int
) -> str | None:
    if rows < min_rows:
        return f"{rows} rows < {min_rows}"
    if task == "binary" and positives < min_class:
        return f"{positives} positive labels < {min_class}"
    if task == "binary" and negatives < min_class:
        return f"{negatives} negative labels < {min_class}"
    return None


def _reference_index(
    reference: str,
    metric: str,
    keys: Sequence[GroupKey],
    counts: Sequence[int],
    values: Sequence[Mapping[str, float | None]],
    judged: np.ndarray,
    notes: list[str],
) -> int | None:
    if reference == "overall":
        return None
    if reference in ("largest", "best"):
        candidates = [g for g in range(len(keys)) if judged[g]]
        if reference == "best":
            candidates = [g for g in candidates if values[g][metric] is not None]
        if not candidates:
            notes.append(f"no group is large enough to be the {reference} reference group")
            return None
        if reference == "largest":
            return max(candidates, key=lambda g: counts[g])
        sign = -1.0 if metric in fr.LOWER_IS_BETTER else 1.0
        return max(candidates, key=lambda g: sign * (values[g][metric] or 0.0))
    labels = [group_label(k) for k in keys]
    if reference not in labels:
        shown = ", ".join(repr(label) for label in labels[:8])
        raise InputError(
            f"reference group {reference!r} not found; groups: {shown}"
            + (", ..." if len(labels) > 8 else "")
            + " (or use largest, best, overall)"
        )
    index = labels.index(reference)
    if not judged[index]:
        notes.append(f"the reference group {reference!r} is too small to judge: ratios are noisy")
    return index
