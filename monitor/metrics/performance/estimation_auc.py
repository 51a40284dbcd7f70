"""Expected ROC AUC from calibrated probabilities (as NannyML's CBPE), and its label noise.

A window's predictions come as score-ordered cells (a score bin, or one score), each
with `count` rows and calibrated probability c: expected positives count * c and
negatives count * (1 - c). The expected AUC is

    sum over pairs of cells (i above j) of pos_i * neg_j, plus 1/2 per pair within a cell
    ------------------------------------------------------------------------------------
                        (sum of pos) * (sum of neg)

that is, scikit-learn's `roc_auc_score` over the rows taken twice, once as a positive
with weight c and once as a negative with weight 1 - c (ties count 1/2). Cells whose
scores are equal (within 1e-12) are one cell. With c = the labels (0 or 1) the same
formula is the realized AUC of labeled rows.

Label noise: the positives of a cell are Binomial(count, c), independent between cells.
The delta method carries their variances count * c * (1 - c) to the AUC through its
gradient (below: `_gradient`), in one pass over the cells.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_TIE: float = 1e-12


def tie_groups(scores: FloatArray) -> tuple[IntArray, int]:
    """Each cell's group (0 = lowest score) and the number of groups; cells whose scores
    differ by at most 1e-12 (relative, at least absolute) share a group."""
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64), 0
    order = np.argsort(scores, kind="stable")
    ordered = scores[order]
    gap = np.diff(ordered) > _TIE * np.maximum(1.0, np.abs(ordered[1:]))
    rank = np.concatenate(([0], np.cumsum(gap))).astype(np.int64)
    groups = np.empty(len(scores), dtype=np.int64)
    groups[order] = rank
    return groups, int(rank[-1]) + 1


def grouped(values: FloatArray, groups: IntArray, size: int) -> FloatArray:
    """Sums of `values` (last axis: cells) per group, for any leading axes."""
    flat = values.reshape(-1, values.shape[-1])
    sums = [np.bincount(groups, weights=row, minlength=size) for row in flat]
    result: FloatArray = np.array(sums, dtype=np.float64).reshape((*values.shape[:-1], size))
    return result


def auc(positives: FloatArray, negatives: FloatArray) -> FloatArray:
    """AUC along the last axis of group-ordered expected positives and negatives (NaN
    without both)."""
    below = np.cumsum(negatives, axis=-1) - negatives
    pairs = (positives * (below + 0.5 * negatives)).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = pairs / (positives.sum(axis=-1) * negatives.sum(axis=-1))
    return result


def _gradient(positives: FloatArray, negatives: FloatArray) -> FloatArray:
    """d AUC / d (positives of a group), one more positive being one less negative."""
    below = np.cumsum(negatives) - negatives
    above = positives.sum() - np.cumsum(positives)
    total_p, total_n = positives.sum(), negatives.sum()
    pairs = (positives * (below + 0.5 * negatives)).sum()
    d_pairs = below + 0.5 * (positives + negatives) - positives - above
    d_product = total_n - total_p
    product = total_p * total_n
    result: FloatArray = (d_pairs * product - pairs * d_product) / product**2
    return result


def expected_auc(
    scores: FloatArray, count: FloatArray, calibrated: FloatArray
) -> tuple[float, float]:
    """(expected AUC, its label-noise variance) of cells with mean `scores`, `count` rows
    and calibrated probability `calibrated`; (NaN, NaN) without expected positives and
    negatives."""
    if len(scores) == 0:
        return float("nan"), float("nan")
    groups, size = tie_groups(scores)
    positives = grouped(count * calibrated, groups, size)
    negatives = grouped(count * (1 - calibrated), groups, size)
    noise = grouped(count * calibrated * (1 - calibrated), groups, size)
    value = float(auc(positives, negatives))
    if not np.isfinite(value):
        return value, float("nan")
    variance = float((_gradient(positives, negatives) ** 2 * noise).sum())
    return value, variance
