"""How far a label-free estimator is off on the reference itself: held-out folds.

An estimate made without labels (CBPE for classifiers, or any estimator that learns a
map from model outputs to expected outcomes on a labeled reference) misses the realized
value of a window for two reasons:

1. **label noise**: even with exact probabilities the labels come out at random; the
   estimator computes that variance itself (for CBPE: Poisson-binomial counts carried by
   the delta method). It shrinks as 1 / rows of the window.
2. **its own error**: what it learned from the reference is off, by the fit's sampling
   error and by misfit (Platt scaling where the scores are not logistic in the label's
   log-odds). That error is systematic: it does not shrink with the window's size
   (measured: on car-loan with Platt scaling it is the same from chunks of 500 to
   10,000 rows).

`held_out_errors` measures the second on the reference: the rows are dealt at random
into `folds` folds, `repeats` times; the estimator is fitted on all folds but one and
estimates the held-out fold cut into `chunks_per_fold` chunks, whose realized values
are known. Over all held-out chunks, per metric:

    excess = mean (estimate - realized)^2 - mean predicted label-noise variance

is the variance of the estimator's own error, independent of the window's size, and
the mean of (estimate - realized) is its bias on the reference. The excess counts only
where it is significant (EXCESS_SIGNIFICANCE standard errors above 0, over the held-out
chunks), else it is 0: a difference of two noisy means, it is otherwise mostly noise
where the fit is good (the demo's isotonic calibration: an accuracy excess of 9e-6 in
one row order of the reference, 57e-6 in another). `estimator_variance`
takes the larger of the excess and the bootstrap spread of the fit (the floor when the
excess, a difference of two noisy means, comes out near 0), and `band` puts a window's
band together: value +/- z * sqrt(label-noise variance + estimator variance).

What no reference measurement can see: a change of the relation itself between the
reference and the window (concept drift, label shift, a new model version). The bands
hold where the estimate's assumption holds.

The estimator plugs in as a `FoldEstimator`: fitted on some reference rows, it returns
per held-out chunk each metric's (estimate, realized, label-noise variance). It serves
any task (binary here; multiclass and regression estimators can pass their own).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monitor.metrics.intervals import Metric

IntArray = npt.NDArray[np.int64]

FOLDS: Final = 5
REPEATS: Final = 4
CHUNKS_PER_FOLD: Final = 2
MIN_CHUNK_ROWS: Final = 100
"""Held-out chunks smaller than this would measure little but label noise: no folds."""
BIAS_SIGNIFICANCE: Final = 3.0
"""A bias is reported when it is at least this many standard errors from 0."""
EXCESS_SIGNIFICANCE: Final = 2.0
"""The excess variance counts when it is at least this many standard errors above 0."""

ChunkOutcome = Mapping[str, tuple[float, float, float]]
"""One held-out chunk, per metric: (estimate, realized value, label-noise variance)."""
FoldEstimator = Callable[[IntArray, Sequence[IntArray]], Sequence[ChunkOutcome]]
"""Fit on the reference rows of the first argument (indices); return, per held-out chunk
of the second (indices), each metric's outcome. An empty result skips the fold (e.g.
its training rows hold one outcome only)."""


@dataclass(frozen=True)
class HeldOutError:
    """One metric's estimation error over the held-out reference chunks."""

    metric: str
    chunks: int
    bias: float
    """Mean of estimate - realized."""
    bias_se: float
    """Standard error of `bias` (spread over the chunks / sqrt(chunks))."""
    mean_square: float
    """Mean of (estimate - realized)^2."""
    noise: float
    """Mean label-noise variance the estimator predicted for the same chunks."""
    excess_se: float = 0.0
    """Standard error of mean_square - noise (over the chunks)."""

    @property
    def excess(self) -> float:
        """Variance of the estimator's own error: the part of the squared error that label
        noise does not explain, independent of a window's size; 0 unless significant."""
        found = self.mean_square - self.noise
        return found if found > EXCESS_SIGNIFICANCE * self.excess_se and found > 0 else 0.0

    @property
    def significant_bias(self) -> bool:
        return abs(self.bias) >= BIAS_SIGNIFICANCE * self.bias_se


@dataclass(frozen=True)
class HeldOutErrors:
    """The estimator's error on held-out reference chunks, per metric."""

    folds: int
    repeats: int
    chunk_rows: int
    """Rows of a held-out chunk (about)."""
    errors: tuple[HeldOutError, ...]

    def get(self, metric: str) -> HeldOutError | None:
        return next((e for e in self.errors if e.metric == metric), None)

    def excess(self, metric: str) -> float:
        """The metric's excess variance (0 when it was not measured)."""
        found = self.get(metric)
        return found.excess if found is not None else 0.0


def held_out_errors(
    rows: int,
    estimator: FoldEstimator,
    *,
    folds: int = FOLDS,
    repeats: int = REPEATS,
    chunks_per_fold: int = CHUNKS_PER_FOLD,
    seed: int = 0,
) -> HeldOutErrors | None:
    """Fit `estimator` on all folds but one of `rows` reference rows and compare its
    estimates with the realized values on the held-out chunks (see the module docstring).
    None when the reference is too small (held-out chunks under MIN_CHUNK_ROWS rows),
    `folds` < 2, or no fold gave a finite outcome."""
    chunk_rows = rows // max(folds * chunks_per_fold, 1)
    if folds < 2 or repeats < 1 or chunks_per_fold < 1 or chunk_rows < MIN_CHUNK_ROWS:
        return None
    rng = np.random.default_rng(seed)
    outcomes: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(repeats):
        parts = np.array_split(rng.permutation(rows).astype(np.int64), folds)
        for held in range(folds):
            train = np.concatenate([p for i, p in enumerate(parts) if i != held])
            chunks = np.array_split(parts[held], chunks_per_fold)
            for chunk in estimator(train, chunks):
                for name, found in chunk.items():
                    if all(math.isfinite(v) for v in found):
                        outcomes.setdefault(name, []).append(found)
    errors = tuple(_error(name, found) for name, found in outcomes.items() if len(found) >= 2)
    if not errors:
        return None
    return HeldOutErrors(folds, repeats, chunk_rows, errors)


def _error(metric: str, found: list[tuple[float, float, float]]) -> HeldOutError:
    values = np.array(found, dtype=np.float64)
    miss = values[:, 0] - values[:, 1]
    unexplained = miss**2 - values[:, 2]
    root = math.sqrt(len(miss))
    return HeldOutError(
        metric=metric,
        chunks=len(miss),
        bias=float(miss.mean()),
        bias_se=float(miss.std(ddof=1) / root),
        mean_square=float((miss**2).mean()),
        noise=float(values[:, 2].mean()),
        excess_se=float(unexplained.std(ddof=1) / root),
    )


def estimator_variance(spread: float, held_out: HeldOutErrors | None, metric: str) -> float:
    """Variance of an estimator's own error for one metric: the larger of its bootstrap
    spread and the excess measured on held-out reference chunks."""
    excess = held_out.excess(metric) if held_out is not None else 0.0
    return max(spread if math.isfinite(spread) else 0.0, excess)


def band(
    value: float,
    variance: float,
    n: int,
    z: float,
    *,
    bounds: tuple[float, float] | None = (0.0, 1.0),
) -> Metric:
    """`value` +/- z * sqrt(variance), clipped to `bounds` (None: unbounded); without a
    band where the variance is not a finite number."""
    if not math.isfinite(value):
        return Metric(None, None, None, n)
    if not math.isfinite(variance) or variance < 0:
        return Metric(value, None, None, n)
    half = z * math.sqrt(variance)
    low, high = value - half, value + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return Metric(value, low, high, n)


def biased_metrics(held_out: HeldOutErrors | None, tolerance: float) -> list[HeldOutError]:
    """Metrics whose held-out bias exceeds `tolerance` and is significant
    (BIAS_SIGNIFICANCE standard errors): the estimator is systematically off there."""
    if held_out is None:
        return []
    return [e for e in held_out.errors if abs(e.bias) > tolerance and e.significant_bias]
