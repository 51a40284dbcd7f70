"""Fairness without labels: the selection rate P(ŷ=1) and the share of all predicted
positives (ppr) per group, demographic parity and the four-fifths screen on the
selection rate, from predictions alone.

Labels of a model's predictions arrive late (days, for credit decisions), but the
selection rate needs none, so a window without labels can still be judged on it. The
input is a binary table's distinct (group, prediction) cells with row counts and weight
sums (`PredictionCells`, built by SQL GROUP BY in `monitor.queries.fairness_predictions`).
Every rate that needs a label (TPR, FPR, precision, equalized odds, ...) is left to the
labeled audit (`monitor.metrics.fairness.audit`).

`demographic_parity_difference` and `demographic_parity_ratio` are fairlearn's, over all
groups (small ones included); `judged_parity_difference` and `judged_parity_ratio` are
the same over the groups large enough to judge. Small groups (fewer than
`min_group_size` rows) are shown but left out of the screen and of a `largest`/`best`
reference, as in the labeled audit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from monitor.core.errors import InputError
from monitor.core.schema import canonical_text
from monitor.metrics.fairness import rates as fr
from monitor.metrics.fairness.audit import (
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_TAU,
    REFERENCE_RULES,
    _reference_index,  # the labeled audit's reference rule, reused as is
    small_reason,
)
from monitor.metrics.fairness.bootstrap import MAX_BOOTSTRAP, Interval, bootstrap_binary
from monitor.metrics.fairness.groups import GroupKey, group_label, group_value
from monitor.metrics.fairness.trend import FairnessTrend, TrendPoint, TrendSlice

METRIC: Final = "selection_rate"
LABEL_FREE: Final = (METRIC, "ppr")
"""The per-group rates predictions alone give."""
LABEL_METRICS: Final = tuple(m for m in fr.BINARY_METRICS if m not in LABEL_FREE)
"""The per-group rates that need labels."""
LABEL_SUMMARIES: Final = (
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
)
"""The fairlearn summaries that need labels."""


@dataclass(frozen=True)
class PredictionCells:
    """A binary table's predictions as distinct (group, prediction) cells; labels are not
    read. Rows without a prediction or weight count in `skipped_rows`."""

    features: tuple[str, ...]
    groups: tuple[GroupKey, ...]
    prediction: tuple[bool, ...]
    """prediction == the positive label"""
    rows: tuple[int, ...]
    weight: tuple[float, ...]
    skipped_rows: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows)


@dataclass(frozen=True)
class PredictionSlice:
    """The predictions of one time bucket and/or model version (None: not split that way)."""

    bucket: dt.datetime | None
    version: str | None
    data: PredictionCells


def predictions_from_rows(
    features: Sequence[str], rows: Iterable[Sequence[Any]], *, positive: str
) -> PredictionCells:
    """Cells from (group values..., prediction, rows, weight) tuples (SQL output).
    Predictions are raw values compared by canonical text with `positive`."""
    width = len(features)
    merged: dict[tuple[GroupKey, bool], tuple[int, float]] = {}
    skipped = 0
    for row in rows:
        group = tuple(group_value(v) for v in row[:width])
        prediction, n, weight = row[width : width + 3]
        text = canonical_text(prediction)
        if text is None or weight is None:
            skipped += int(n)
            continue
        key = (group, text == positive)
        seen = merged.get(key, (0, 0.0))
        merged[key] = (seen[0] + int(n), seen[1] + float(weight))
    ordered = sorted(merged.items())
    return PredictionCells(
        features=tuple(features),
        groups=tuple(k[0] for k, _ in ordered),
        prediction=tuple(k[1] for k, _ in ordered),
        rows=tuple(v[0] for _, v in ordered),
        weight=tuple(v[1] for _, v in ordered),
        skipped_rows=skipped,
    )


@dataclass(frozen=True)
class SelectionGroup:
    key: GroupKey
    count: int
    """Rows (unweighted)."""
    selected: int
    """Rows predicted positive (unweighted)."""
    selection_rate: float | None
    """Weighted share predicted positive."""
    ppr: float | None
    """The group's share of all (weighted) predicted positives (Aequitas' ppr)."""
    disparity: float | None
    """selection_rate / the reference's (None when undefined)."""
    ci: Interval | None
    small: bool
    small_reason: str | None
    fails_screen: bool

    @property
    def label(self) -> str:
        return group_label(self.key)


@dataclass(frozen=True)
class SelectionReport:
    features: tuple[str, ...]
    rows: int
    skipped_rows: int
    reference: str
    """The rule asked for: largest, best, overall or a group label."""
    reference_group: GroupKey | None
    tau: float
    min_group_size: int
    bootstrap: int
    ci_level: float
    seed: int
    selection_rate: float | None
    """Over all rows."""
    groups: tuple[SelectionGroup, ...]
    demographic_parity_difference: float | None
    """fairlearn's: max - min selection rate over all groups."""
    demographic_parity_ratio: float | None
    """fairlearn's: min / max selection rate over all groups."""
    judged_parity_difference: float | None
    """max - min over the groups large enough to judge."""
    judged_parity_ratio: float | None
    four_fifths_passed: bool | None
    """None when no judged group could be compared with the reference."""
    failing_groups: tuple[GroupKey, ...]
    judged_groups: int
    ci: Mapping[str, Interval | None]
    """Bootstrap intervals of the two fairlearn summaries and the overall selection rate."""
    notes: tuple[str, ...]

    @property
    def metric(self) -> str:
        return METRIC

    def reference_value(self) -> float | None:
        """The selection rate disparities divide by."""
        for group in self.groups:
            if group.key == self.reference_group:
                return group.selection_rate
        return self.selection_rate if self.reference == "overall" else None


def _rates(data: PredictionCells) -> tuple[list[GroupKey], Any, Any, Any]:
    """Sorted groups with their rows, selected rows and weighted selection rates."""
    keys = sorted(set(data.groups))
    index = {key: g for g, key in enumerate(keys)}
    counts = np.zeros((2, len(keys)), dtype=np.int64)
    weights = np.zeros((2, len(keys)))
    for key, predicted, n, w in zip(
        data.groups, data.prediction, data.rows, data.weight, strict=True
    ):
        g = index[key]
        counts[:, g] += (n, n if predicted else 0)
        weights[:, g] += (w, w if predicted else 0.0)
    rates = fr.binary_rates(
        weights[1], 0, 0, weights[0] - weights[1], predicted_total=weights[1].sum()
    )
    return keys, counts[0], counts[1], rates


def _overall(data: PredictionCells) -> float | None:
    """The weighted selection rate over all rows."""
    total = float(sum(data.weight))
    chosen = sum(w for w, p in zip(data.weight, data.prediction, strict=True) if p)
    return fr.scalar(chosen / total) if total > 0 else None


def _spread(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    """(max - min, min / max) of the defined values; None without any (ratio: max 0)."""
    defined = [v for v in values if v is not None]
    if not defined:
        return None, None
    high, low = max(defined), min(defined)
    return high - low, (low / high if high > 0 else None)


def selection_audit(
    data: PredictionCells,
    *,
    reference: str = "largest",
    tau: float = DEFAULT_TAU,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    bootstrap: int = 0,
    ci_level: float = 0.95,
    seed: int = 0,
) -> SelectionReport:
    """The selection-rate report of a table's predictions (see the module docstring)."""
    if not (0 < tau <= 1):
        raise InputError(f"tau must be in (0, 1], got {tau}")
    if min_group_size < 0:
        raise InputError("minimum group size must be >= 0")
    if not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise InputError(f"bootstrap replicates must be between 0 and {MAX_BOOTSTRAP}")
    if not reference:
        raise InputError(f"name a reference group ({', '.join(REFERENCE_RULES)} or a group)")
    if data.total_rows == 0:
        raise InputError("no predictions to judge")
    keys, counts, selected, rates = _rates(data)
    values = [fr.scalar(v) for v in rates[METRIC]]
    shares = [fr.scalar(v) for v in rates["ppr"]]
    overall = _overall(data)
    reasons = [small_reason(int(n), 0, 0, "binary", min_group_size, 0) for n in counts]
    judged = np.array([r is None for r in reasons], dtype=bool)
    notes: list[str] = []
    ref_index = _reference_index(
        reference,
        METRIC,
        keys,
        [int(n) for n in counts],
        [{METRIC: v} for v in values],
        judged,
        notes,
    )
    ref_value = (
        overall
        if reference == "overall"
        else (values[ref_index] if ref_index is not None else None)
    )
    disparity = [fr.ratio(v, ref_value) for v in values]
    compared = [
        g for g in range(len(keys)) if judged[g] and g != ref_index and disparity[g] is not None
    ]
    fails = [g in compared and fr.outside_tolerance(disparity[g], tau) for g in range(len(keys))]
    intervals: list[Interval | None] = [None] * len(keys)
    ci: dict[str, Interval | None] = {}
    if bootstrap:
        index = {key: g for g, key in enumerate(keys)}
        boot = bootstrap_binary(
            group_index=np.array([index[k] for k in data.groups], dtype=np.intp),
            label=np.zeros(len(data.groups), dtype=bool),
            prediction=np.array(data.prediction, dtype=bool),
            rows=np.array(data.rows, dtype=np.int64),
            weight=np.array(data.weight, dtype=np.float64),
            groups=len(keys),
            judged=np.ones(len(keys), dtype=bool),  # fairlearn's summaries: all groups
            replicates=bootstrap,
            seed=seed,
            level=ci_level,
        )
        intervals = [boot.groups[g][METRIC] for g in range(len(keys))]
        ci = {
            "demographic_parity_difference": boot.summary["demographic_parity_difference"],
            "demographic_parity_ratio": boot.summary["demographic_parity_ratio"],
            METRIC: boot.overall[METRIC],
        }
    dp_difference, dp_ratio = _spread(values)
    judged_difference, judged_ratio = _spread([v for v, j in zip(values, judged, strict=True) if j])
    groups = tuple(
        SelectionGroup(
            key=keys[g],
            count=int(counts[g]),
            selected=int(selected[g]),
            selection_rate=values[g],
            ppr=shares[g],
            disparity=disparity[g],
            ci=intervals[g],
            small=reasons[g] is not None,
            small_reason=reasons[g],
            fails_screen=fails[g],
        )
        for g in range(len(keys))
    )
    return SelectionReport(
        features=data.features,
        rows=data.total_rows,
        skipped_rows=data.skipped_rows,
        reference=reference,
        reference_group=None if ref_index is None else keys[ref_index],
        tau=tau,
        min_group_size=min_group_size,
        bootstrap=bootstrap,
        ci_level=ci_level,
        seed=seed,
        selection_rate=overall,
        groups=groups,
        demographic_parity_difference=dp_difference,
        demographic_parity_ratio=dp_ratio,
        judged_parity_difference=judged_difference,
        judged_parity_ratio=judged_ratio,
        four_fifths_passed=None if not compared else not any(fails),
        failing_groups=tuple(keys[g] for g in range(len(keys)) if fails[g]),
        judged_groups=int(judged.sum()),
        ci=ci,
        notes=tuple(notes),
    )


def selection_trend(
    slices: Sequence[PredictionSlice],
    *,
    reference: str = "largest",
    reference_group: GroupKey | None = None,
    tau: float = DEFAULT_TAU,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> FairnessTrend:
    """The selection rate per slice and group, its disparity to the reference group of the
    window (`reference_group`; with reference="overall" each slice's overall rate) and the
    screen per slice, as the labeled `trend` does for any metric."""
    points: list[TrendPoint] = []
    summaries: list[TrendSlice] = []
    earliest = dt.datetime.min.replace(tzinfo=dt.UTC)
    for piece in sorted(slices, key=lambda s: (s.bucket or earliest, s.version or "")):
        keys, counts, _, rates = _rates(piece.data)
        values = [fr.scalar(v) for v in rates[METRIC]]
        if reference == "overall":
            ref_value = _overall(piece.data)
        elif reference_group is not None and reference_group in keys:
            ref_value = values[keys.index(reference_group)]
        else:
            ref_value = None
        failing: list[GroupKey] = []
        compared = 0
        for g, key in enumerate(keys):
            small = int(counts[g]) < min_group_size
            disparity = fr.ratio(values[g], ref_value)
            points.append(
                TrendPoint(
                    piece.bucket, piece.version, key, int(counts[g]), values[g], disparity, small
                )
            )
            if small or key == reference_group or disparity is None:
                continue
            compared += 1
            if fr.outside_tolerance(disparity, tau):
                failing.append(key)
        summaries.append(
            TrendSlice(
                piece.bucket,
                piece.version,
                piece.data.total_rows,
                ref_value,
                None if not compared else not failing,
                tuple(failing),
            )
        )
    return FairnessTrend(
        "binary", METRIC, reference, reference_group, tau, tuple(points), tuple(summaries)
    )
