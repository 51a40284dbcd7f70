"""Drift per time bucket (feature x time heatmap) and drift of the model's outputs/labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from monitor.core import buckets as time_buckets
from monitor.core.tabular import Relation, Runner, targets_relation
from monitor.metrics.drift.methods import Correction
from monitor.metrics.drift.profile import profile_buckets, profile_current, profile_reference
from monitor.metrics.drift.report import DriftReport, FeatureDrift, compare

TimeBucket = Literal["hour", "day", "week"]


@dataclass(frozen=True)
class DriftTimeline:
    bucket: TimeBucket
    starts: tuple[dt.datetime, ...]
    reports: tuple[DriftReport, ...]
    """One report per bucket, each against the same reference."""

    @property
    def features(self) -> tuple[str, ...]:
        names: dict[str, None] = {}
        for report in self.reports:
            for feature in report.features:
                names.setdefault(feature.feature, None)
        return tuple(names)

    def cell(self, index: int, feature: str) -> FeatureDrift | None:
        for found in self.reports[index].features:
            if found.feature == feature:
                return found
        return None


def drift_over_time(
    runner: Runner,
    reference: Relation,
    current: Relation,
    *,
    bucket: TimeBucket = "day",
    method: str = "auto",
    correction: Correction = "bh",
    alpha: float = 0.05,
    drift_share: float = 0.5,
    thresholds: Mapping[str, float] | None = None,
) -> DriftTimeline:
    """The same comparison for every time bucket of `current` (a log relation).

    One grouped scan gives every bucket's counts and bins; KS/Wasserstein use each
    bucket's share of one seeded sample of the window when it is larger than the exact
    limit. Corrections apply across the features of each bucket."""
    ref_profile = profile_reference(runner, reference)
    buckets = profile_buckets(
        runner,
        current,
        ref_profile,
        width_us=time_buckets.WIDTH_US[bucket],
        offset_us=time_buckets.offset_us(bucket),
    )
    reports = tuple(
        compare(
            ref_profile,
            cur,
            method=method,
            correction=correction,
            alpha=alpha,
            drift_share=drift_share,
            thresholds=thresholds,
            features=list(ref_profile.profile.types),
        )
        for _, cur in buckets
    )
    return DriftTimeline(bucket, tuple(start for start, _ in buckets), reports)


def target_drift(
    runner: Runner,
    reference: Relation,
    current: Relation,
    *,
    task: str,
    method: str = "auto",
    alpha: float = 0.05,
) -> DriftReport:
    """Drift of the model's predictions, scores and (where logged) labels against the
    reference's: the reference's target columns only, BH-corrected among themselves."""
    ref_targets = targets_relation(reference, task)
    cur_targets = targets_relation(current, task)
    ref_profile = profile_reference(runner, ref_targets)
    cur_profile = profile_current(runner, cur_targets, ref_profile)
    return compare(
        ref_profile,
        cur_profile,
        method=method,
        alpha=alpha,
        features=[c.name for c in ref_targets.features],
    )
