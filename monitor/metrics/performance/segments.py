"""Error rate (classifiers) or MAE (regression) per category of one feature: where the
model is wrong. Text and boolean features group by value (the `top` most frequent, the
rest folded into one row); numeric features by quintile of the window's values."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from monitor.core.config import ModelConfig
from monitor.metrics.intervals import CONFIDENCE, Metric, mean_interval, wilson

TOP: Final = 20
MISSING: Final = "(missing)"
OTHER: Final = "(other values)"
Kind = Literal["text", "numeric"]
"""Text and boolean features group by value, numeric ones by range."""


@dataclass(frozen=True)
class Segment:
    label: str
    """The category (or value range), MISSING for nulls, OTHER for the folded rest."""
    predictions: int
    labeled: int
    error: Metric
    """Error rate (share of labeled predictions that are wrong) or MAE."""

    @property
    def coverage(self) -> float | None:
        return self.labeled / self.predictions if self.predictions else None


@dataclass(frozen=True)
class SegmentReport:
    model_id: str
    feature: str
    metric: Literal["error_rate", "mae"]
    segments: tuple[Segment, ...]
    """Most predictions first; the folded rest last."""
    overall: Metric


def feature_order(model: ModelConfig, present: Mapping[str, str]) -> tuple[str, ...]:
    """Features to offer, from the logged ones (key -> SQL type): sensitive features
    first, then text and boolean ones, then numeric ones."""
    first = [k for k in model.sensitive_features if k in present]
    text = sorted(k for k, t in present.items() if t != "DOUBLE" and k not in first)
    numeric = sorted(k for k, t in present.items() if t == "DOUBLE" and k not in first)
    return (*first, *text, *numeric)


def cut_edges(raw: Iterable[float | None] | None) -> tuple[float, ...]:
    """The distinct finite quintile edges, ascending (from `numeric_edges`)."""
    return tuple(sorted({float(e) for e in raw or () if e is not None and math.isfinite(e)}))


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _range_label(index: int, edges: Sequence[float]) -> str:
    if not edges:
        return "all values"
    if index == 0:
        return f"< {_number(edges[0])}"
    if index >= len(edges):
        return f">= {_number(edges[-1])}"
    return f"[{_number(edges[index - 1])}, {_number(edges[index])})"


def segment_report(
    model_id: str,
    feature: str,
    rows: Iterable[Sequence[Any]],
    *,
    regression: bool,
    kind: Kind,
    edges: Sequence[float] = (),
    confidence: float = CONFIDENCE,
) -> SegmentReport:
    """The report from `segment_counts` rows: (value, folded, predictions, labeled, error
    sum, squared error sum); a numeric value is the index of its range between `edges`."""
    found_segments: list[Segment] = []
    totals = [0, 0, 0.0, 0.0]
    for value, folded, predictions, labeled, error_sum, error_sq_sum in rows:
        for i, amount in enumerate((predictions, labeled, error_sum, error_sq_sum)):
            totals[i] += amount
        if folded:
            label = OTHER
        elif value is None:
            label = MISSING
        elif kind == "numeric":
            label = _range_label(int(value), edges)
        else:
            label = str(value)
        error = _error(regression, int(labeled), error_sum, error_sq_sum, confidence)
        found_segments.append(Segment(label, int(predictions), int(labeled), error))
    if kind == "numeric":  # value ranges in order, missing values last
        order = {_range_label(i, edges): i for i in range(len(edges) + 1)}
        found_segments.sort(key=lambda s: order.get(s.label, len(order)))
    return SegmentReport(
        model_id=model_id,
        feature=feature,
        metric="mae" if regression else "error_rate",
        segments=tuple(found_segments),
        overall=_error(regression, int(totals[1]), totals[2], totals[3], confidence),
    )


def _error(
    regression: bool, labeled: int, error_sum: float, error_sq_sum: float, confidence: float
) -> Metric:
    """Error rate with its Wilson band, or MAE with its normal band."""
    if not regression:
        return wilson(int(error_sum), labeled, confidence=confidence)
    if not labeled:
        return Metric(None, None, None, 0)
    return mean_interval(
        error_sum / labeled, error_sq_sum / labeled, labeled, confidence=confidence
    )
