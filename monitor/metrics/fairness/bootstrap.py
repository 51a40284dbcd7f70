"""Seeded bootstrap confidence intervals for group metrics and the fairness summary.

Resampling N rows with replacement from a table is the same as drawing the number of
rows each distinct (group, label, prediction) cell gets from a multinomial with the
cells' shares, so replicates are drawn on the cells, vectorised: B x cells, not B x N.
With sample weights a resampled row carries its cell's mean weight (exact when weights
are constant within a cell). Intervals are percentile intervals; a metric defined in
fewer than half of the replicates (tiny groups) gets none.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monitor.metrics.fairness.rates import FloatArray, binary_rates

MAX_BOOTSTRAP: Final = 10_000
Interval = tuple[float, float]

SUMMARY_METRICS: Final = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
)
JUDGED_SUMMARY: Final = {
    "demographic_parity_difference": "judged_parity_difference",
    "demographic_parity_ratio": "judged_parity_ratio",
    "equalized_odds_difference": "judged_equalized_odds_difference",
    "equalized_odds_ratio": "judged_equalized_odds_ratio",
    "equal_opportunity_difference": "judged_equal_opportunity_difference",
}
"""fairlearn's summary name -> its name over the groups large enough to judge."""


@dataclass(frozen=True)
class BootstrapIntervals:
    groups: tuple[Mapping[str, Interval | None], ...]
    """Per group (in the order of the group index): metric -> interval."""
    overall: Mapping[str, Interval | None]
    summary: Mapping[str, Interval | None]


def _interval(samples: FloatArray, level: float) -> list[Interval | None]:
    """Percentile interval per column of a (B, k) array."""
    alpha = (1.0 - level) / 2.0
    defined = np.mean(~np.isnan(samples), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(samples, [100 * alpha, 100 * (1 - alpha)], axis=0)
    return [
        (float(lo), float(hi)) if share >= 0.5 and np.isfinite(lo) and np.isfinite(hi) else None
        for lo, hi, share in zip(
            np.atleast_1d(low), np.atleast_1d(high), np.atleast_1d(defined), strict=True
        )
    ]


def _spread(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per replicate (row): max - min and min / max over the groups (columns), NaN-aware."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        high, low = np.nanmax(values, axis=1), np.nanmin(values, axis=1)
        ratio = np.where(high > 0, low / np.where(high > 0, high, 1.0), np.nan)
    return high - low, ratio


def summary_samples(rates: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """The summary metrics per replicate from (B, judged groups) rate arrays."""
    dp_diff, dp_ratio = _spread(rates["selection_rate"])
    tpr_diff, tpr_ratio = _spread(rates["tpr"])
    fpr_diff, fpr_ratio = _spread(rates["fpr"])
    return {
        "demographic_parity_difference": dp_diff,
        "demographic_parity_ratio": dp_ratio,
        "equalized_odds_difference": np.fmax(tpr_diff, fpr_diff),
        "equalized_odds_ratio": np.fmin(tpr_ratio, fpr_ratio),
        "equal_opportunity_difference": tpr_diff,
    }


def bootstrap_binary(
    *,
    group_index: npt.NDArray[np.intp],
    label: npt.NDArray[np.bool_],
    prediction: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.int64],
    weight: FloatArray,
    groups: int,
    judged: npt.NDArray[np.bool_],
    replicates: int,
    seed: int,
    level: float,
) -> BootstrapIntervals:
    """Intervals for every group metric, the overall metrics and the summary (fairlearn's
    names over all groups, `JUDGED_SUMMARY` names over the `judged` groups) from
    `replicates` row resamples of the cells."""
    rng = np.random.default_rng(seed)
    total = int(rows.sum())
    draws = rng.multinomial(total, rows / total, size=replicates).astype(np.float64)
    weighted = draws * (weight / rows)
    onehot = np.zeros((len(rows), groups))
    onehot[np.arange(len(rows)), group_index] = 1.0

    def per_group(mask: npt.NDArray[np.bool_]) -> FloatArray:
        result: FloatArray = (weighted * mask) @ onehot
        return result

    tp = per_group(label & prediction)
    fp = per_group(~label & prediction)
    fn = per_group(label & ~prediction)
    tn = per_group(~label & ~prediction)
    predicted = tp.sum(axis=1) + fp.sum(axis=1)  # per replicate, for ppr
    rates = binary_rates(tp, fp, fn, tn, predicted_total=predicted[:, None])
    overall = binary_rates(
        tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1), tn.sum(axis=1), predicted_total=predicted
    )
    by_metric = {name: _interval(values, level) for name, values in rates.items()}
    group_intervals = tuple({name: by_metric[name][g] for name in rates} for g in range(groups))
    overall_intervals = {
        name: _interval(values[:, None], level)[0] for name, values in overall.items()
    }
    summary: dict[str, Interval | None] = dict.fromkeys(JUDGED_SUMMARY.values())
    for name, values in summary_samples(rates).items():
        summary[name] = _interval(values[:, None], level)[0]
    if judged.any():
        samples = summary_samples({name: values[:, judged] for name, values in rates.items()})
        for name, values in samples.items():
            summary[JUDGED_SUMMARY[name]] = _interval(values[:, None], level)[0]
    return BootstrapIntervals(group_intervals, overall_intervals, summary)
