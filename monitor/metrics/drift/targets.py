"""Prediction drift and label drift: one verdict each over the rows of a target report
(`monitor.queries.drift.target_drift`, whose rows are named prediction, probability and
label whatever the model's columns are called).

Prediction drift = the model's output moved: its prediction OR its score (probability)
drifted, each judged like a feature. Label drift = the label drifted. Untested rows (no
values yet, e.g. labels not arrived) give no verdict; with none tested the verdict is
unknown (`tested` is False).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from monitor.metrics.drift.report import DriftReport, FeatureDrift

Target = Literal["prediction", "label"]
ROWS: Final[dict[Target, tuple[str, ...]]] = {
    "prediction": ("prediction", "probability"),
    "label": ("label",),
}
"""The target report's rows each verdict reads."""


@dataclass(frozen=True)
class TargetVerdict:
    target: Target
    judged: tuple[FeatureDrift, ...]
    """The rows with a verdict (drifted or not)."""
    untested: tuple[FeatureDrift, ...]
    """The rows present but not judged (their status says why)."""

    @property
    def tested(self) -> bool:
        return bool(self.judged)

    @property
    def drifted(self) -> bool:
        return any(f.drifted for f in self.judged)

    @property
    def causes(self) -> tuple[str, ...]:
        """The drifted rows, by name."""
        return tuple(f.feature for f in self.judged if f.drifted)


def target_verdict(targets: DriftReport, target: Target) -> TargetVerdict:
    rows = [f for f in targets.features if f.feature in ROWS[target]]
    return TargetVerdict(
        target,
        tuple(f for f in rows if f.judged),
        tuple(f for f in rows if not f.judged),
    )
