"""Fairness over time and across model versions: when did a gap open, in which version.

Each slice (time bucket x model version) holds per-group confusion counts from one SQL
GROUP BY; rates follow from the counts (`fairness_rates`), exactly as in the audit. The
reference group is fixed for the whole trend (the one the window's audit chose), so a
line moves because the groups moved, not because the reference switched; with
`overall` each slice divides by its own overall value. Small groups are flagged per
slice with the audit's rule and left out of each slice's screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.core.errors import InputError
from monitor.metrics.fairness import rates as fr
from monitor.metrics.fairness.audit import (
    DEFAULT_MIN_CLASS_COUNT,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_TAU,
    small_reason,
)
from monitor.metrics.fairness.groups import GroupData, GroupKey, LabeledCells, Slice


@dataclass(frozen=True)
class TrendPoint:
    bucket: dt.datetime | None
    version: str | None
    key: GroupKey
    count: int
    value: float | None
    """The trend's metric for this group in this slice."""
    disparity: float | None
    """value / the reference's value in the same slice."""
    small: bool


@dataclass(frozen=True)
class TrendSlice:
    bucket: dt.datetime | None
    version: str | None
    rows: int
    reference_value: float | None
    passed: bool | None
    """The screen within the slice (None: nothing to compare)."""
    failing_groups: tuple[GroupKey, ...]


@dataclass(frozen=True)
class FairnessTrend:
    task: fr.Task
    metric: str
    reference: str
    reference_group: GroupKey | None
    tau: float
    points: tuple[TrendPoint, ...]
    slices: tuple[TrendSlice, ...]


def group_rates(
    data: GroupData,
) -> tuple[list[GroupKey], list[tuple[int, int, int]], dict[str, fr.FloatArray]]:
    """Groups (sorted), their (rows, positives, negatives) and every metric per group,
    straight from the counts. The overall values are the last element of each array."""
    keys = sorted(set(data.groups))
    index = {key: g for g, key in enumerate(keys)}
    size = len(keys) + 1  # the last slot: overall
    counts = np.zeros((3, size), dtype=np.int64)
    if isinstance(data, LabeledCells):
        sums = np.zeros((4, size))
        for key, y, p, n, w in zip(
            data.groups, data.label, data.prediction, data.rows, data.weight, strict=True
        ):
            cell = (0 if p else 2) if y else (1 if p else 3)  # tp, fp, fn, tn
            for slot in (index[key], size - 1):
                sums[cell, slot] += w
                counts[:, slot] += (n, n if y else 0, 0 if y else n)
        predicted = sums[0, -1] + sums[1, -1]  # the overall slot's TP + FP, for ppr
        metrics = fr.binary_rates(sums[0], sums[1], sums[2], sums[3], predicted_total=predicted)
    else:
        sums = np.zeros((3, size))
        for key, n, w, a, s in zip(
            data.groups, data.rows, data.weight, data.abs_error, data.squared_error, strict=True
        ):
            for slot in (index[key], size - 1):
                sums[:, slot] += (w, a, s)
                counts[0, slot] += n
        metrics = fr.regression_errors(sums[0], sums[1], sums[2])
    totals = [(int(counts[0, g]), int(counts[1, g]), int(counts[2, g])) for g in range(size)]
    return keys, totals, metrics


def trend(
    slices: Sequence[Slice],
    *,
    metric: str | None = None,
    reference: str = "largest",
    reference_group: GroupKey | None = None,
    tau: float = DEFAULT_TAU,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    min_class_count: int = DEFAULT_MIN_CLASS_COUNT,
) -> FairnessTrend:
    """Per slice and group: the metric, its disparity to the reference, the screen.

    `reference_group` is the group to divide by (from the window's audit); with
    reference="overall" each slice's overall value is used instead."""
    task: fr.Task = slices[0].data.task if slices else "binary"
    metric = metric or fr.DEFAULT_METRIC[task]
    if metric not in fr.metrics_for(task):
        raise InputError(f"unknown metric {metric!r} for a {task} task")
    points: list[TrendPoint] = []
    summaries: list[TrendSlice] = []
    ordered = sorted(
        slices, key=lambda s: (s.bucket or dt.datetime.min.replace(tzinfo=dt.UTC), s.version or "")
    )
    for piece in ordered:
        keys, counts, metrics = group_rates(piece.data)
        values = [fr.scalar(v) for v in metrics[metric]]
        flags = [
            small_reason(n, pos, neg, task, min_group_size, min_class_count) is not None
            for n, pos, neg in counts
        ]
        if reference == "overall":
            ref_value, ref_index = values[-1], None
        elif reference_group is not None and reference_group in keys:
            ref_index = keys.index(reference_group)
            ref_value = values[ref_index]
        else:
            ref_value, ref_index = None, None
        failing: list[GroupKey] = []
        compared = 0
        for g, key in enumerate(keys):
            disparity = fr.ratio(values[g], ref_value)
            points.append(
                TrendPoint(
                    piece.bucket, piece.version, key, counts[g][0], values[g], disparity, flags[g]
                )
            )
            if flags[g] or g == ref_index or disparity is None:
                continue
            compared += 1
            if fr.outside_tolerance(disparity, tau):
                failing.append(key)
        summaries.append(
            TrendSlice(
                piece.bucket,
                piece.version,
                counts[-1][0],
                ref_value,
                None if not compared else not failing,
                tuple(failing),
            )
        )
    return FairnessTrend(
        task, metric, reference, reference_group, tau, tuple(points), tuple(summaries)
    )
