"""Drift between two relations, over time, and of the model's outputs and labels: the
profiles from DuckDB (monitor.queries.drift_profile), the statistics from
monitor.metrics.drift. The domain classifier is in monitor.queries.drift_multivariate.
Each pair is reconciled first (one type per column: monitor.core.tabular_reconcile)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

from monitor.core import buckets as time_buckets
from monitor.core.tabular import Relation, Runner, targets_relation
from monitor.core.tabular_reconcile import reconcile
from monitor.metrics.drift.registry import Correction
from monitor.metrics.drift.report import DriftReport, FeatureDrift, compare
from monitor.metrics.drift.timeline import DriftTimeline, TimeBucket, timeline
from monitor.queries.drift_profile import (
    profile_buckets,
    profile_current,
    profile_reference,
    profiles,
)

INCOMPARABLE: Final = "incomparable"
"""The status of a column whose two sides have no common type (with the reason)."""


def drift_between(
    runner: Runner,
    reference: Relation,
    current: Relation,
    *,
    method: str = "auto",
    correction: Correction = "bh",
    alpha: float = 0.05,
    drift_share: float = 0.5,
    thresholds: Mapping[str, float] | None = None,
    min_effect: float | None = None,
) -> DriftReport:
    """Profile both sides in DuckDB (the reference cached) and compare them; a column with
    no common type gets the status `incomparable (why)` (`with_incomparable`)."""
    reference, current = reconcile(runner, reference, current)
    ref_profile, cur_profile = profiles(runner, reference, current)
    report = compare(
        ref_profile,
        cur_profile,
        method=method,
        correction=correction,
        alpha=alpha,
        drift_share=drift_share,
        thresholds=thresholds,
        min_effect=min_effect,
    )
    return with_incomparable(report, reference)


def with_incomparable(report: DriftReport, reference: Relation) -> DriftReport:
    """The report with a row per column of the pair that has no common type (reconciled
    relations leave it out of both sides): never judged, its status says why."""
    rows = tuple(
        FeatureDrift(note.column, None, None, None, None, None, f"{INCOMPARABLE} ({note.detail})")
        for note in reference.schema
        if note.incomparable
    )
    return dataclasses.replace(report, features=report.features + rows) if rows else report


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
    reference, current = reconcile(runner, reference, current)
    ref_profile = profile_reference(runner, reference)
    buckets = profile_buckets(
        runner,
        current,
        ref_profile,
        width_us=time_buckets.WIDTH_US[bucket],
        offset_us=time_buckets.offset_us(bucket),
    )
    return timeline(
        ref_profile,
        buckets,
        bucket=bucket,
        method=method,
        correction=correction,
        alpha=alpha,
        drift_share=drift_share,
        thresholds=thresholds,
    )


def target_drift(
    runner: Runner,
    reference: Relation,
    current: Relation,
    *,
    task: str | None,
    method: str = "auto",
    alpha: float = 0.05,
) -> DriftReport:
    """Drift of the model's predictions, scores and (where logged) labels against the
    reference's: the reference's target columns only, BH-corrected among themselves.
    Their kinds follow the model's `task`; with None (an uploaded pair without a model)
    they are detected from the values, as for features."""
    ref_targets, cur_targets = reconcile(runner, _targets(reference, task), _targets(current, task))
    ref_profile = profile_reference(runner, ref_targets)
    cur_profile = profile_current(runner, cur_targets, ref_profile)
    found = compare(
        ref_profile,
        cur_profile,
        method=method,
        alpha=alpha,
        features=[c.name for c in ref_targets.features],
    )
    return with_incomparable(found, ref_targets)


def _targets(relation: Relation, task: str | None) -> Relation:
    if task is not None:
        return targets_relation(relation, task)
    found = targets_relation(relation, "")
    return dataclasses.replace(found, kinds={}, cache_key=found.cache_key + "|auto")
