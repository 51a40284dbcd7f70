"""How classifier scores are binned before they leave SQL.

Coarse bins (calibration) follow numpy/sklearn exactly: bin i holds (i * step,
(i + 1) * step] with step = 1 / coarse (the first also holds 0), as
np.searchsorted(np.linspace(0, 1, coarse + 1)[1:-1], score). Uniform bins
(confidence quantiles) split each coarse bin into uniform / coarse bins. Logit bins cut
logit(score) in [-logit_range, logit_range] into `logit` equal parts: fine where scores
crowd near 0 or 1. Both are monotone in the score, so rank = uniform bin + logit bin
orders the (uniform, logit) cells by score; ROC AUC and the estimates use those ranks.
The SQL side is monitor.queries.performance (`scored_source`, `binning_params`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binning:
    uniform: int = 1000
    coarse: int = 10
    """Reliability-curve bins; `uniform` must be a multiple."""
    logit: int = 1000
    logit_range: float = 14.0
    """logit(score) beyond +/- this falls in the end bins (14: scores within 1e-6 of 0 or 1)."""

    @property
    def ranks(self) -> int:
        """Size of a rank-indexed array: every (uniform, logit) cell has a rank below it."""
        return self.uniform + self.logit - 1

    def validate(self) -> None:
        if self.coarse < 1 or self.uniform < self.coarse or self.uniform % self.coarse:
            raise ValueError("uniform bins must be a positive multiple of coarse bins")
        if self.logit < 1 or not self.logit_range > 0:
            raise ValueError("logit bins and range must be positive")
