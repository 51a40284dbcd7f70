"""Drift per time bucket (feature x time heatmap): one report per bucket against the same
reference (the profiles per bucket: `monitor.queries.drift_profile.profile_buckets`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.metrics.drift.methods import Correction
from monitor.metrics.drift.profile import Profile, ReferenceProfile
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


def timeline(
    reference: ReferenceProfile,
    buckets: Sequence[tuple[dt.datetime, Profile]],
    *,
    bucket: TimeBucket,
    method: str = "auto",
    correction: Correction = "bh",
    alpha: float = 0.05,
    drift_share: float = 0.5,
    thresholds: Mapping[str, float] | None = None,
) -> DriftTimeline:
    """Compare each bucket's profile with the reference (the reference's features only);
    corrections apply across the features of each bucket."""
    reports = tuple(
        compare(
            reference,
            current,
            method=method,
            correction=correction,
            alpha=alpha,
            drift_share=drift_share,
            thresholds=thresholds,
            features=list(reference.profile.types),
        )
        for _, current in buckets
    )
    return DriftTimeline(bucket, tuple(start for start, _ in buckets), reports)
