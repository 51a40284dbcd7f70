"""The summary of a labeled fairness audit: fairlearn's parity metrics over all groups,
and the same over the groups large enough to judge under their own `judged_*` names.

A field named after a fairlearn function (`demographic_parity_difference`, ...) equals
that function with `sensitive_features` (and `sample_weight`) over ALL groups, small ones
included. The `judged_*` variants leave the small groups out. Neither drives a verdict:
the four-fifths screen (`four_fifths_passed`, `failing_groups`) comes from the per-group
disparities of the judged groups (see docs/fairness.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor.metrics.fairness import rates as fr
from monitor.metrics.fairness.bootstrap import (
    JUDGED_SUMMARY,
    SUMMARY_METRICS,
    Interval,
    summary_samples,
)
from monitor.metrics.fairness.groups import GroupKey


@dataclass(frozen=True)
class FairnessSummary:
    """None where a value cannot be computed (regression, no judged group)."""

    demographic_parity_difference: float | None
    """fairlearn's, over all groups (as the four below)."""
    demographic_parity_ratio: float | None
    equalized_odds_difference: float | None
    equalized_odds_ratio: float | None
    equal_opportunity_difference: float | None
    judged_parity_difference: float | None
    """demographic_parity_difference over the judged groups only (as the four below)."""
    judged_parity_ratio: float | None
    judged_equalized_odds_difference: float | None
    judged_equalized_odds_ratio: float | None
    judged_equal_opportunity_difference: float | None
    four_fifths_passed: bool | None
    """None when no judged group could be compared with the reference."""
    failing_groups: tuple[GroupKey, ...]
    judged_groups: int
    ci: Mapping[str, Interval | None]
    """Field name -> bootstrap interval (fairlearn's over all groups, judged_* over the
    judged groups); empty without bootstrap."""


def summary_values(
    task: fr.Task, metrics: Mapping[str, fr.FloatArray], judged: npt.NDArray[np.bool_]
) -> dict[str, float | None]:
    """The ten parity values of `FairnessSummary` from per-group rate arrays."""
    values: dict[str, float | None] = dict.fromkeys((*SUMMARY_METRICS, *JUDGED_SUMMARY.values()))
    if task != "binary":
        return values
    values |= _spread(metrics, np.ones(len(judged), dtype=bool))
    if judged.any():
        values |= {JUDGED_SUMMARY[name]: v for name, v in _spread(metrics, judged).items()}
    return values


def _spread(
    metrics: Mapping[str, fr.FloatArray], groups: npt.NDArray[np.bool_]
) -> dict[str, float | None]:
    rates = {name: values[groups][None, :] for name, values in metrics.items()}
    return {name: fr.scalar(v[0]) for name, v in summary_samples(rates).items()}
