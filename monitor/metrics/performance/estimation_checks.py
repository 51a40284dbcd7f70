"""What can make a binary label-free estimate wrong, in sentences that say what to do.

- **A calibration that fits badly** (`fit_warnings`): a reference of fewer than
  SMALL_REFERENCE labeled rows; estimates that miss on held-out reference folds by more
  than FIT_TOLERANCE on average (monitor.metrics.performance.estimation_bands); or
  Platt scaling on scores that are often exactly 0 or 1 (their log-odds are infinite;
  NannyML's car-loan reference has 14% of them, and Platt's estimates there are 2 to 4
  points off). Measured on the reference, once per fit.
- **Scores that moved away from the reference's** (`score_shift`, `shift_warning`): the
  PSI of the window's scores over the reference's score deciles. The estimate assumes
  P(label | score) is the reference's; a window whose scores moved (PSI >= SHIFT_PSI,
  the usual "moderate shift") is where that assumption is most often broken, and no
  band can cover it. On car-loan the chunks whose estimates miss their bands have PSI
  0.25 to 0.31, the others 0.001 to 0.003.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from monitor.metrics.drift.methods import psi
from monitor.metrics.performance.estimation_bands import HeldOutErrors, biased_metrics

FloatArray = npt.NDArray[np.float64]

FIT_TOLERANCE: Final = 0.01
"""A calibration whose estimates miss a metric on held-out reference folds by more than
this on average (and significantly) fits badly."""
EXTREME_SHARE: Final = 0.01
"""Platt scaling warns when this share of the reference's scores is exactly 0 or 1."""
SHIFT_PSI: Final = 0.1
SMALL_REFERENCE: Final = 3000
"""Fewer labeled reference rows than this: the calibration is coarse (on the demo, a
1,000-row reference overstated ROC AUC by 0.02 on average and its bands held 66% of the
days; 3,000 rows: 98%)."""


def fit_warnings(
    method: str, scores: FloatArray, held_out: HeldOutErrors | None
) -> tuple[str, ...]:
    """Sentences on a calibration fitted with `method` on the reference's `scores`."""
    found = []
    if len(scores) < SMALL_REFERENCE:
        found.append(
            f"the calibration rests on {len(scores):,} labeled reference rows only: its "
            "estimates (ROC AUC most) can be off by more than their bands; use a reference "
            f"of at least {SMALL_REFERENCE:,} labeled rows"
        )
    extreme = float(np.mean((scores <= 0) | (scores >= 1))) if len(scores) else 0.0
    if method == "platt" and extreme >= EXTREME_SHARE:
        found.append(
            f"{extreme:.0%} of the reference's scores are exactly 0 or 1, where Platt "
            "scaling's log-odds are infinite (clipped): use isotonic calibration"
        )
    biased = sorted(biased_metrics(held_out, FIT_TOLERANCE), key=lambda e: -abs(e.bias))
    if biased:
        misses = ", ".join(f"{e.metric} by {100 * e.bias:+.1f} points" for e in biased)
        advice = (
            "use isotonic calibration"
            if method == "platt"
            else "check that the reference's scores and labels belong together"
        )
        found.append(
            f"the {method} calibration fits the reference badly: on held-out reference "
            f"folds its estimates are off on average ({misses}); the bands include that "
            f"error, but {advice}"
        )
    return tuple(found)


def score_shift(
    edges: FloatArray, reference_counts: FloatArray, scores: FloatArray, count: FloatArray
) -> float | None:
    """PSI of a window's scores (cells: mean `scores`, `count` rows) over the reference's
    score bins (-inf, e1], ..., (ek, inf) with `reference_counts` (drift.methods.psi);
    None without them."""
    if len(reference_counts) == 0 or count.sum() <= 0:
        return None
    # a cell's mean score can land a rounding error above the edge its scores sit on
    index = np.searchsorted(edges + 1e-12 * np.maximum(1.0, np.abs(edges)), scores, side="left")
    window = np.bincount(index, weights=count, minlength=len(reference_counts))
    return psi(reference_counts.tolist(), window.tolist())


def shift_warning(shift: float | None) -> str | None:
    """The sentence for a window whose scores moved (PSI >= SHIFT_PSI), else None."""
    if shift is None or shift < SHIFT_PSI:
        return None
    return (
        f"the scores moved away from the reference's (PSI {shift:.2f}): the estimate "
        "assumes P(label | score) is still the reference's, which such a shift often "
        "breaks, and its band does not cover that; check it against labels"
    )
